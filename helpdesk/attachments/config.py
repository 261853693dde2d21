"""Settings of the chat's attachments (HELPDESK_CHAT_ATTACHMENTS_*, HELPDESK_CLAMD), part of the desk's ``Settings``.

The files live in a folder of their own outside the web root, under random names. The virus scan
is on once HELPDESK_CLAMD names the operator's clamd (``unix:/run/clamav/clamd.ctl`` or
``tcp:host:port``); then an upload that clamd cannot check is refused. Without it the desk
accepts files unscanned and says so in its log at start-up.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from helpdesk.attachments.clamd import parse_address
from search_api.settings import PROJECT_ROOT, EnvSettings


class AttachmentSettings(EnvSettings):
    directory: Path = Field(
        PROJECT_ROOT / "var" / "chat-attachments",
        validation_alias="HELPDESK_CHAT_ATTACHMENTS_DIR",
        description="where the chat's files are stored, outside the web root",
    )
    max_bytes: int = Field(
        10 * 1024 * 1024, ge=0, validation_alias="HELPDESK_CHAT_ATTACHMENTS_MAX_BYTES", description="one file's limit"
    )
    max_per_conversation: int = Field(
        10,
        ge=0,
        validation_alias="HELPDESK_CHAT_ATTACHMENTS_PER_CONVERSATION",
        description="files per conversation; 0: the chat offers no attachments",
    )
    max_pixels: int = Field(
        40_000_000,
        ge=0,
        validation_alias="HELPDESK_CHAT_ATTACHMENTS_MAX_PIXELS",
        description="an image of more pixels is refused (a decompression bomb, or a poster)",
    )
    clamd: str | None = Field(
        None,
        validation_alias="HELPDESK_CLAMD",
        description="the operator's clamd, unix:/path or tcp:host:port; unset: files are not scanned",
    )
    clamd_timeout: float = Field(
        10.0, gt=0, validation_alias="HELPDESK_CLAMD_TIMEOUT", description="seconds one scan may take"
    )

    @field_validator("clamd")
    @classmethod
    def clamd_address(cls, value: str | None) -> str | None:
        if value is not None:
            parse_address(value)  # a wrong value stops the start
        return value

    @property
    def enabled(self) -> bool:
        return self.max_per_conversation > 0
