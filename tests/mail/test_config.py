"""The e-mail channel's settings and the ``helpdesk mail`` command's checks (what `make run` relies on)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpdesk.mail.config import MailConfigError, MailSettings
from helpdesk.settings import PROJECT_ROOT


def test_the_password_comes_from_a_file_and_ports_follow_the_security(tmp_path):
    secret = tmp_path / "imap-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    settings = MailSettings.from_env(
        {
            "HELPDESK_IMAP_HOST": "imap.example.com",
            "HELPDESK_IMAP_USER": "support",
            "HELPDESK_IMAP_PASSWORD_FILE": str(secret),
            "HELPDESK_IMAP_PASSWORD": "the file wins",
            "HELPDESK_IMAP_SECURITY": "starttls",
            "HELPDESK_MAIL_REOPEN_DAYS": "7",
        }
    )
    assert (settings.imap_password, settings.imap_port, settings.reopen_days) == ("s3cret", 143, 7.0)
    assert settings.enabled and MailSettings.from_env({}).enabled is False
    assert settings.desk_address("Support@Example.com") == "support@example.com"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"HELPDESK_IMAP_HOST": "imap.example.com"}, "HELPDESK_IMAP_USER"),
        ({"HELPDESK_IMAP_SECURITY": "tls"}, "HELPDESK_IMAP_SECURITY"),
        ({"HELPDESK_MAIL_POLL_SECONDS": "soon"}, "HELPDESK_MAIL_POLL_SECONDS: 'soon' is not a number"),
        ({"HELPDESK_IMAP_PORT": "imaps"}, "HELPDESK_IMAP_PORT: 'imaps' is not a whole number"),
        ({"HELPDESK_MAIL_AUTOREPLY_HOURS": "0"}, "HELPDESK_MAIL_AUTOREPLY_HOURS: '0' must be positive"),
        ({"HELPDESK_IMAP_PASSWORD_FILE": "/nonexistent/pw"}, "cannot read"),
    ],
)
def test_a_wrong_setting_is_named(env, message):
    with pytest.raises(MailConfigError, match=message):
        MailSettings.from_env(env)


def run_mail(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "mail", *args],
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "HELPDESK_SECRETS_FILE": "/nonexistent", **env},
    )


def test_make_run_starts_the_mail_process_only_for_a_configured_mailbox():
    assert run_mail("--configured", env={}).returncode == 3
    assert (
        run_mail(
            "--configured",
            env={"HELPDESK_IMAP_HOST": "imap.example.com", "HELPDESK_IMAP_USER": "u", "HELPDESK_IMAP_PASSWORD": "p"},
        ).returncode
        == 0
    )
    wrong = run_mail("--configured", env={"HELPDESK_IMAP_HOST": "imap.example.com"})
    assert wrong.returncode == 2 and "HELPDESK_IMAP_USER" in wrong.stderr
    off = run_mail(env={})
    assert off.returncode == 2 and "the e-mail channel is off" in off.stderr
