"""Fixtures of the reports tests: the handoff tests' real databases (SQLite, then a PostgreSQL schema) and app,
and the incident tests' desk (the app on a PostgreSQL schema with agents)."""

from tests.handoffs.conftest import database_url, index_dir, make_client, make_settings, open_routing, store  # noqa: F401
from tests.incidents.conftest import desk, pg_url  # noqa: F401
