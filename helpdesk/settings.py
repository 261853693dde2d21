"""Configuration of the desk (handoffs, inbox, chat, notifications), read from the environment.

``Settings`` is knowledge search's ``SearchSettings`` plus what the desk needs,
so the one process that ``make run`` starts reads one configuration. Every
knob is an environment variable with an embedded default; secrets come from the
environment or ``HELPDESK_SECRETS_FILE`` (search_api.settings.read_env) and are
never defaulted to a value written in the code.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helpdesk.attachments.config import AttachmentSettings
from helpdesk.deployment import Deployment, load_checked
from helpdesk.mail.config import MailSettings
from helpdesk.privacy.tracker import tracker_store_url
from search_api.settings import PROJECT_ROOT, SearchSettings

__all__ = ["PROJECT_ROOT", "Settings"]


@dataclass(frozen=True)
class Settings(SearchSettings):
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'handoffs.db'}"
    routing_file: Path = PROJECT_ROOT / "config" / "routing.yml"
    # Bearer token of the bot's action server (POST /handoffs). None: refuse everyone.
    service_token: str | None = None
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Inbox sessions (helpdesk/inbox/sessions.py): end after this long without a request, and at the latest
    # this long after login.
    session_idle_seconds: float = 30 * 60
    session_max_seconds: float = 12 * 3600
    # Handoff notifications (helpdesk/handoffs/notifications.py); a channel is off while unset.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "helpdesk@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    notify_max_attempts: int = 10
    notify_retry_seconds: float = 10.0
    # The company's configuration (config/deployment.yml or HELPDESK_DEPLOYMENT_FILE). None: the
    # app loads it at start; from_env loads it at once and takes its languages and public URL.
    deployment: Deployment | None = None
    # The public edge (helpdesk/edge): body size, rate limits, /metrics.
    max_body_bytes: int = 1024 * 1024
    rate_limit_address: str = "20/second;600/minute"  # per client address and endpoint group
    rate_limit_conversation: str = "5/second;120/minute"  # per chat conversation
    redis_url: str | None = None  # rate-limit counters shared by replicas; unset: per process
    metrics_token: str | None = None  # bearer token of /metrics; None: /metrics refuses everyone
    # Rasa's tracker store (RASA_TRACKER_STORE_URL, as scripts/run exports it): erasure and purge delete a
    # conversation's events there too. None: the desk does not touch it.
    tracker_store_url: str | None = None
    # Article drafts written from resolved tickets (helpdesk/inbox/drafts.py): kb/drafts/<lang>/<slug>.md.
    drafts_dir: Path = PROJECT_ROOT / "kb" / "drafts"
    # The procedures' systems and limits (helpdesk/procedures/config.py); None: HELPDESK_PROCEDURES_FILE or
    # config/procedures.yml.
    procedures_file: Path | None = None
    # The e-mail channel (helpdesk/mail): the support mailbox, limits, attachments; off without an IMAP host.
    mail: MailSettings = field(default_factory=MailSettings)
    # Files customers attach in the web chat (helpdesk/attachments): folder, limits, the virus scan.
    attachments: AttachmentSettings = field(default_factory=AttachmentSettings)

    @classmethod
    def env_kwargs(cls, env: Mapping[str, str]) -> dict:
        kwargs = super().env_kwargs(env)
        deployment = load_checked(env=env)  # its environment overrides include HELPDESK_LANGUAGES/_PUBLIC_URL
        kwargs.update(
            deployment=deployment, languages=tuple(deployment.languages), public_base_url=deployment.urls.public
        )
        if "DATABASE_URL" in env:
            kwargs["database_url"] = env["DATABASE_URL"]
        kwargs["tracker_store_url"] = tracker_store_url(env)
        if env.get("HELPDESK_DRAFTS_DIR"):
            kwargs["drafts_dir"] = Path(env["HELPDESK_DRAFTS_DIR"])
        if env.get("HELPDESK_PROCEDURES_FILE"):
            kwargs["procedures_file"] = Path(env["HELPDESK_PROCEDURES_FILE"])
        if "HELPDESK_ROUTING_FILE" in env:
            kwargs["routing_file"] = Path(env["HELPDESK_ROUTING_FILE"])
        kwargs["service_token"] = env.get("HELPDESK_SERVICE_TOKEN") or None
        if env.get("HELPDESK_SESSION_SECRET"):
            kwargs["session_secret"] = env["HELPDESK_SESSION_SECRET"]
        for name in ("webhook_url", "webhook_secret", "smtp_host", "smtp_from", "smtp_user", "smtp_password"):
            if env.get(f"HELPDESK_{name.upper()}"):
                kwargs[name] = env[f"HELPDESK_{name.upper()}"]
        for name in ("rate_limit_address", "rate_limit_conversation", "redis_url", "metrics_token"):
            if env.get(f"HELPDESK_{name.upper()}"):
                kwargs[name] = env[f"HELPDESK_{name.upper()}"]
        for name, kind in (
            ("max_body_bytes", int),
            ("smtp_port", int),
            ("notify_max_attempts", int),
            ("notify_retry_seconds", float),
            ("session_idle_seconds", float),
            ("session_max_seconds", float),
        ):
            if env.get(f"HELPDESK_{name.upper()}"):
                kwargs[name] = kind(env[f"HELPDESK_{name.upper()}"])
        if env.get("HELPDESK_SMTP_STARTTLS"):
            kwargs["smtp_starttls"] = env["HELPDESK_SMTP_STARTTLS"].lower() in ("1", "true", "yes")
        kwargs["mail"] = MailSettings.from_env(env)
        kwargs["attachments"] = AttachmentSettings.from_env(env)
        return kwargs
