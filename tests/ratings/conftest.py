"""Fixtures of the rating tests: the handoff tests' real databases (SQLite, then a PostgreSQL schema), SMTP and app."""

from tests.handoffs.conftest import (  # noqa: F401
    database_url,
    index_dir,
    make_client,
    make_settings,
    open_routing,
    smtp_server,
)
