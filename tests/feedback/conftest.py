"""Fixtures of the feedback tests: the real app on the fixture KB, real SQLite and real PostgreSQL.

Every database test runs twice, on a SQLite file and in a fresh PostgreSQL
schema (the handoff tests' ``database_url`` fixture, DATABASE_URL_TEST); there
is no skip when the server is away, so CI notices.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from helpdesk.feedback.store import FeedbackStore
from helpdesk.handoffs.store import HandoffStore
from helpdesk.settings import Settings
from tests.conftest import ADMIN_TOKEN, SERVICE_TOKEN

# The same database fixture as the handoff tests: a SQLite file, then a fresh PostgreSQL schema.
from tests.handoffs.conftest import database_url  # noqa: F401  (a fixture)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def settings(built_kb, database_url) -> Settings:
    """The session's built fixture KB (real models), served with this test's database."""
    return built_kb.model_copy(update={"database_url": database_url})


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    # As the bot's action server calls it: with the service token (POST /feedback requires it).
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as c:
        yield c


@pytest.fixture
def store(database_url) -> Iterator[FeedbackStore]:
    """A FeedbackStore on a migrated database, through the handoff store's engine as the app does."""
    handoffs = HandoffStore.open(database_url)
    yield FeedbackStore(handoffs.engine)
    handoffs.close()
