"""The inbox pages over HTTP: login, CSRF, escaping, filters and the action forms."""

from __future__ import annotations

import re

from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload

PASSWORD = "a long enough password"
XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def login(client, username="anna", teams=("network",), role="agent"):
    client.app.state.handoffs.create_agent(username, username.title(), teams, PASSWORD, role)
    page = client.get("/agent/login")
    response = client.post(
        "/agent/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text), "next": "/agent"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/agent"
    return response


def post_handoff(client, **summary) -> str:
    return client.post("/handoffs", json=handoff_payload(**summary), headers=SERVICE).json()["ticket_id"]


def test_pages_need_a_login_and_bad_logins_fail(client):
    client.app.state.handoffs.create_agent("anna", "Anna", ["network"], PASSWORD)
    response = client.get("/agent/handoffs/HD-ABCDEF", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/login?next=/agent/handoffs/HD-ABCDEF"
    token = csrf_token(client.get("/agent/login").text)
    wrong = client.post("/agent/login", data={"username": "anna", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "wrong password" in wrong.text
    token = csrf_token(wrong.text)
    forged = client.post("/agent/login", data={"username": "anna", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert "hd_session" not in client.cookies
    # An open redirect to another site is not followed after login.
    ok = client.post(
        "/agent/login",
        data={"username": "anna", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/agent"


def test_a_tampered_session_cookie_is_no_session(client):
    login(client)
    cookie = client.cookies.get("hd_session")
    assert client.get("/agent", follow_redirects=False).status_code == 200
    for tampered in (cookie + "x", cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"), "x" * 43):
        client.cookies.clear()
        client.cookies.set("hd_session", tampered, domain="testserver.local", path="/agent")
        assert client.get("/agent", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set("hd_session", cookie, domain="testserver.local", path="/agent")  # the control
    assert client.get("/agent", follow_redirects=False).status_code == 200


def test_customer_text_is_escaped(client):
    ticket = post_handoff(client, description=XSS, tried=XSS, product=XSS)
    login(client)
    for page in (client.get("/agent"), client.get(f"/agent/handoffs/{ticket}")):
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_inbox_lists_with_filters_age_and_countdown(client):
    network = post_handoff(client)
    billing = post_handoff(client, category="billing", urgency="low")
    login(client, role="supervisor")  # sees every team
    page = client.get("/agent").text
    assert network in page and billing in page and "due in" in page
    assert page.index(network) < page.index(billing)  # sooner due first
    filtered = client.get("/agent", params={"team": "billing"}).text
    assert billing in filtered and network not in filtered
    assert network not in client.get("/agent", params={"priority": "low"}).text
    mine = client.get("/agent", params={"team": "mine"}).text  # anna is in team network
    assert network in mine and billing not in mine
    assert client.get("/agent", params={"team": "plumbing"}).status_code == 400
    assert client.get("/agent", params={"status": "lost"}).status_code == 400


def test_forms_claim_note_escalate_resolve_and_refuse_forged_tokens(client):
    ticket = post_handoff(client)
    login(client, teams=("network", "experts"))  # follows the ticket to the expert team
    url = f"/agent/handoffs/{ticket}"
    page = client.get(url).text
    # The summary comes first, then what was tried, then the transcript.
    assert page.index('id="summary"') < page.index('id="tried"') < page.index('id="transcript"')
    token = csrf_token(page)

    # One character changed (a random token starting with "x" made "x" + token[1:] the token itself).
    forged = client.post(f"{url}/claim", data={"csrf_token": ("y" if token[0] == "x" else "x") + token[1:]})
    assert forged.status_code == 403 and client.app.state.handoffs.get(ticket)["status"] == "new"
    missing = client.post(f"{url}/resolve", data={"note": "done"})
    assert missing.status_code == 403 and client.app.state.handoffs.get(ticket)["status"] == "new"

    claimed = client.post(f"{url}/claim", data={"csrf_token": token})
    assert claimed.status_code == 200 and "Done: claimed" in claimed.text
    assert client.post(f"{url}/note", data={"csrf_token": token, "text": "   "}).status_code == 422
    client.post(f"{url}/note", data={"csrf_token": token, "text": "Kunde zurückgerufen <b>"})
    unknown = client.post(f"{url}/reassign", data={"csrf_token": token, "reason": "x", "team": "plumbing"})
    assert unknown.status_code == 422 and "unknown team" in unknown.text
    assert client.app.state.handoffs.get(ticket)["team"] == "network"
    client.post(f"{url}/escalate", data={"csrf_token": token, "reason": "braucht Experten"})
    # The expert team's target lies after the response time promised to the customer, and the customer
    # could not be told (no live chat, no SMTP server): shown as late.
    escalated = client.app.state.handoffs.get(ticket)
    assert escalated["sla_due_at"] > escalated["due_at"]
    countdown = re.search(r'<span class="(\w+)">(due in [^<]*)</span>', client.get(url).text)
    assert countdown and countdown.group(1) == "overdue", countdown
    assert "after the customer&#39;s promise" in countdown.group(2), countdown.group(2)
    resolved = client.post(f"{url}/resolve", data={"csrf_token": token, "note": "gelöst"})
    assert resolved.status_code == 200 and "Done: resolved" in resolved.text
    assert "Kunde zurückgerufen &lt;b&gt;" in resolved.text
    stored = client.app.state.handoffs.get(ticket)
    assert (stored["status"], stored["team"], stored["assignee"]) == ("resolved", "experts", "anna")
    assert [e["action"] for e in stored["events"]] == [
        "created",
        "claimed",
        "note",
        "escalated",
        "customer_told",
        "resolved",
    ]

    logout = client.post("/agent/logout", data={"csrf_token": token}, follow_redirects=False)
    assert logout.status_code == 303
    assert client.get("/agent", follow_redirects=False).status_code == 303
