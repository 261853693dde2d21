"""The web service's public edge through the real app: 413, 429, /metrics, page headers, OpenAPI.

Every public endpoint that takes a body refuses one over HELPDESK_MAX_BODY_BYTES
(declared or streamed) with a JSON 413; the rate-limited ones answer a JSON
429 with Retry-After per client address and per chat conversation, while
other addresses, other conversations and the bot's service token go on
unaffected. Counters shared through the real Redis are checked with two apps,
as two replicas would share them.
"""

from __future__ import annotations

import secrets

import pytest
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from helpdesk.edge.rate_limit import RateLimiter
from tests.conftest import ADMIN_TOKEN, SERVICE_TOKEN

LIMIT = 1000
SESSION = "0123456789abcdef0123456789abcdef"
# Every public endpoint with a request body, with a valid small body.
BODY_ENDPOINTS = [
    ("/search", {"query": "router"}),
    ("/language", {"text": "hello"}),
    ("/feedback", {"article_id": "a", "conversation_id": "c", "query": "q", "helpful": True}),
    ("/handoffs", {}),
    (f"/chat/api/live/{SESSION}/messages", {"text": "hi"}),
    ("/admin/reindex", {}),
    ("/agent/login", {}),
]
LIMITED = [
    ("POST", "/search", {"query": "router"}),
    ("POST", "/language", {"text": "hello"}),
    ("POST", "/feedback", {"article_id": "a", "conversation_id": "c", "query": "q", "helpful": True}),
    ("GET", "/chat/api/live/{session}", None),
    ("POST", "/chat/api/live/{session}/messages", {"text": "hi"}),
]


@pytest.fixture(scope="module")
def app_settings(built_kb, tmp_path_factory):
    db = tmp_path_factory.mktemp("edge") / "handoffs.db"
    return built_kb.model_copy(
        update={
            "database_url": f"sqlite:///{db}",
            "max_body_bytes": LIMIT,
            "rate_limit_address": "4/minute",
            "rate_limit_conversation": "3/minute",
            "metrics_token": "metrics-secret",
        }
    )


@pytest.fixture(scope="module")
def app(app_settings):
    app = create_app(app_settings)
    with TestClient(app):  # runs the lifespan once: index and database open
        yield app


def client(app, address: str = "198.51.100.1", **headers) -> TestClient:
    return TestClient(app, client=(address, 40000), headers=headers)


def fresh_address() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"


