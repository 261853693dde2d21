"""Roles and team isolation on every route of the app: the matrix of roles x routes.

``ROUTES`` declares, for every route the app serves, who may use it. The first
test fails when the app has a route this table does not name, so a new route
cannot ship without a decision about its access (and a case below). Then each
ticket route is called, for a network-team ticket, by: an agent of that team,
an agent of another team, a supervisor, an admin and nobody; through the inbox
session (pages, live takeover, streams) and through API tokens. An agent of
another team gets exactly what a ticket that does not exist gets (404), and the
ticket is unchanged.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from PIL import Image

from helpdesk.app import create_app
from helpdesk.attachments.config import AttachmentSettings
from helpdesk.attachments.store import AttachmentStore
from helpdesk.chat import live_api
from helpdesk.inbox import stream as inbox_stream
from helpdesk.mail import attachments
from helpdesk.mail.config import MailSettings
from helpdesk.mail.parsing import Attachment
from helpdesk.mail.store import MailStore
from helpdesk.settings import Settings
from tests.conftest import csrf_token
from tests.handoffs.conftest import FIXTURE_KB, SERVICE, SERVICE_TOKEN, handoff_payload, write_routing
from tests.incidents.conftest import incident

PASSWORD = "a long enough password"

# kind of access -> what it means
#   public: anyone; service: the bot's service token; admin_token: HELPDESK_ADMIN_TOKEN;
#   chat_key: the customer's chat key; login: the login form; session: any logged-in agent;
#   page_list / api_list / list_stream: lists filtered to the caller's teams;
#   page_ticket / api_ticket / ticket_stream: one ticket, 404 outside the caller's teams;
#   api_self: the caller's own account; api_admin: role admin only;
#   page_reports: supervisors and admins (an agent gets 403, nobody the login page).
#   page_attachment: a file of a ticket's mail or chat, 404 outside the caller's teams (like page_ticket).
#   chat_session: the customer's chat, by its session id in the form (helpdesk/attachments/api.py).
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
    ("POST", "/search"): "public",
    ("POST", "/language"): "public",
    ("GET", "/health"): "public",
    ("POST", "/admin/reindex"): "admin_token",
    ("GET", "/articles/{article_id}"): "public",
    ("GET", "/chat/api/live/{key}"): "chat_key",
    ("POST", "/chat/api/live/{key}/messages"): "chat_key",
    ("GET", "/chat/api/live/{key}/events"): "chat_key",
    ("POST", "/agent/handoffs/{ticket_id}/live/start"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/live/messages"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/live/hand-back"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/live/close"): "page_ticket",
    ("GET", "/agent/handoffs/{ticket_id}/live/events"): "ticket_stream",
    ("GET", "/chat"): "public",
    ("GET", "/chat/embed.js"): "public",
    ("GET", "/chat/static/{name:path}"): "public",
    ("POST", "/handoffs"): "service",
    ("POST", "/handoffs/{ticket_id}/messages"): "service",
    ("GET", "/bot/profile"): "public",
    ("GET", "/chat/brand.css"): "public",
    ("GET", "/chat/brand/logo"): "public",
    ("GET", "/agent/api/me"): "api_self",
    ("GET", "/agent/api/handoffs"): "api_list",
    ("GET", "/agent/api/handoffs/{ticket_id}"): "api_ticket",
    ("POST", "/agent/api/handoffs/{ticket_id}/claim"): "api_ticket",
    ("POST", "/agent/api/handoffs/{ticket_id}/notes"): "api_ticket",
    ("POST", "/agent/api/handoffs/{ticket_id}/resolve"): "api_ticket",
    ("POST", "/agent/api/handoffs/{ticket_id}/escalate"): "api_ticket",
    ("POST", "/agent/api/handoffs/{ticket_id}/reassign"): "api_ticket",  # to the ticket's own team here: 409
    ("GET", "/agent/api/handoffs/{ticket_id}/suggestions"): "api_ticket",
    ("GET", "/agent/api/admin/agents"): "api_admin",
    ("POST", "/agent/api/admin/agents"): "api_admin",
    ("PATCH", "/agent/api/admin/agents/{username}"): "api_admin",
    ("POST", "/agent/api/admin/agents/{username}/deactivate"): "api_admin",
    ("POST", "/agent/api/admin/agents/{username}/password"): "api_admin",
    ("POST", "/agent/api/admin/agents/{username}/tokens"): "api_admin",
    ("POST", "/agent/api/admin/privacy/export"): "api_admin",
    ("POST", "/agent/api/admin/privacy/erase"): "api_admin",
    ("GET", "/agent/api/admin/privacy/audit"): "api_admin",
    ("GET", "/agent/login"): "login",
    ("POST", "/agent/login"): "login",
    ("POST", "/agent/logout"): "session",
    ("POST", "/agent/language"): "session",  # the agent's own language (tests/i18n)
    ("GET", "/agent"): "page_list",
    ("GET", "/agent/events"): "list_stream",
    ("GET", "/agent/handoffs/{ticket_id}"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/claim"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/note"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/resolve"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/incident"): "page_ticket",  # links it to the desk's network incident
    ("POST", "/agent/handoffs/{ticket_id}/escalate"): "page_ticket",
    ("POST", "/agent/handoffs/{ticket_id}/reassign"): "page_ticket",  # without a team: 422
    ("GET", "/agent/reports"): "page_reports",
    ("GET", "/agent/reports/{name}.csv"): "page_reports",
    ("POST", "/agent/handoffs/{ticket_id}/draft"): "page_ticket",  # a resolved ticket only (else 409)
    ("POST", "/agent/handoffs/{ticket_id}/mail"): "page_ticket",
    ("GET", "/agent/handoffs/{ticket_id}/attachments/{token}"): "page_attachment",
    ("GET", "/agent/handoffs/{ticket_id}/chat-files/{token}"): "page_attachment",
    ("GET", "/agent/handoffs/{ticket_id}/chat-files/{token}/thumbnail"): "page_attachment",
    ("POST", "/chat/api/attachments"): "chat_session",
    ("POST", "/feedback"): "public",
    ("GET", "/admin/gaps"): "admin_token",
    ("GET", "/metrics"): "public",
    # Known incidents (tests/incidents/test_incidents_api.py checks their roles and team scope).
    ("GET", "/agent/api/incidents"): "api_incidents",
    ("POST", "/agent/api/incidents"): "api_incidents",
    ("GET", "/agent/api/incidents/{incident_id}"): "api_incident",
    ("POST", "/agent/api/incidents/{incident_id}/updates"): "api_incident",
    # Linked tickets (tests/incidents/test_incident_tickets.py checks their team scope).
    ("GET", "/agent/api/incidents/{incident_id}/tickets"): "api_incident",
    ("POST", "/agent/api/incidents/{incident_id}/tickets"): "api_incident",
    ("DELETE", "/agent/api/incidents/{incident_id}/tickets/{ticket_id}"): "api_incident",
    ("GET", "/agent/incidents"): "page_incidents",
    ("POST", "/agent/incidents"): "page_incidents",
    ("GET", "/agent/incidents/{incident_id}"): "page_incident",
    ("POST", "/agent/incidents/{incident_id}/update"): "page_incident",
    ("GET", "/api/incidents/active"): "service",
    ("POST", "/api/incidents/{incident_id}/subscriptions"): "service",
    ("POST", "/api/incidents/{incident_id}/told"): "service",
    ("GET", "/status"): "public",
    # A rating link's page: its secret is the token in the path (helpdesk/ratings/links.py).
    ("GET", "/rate/{token}"): "public",
    ("POST", "/rate/{token}"): "public",
    # The bot's procedures: what to ask, an answer's check, the run (the service token).
    ("GET", "/procedures/{procedure_id}"): "service",
    ("POST", "/procedures/{procedure_id}/inputs"): "service",
    ("POST", "/procedures/{procedure_id}/runs"): "service",
    ("GET", "/status.json"): "public",
    ("GET", "/status.atom"): "public",
}
TICKET_KINDS = ("page_ticket", "api_ticket", "ticket_stream")
ROLES = ("own_agent", "other_agent", "supervisor", "admin")


def app_routes(app) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.router.routes):
        for method in getattr(context, "methods", None) or ():
            if method != "HEAD" and context.path is not None:
                found.add((method, context.path))
    return found


class Desk:
    """One app for the whole module, with four accounts, their sessions and their tokens."""

    def __init__(self, client: TestClient):
        self.client = client
        store = cast(FastAPI, client.app).state.handoffs
        self.accounts = {
            "own_agent": ("nora", ("network",), "agent"),
            "other_agent": ("bill", ("billing",), "agent"),
            "supervisor": ("sue", (), "supervisor"),
            "admin": ("adam", (), "admin"),
        }
        self.tokens: dict[str, dict[str, str]] = {}
        self.cookies: dict[str, str] = {}
        self.csrf: dict[str, str] = {}
        for role, (username, teams, kind) in self.accounts.items():
            store.create_agent(username, username.title(), teams, PASSWORD, kind)
            self.tokens[role] = {"Authorization": f"Bearer {store.create_token(username, 'matrix')}"}
            self.client.cookies.clear()
            page = self.client.get("/agent/login")
            token = csrf_token(page.text)
            done = self.client.post(
                "/agent/login",
                data={"username": username, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert done.status_code == 303, done.text
            self.cookies[role] = self.client.cookies["hd_session"]
            self.csrf[role] = csrf_token(self.client.get("/agent").text)
        self.client.cookies.clear()
        declared = self.client.post("/agent/api/incidents", json=incident(), headers=self.tokens["supervisor"])
        assert declared.status_code == 201, declared.text
        self.incident_id = str(declared.json()["id"])  # a network incident, for the link form

    def ticket(self, category: str = "network", channel: str = "web-chat", urgency: str = "high") -> tuple[str, str]:
        payload = handoff_payload(category=category, urgency=urgency)
        payload["conversation_id"] = secrets.token_hex(16)  # a web chat's session id
        payload["channel"] = channel
        body = self.client.post("/handoffs", json=payload, headers=SERVICE).json()
        return body["ticket_id"], payload["conversation_id"]

    def as_(self, role: str | None) -> None:
        self.client.cookies.clear()
        if role is not None:
            self.client.cookies.set("hd_session", self.cookies[role], domain="testserver.local", path="/agent")

    def call(self, method: str, path: str, role: str | None, ticket_id: str) -> Any:
        """Call a ticket route as ``role`` (None: nobody) with a valid body; returns the response."""
        url = path.replace("{ticket_id}", ticket_id)
        kind = ROUTES[(method, path)]
        if kind == "api_ticket":
            self.client.cookies.clear()
            headers = self.tokens[role] if role else {}
            body = {
                "claim": None,
                "notes": {"text": "a note"},
                "resolve": {"note": "done"},
                "escalate": {"reason": "needs experts"},
                "reassign": {"reason": "belongs to network", "team": "network"},
            }.get(url.rsplit("/", 1)[-1])
            return self.client.request(method, url, headers=headers, json=body)
        self.as_(role)
        if kind == "ticket_stream":
            with self.client.stream("GET", url) as response:
                response.read()
                return response
        data = {
            "csrf_token": self.csrf[role] if role else "x",
            "text": "a reply",
            "note": "done",
            "reason": "needs experts",
            "incident_id": self.incident_id,
        }
        if method == "GET":
            return self.client.get(url, follow_redirects=False)
        return self.client.post(url, data=data, follow_redirects=False)


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("access")
    routing = write_routing(tmp / "routing.yml", office_hours={"mon-sun": "00:00-24:00"})
    settings = Settings(
        articles_dir=FIXTURE_KB,
        index_dir=tmp / "index",
        database_url=f"sqlite:///{tmp / 'a.db'}",
        routing_file=routing,
        service_token=SERVICE_TOKEN,
        admin_token="test-admin-token",
        session_secret=secrets.token_urlsafe(16),
        mail=MailSettings(attachments_dir=tmp / "files"),
        attachments=AttachmentSettings(directory=tmp / "chat-files"),
    )
    saved = live_api.STREAM_SECONDS, inbox_stream.STREAM_SECONDS
    live_api.STREAM_SECONDS = inbox_stream.STREAM_SECONDS = 0.3
    with TestClient(create_app(settings.model_copy())) as client:
        yield Desk(client)
    live_api.STREAM_SECONDS, inbox_stream.STREAM_SECONDS = saved


def test_every_route_of_the_app_has_a_declared_access_rule(desk):
    routes = app_routes(desk.client.app)
    assert routes - set(ROUTES) == set(), "new route(s) without an access rule in ROUTES (and a case here)"
    assert set(ROUTES) - routes == set(), "ROUTES names routes the app does not have"


TICKET_ROUTES = sorted(route for route, kind in ROUTES.items() if kind in TICKET_KINDS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", TICKET_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_ticket_routes_by_role(desk, route, role):
    method, path = route
    ticket, sender_id = desk.ticket("network")
    store = desk.client.app.state.handoffs
    before = store.get(ticket)
    response = desk.call(method, path, role, ticket)
    if role == "other_agent":
        # Exactly what a ticket that does not exist gets: nothing tells it apart.
        missing = desk.call(method, path, role, "HD-ZZZZZZ")
        assert response.status_code == 404, (route, response.status_code, response.text[:300])
        assert missing.status_code == 404
        assert response.text.replace(ticket, "HD-ZZZZZZ") == missing.text
        after = store.get(ticket)
        assert after == before, "another team's agent changed the ticket"
    else:
        assert response.status_code not in (401, 403, 404), (route, role, response.status_code, response.text[:300])
        # 502: the hand-back needs Rasa, which does not run here; the route itself let the caller in.
        assert response.status_code < 500 or (path.endswith("/hand-back") and response.status_code == 502)
        assert sender_id not in response.text  # agents never see the customer's Rasa sender id


@pytest.mark.parametrize(
    "route",
    TICKET_ROUTES + [("GET", "/agent"), ("GET", "/agent/events"), ("GET", "/agent/api/handoffs")],
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_nobody_gets_nothing(desk, route):
    method, path = route
    ticket, _ = desk.ticket("network")
    kind = ROUTES[route]
    if kind in TICKET_KINDS:
        response = desk.call(method, path, None, ticket)
    else:
        desk.as_(None)
        response = desk.client.request(method, path, follow_redirects=False)
    if kind.startswith("page"):
        assert response.status_code == 303 and response.headers["location"].startswith("/agent/login")
    else:
        assert response.status_code == 401
    assert ticket not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_lists_and_list_stream_show_only_the_callers_teams(desk, role):
    # Critical, and the lists sorted by priority: on top of the module's many tickets, whatever their number.
    network, _ = desk.ticket("network", urgency="critical")
    billing, _ = desk.ticket("billing", urgency="critical")
    visible = {"own_agent": {network}, "other_agent": {billing}}.get(role, {network, billing})
    hidden = {network, billing} - visible
    desk.as_(role)
    first = {"sort": "priority"}
    page = desk.client.get("/agent", params=first).text
    page_team = desk.client.get("/agent", params={**first, "team": "network"}).text
    with desk.client.stream("GET", "/agent/events") as response:
        stream = response.read().decode()
    desk.client.cookies.clear()
    api = desk.client.get("/agent/api/handoffs", params=first, headers=desk.tokens[role]).text
    api_team = desk.client.get(
        "/agent/api/handoffs", params={**first, "team": "network"}, headers=desk.tokens[role]
    ).text
    api_search = desk.client.get("/agent/api/handoffs", params={"q": network}, headers=desk.tokens[role]).text
    for text in (page, stream, api):
        assert all(t in text for t in visible) and not any(t in text for t in hidden), role
    assert (network in page_team) == (network in visible) and (network in api_team) == (network in visible)
    assert (network in api_search) == (network in visible)


@pytest.mark.parametrize("role", ROLES)
def test_admin_routes_need_the_admin_role(desk, role):
    name = f"new-{secrets.token_hex(3)}"
    headers = desk.tokens[role]
    calls = [
        ("GET", "/agent/api/admin/agents", None),
        ("POST", "/agent/api/admin/agents", {"username": name, "teams": ["network"], "password": PASSWORD}),
        ("PATCH", f"/agent/api/admin/agents/{name}", {"teams": ["network", "email"]}),
        ("POST", f"/agent/api/admin/agents/{name}/tokens", {"name": "laptop"}),
        ("POST", f"/agent/api/admin/agents/{name}/password", {"password": PASSWORD + "!"}),
        ("POST", f"/agent/api/admin/agents/{name}/deactivate", None),
        ("POST", "/agent/api/admin/privacy/export", {"email": f"{name}@example.org"}),
        ("POST", "/agent/api/admin/privacy/erase", {"email": f"{name}@example.org", "dry_run": True}),
        ("GET", "/agent/api/admin/privacy/audit", None),
    ]
    for method, url, body in calls:
        response = desk.client.request(method, url, headers=headers, json=body)
        if role == "admin":
            assert response.status_code in (200, 201), (url, response.text)
        else:
            assert response.status_code == 403, (url, role, response.status_code)
        assert desk.client.request(method, url, json=body).status_code == 401
    if role == "admin":
        assert desk.client.app.state.handoffs.agent_for_token("x") is None
        made = [a for a in desk.client.app.state.handoffs.agents() if a.username == name][0]
        assert (made.teams, made.active) == (("network", "email"), False)


def test_only_a_supervisor_reassigns_and_a_token_follows_its_agents_role(desk):
    ticket, _ = desk.ticket("network")
    store = desk.client.app.state.handoffs
    moved = desk.client.post(
        f"/agent/api/handoffs/{ticket}/reassign",
        json={"reason": "x", "team": "billing"},
        headers=desk.tokens["own_agent"],
    )
    assert moved.status_code == 403 and store.get(ticket)["team"] == "network"
    desk.as_("own_agent")
    form = desk.client.post(
        f"/agent/handoffs/{ticket}/reassign",
        data={"csrf_token": desk.csrf["own_agent"], "reason": "x", "team": "billing"},
    )
    assert form.status_code == 403 and store.get(ticket)["team"] == "network"
    # Escalation goes to the expert team only; another team is a reassignment.
    sideways = desk.client.post(
        f"/agent/api/handoffs/{ticket}/escalate",
        json={"reason": "x", "team": "billing"},
        headers=desk.tokens["supervisor"],
    )
    assert sideways.status_code == 422 and "reassign" in sideways.json()["detail"]
    experts = desk.client.post(
        f"/agent/api/handoffs/{ticket}/reassign",
        json={"reason": "x", "team": "experts"},
        headers=desk.tokens["supervisor"],
    )
    assert experts.status_code == 422 and "escalate" in experts.json()["detail"]
    assert store.get(ticket)["team"] == "network"
    moved = desk.client.post(
        f"/agent/api/handoffs/{ticket}/reassign",
        json={"reason": "x", "team": "billing"},
        headers=desk.tokens["supervisor"],
    )
    assert moved.status_code == 200 and store.get(ticket)["team"] == "billing"
    assert (moved.json()["status"], moved.json()["assignee"]) == ("new", None)
    # Now the billing agent sees it and the network agent does not, with the same tokens as before.
    assert desk.client.get(f"/agent/api/handoffs/{ticket}", headers=desk.tokens["other_agent"]).status_code == 200
    assert desk.client.get(f"/agent/api/handoffs/{ticket}", headers=desk.tokens["own_agent"]).status_code == 404
    # A role change reaches existing tokens at their next request.
    store.update_agent("nora", role="supervisor")
    try:
        assert desk.client.get(f"/agent/api/handoffs/{ticket}", headers=desk.tokens["own_agent"]).status_code == 200
    finally:
        store.update_agent("nora", role="agent")
    assert desk.client.get(f"/agent/api/handoffs/{ticket}", headers=desk.tokens["own_agent"]).status_code == 404


def test_no_agent_answer_carries_the_sender_id(desk):
    ticket, sender_id = desk.ticket("network")
    store = desk.client.app.state.handoffs
    detail = desk.client.get(f"/agent/api/handoffs/{ticket}", headers=desk.tokens["supervisor"])
    assert detail.status_code == 200 and "conversation_id" not in detail.json()
    assert sender_id not in detail.text
    listed = desk.client.get("/agent/api/handoffs", headers=desk.tokens["supervisor"]).text
    assert sender_id not in listed
    assert store.conversation_of(ticket) == sender_id  # kept for the hand-back to Rasa only


@pytest.mark.parametrize("role", [*ROLES, None])
@pytest.mark.parametrize("url", ["/agent/reports", "/agent/reports/overview.csv", "/agent/reports/sla.csv?period=week"])
def test_reports_are_for_supervisors_and_admins(desk, role, url):
    desk.ticket("network")
    desk.as_(role)
    response = desk.client.get(url, follow_redirects=False)
    if role is None:
        assert response.status_code == 303 and response.headers["location"].startswith("/agent/login")
    elif role in ("own_agent", "other_agent"):
        assert response.status_code == 403 and "supervisors and admins" in response.text
        assert "conversations" not in response.text and "first response" not in response.text
    else:
        assert response.status_code == 200
        assert ("first response median" in response.text) or ("team,priority,hit" in response.text)


def served_only_to_its_team(desk, role: str | None, path: str, ticket: str, other_ticket) -> Any:
    """GET a file of ``ticket`` as ``role``: the login page for nobody, the missing ticket's 404 for another
    team, and for those who may see the ticket the file, which another ticket's id with its token does not
    reach. The answer of an allowed role, for its own checks."""
    desk.as_(role)
    response = desk.client.get(path, follow_redirects=False)
    if role is None:
        assert response.status_code == 303 and response.headers["location"].startswith("/agent/login")
    elif role == "other_agent":
        missing = desk.client.get(path.replace(ticket, "HD-ZZZZZZ"), follow_redirects=False)
        assert response.status_code == missing.status_code == 404
        assert response.text.replace(ticket, "HD-ZZZZZZ") == missing.text
    else:
        assert response.status_code == 200
        # Another ticket's id with this file's token: nothing (a token belongs to its ticket).
        assert desk.client.get(path.replace(ticket, other_ticket()), follow_redirects=False).status_code == 404
        return response
    return None


@pytest.mark.parametrize("role", [*ROLES, None])
def test_a_mail_attachment_is_served_only_to_who_may_see_its_ticket(desk, role):
    ticket, _ = desk.ticket("network", channel="email")
    app = desk.client.app
    stored = attachments.save(
        app.state.settings.mail.attachments_dir, Attachment("scan.pdf", "application/pdf", b"%PDF-1.4 scan")
    )
    MailStore(app.state.handoffs).take_in(ticket, f"<{secrets.token_hex(8)}@example.org>", "scan", [], [stored])
    path = f"/agent/handoffs/{ticket}/attachments/{stored.token}"
    response = served_only_to_its_team(desk, role, path, ticket, lambda: desk.ticket("network", channel="email")[0])
    if response is not None:
        assert response.content == b"%PDF-1.4 scan"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("role", [*ROLES, None])
def test_a_chat_file_is_served_only_to_who_may_see_its_ticket(desk, role):
    ticket, sender_id = desk.ticket("network")
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(out, format="PNG")
    desk.client.cookies.clear()
    sent = desk.client.post(
        "/chat/api/attachments", data={"session": sender_id, "lang": "en"}, files={"file": ("s.png", out.getvalue())}
    )
    assert sent.status_code == 201 and sent.json()["ticket_id"] == ticket, sent.text
    app = desk.client.app
    [stored] = AttachmentStore(app.state.handoffs, app.state.settings.attachments.directory).for_ticket(ticket)
    for path in (
        f"/agent/handoffs/{ticket}/chat-files/{stored.token}",
        f"/agent/handoffs/{ticket}/chat-files/{stored.token}/thumbnail",
    ):
        response = served_only_to_its_team(desk, role, path, ticket, lambda: desk.ticket("network")[0])
        if response is not None:
            assert response.headers["content-type"] == "image/png"
