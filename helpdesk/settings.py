"""Configuration of the desk (handoffs, inbox, chat, notifications), read from the environment.

``Settings`` is knowledge search's ``SearchSettings`` plus what the desk needs,
so the one process that ``make run`` starts reads one configuration. Every
knob is an environment variable with an embedded default (``HELPDESK_`` and the
field's name, unless the field names its variable); secrets come from the
environment or ``HELPDESK_SECRETS_FILE`` (search_api.settings.read_env) and are
never defaulted to a value written in the code. docs/configuration.md lists every
variable (tests/test_settings.py checks that it does).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from helpdesk.attachments.config import AttachmentSettings
from helpdesk.deployment import Deployment, load_checked
from helpdesk.mail.config import MailSettings
from helpdesk.privacy.tracker import tracker_store_url
from search_api.settings import PROJECT_ROOT, SearchSettings, SettingsError

__all__ = ["PROJECT_ROOT", "Settings", "SettingsError"]


class Settings(SearchSettings):
    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'var' / 'handoffs.db'}",
        validation_alias="DATABASE_URL",
        description="the desk's database",
    )
    routing_file: Path = Field(PROJECT_ROOT / "config" / "routing.yml", description="the routing file")
    service_token: str | None = Field(
        None, description="bearer token of the bot's action server (POST /handoffs); unset: refuse everyone"
    )
    session_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32), description="signs the login form's and device cookies"
    )
    # Inbox sessions (helpdesk/inbox/sessions.py).
    session_idle_seconds: float = Field(30 * 60, description="an inbox session ends after this long without a request")
    session_max_seconds: float = Field(12 * 3600, description="and at the latest this long after login")
    # Handoff notifications (helpdesk/handoffs/notifications.py); a channel is off while unset.
    webhook_url: str | None = Field(None, description="receiver of handoff webhooks")
    webhook_secret: str | None = Field(None, description="HMAC-SHA256 key of the webhooks' signature")
    smtp_host: str | None = Field(None, description="SMTP server of notification and reply mails; unset: off")
    smtp_port: int = Field(25, description="its port")
    smtp_from: str = Field("helpdesk@localhost", description="sender address")
    smtp_user: str | None = Field(None, description="SMTP login")
    smtp_password: str | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(False, description="STARTTLS before login")
    notify_max_attempts: int = Field(10, description="attempts before a notification is marked failed")
    notify_retry_seconds: float = Field(10.0, description="first retry delay; doubles each time")
    # The company's configuration (config/deployment.yml or HELPDESK_DEPLOYMENT_FILE). None: the
    # app loads it at start; from_env loads it at once and takes its languages and public URL.
    deployment: Deployment | None = None
    # The public edge (helpdesk/edge): body size, rate limits, /metrics.
    max_body_bytes: int = Field(1024 * 1024, description="larger request bodies are refused with 413")
    rate_limit_address: str = Field("20/second;600/minute", description="per client address and endpoint group")
    rate_limit_conversation: str = Field("5/second;120/minute", description="per chat conversation")
    redis_url: str | None = Field(None, description="rate-limit counters shared by replicas; unset: per process")
    metrics_token: str | None = Field(None, description="bearer token of /metrics; unset: /metrics refuses everyone")
    # Rasa's tracker store (RASA_TRACKER_STORE_URL, as scripts/run exports it, else beside a PostgreSQL
    # DATABASE_URL): erasure and purge delete a conversation's events there too. None: not touched.
    tracker_store_url: str | None = None
    drafts_dir: Path = Field(
        PROJECT_ROOT / "kb" / "drafts", description="article drafts written from resolved tickets: <lang>/<slug>.md"
    )
    procedures_file: Path | None = Field(
        None, description="the procedures' systems and limits; unset: config/procedures.yml"
    )
    # The e-mail channel (helpdesk/mail): the support mailbox, limits, attachments; off without an IMAP host.
    mail: MailSettings = Field(default_factory=MailSettings)
    # Files customers attach in the web chat (helpdesk/attachments): folder, limits, the virus scan.
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)
    derived: ClassVar[frozenset[str]] = SearchSettings.derived | {
        "deployment",
        "tracker_store_url",
        "mail",
        "attachments",
    }

    @classmethod
    def derived_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        deployment = load_checked(env=env)  # its environment overrides include HELPDESK_LANGUAGES/_PUBLIC_URL
        return {
            **super().derived_values(env),
            "deployment": deployment,
            "languages": tuple(deployment.languages),
            "public_base_url": deployment.urls.public,
            "tracker_store_url": tracker_store_url(env),
            "mail": MailSettings.from_mapping(env),
            "attachments": AttachmentSettings.from_mapping(env),
        }