@pytest.mark.parametrize("path,body", BODY_ENDPOINTS)
def test_declared_body_over_the_limit_is_413_json(app, path, body):
    response = client(app, fresh_address()).post(
        path, content=b"{" + b" " * (10 * 1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body over {LIMIT} bytes"}


@pytest.mark.parametrize("path,body", BODY_ENDPOINTS[:5])
def test_streamed_body_without_length_is_cut_at_the_limit(app, path, body):
    sent = []

    def chunks():
        for _ in range(100):  # 100 KB in all, far past the limit, with no Content-Length
            sent.append(1)
            yield b" " * 1024

    response = client(app, fresh_address(), Authorization=f"Bearer {SERVICE_TOKEN}").post(
        path, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == f"request body over {LIMIT} bytes"


def test_normal_bodies_still_pass(app):
    c = client(app, fresh_address())
    assert c.post("/search", json={"query": "my internet is slow"}).status_code == 200
    assert c.post("/language", json={"text": "Mein Internet ist langsam"}).json()["lang"] == "de"


@pytest.mark.parametrize("method,path,body", LIMITED)
def test_over_the_address_limit_is_429_with_retry_after(app, method, path, body):
    address = fresh_address()
    # A new chat session each time: only the address limit is in play.
    codes = [
        client(app, address).request(method, path.format(session=secrets.token_hex(16)), json=body).status_code
        for _ in range(4)
    ]
    assert 429 not in codes and 413 not in codes
    refused = client(app, address).request(method, path.format(session=secrets.token_hex(16)), json=body)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many requests from this address" in refused.json()["detail"]
    # Another customer is not affected.
    assert (
        client(app, fresh_address()).request(method, path.format(session=secrets.token_hex(16)), json=body).status_code
        != 429
    )


def test_chat_conversation_limit_applies_across_addresses(app):
    session = secrets.token_hex(16)
    # An unknown chat key is a 404; the limit counts the requests all the same (no probing of keys).
    codes = [client(app, fresh_address()).get(f"/chat/api/live/{session}").status_code for _ in range(3)]
    assert codes == [404, 404, 404]
    refused = client(app, fresh_address()).get(f"/chat/api/live/{session}")
    assert refused.status_code == 429 and "in this conversation" in refused.json()["detail"]
    assert client(app, fresh_address()).get(f"/chat/api/live/{secrets.token_hex(16)}").status_code == 404


def test_the_bots_service_token_is_not_limited_per_address(app):
    bot = client(app, fresh_address(), Authorization=f"Bearer {SERVICE_TOKEN}")
    assert {bot.post("/language", json={"text": "hello there"}).status_code for _ in range(8)} == {200}
    wrong = client(app, fresh_address(), Authorization="Bearer not-the-token")
    assert [wrong.post("/language", json={"text": "hi"}).status_code for _ in range(5)][-1] == 429


def test_feedback_needs_the_service_token(app):
    body = {"article_id": "fx-en-reset-password", "conversation_id": "c-1", "query": "q", "helpful": False}
    assert client(app, fresh_address()).post("/feedback", json=body).status_code == 401
    bot = client(app, fresh_address(), Authorization=f"Bearer {SERVICE_TOKEN}")
    assert bot.post("/feedback", json=body).status_code == 204


def test_unlimited_endpoints_are_not_counted(app):
    address = fresh_address()
    assert {client(app, address).get("/health").status_code for _ in range(10)} == {200}


def test_counters_are_shared_through_redis():
    # Two limiters on one Redis: what two replicas of the service do.
    prefix = f"test-{secrets.token_hex(6)}"
    a = RateLimiter("3/minute", "1/minute", "redis://127.0.0.1:6379", prefix=prefix)
    b = RateLimiter("3/minute", "1/minute", "redis://127.0.0.1:6379", prefix=prefix)
    assert a.hit(a.address_limits, "search", "address", "x") is None
    assert b.hit(b.address_limits, "search", "address", "x") is None
    assert a.hit(a.address_limits, "search", "address", "x") is None
    wait = b.hit(b.address_limits, "search", "address", "x")
    assert wait is not None and 0 < wait <= 60


def test_metrics_need_their_token(app):
    c = client(app)
    assert c.get("/metrics").status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = c.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
    assert ok.status_code == 200 and "http_requests_total" in ok.text


def test_metrics_refuse_everyone_without_a_configured_token(built_kb, tmp_path):
    settings = built_kb.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'h.db'}", "metrics_token": None})
    with TestClient(create_app(settings)) as c:
        assert c.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 403


def test_article_pages_send_csp_and_frame_headers(app):
    page = client(app).get("/articles/fx-en-reset-password")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_references_resolve_and_errors_are_documented(app):
    doc = client(app).get("/openapi.json").json()
    refs: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                refs.add(value) if key == "$ref" else walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    schemas = doc["components"]["schemas"]
    assert "Contact" in schemas
    assert [ref for ref in refs if ref.rsplit("/", 1)[-1] not in schemas] == []
    handoffs = doc["paths"]["/handoffs"]["post"]["responses"]
    assert {"400", "401", "413"} <= set(handoffs)
    search = doc["paths"]["/search"]["post"]["responses"]
    assert {"400", "413", "429"} <= set(search) and "Retry-After" in search["429"]["headers"]
    chat = doc["paths"]["/chat/api/live/{key}"]["get"]["responses"]
    assert {"404", "429"} <= set(chat)
    assert {"401", "413", "429"} <= set(doc["paths"]["/feedback"]["post"]["responses"])


def test_every_agent_and_admin_api_answer_has_a_declared_shape(app):
    """/docs shows what each agent and admin API route answers: its success response is a model.
    Not the customer's export: everything stored about them, as JSON or as a readable page."""
    doc = client(app).get("/openapi.json").json()
    undeclared = []
    for path, operations in doc["paths"].items():
        if not path.startswith("/agent/api/") or path == "/agent/api/admin/privacy/export":
            continue
        for method, operation in operations.items():
            success = next(code for code in operation["responses"] if code.startswith("2"))
            if success == "204":
                continue
            schema = operation["responses"][success].get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" not in schema:
                undeclared.append(f"{method.upper()} {path}")
    assert undeclared == []
    handoff = doc["components"]["schemas"]["HandoffView"]["properties"]
    assert {"ticket_id", "summary", "transcript", "events", "notifications"} <= set(handoff)
