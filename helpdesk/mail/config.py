"""Settings of the e-mail channel (HELPDESK_IMAP_*, HELPDESK_MAIL_*), part of the desk's ``Settings``.

The channel is off while neither HELPDESK_IMAP_HOST nor HELPDESK_MAIL_SMTP_PORT (the
optional inbound SMTP endpoint) is set: ``make run`` then does not start ``helpdesk mail``.
Outgoing mail uses the notification SMTP settings (HELPDESK_SMTP_*). The IMAP password comes
from HELPDESK_IMAP_PASSWORD_FILE (a file outside git) or HELPDESK_IMAP_PASSWORD (environment or
the secrets file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from search_api.settings import PROJECT_ROOT

SECURITIES = ("ssl", "starttls", "none")


class MailConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MailSettings:
    imap_host: str | None = None
    imap_port: int = 993
    imap_security: str = "ssl"  # ssl (IMAPS, port 993) | starttls (port 143) | none (only for a local server)
    imap_user: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    imap_idle: bool = True  # use IDLE where the server offers it (HELPDESK_IMAP_IDLE=0: always poll)
    # The desk's own address: From of every mail it sends; mail from it is never answered.
    address: str | None = None  # default: HELPDESK_SMTP_FROM
    poll_seconds: float = 60.0  # without IDLE: how often to look; with IDLE: how long one IDLE waits at most
    max_mail_bytes: int = 10 * 1024 * 1024  # a larger mail is not downloaded; the sender is told
    max_attachment_bytes: int = 5 * 1024 * 1024  # a larger attachment is dropped with a note
    attachments_dir: Path = PROJECT_ROOT / "var" / "mail-attachments"
    reopen_days: float = 14.0  # a reply reopens a resolved ticket this long after its last change
    autoreply_hours: float = 24.0  # at most one automatic reply per sender in this period
    search_url: str = "http://127.0.0.1:8000"  # the web service whose POST /search answers mails
    # The optional inbound SMTP endpoint (helpdesk/mail/smtp_inbound.py); None: off.
    smtp_port: int | None = None
    smtp_listen: str = "127.0.0.1"

    @property
    def enabled(self) -> bool:
        return bool(self.imap_host) or self.smtp_port is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MailSettings:
        kwargs: dict = {}
        for name in ("imap_host", "imap_user", "imap_folder", "imap_password"):
            if env.get(f"HELPDESK_{name.upper()}"):
                kwargs[name] = env[f"HELPDESK_{name.upper()}"]
        if env.get("HELPDESK_IMAP_PASSWORD_FILE"):
            path = Path(env["HELPDESK_IMAP_PASSWORD_FILE"])
            try:
                kwargs["imap_password"] = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise MailConfigError(f"HELPDESK_IMAP_PASSWORD_FILE: cannot read {path}: {exc}") from None
        if env.get("HELPDESK_IMAP_IDLE"):
            kwargs["imap_idle"] = env["HELPDESK_IMAP_IDLE"].lower() not in ("0", "false", "no")
        if env.get("HELPDESK_IMAP_SECURITY"):
            kwargs["imap_security"] = env["HELPDESK_IMAP_SECURITY"].lower()
        if env.get("HELPDESK_IMAP_PORT"):
            kwargs["imap_port"] = int(env["HELPDESK_IMAP_PORT"])
        elif kwargs.get("imap_security") in ("starttls", "none"):
            kwargs["imap_port"] = 143
        if env.get("HELPDESK_MAIL_ADDRESS"):
            kwargs["address"] = env["HELPDESK_MAIL_ADDRESS"]
        if env.get("HELPDESK_MAIL_ATTACHMENTS_DIR"):
            kwargs["attachments_dir"] = Path(env["HELPDESK_MAIL_ATTACHMENTS_DIR"])
        if env.get("HELPDESK_MAIL_SMTP_PORT"):
            kwargs["smtp_port"] = int(env["HELPDESK_MAIL_SMTP_PORT"])
        if env.get("HELPDESK_MAIL_SMTP_LISTEN"):
            kwargs["smtp_listen"] = env["HELPDESK_MAIL_SMTP_LISTEN"]
        if env.get("HELPDESK_SEARCH_URL"):
            kwargs["search_url"] = env["HELPDESK_SEARCH_URL"].rstrip("/")
        for name, kind in (
            ("poll_seconds", float),
            ("max_mail_bytes", int),
            ("max_attachment_bytes", int),
            ("reopen_days", float),
            ("autoreply_hours", float),
        ):
            key = f"HELPDESK_MAIL_{name.upper()}"
            if env.get(key):
                try:
                    kwargs[name] = kind(env[key])
                except ValueError:
                    raise MailConfigError(f"{key}: {env[key]!r} is not a number") from None
        settings = cls(**kwargs)
        settings.check()
        return settings

    def desk_address(self, smtp_from: str) -> str:
        """The address the desk writes from (HELPDESK_MAIL_ADDRESS, else HELPDESK_SMTP_FROM)."""
        return (self.address or smtp_from).strip().lower()

    def check(self) -> None:
        if self.imap_security not in SECURITIES:
            raise MailConfigError(
                f"HELPDESK_IMAP_SECURITY: {self.imap_security!r} is not one of {', '.join(SECURITIES)}"
            )
        if self.imap_host and not (self.imap_user and self.imap_password):
            raise MailConfigError(
                "HELPDESK_IMAP_HOST is set: HELPDESK_IMAP_USER and HELPDESK_IMAP_PASSWORD_FILE "
                "(or HELPDESK_IMAP_PASSWORD) are needed too"
            )
        if (
            min(
                self.poll_seconds,
                self.max_mail_bytes,
                self.max_attachment_bytes,
                self.reopen_days,
                self.autoreply_hours,
            )
            <= 0
        ):
            raise MailConfigError("HELPDESK_MAIL_* sizes and periods must be positive")
