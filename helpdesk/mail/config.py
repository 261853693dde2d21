"""Settings of the e-mail channel (HELPDESK_IMAP_*, HELPDESK_MAIL_*), part of the desk's ``Settings``.

The channel is off while neither HELPDESK_IMAP_HOST nor HELPDESK_MAIL_SMTP_PORT (the
optional inbound SMTP endpoint) is set: ``make run`` then does not start ``helpdesk mail``.
Outgoing mail uses the notification SMTP settings (HELPDESK_SMTP_*). The IMAP password comes
from HELPDESK_IMAP_PASSWORD_FILE (a file outside git) or HELPDESK_IMAP_PASSWORD (environment or
the secrets file). docs/email.md lists every variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from search_api.settings import PROJECT_ROOT, BaseUrl, EnvSettings, SettingsError


class MailConfigError(SettingsError):
    pass


def lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class MailSettings(EnvSettings):
    imap_host: str | None = Field(None, description="the IMAP server; unset: the channel is off")
    imap_security: Annotated[Literal["ssl", "starttls", "none"], BeforeValidator(lower)] = Field(
        "ssl", description="ssl (IMAPS, port 993), starttls (port 143) or none (only for a local server)"
    )
    # Unset: 993 for ssl, 143 for starttls and none.
    imap_port: int = Field(None, validate_default=True, description="the IMAP server's port")
    imap_user: str | None = Field(None, description="the IMAP login")
    imap_password: str | None = Field(None, description="its password (HELPDESK_IMAP_PASSWORD_FILE: read from a file)")
    imap_folder: str = Field("INBOX", description="the folder taken in")
    imap_idle: bool = Field(True, description="use IDLE where the server offers it (0: always poll)")
    address: str | None = Field(
        None,
        validation_alias="HELPDESK_MAIL_ADDRESS",
        description="the desk's own address: From of every mail it sends, never answered; unset: HELPDESK_SMTP_FROM",
    )
    poll_seconds: float = Field(
        60.0,
        gt=0,
        validation_alias="HELPDESK_MAIL_POLL_SECONDS",
        description="without IDLE: how often to look; with IDLE: how long one IDLE waits at most",
    )
    max_mail_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        validation_alias="HELPDESK_MAIL_MAX_BYTES",
        description="a larger mail is not downloaded; the sender is told",
    )
    max_attachment_bytes: int = Field(
        5 * 1024 * 1024,
        gt=0,
        validation_alias="HELPDESK_MAIL_MAX_ATTACHMENT_BYTES",
        description="a larger attachment is dropped with a note",
    )
    attachments_dir: Path = Field(
        PROJECT_ROOT / "var" / "mail-attachments",
        validation_alias="HELPDESK_MAIL_ATTACHMENTS_DIR",
        description="where attachments are stored",
    )
    reopen_days: float = Field(
        14.0,
        gt=0,
        validation_alias="HELPDESK_MAIL_REOPEN_DAYS",
        description="a reply reopens a resolved ticket this long after its last change",
    )
    autoreply_hours: float = Field(
        24.0,
        gt=0,
        validation_alias="HELPDESK_MAIL_AUTOREPLY_HOURS",
        description="at most one automatic reply per sender in this period",
    )
    search_url: BaseUrl = Field("http://127.0.0.1:8000", description="the web service whose POST /search answers mails")
    smtp_port: int | None = Field(
        None, validation_alias="HELPDESK_MAIL_SMTP_PORT", description="the optional inbound SMTP endpoint; unset: off"
    )
    smtp_listen: str = Field(
        "127.0.0.1", validation_alias="HELPDESK_MAIL_SMTP_LISTEN", description="its listen address"
    )
    error: ClassVar[type[SettingsError]] = MailConfigError

    @field_validator("imap_port", mode="before")
    @classmethod
    def port_of_security(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return 993 if info.data.get("imap_security", "ssl") == "ssl" else 143
        return value

    @model_validator(mode="after")
    def login_with_host(self) -> MailSettings:
        if self.imap_host and not (self.imap_user and self.imap_password):
            raise ValueError(
                "HELPDESK_IMAP_HOST is set: HELPDESK_IMAP_USER and HELPDESK_IMAP_PASSWORD_FILE "
                "(or HELPDESK_IMAP_PASSWORD) are needed too"
            )
        return self

    @classmethod
    def derived_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        if not env.get("HELPDESK_IMAP_PASSWORD_FILE"):
            return {}
        path = Path(env["HELPDESK_IMAP_PASSWORD_FILE"])
        try:
            return {"imap_password": path.read_text(encoding="utf-8").strip()}
        except OSError as exc:
            raise MailConfigError(f"HELPDESK_IMAP_PASSWORD_FILE: cannot read {path}: {exc}") from None

    @property
    def enabled(self) -> bool:
        return bool(self.imap_host) or self.smtp_port is not None

    def desk_address(self, smtp_from: str) -> str:
        """The address the desk writes from (HELPDESK_MAIL_ADDRESS, else HELPDESK_SMTP_FROM)."""
        return (self.address or smtp_from).strip().lower()
