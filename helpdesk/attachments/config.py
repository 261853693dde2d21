"""Settings of the chat's attachments (HELPDESK_CHAT_ATTACHMENTS_*, HELPDESK_CLAMD), part of the desk's ``Settings``.

The files live in a folder of their own outside the web root, under random names. The virus scan
is on once HELPDESK_CLAMD names the operator's clamd (``unix:/run/clamav/clamd.ctl`` or
``tcp:host:port``); then an upload that clamd cannot check is refused. Without it the desk
accepts files unscanned and says so in its log at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from search_api.settings import PROJECT_ROOT


class AttachmentConfigError(ValueError):
    pass


@dataclass(frozen=True)
class AttachmentSettings:
    directory: Path = PROJECT_ROOT / "var" / "chat-attachments"
    max_bytes: int = 10 * 1024 * 1024  # one file
    max_per_conversation: int = 10  # 0: the chat offers no attachments
    max_pixels: int = 40_000_000  # an image of more pixels is refused (a decompression bomb, or a poster)
    clamd: str | None = None  # unix:/path or tcp:host:port; None: not scanned
    clamd_timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return self.max_per_conversation > 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AttachmentSettings:
        kwargs: dict = {}
        if env.get("HELPDESK_CHAT_ATTACHMENTS_DIR"):
            kwargs["directory"] = Path(env["HELPDESK_CHAT_ATTACHMENTS_DIR"])
        for name, variable in (
            ("max_bytes", "HELPDESK_CHAT_ATTACHMENTS_MAX_BYTES"),
            ("max_per_conversation", "HELPDESK_CHAT_ATTACHMENTS_PER_CONVERSATION"),
            ("max_pixels", "HELPDESK_CHAT_ATTACHMENTS_MAX_PIXELS"),
        ):
            if env.get(variable):
                try:
                    kwargs[name] = int(env[variable])
                except ValueError:
                    raise AttachmentConfigError(f"{variable} must be a whole number, not {env[variable]!r}") from None
                if kwargs[name] < 0:
                    raise AttachmentConfigError(f"{variable} must not be negative")
        if env.get("HELPDESK_CLAMD"):
            from helpdesk.attachments.clamd import parse_address

            parse_address(env["HELPDESK_CLAMD"])  # a wrong value stops the start
            kwargs["clamd"] = env["HELPDESK_CLAMD"]
        if env.get("HELPDESK_CLAMD_TIMEOUT"):
            kwargs["clamd_timeout"] = float(env["HELPDESK_CLAMD_TIMEOUT"])
        return cls(**kwargs)
