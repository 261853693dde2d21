"""The agent's workspace on the server side: transcript as the customer saw it, search and sort,
the waiting flag, the live list stream, and agent assist with internal articles."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pytest

from helpdesk.handoffs.schemas import HandoffIn
from helpdesk.inbox import stream as inbox_stream
from helpdesk.inbox.transcript import button_label, render_message, render_transcript
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
        ("/deny", "No"),
        ("/affirm", "Yes"),
        ('/inform{"choice": "high"}', "high"),
        ('/inform{"choice": "topic:other"}', "other"),
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


def test_button_payloads_read_in_the_tickets_language():
    assert button_label("/deny", "de") == "Nein" and button_label("/request_human", "de") == "Mit einer Person sprechen"


def test_a_click_shows_as_the_title_of_the_button_the_bot_offered():
    """The title comes from the last bot message before the click that offered buttons; a payload
    without a matching button (an older ticket) gets the readable label, never the raw syntax."""
    solved = [{"title": "Yes, solved", "payload": "/affirm"}, {"title": "No, not solved", "payload": "/deny"}]
    urgency = [{"title": "High – I can hardly work", "payload": '/inform{"choice": "high"}'}]
    messages = [
        {"sender": "customer", "text": "/deny"},  # before any buttons
        {"sender": "bot", "text": "Did this solve your problem?", "buttons": solved},
        {"sender": "customer", "text": "/deny"},
        {"sender": "bot", "text": "Shall I pass it on?"},  # no buttons: the card's still count
        {"sender": "customer", "text": "/affirm"},
        {"sender": "bot", "text": "How urgent is it?", "buttons": urgency},
        {"sender": "customer", "text": '/inform{"choice":"high"}'},  # spaced differently: the same payload
        {"sender": "customer", "text": "/deny"},  # not among these buttons
        {"sender": "customer", "text": "High – I can hardly work"},  # the bot sent the click as its title
        {"sender": "customer", "text": "<b>typed</b>"},
    ]
    html = [str(m) for m in render_transcript(messages, "en")]
    clicked = [re.sub(r"<[^>]+>", "", h) for h in html if 'class="clicked"' in h]
    assert clicked == [
        "No",
        "No, not solved",
        "Yes, solved",
        "High – I can hardly work",
        "No",
        "High – I can hardly work",
    ]
    assert html[-1] == '<span class="plain">&lt;b&gt;typed&lt;/b&gt;</span>'
    titled = [{"title": "<img src=x onerror=alert(1)>", "payload": "/affirm"}]
    assert "<img" not in str(render_message("customer", "/affirm", titled))  # a title is text, escaped


def test_a_handoff_without_buttons_hashes_as_before_them():
    """A replay of a handoff an older bot sent (no buttons) still matches its stored hash."""
    data = HandoffIn.model_validate(handoff_payload())
    before = data.model_dump(mode="json", exclude={"incident_id", "procedure_run"})
    for message in before["transcript"]:
        del message["buttons"]
    canonical = json.dumps(before, sort_keys=True, ensure_ascii=False)
    assert data.payload_hash() == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    offered = handoff_payload()
    offered["transcript"][1]["buttons"] = [{"title": "Ja", "payload": "/affirm"}]
    assert HandoffIn.model_validate(offered).payload_hash() != data.payload_hash()


def test_line_breaks_of_an_agent_message_stay():
    html = str(render_message("agent", "Hello Erika,\nplease restart the router.\n\nAnna"))
    assert html == "<p>Hello Erika,<br>\nplease restart the router.</p>\n<p>Anna</p>"


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
    assert ">high</span>" in render_message("customer", '/inform{"choice": "high"}')


def test_ticket_page_layout_transcript_and_no_meta_refresh(client):
    ticket = post(
        client,
        transcript=[
            {
                "sender": "bot",
                "text": "How urgent is it? **Pick one**",
                "timestamp": "2026-11-27T06:58:00Z",
                "buttons": [
                    {"title": "High: I can hardly work", "payload": '/inform{"choice": "high"}'},
                    {"title": "Normal", "payload": '/inform{"choice": "normal"}'},
                ],
            },
            {"sender": "customer", "text": '/inform{"choice": "high"}', "timestamp": "2026-11-27T06:58:05Z"},
            {"sender": "customer", "text": "/deny", "timestamp": "2026-11-27T06:58:09Z"},
        ],
    )
    login(client)
    page = client.get(f"/agent/handoffs/{ticket}").text
    assert "<strong>Pick one</strong>" in page
    assert ">High: I can hardly work</span>" in page and ">Nein</span>" in page  # a German ticket
    assert "/inform{" not in page and ">/deny<" not in page and "inform: high" not in page
    # The bot's buttons are part of the ticket: the JSON API shows them, and a ticket without any as before.
    token = client.app.state.handoffs.create_token("anna", "t")
    view = client.get(f"/agent/api/handoffs/{ticket}", headers={"Authorization": f"Bearer {token}"}).json()
    assert [b["title"] for b in view["transcript"][0]["buttons"]] == ["High: I can hardly work", "Normal"]
    assert view["transcript"][1]["buttons"] is None
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
    # "Insert answer" inserts the passage the bot shows a customer for the article, not its introduction.
    bot = client.post(
        "/search", json={"query": "The router's internet LED stays red after a restart, the fiber link is down"}
    ).json()
    shown = {h["article_id"]: h["answer"] for h in bot["hits"]}
    assert public["passage"] == shown["fx-en-router-no-internet"]["markdown"] != ""
    assert public["passage_text"] == shown["fx-en-router-no-internet"]["text"]
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


PROCEDURE_RUN = {
    "procedure_id": "en-order-status",
    "title": "Order status: where is your order now?",
    "outcome": "failed",
    "inputs": [{"label": "order number", "value": "BC-480500"}, {"label": "e-mail address", "value": "•••rg"}],
    "status_code": 500,
    "answer": "I'm sorry, I can't reach our order system <b>right now</b>.",
}


def test_the_procedure_the_bot_ran_is_a_panel_of_the_workspace_in_the_agents_language(client):
    ticket = post(client, procedure_run=PROCEDURE_RUN)
    login(client)
    page = client.get(f"/agent/handoffs/{ticket}").text
    panel = page.split('<section id="procedure-run"', 1)[1].split("</section>", 1)[0]
    assert "Procedure the bot ran" in panel and "Order status: where is your order now?" in panel
    assert "system not reached" in panel and "HTTP 500" in panel
    assert "<td>order number</td><td>BC-480500</td>" in panel and "<td>e-mail address</td><td>•••rg</td>" in panel
    assert "&lt;b&gt;right now&lt;/b&gt;" in panel and "<b>right now" not in page  # the system's words are text
    german = client.get(f"/agent/handoffs/{ticket}", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert "Vom Bot ausgeführte Prozedur" in german and "System nicht erreicht" in german
    assert "Antwort des Systems" in german and "Dem Kunden gesagt" in german
    # The agents' JSON API has it too; a ticket without a run has no panel.
    api = {"Authorization": f"Bearer {client.app.state.handoffs.create_token('anna', 'panel')}"}
    assert client.get(f"/agent/api/handoffs/{ticket}", headers=api).json()["procedure_run"] == PROCEDURE_RUN
    plain = post(client)
    assert 'id="procedure-run"' not in client.get(f"/agent/handoffs/{plain}").text


def test_a_run_refused_by_a_limit_says_the_system_was_not_called(client):
    locked = {**PROCEDURE_RUN, "outcome": "locked", "status_code": None, "answer": None, "inputs": []}
    ticket = post(client, procedure_run=locked)
    login(client)
    panel = client.get(f"/agent/handoffs/{ticket}").text.split('<section id="procedure-run"', 1)[1]
    assert "locked: too many wrong identities" in panel and "not called: a limit of the conversation" in panel


@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "succeeded"},
        {"status_code": 42},
        {"inputs": [{"label": "x" * 81, "value": "1"}]},
        {"answer": "x" * 2001},
        {"secret": "token"},
    ],
)
def test_a_bad_procedure_run_is_refused_and_nothing_stored(client, change):
    payload = handoff_payload()
    payload["procedure_run"] = {**PROCEDURE_RUN, **change}
    response = client.post("/handoffs", json=payload, headers=SERVICE)
    assert response.status_code == 422 and "procedure_run" in response.text
    assert client.app.state.handoffs.list_handoffs() == []
