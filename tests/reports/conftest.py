"""Fixtures of the reports tests: the handoff tests' real databases (SQLite, then a PostgreSQL schema) and app."""

from tests.handoffs.conftest import database_url, index_dir, make_settings, open_routing, store  # noqa: F401
