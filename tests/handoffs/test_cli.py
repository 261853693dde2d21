"""The helpdesk subcommands of the handoff part, run as the operator runs them (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys

from helpdesk.handoffs.store import HandoffStore
from tests.handoffs.conftest import DEFAULT_ROUTING


def helpdesk(database_url: str, *args: str, env: dict[str, str] | None = None, stdin: str = ""):
    environment = {key: value for key, value in os.environ.items() if key != "HELPDESK_AGENT_PASSWORD"}
    environment.update(
        {
            "DATABASE_URL": database_url,
            "HELPDESK_ROUTING_FILE": str(DEFAULT_ROUTING),
            "HELPDESK_SECRETS_FILE": os.devnull,
            **(env or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin,
        timeout=120,
    )


def test_migrate_create_agent_and_token(tmp_path):
    # The commands are the same on both databases (the store tests cover PostgreSQL); SQLite keeps this quick.
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = helpdesk(database_url, "migrate")
    assert done.returncode == 0, done.stderr
    assert "latest revision" in done.stderr

    password_file = tmp_path / "password"
    password_file.write_text("s3cret enough password\n")
    done = helpdesk(
        database_url,
        "create-agent",
        "anna",
        "--name",
        "Anna Agent",
        "--team",
        "network,experts",
        "--password-file",
        str(password_file),
    )
    assert done.returncode == 0, done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    done = helpdesk(
        database_url,
        "create-agent",
        "ben",
        "--team",
        "billing",
        env={"HELPDESK_AGENT_PASSWORD": "another fine password"},
    )
    assert done.returncode == 0, done.stderr

    assert (
        helpdesk(
            database_url, "create-agent", "anna", "--team", "network", "--password-file", str(password_file)
        ).returncode
        == 1
    )  # exists
    unknown = helpdesk(
        database_url, "create-agent", "carl", "--team", "plumbing", "--password-file", str(password_file)
    )
    assert unknown.returncode == 2 and "plumbing" in unknown.stderr
    password_file.write_text("short\n")
    assert (
        helpdesk(
            database_url, "create-agent", "dora", "--team", "email", "--password-file", str(password_file)
        ).returncode
        == 2
    )

    done = helpdesk(database_url, "create-agent-token", "anna", "--name", "laptop")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()

    store = HandoffStore.open(database_url, migrate=False)
    try:
        anna = store.authenticate("anna", "s3cret enough password")
        assert anna is not None and anna.display_name == "Anna Agent" and anna.teams == ("network", "experts")
        assert store.authenticate("ben", "another fine password") is not None
        assert store.authenticate("carl", "s3cret enough password") is None
        assert store.authenticate("dora", "short") is None
        assert store.agent_for_token(token) == anna
    finally:
        store.close()

    assert helpdesk(database_url, "deactivate-agent", "anna").returncode == 0
    assert helpdesk(database_url, "deactivate-agent", "nobody").returncode == 1
    store = HandoffStore.open(database_url, migrate=False)
    try:
        assert store.authenticate("anna", "s3cret enough password") is None
        assert store.agent_for_token(token) is None and store.agent(anna.id) is None
        assert store.authenticate("ben", "another fine password") is not None
    finally:
        store.close()


def test_routing_check(tmp_path):
    ok = helpdesk("sqlite://", "routing-check")
    assert ok.returncode == 0 and "7 teams" in ok.stdout and "Europe/Berlin" in ok.stdout
    broken = tmp_path / "routing.yml"
    broken.write_text("time_zone: Nowhere/Land\n")
    bad = helpdesk("sqlite://", "routing-check", "--routing", str(broken))
    assert bad.returncode == 1 and "Nowhere/Land" in bad.stderr
