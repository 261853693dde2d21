"""The agent's workspace on the server side: transcript as the customer saw it, search and sort,
the waiting flag, the live list stream, and agent assist with internal articles."""

from __future__ import annotations

import re
import shutil

import pytest

from helpdesk.inbox import stream as inbox_stream
from helpdesk.inbox.transcript import button_label, render_message
from tests.conftest import csrf_token
from tests.handoffs.conftest import FIXTURE_KB, SERVICE, handoff_payload

PASSWORD = "a long enough password"
INTERNAL = """---
id: fx-en-fiber-port-reset
title: "Fiber port reset on the access switch"
lang: en
tags: [internet, router, fiber]
updated: 2026-11-01
audience: internal
product: Nordwind Fiber
category: network
---
Agents only: when a customer's router LED stays red after a restart, reset the customer's fiber port.

## Steps
1. Open the access switch console and find the customer's port by the customer number.
2. Run the port reset and wait two minutes for the link to come up.
"""


def login(client, username="anna", teams=("network",), role="agent"):
    client.app.state.handoffs.create_agent(username, username.title(), teams, PASSWORD, role)
    token = csrf_token(client.get("/agent/login").text)
    assert (
        client.post(
            "/agent/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        ).status_code
        == 303
    )


def post(client, **changes) -> str:
    payload = handoff_payload()
    summary = changes.pop("summary", {})
    payload["summary"].update(summary)
    payload.update(changes)
    response = client.post("/handoffs", json=payload, headers=SERVICE)
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


@pytest.mark.parametrize(
    "text, label",
    [
        ("/deny", "deny"),
        ('/inform{"choice": "high"}', "inform: high"),
        ("/handoff_request", "handoff request"),
        ("/deny please", None),
        ("a/b", None),
        ('/inform{"x": ', None),
        ("/inform[1]", None),
        ("hello", None),
    ],
)
def test_button_payloads_read_as_labels(text, label):
    assert button_label(text) == label


def test_messages_render_as_the_customer_saw_them():
    bot = render_message(
        "bot",
        "Try **this**: [guide](https://example.org/a) <script>x()</script>"
        "[bad](javascript:alert(1)) <img src=https://tracker.example/p.gif>",
    )
    assert "<strong>this</strong>" in bot and 'href="https://example.org/a"' in bot
    assert "<script" not in bot and "javascript:" not in bot and "<img" not in bot
    assert 'rel="noopener noreferrer nofollow"' in bot
    customer = render_message("customer", "**not markup** <b>x</b>")
    assert customer == '<span class="plain">**not markup** &lt;b&gt;x&lt;/b&gt;</span>'
    assert "inform: high" in render_message("customer", '/inform{"choice": "high"}')


def test_ticket_page_layout_transcript_and_no_meta_refresh(client):
    ticket = post(
        client,
        transcript=[
            {"sender": "bot", "text": "How urgent is it? **Pick one**", "timestamp": "2026-11-27T06:58:00Z"},
            {"sender": "customer", "text": '/inform{"choice": "high"}', "timestamp": "2026-11-27T06:58:05Z"},
            {"sender": "customer", "text": "/deny", "timestamp": "2026-11-27T06:58:09Z"},
        ],
    )
    login(client)
    page = client.get(f"/agent/handoffs/{ticket}").text
    assert "<strong>Pick one</strong>" in page
    assert ">inform: high</span>" in page and ">deny</span>" in page
    assert "/inform{" not in page and ">/deny<" not in page
    # Summary, transcript and the reply column side by side, the reply column holding the reply box.
    reply_box = 'id="live-text"' if 'id="live-text"' in page else 'id="note-text"'
    assert (
        page.index('class="col summary-col"')
        < page.index('class="col transcript-col"')
        < page.index('class="col reply"')
        < page.index(reply_box)
    )
    assert "Ctrl" in page or 'id="live-text"' not in page
    listing = client.get("/agent").text
    assert 'http-equiv="refresh"' not in listing and 'http-equiv="refresh"' not in page
    # One time zone, 24-hour clock: 06:58 UTC is 07:58 in Berlin in November.
    # (a 12-hour clock shows "7:58 AM"; ticket numbers are random letters and may hold "AM")
    assert "07:58" in page and not re.search(r"\d\s*[AP]M\b", page)


def test_search_sort_and_the_waiting_flag(client):
    first = post(
        client,
        summary={
            "description": "Router blinkt rot seit dem Gewitter",
            "urgency": "low",
            "contact": {"name": "Erika Mustermann", "email": "erika@example.org"},
        },
    )
    second = post(
        client,
        summary={
            "description": "Kein WLAN im Büro",
            "urgency": "critical",
            "contact": {"name": "Hans Muster", "email": "hans@example.net", "phone": "+49 40 555123"},
        },
        transcript=[
            {"sender": "customer", "text": "Gewitter hat alles lahmgelegt", "timestamp": "2026-11-27T06:58:00Z"}
        ],
    )
    login(client)

    def ids(html: str) -> list[str]:
        return re.findall(r'<tr data-ticket="(HD-\w+)"', html)

    assert ids(client.get("/agent", params={"q": first.lower()}).text) == [first]
    assert ids(client.get("/agent", params={"q": "GEWITTER"}).text) == [first, second] or set(
        ids(client.get("/agent", params={"q": "GEWITTER"}).text)
    ) == {first, second}  # text and transcript
    assert ids(client.get("/agent", params={"q": "hans@example"}).text) == [second]
    assert ids(client.get("/agent", params={"q": "555123"}).text) == [second]
    assert ids(client.get("/agent", params={"q": "100%_"}).text) == []  # LIKE wildcards are literal
    assert ids(client.get("/agent", params={"sort": "age"}).text) == [first, second]
    assert ids(client.get("/agent", params={"sort": "priority"}).text) == [second, first]
    assert client.get("/agent", params={"sort": "random"}).status_code == 400
    assert client.get("/agent", params={"q": "x" * 201}).status_code == 422
    # A customer who writes after the handoff is waiting; the bot conversation before it is not.
    assert "customer waiting" not in client.get("/agent").text
    live = client.app.state.handoffs
    from helpdesk.db import utcnow
    from helpdesk.handoffs.schemas import Message

    live.append_messages(first, [Message(sender="customer", text="Hallo?", timestamp=utcnow())], actor="customer")
    row = re.search(rf'<tr data-ticket="{first}".*?</tr>', client.get("/agent").text, re.S).group(0)
    assert "customer waiting" in row
    assert live.waiting([first, second]) == {first}


def test_list_stream_reports_new_and_waiting_tickets(client, monkeypatch):
    monkeypatch.setattr(inbox_stream, "STREAM_SECONDS", 0.5)
    login(client)
    ticket = post(client)
    with client.stream("GET", "/agent/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read().decode()
    data = re.search(r"event: inbox\ndata: (.*)\n", body).group(1)
    assert f'"ticket_id": "{ticket}"' in data and '"new": 1' in data and '"waiting": 0' in data


def test_agent_assist_finds_internal_articles_for_agents_only(make_client, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "en" / "fiber-port-reset.md").write_text(INTERNAL, encoding="utf-8")
    client = make_client(articles_dir=kb, index_dir=tmp_path / "index")
    ticket = post(
        client,
        language="en",
        summary={
            "description": "The router's internet LED stays red after a restart, the fiber link is down",
            "product": "Nordwind Fiber",
        },
    )
    client.app.state.handoffs.create_agent("anna", "Anna", ["network"], PASSWORD)
    token = client.app.state.handoffs.create_token("anna", "t")
    found = client.get(f"/agent/api/handoffs/{ticket}/suggestions", headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200
    articles = {a["article_id"]: a for a in found.json()["articles"]}
    assert "fx-en-fiber-port-reset" in articles and "fx-en-router-no-internet" in articles
    internal, public = articles["fx-en-fiber-port-reset"], articles["fx-en-router-no-internet"]
    assert internal["audience"] == "internal" and internal["url"] is None  # a customer could not open it
    assert public["url"].endswith("/articles/fx-en-router-no-internet") or "#" in public["url"]
    assert "port reset" in internal["passage"] or "fiber port" in internal["passage"]
    # The customer's search never shows the internal article.
    customer = client.post("/search", json={"query": "fiber port reset on the access switch", "lang": "en"}).json()
    assert all(h["article_id"] != "fx-en-fiber-port-reset" for h in customer["hits"])
    # On the ticket page: both, with the insert buttons (shown by the script).
    client.cookies.clear()
    token_form = csrf_token(client.get("/agent/login").text)
    client.post("/agent/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token_form})
    page = client.get(f"/agent/handoffs/{ticket}").text
    assert "Fiber port reset on the access switch" in page and ">internal</span>" in page
    assert 'class="insert-passage"' in page and 'class="insert-link"' in page
