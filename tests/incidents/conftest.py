"""Fixtures of the incident tests: the real app on a PostgreSQL schema, agents with tokens and
inbox sessions (the handoff tests' fixtures underneath)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import csrf_token as csrf
from tests.handoffs.conftest import (  # noqa: F401
    SERVICE,
    index_dir,
    make_client,
    make_settings,
    open_routing,
    postgres_schema,
    smtp_server,
)
from tests.handoffs.test_inbox import PASSWORD

ACCOUNTS = {"nora": (("network",), "agent"), "bill": (("billing",), "agent"), "sue": ((), "supervisor")}


class Desk:
    """The app with three accounts: nora (network), bill (billing), sue (supervisor)."""

    def __init__(self, client: TestClient):
        self.client = client
        self.tokens: dict[str, dict[str, str]] = {}
        app: Any = client.app
        store = app.state.handoffs
        for username, (teams, role) in ACCOUNTS.items():
            store.create_agent(username, username.title(), teams, PASSWORD, role)
            token = store.create_token(username, "test")
            self.tokens[username] = {"Authorization": f"Bearer {token}"}

    def api(self, method: str, path: str, who: str | None, **kwargs: Any):
        headers = {**(self.tokens[who] if who else {}), **kwargs.pop("headers", {})}
        self.client.cookies.clear()
        return self.client.request(method, "/agent/api/incidents" + path, headers=headers, **kwargs)

    def login(self, username: str) -> str:
        """Logs the client in as ``username``; returns the session's CSRF token."""
        self.client.cookies.clear()
        form = {"username": username, "password": PASSWORD, "csrf_token": csrf(self.client.get("/agent/login").text)}
        done = self.client.post("/agent/login", data=form, follow_redirects=False)
        assert done.status_code == 303
        return csrf(self.client.get("/agent").text)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture
def desk(make_client, pg_url) -> Desk:  # noqa: F811  (the fixture imported above)
    return Desk(make_client(database_url=pg_url))


def incident(**changes: Any) -> dict[str, Any]:
    """A declaration as an agent's tool posts it."""
    body = {
        "title": "Fibre outage in Berlin-Mitte",
        "category": "network",
        "product": "Nordwind Fiber",
        "postal_prefixes": ["101", "102"],
        "status": "investigating",
        "expected_resolution_at": "2099-01-01T18:00:00Z",
        "messages": {"de": "Störung im Glasfasernetz <b>Mitte</b>.", "en": "Fibre outage in <b>Mitte</b>."},
    }
    body.update(changes)
    return body
