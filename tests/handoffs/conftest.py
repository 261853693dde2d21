"""Fixtures of the handoff tests: real databases, real SMTP and HTTP receivers, the real app.

PostgreSQL: DATABASE_URL_TEST (default the local server); each test gets its
own schema, dropped afterwards, so parallel runs never collide. There is no
skip when the server is away: then these tests fail, as they should in CI.
"""

from __future__ import annotations

import copy
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from helpdesk.attachments.config import AttachmentSettings
from helpdesk.db import temporary_schema
from helpdesk.handoffs.store import HandoffStore
from helpdesk.settings import PROJECT_ROOT, Settings
from scripts.ports import free_port

PG_URL = os.environ.get("DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SERVICE_TOKEN = "test-service-token-of-the-handoff-tests"  # fixed: this module may be imported twice
DEFAULT_ROUTING = PROJECT_ROOT / "config" / "routing.yml"
FIXTURE_KB = PROJECT_ROOT / "tests" / "fixtures" / "kb"


@contextmanager
def postgres_schema(base_url: str = PG_URL) -> Iterator[str]:
    """A fresh schema; yields a URL whose connections use it (search_path)."""
    with temporary_schema(base_url, prefix="hd_test") as url:
        yield url


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database: a SQLite file in ``tmp_path`` or a PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoffs.db'}"
    else:
        with postgres_schema() as url:
            yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(database_url) -> Iterator[HandoffStore]:
    store = HandoffStore.open(database_url)
    yield store
    store.close()


def handoff_payload(key: str | None = None, **summary: Any) -> dict[str, Any]:
    """A handoff as the bot's action server posts it."""
    payload: dict[str, Any] = {
        "idempotency_key": key or f"conv-{secrets.token_hex(6)}-handoff-1",
        "conversation_id": "conv-" + secrets.token_hex(4),
        "channel": "web-chat",
        "language": "de",
        "reason": "unresolved",
        "summary": {
            "category": "network",
            "product": "FRITZ!Box 7590",
            "description": "Seit heute früh kein Internet, die Info-LED blinkt rot.",
            "tried": "Router neu gestartet; Kabel geprüft (Artikel router-no-internet)",
            "urgency": "high",
            "impact": "Homeoffice für 3 Personen fällt aus",
            "contact": {"name": "Erika Mustermann", "email": "erika@example.org", "phone": "+49 30 1234567"},
        },
        "transcript": [
            {"sender": "customer", "text": "Mein Internet geht nicht", "timestamp": "2026-11-27T06:58:00Z"},
            {"sender": "bot", "text": "Haben Sie den Router neu gestartet?", "timestamp": "2026-11-27T06:58:02Z"},
            {"sender": "customer", "text": "Ja, hilft nicht", "timestamp": "2026-11-27T06:59:10Z"},
        ],
        "articles_shown": [
            {
                "article_id": "router-no-internet",
                "title": "Router: kein Internet",
                "score": 0.71,
                "feedback": "not_solved",
            },
        ],
    }
    payload["summary"].update(summary)
    return payload


def write_routing(path: Path, **changes: Any) -> Path:
    data = yaml.safe_load(DEFAULT_ROUTING.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data.update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def open_routing(tmp_path) -> Path:
    """The default routing, but the office is open around the clock (results do not depend on the time)."""
    return write_routing(tmp_path / "routing-open.yml", office_hours={"mon-sun": "00:00-24:00"})


@pytest.fixture
def closed_routing(tmp_path) -> Path:
    """The default routing on a holiday: the office is closed now and for the next days."""
    today = datetime.now(UTC).date()
    days = [today + timedelta(days=d) for d in range(-1, 4)]
    return write_routing(tmp_path / "routing-closed.yml", holidays=[d.isoformat() for d in days])


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    # Shared by every app of the run: the search index of the fixture KB is built once.
    return tmp_path_factory.mktemp("index")


@pytest.fixture
def make_settings(tmp_path, index_dir, open_routing):
    def make(**changes: Any) -> Settings:
        base = Settings(
            articles_dir=FIXTURE_KB,
            index_dir=index_dir,
            database_url=f"sqlite:///{tmp_path / 'app.db'}",
            routing_file=open_routing,
            service_token=SERVICE_TOKEN,
            admin_token="test-admin-token",
            session_secret="test-session-secret-" + secrets.token_hex(8),
            notify_retry_seconds=0.2,
            notify_max_attempts=4,
            attachments=AttachmentSettings(directory=tmp_path / "chat-attachments"),
        )
        return base.model_copy(update=changes)

    return make


@pytest.fixture
def make_client(make_settings):
    """Opens the real app (create_app, lifespan and all) in-process; closed at the end of the test."""
    opened: list[TestClient] = []

    def make(**changes: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**changes)))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


# -- real receivers ------------------------------------------------------------------------------
class SMTPCollector:
    def __init__(self):
        self.messages: list[Any] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        self.arrived.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[SMTPCollector, int]]:
    collector = SMTPCollector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector, port
    controller.stop()


class WebhookReceiver:
    """A real HTTP server that records each request; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    code = 500 if len(receiver.requests) < receiver.fail_first else 204
                    receiver.requests.append((dict(self.headers), body, code))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/helpdesk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self) -> list[tuple[dict[str, str], bytes, int]]:
        with self.lock:
            return [r for r in self.requests if r[2] < 300]


@pytest.fixture
def make_webhook():
    receivers: list[WebhookReceiver] = []

    def make(fail_first: int = 0) -> WebhookReceiver:
        receiver = WebhookReceiver(fail_first)
        receiver.thread.start()
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.server.shutdown()
        receiver.server.server_close()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def running(app) -> Iterator[str]:
    """``app`` (lifespan and all) under uvicorn on a free port in a thread; yields its base URL."""
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@contextmanager
def chromium():
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium at /usr/bin/chromium: run scripts/bootstrap browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def today() -> date:
    return datetime.now(UTC).date()
