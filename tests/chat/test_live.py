"""Live takeover through the real app (create_app, real store on SQLite) served by uvicorn.

Covers what does not need Rasa: a customer's page reaches only its own
ticket with its chat key (not the sender id, which no agent sees), the key ends with the
ticket, its messages and the agent's go to the transcript, the state the page sees
(waiting, live, closed), the agent actions' login and CSRF checks, escaping on the
agent's page, and the event stream. Handing back to a real
Rasa is tested in tests/e2e.
"""

from __future__ import annotations

import json
import re
import secrets
import time

import httpx
import pytest

from helpdesk.app import create_app
from helpdesk.chat import live_api
from helpdesk.chat.config import ChatConfig
from tests.conftest import csrf_token

SERVICE_TOKEN = "chat-live-service-token"
XSS = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture
def server(built_kb, tmp_path, monkeypatch, serve):
    monkeypatch.setattr(live_api, "STREAM_SECONDS", 3.0)
    settings = built_kb.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'handoffs.db'}",
            "service_token": SERVICE_TOKEN,
            "session_secret": secrets.token_urlsafe(16),
        }
    )
    app = create_app(settings)
    app.state.chat_config = ChatConfig()
    with serve(app) as running:
        app.state.handoffs.create_agent("anna", "Anna Agent", ["network"], "anna-password-1")
        app.state.handoffs.create_agent("bert", "Bert", ["software"], "bert-password-1")
        running.app = app
        yield running


def session_id() -> str:
    return secrets.token_hex(16)


def handoff(
    server, conversation_id: str, description: str = "No internet since this morning", channel: str = "web-chat"
) -> tuple[str, str]:
    """A handoff as the action server posts it; returns (ticket id, the customer's chat key)."""
    payload = {
        "idempotency_key": f"{conversation_id}-handoff-1",
        "conversation_id": conversation_id,
        "channel": channel,
        "language": "en",
        "reason": "unresolved",
        "summary": {
            "category": "network",
            "description": description,
            "tried": "restarted the router",
            "urgency": "normal",
            "contact": {"email": "kim@example.org"},
        },
        "transcript": [
            {"sender": "customer", "text": "my internet is down", "timestamp": "2026-01-01T10:00:00Z"},
            {"sender": "bot", "text": "Try restarting the router.", "timestamp": "2026-01-01T10:00:01Z"},
        ],
    }
    response = httpx.post(f"{server.url}/handoffs", json=payload, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"], response.json()["chat_key"]


def agent_client(server, username: str = "anna", password: str = "anna-password-1") -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url)
    page = client.get("/agent/login")
    token = csrf_token(page.text)
    response = client.post(
        "/agent/login", data={"username": username, "password": password, "csrf_token": token, "next": "/agent"}
    )
    assert response.status_code == 303, response.text
    return client, csrf_token(client.get("/agent").text)


def conversation(server, key: str) -> dict:
    response = httpx.get(f"{server.url}/chat/api/live/{key}")
    assert response.status_code == 200, response.text
    return response.json()


def test_customer_sees_only_its_own_ticket(server):
    mine, other = session_id(), session_id()
    ticket, key = handoff(server, mine)
    handoff(server, other, "someone else's secret problem")
    view = conversation(server, key)
    assert view["ticket"]["id"] == ticket
    assert view["ticket"]["status"] == "open" and view["ticket"]["mode"] == "waiting"
    assert view["ticket"]["expected_response"]["minutes"] >= 1
    assert set(view["ticket"]["expected_response"]["text"]) == {"de", "en"}
    assert view["messages"] == []  # the bot conversation before the handoff is not repeated
    assert "secret" not in json.dumps(view) and "kim@example.org" not in json.dumps(view)
    # The sender id is no key (a second client that learnt it gets nothing); nor is any guess.
    for bad in (mine, "1", "hdck_", key.upper(), key + "0", key[:-1], "../" + key):
        assert httpx.get(f"{server.url}/chat/api/live/{bad}").status_code == 404, bad
        assert httpx.post(f"{server.url}/chat/api/live/{bad}/messages", json={"text": "hi"}).status_code == 404
    assert httpx.get(f"{server.url}/chat/api/conversations/{mine}").status_code == 404  # the old route is gone


def test_a_long_message_reaches_the_agent_whole_up_to_the_configured_limit(server):
    ticket, key = handoff(server, session_id())
    url = f"{server.url}/chat/api/live/{key}/messages"
    # 8,000 characters as Python counts them (the emoji is one), 8,003 bytes and more in UTF-8.
    whole = "ä" * 7990 + " KD-4711 😀"
    assert len(whole) == 8000
    assert httpx.post(url, json={"text": whole}).status_code == 201
    assert conversation(server, key)["messages"][-1]["text"] == whole
    assert httpx.post(url, json={"text": whole + "!"}).status_code == 422
    server.app.state.chat_config = ChatConfig(max_message_chars=100)  # HELPDESK_BOT_MAX_MESSAGE_CHARS=100
    try:
        refused = httpx.post(url, json={"text": "x" * 101})
        assert refused.status_code == 422 and "at most 100 characters" in refused.json()["detail"]
        assert httpx.post(url, json={"text": "x" * 100}).status_code == 201
    finally:
        server.app.state.chat_config = ChatConfig()


def test_live_chat_from_waiting_to_closed(server):
    sid = session_id()
    ticket, key = handoff(server, sid)
    agent, csrf = agent_client(server)

    sent = httpx.post(
        f"{server.url}/chat/api/live/{key}/messages", json={"text": f"still waiting {XSS}", "client_id": "abc123"}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["role"] == "customer" and sent.json()["client_id"] == "abc123"
    for bad in ({"text": ""}, {"text": "x" * 8001}, {"text": "a\x00b"}, {"text": "hi", "client_id": "<x>"}):
        assert httpx.post(f"{server.url}/chat/api/live/{key}/messages", json=bad).status_code == 422

    page = agent.get(f"/agent/handoffs/{ticket}")
    assert "Reply live" in page.text
    assert XSS not in page.text and "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page.text
    response = agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"].endswith("#live")
    view = conversation(server, key)
    assert view["ticket"]["mode"] == "live" and view["ticket"]["agent"] == "Anna Agent"

    reply = agent.post(
        f"/agent/handoffs/{ticket}/live/messages",
        data={"csrf_token": csrf, "text": "Hi, Anna here."},
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 200 and reply.json()["role"] == "agent"
    view = conversation(server, key)
    assert [(m["role"], m["text"]) for m in view["messages"]] == [
        ("customer", f"still waiting {XSS}"),
        ("agent", "Hi, Anna here."),
    ]
    assert conversation(server, key)["messages"][0]["id"] < view["messages"][1]["id"]
    after = view["messages"][0]["id"]
    assert httpx.get(f"{server.url}/chat/api/live/{key}", params={"after": after}).json()["messages"] == [
        view["messages"][1]
    ]

    # Closing resolves the ticket; without a Rasa token the bot cannot be told, and the agent is told so.
    closed = agent.post(f"/agent/handoffs/{ticket}/live/close", data={"csrf_token": csrf, "note": ""})
    assert closed.status_code == 303
    assert closed.headers["location"].endswith("&bot=untold#live")
    told = agent.get(closed.headers["location"].split("#")[0]).text
    assert "Done: chat closed and ticket resolved; the bot could not be told, so it stays silent in this chat." in told
    detail = agent.get(f"/agent/api/handoffs/{ticket}")  # session cookie is not an API credential
    assert detail.status_code == 401
    store_view = agent.get(f"/agent/handoffs/{ticket}").text
    assert "resolved" in store_view and "Closed in the live chat." in store_view
    # The key expired with the ticket: the customer's page learns it is closed, nobody can post any more.
    assert httpx.get(f"{server.url}/chat/api/live/{key}").status_code == 404
    late = httpx.post(f"{server.url}/chat/api/live/{key}/messages", json={"text": "hello?"})
    assert late.status_code == 404
    # Everything exchanged is in the ticket's transcript, in order, after the bot part.
    transcript = re.findall(
        r'<div class="sender-(\w+)"><small>\w+ · [^<]*</small>\s*<div class="msg">(.*?)</div>', store_view
    )
    # The customer was still in the chat: the desk's satisfaction question closes it (helpdesk/ratings).
    assert [s for s, _ in transcript] == ["customer", "bot", "customer", "agent", "bot"]
    # The agents see that it was asked, not the link: nobody rates their own work.
    assert "How satisfied are you" in transcript[4][1] and "/rate/…" in transcript[4][1]
    assert "hdrt_" not in store_view
    assert transcript[3][1] == "<p>Hi, Anna here.</p>"  # agent and bot text is rendered markdown
    assert transcript[2][1].startswith('<span class="plain">still waiting &lt;script&gt;')  # customer text: plain
    # No agent-facing answer carries the sender id.
    assert sid not in store_view


def test_agent_actions_need_login_and_csrf(server):
    sid = session_id()
    ticket, key = handoff(server, sid)
    anonymous = httpx.Client(base_url=server.url)
    response = anonymous.post(f"/agent/handoffs/{ticket}/live/messages", data={"text": "hi", "csrf_token": "x"})
    assert response.status_code == 303 and "/agent/login" in response.headers["location"]
    assert anonymous.get(f"/agent/handoffs/{ticket}/live/events").status_code == 401
    agent, csrf = agent_client(server)
    forged = agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    forged_json = agent.post(
        f"/agent/handoffs/{ticket}/live/messages",
        data={"csrf_token": "", "text": "x"},
        headers={"Accept": "application/json"},
    )
    assert forged_json.status_code == 403
    assert conversation(server, key)["ticket"]["mode"] == "waiting"
    assert conversation(server, key)["messages"] == []


def test_hand_back_without_rasa_keeps_the_chat_with_the_agent(server):
    sid = session_id()
    ticket, key = handoff(server, sid)
    agent, csrf = agent_client(server)
    agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": csrf})
    response = agent.post(
        f"/agent/handoffs/{ticket}/live/hand-back", data={"csrf_token": csrf}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 502
    assert "stays with you" in response.json()["detail"]
    assert conversation(server, key)["ticket"]["mode"] == "live"


def test_reply_live_only_for_web_chat_conversations(server):
    ticket, _ = handoff(server, "rest-test-conversation-1", channel="rest")
    agent, csrf = agent_client(server)
    page = agent.get(f"/agent/handoffs/{ticket}").text
    assert "Reply live" not in page and "did not come from the web chat (rest)" in page
    response = agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": csrf})
    assert response.status_code == 409
    assert "did not come from the web chat" in response.text


def sse_events(stream):
    """(event name, data) of each event of a Server-Sent Events response, as they come."""
    name = None
    for line in stream.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


def test_event_stream_delivers_state_and_messages(server):
    sid = session_id()
    ticket, key = handoff(server, sid)
    agent, csrf = agent_client(server)
    events: list[tuple[str, dict]] = []
    started = time.monotonic()
    with httpx.stream("GET", f"{server.url}/chat/api/live/{key}/events", timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for name, data in sse_events(stream):
            events.append((name, data))
            if len(events) == 1:  # the first state arrived: now the agent acts
                agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": csrf})
                agent.post(f"/agent/handoffs/{ticket}/live/messages", data={"csrf_token": csrf, "text": "Hello"})
            if name == "message":
                break
    assert time.monotonic() - started < 3  # woken by the write, not by the end of the stream
    assert events[0][0] == "ticket" and events[0][1]["mode"] == "waiting"
    assert ("ticket", {**events[0][1], "mode": "live", "agent": "Anna Agent"}) in events
    assert events[-1][0] == "message" and events[-1][1]["text"] == "Hello"
    # The stream ends by itself; a reconnect with Last-Event-ID resumes after the last message.
    resumed = httpx.get(
        f"{server.url}/chat/api/live/{key}/events", headers={"Last-Event-ID": str(events[-1][1]["id"])}, timeout=10
    )
    assert "event: message" not in resumed.text and "event: ticket" in resumed.text
    # Another agent's session sees the same ticket; a customer of another session does not.
    assert httpx.get(f"{server.url}/chat/api/live/{session_id()}/events").status_code == 404


@pytest.mark.browser
def test_chat_page_shows_the_ticket_and_the_live_messages(server, new_page):
    """The page of a handed-over session, in Chromium: banner, live messages both ways, the end.

    Rasa is not running here, so the session's handoff is made through the API
    the way the action server makes it; the page's own session id is used.
    """
    page = new_page(locale="en-US")
    page.goto(f"{server.url}/chat")
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    sid = page.evaluate("HelpdeskChat.state.sessionId")
    ticket, key = handoff(server, sid)
    # What the bot's action sends at a handoff: the text, then the key in a custom message (socket.io data).
    page.evaluate("t => HelpdeskChat.receive({text: 'Your ticket number is **' + t + '**.'})", ticket)
    page.evaluate("([t, k]) => HelpdeskChat.receive({helpdesk_chat: {ticket_id: t, key: k}})", [ticket, key])
    banner = page.locator("#chat-ticket")
    banner.wait_for()
    assert ticket in banner.inner_text() and "Expected response" in banner.inner_text()
    # While waiting for a person, what the customer writes goes to the ticket, not to the silent bot.
    page.get_by_role("textbox").fill("Are you there?")
    page.get_by_role("textbox").press("Enter")
    page.wait_for_function("() => HelpdeskChat.state.history.slice(-1)[0].key !== undefined")
    assert conversation(server, key)["messages"][0]["text"] == "Are you there?"
    assert page.locator(".msg-user").count() == 1  # the echo from the stream is not shown twice

    agent, csrf = agent_client(server)
    agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": csrf})
    page.locator(".msg-system").filter(has_text="Anna Agent has joined").wait_for(timeout=10_000)
    agent.post(f"/agent/handoffs/{ticket}/live/messages", data={"csrf_token": csrf, "text": XSS + " **hi**"})
    reply = page.locator(".msg-agent").last
    reply.wait_for(timeout=10_000)
    assert reply.locator("img, script").count() == 0 and page.evaluate("window.pwned") is None
    assert reply.locator("strong").inner_text() == "hi"
    assert "Anna Agent" in banner.inner_text()

    page.reload()  # the live part survives a reload too
    page.locator(".msg-agent").last.wait_for()
    assert page.locator(".msg-agent").count() == 1 and page.locator(".msg-user").count() == 1
    # An escalation moves the time of the answer: the customer, still in the chat, reads the new one there.
    server.app.state.handoffs.create_agent("erik", "Erik Expert", ["network", "experts"], "erik-password-1")
    expert, expert_csrf = agent_client(server, "erik", "erik-password-1")
    expert.post(f"/agent/handoffs/{ticket}/escalate", data={"csrf_token": expert_csrf, "reason": "needs experts"})
    notice = page.locator(".msg-system").filter(has_text=f"Your ticket {ticket} is now with our expert team.")
    notice.wait_for(timeout=10_000)
    told = conversation(server, key)["ticket"]["expected_response"]["text"]["en"]
    assert notice.inner_text().endswith(f"New expected response: {told}.")
    expert.post(f"/agent/handoffs/{ticket}/live/close", data={"csrf_token": expert_csrf, "note": "done"})
    page.locator(".msg-system").filter(has_text="closed the conversation").wait_for(timeout=10_000)
    assert banner.is_hidden()


def test_cancelled_streams_never_block_a_writer():
    """Streams end by timeout or by their client going away (cancellation) at any moment;
    a change notice must never wait on them, and no subscription may outlive its stream."""
    import asyncio
    import random

    from helpdesk.handoffs.changes import TicketChanges

    async def scenario():
        changes = TicketChanges(asyncio.get_running_loop())
        rng = random.Random(5)

        async def stream(ticket: str) -> None:
            with changes.subscribe(ticket) as subscription:
                await subscription.wait(rng.choice([0, 0.001, 0.01]))

        for _ in range(200):
            waiters = [asyncio.ensure_future(stream(rng.choice("AB"))) for _ in range(20)]
            await asyncio.sleep(rng.choice([0, 0.0005, 0.002]))
            for task in rng.sample(waiters, 10):
                # anyio (Starlette's streaming) cancels a task again at each await until it ends.
                for _ in range(rng.choice([1, 2, 3])):
                    task.cancel()
                    await asyncio.sleep(0)
            changes.changed_threadsafe({"A"})  # as the store calls it, from a writer's thread
            changes.wake("B")
            done, pending = await asyncio.wait(waiters, timeout=1)
            assert not pending
            for task in done:
                assert task.cancelled() or task.exception() is None
        await asyncio.sleep(0)
        assert changes._subscribers == {}  # every ended stream unsubscribed

    # In a thread with a deadline: a blocked writer hangs the event loop, which must fail the test, not stall it.
    import threading

    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: errors.extend(_run_collecting(scenario)), daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "a writer was blocked by cancelled streams"
    assert errors == []


@pytest.mark.postgres
def test_two_replicas_on_postgresql_wake_each_others_streams(built_kb, monkeypatch, serve):
    """Two app instances on one PostgreSQL schema, as two web replicas behind the balancer:
    the customer's stream on one sees the agent's actions on the other at once, through
    LISTEN/NOTIFY (nothing polls: a stream otherwise sleeps until its keep-alive)."""
    from tests.handoffs.conftest import postgres_schema

    monkeypatch.setattr(live_api, "STREAM_SECONDS", 20.0)
    with postgres_schema() as url:
        settings = built_kb.model_copy(
            update={"database_url": url, "service_token": SERVICE_TOKEN, "session_secret": secrets.token_urlsafe(16)}
        )
        second_app = create_app(settings)
        with serve(create_app(settings)) as first, serve(second_app) as second:
            second_app.state.handoffs.create_agent("anna", "Anna Agent", ["network"], "anna-password-1")
            sid = session_id()
            ticket, key = handoff(first, sid)
            agent, csrf = agent_client(second)
            events: list[tuple[str, dict]] = []
            timings: list[float] = []
            with httpx.stream("GET", f"{first.url}/chat/api/live/{key}/events", timeout=15) as stream:
                for name, data in sse_events(stream):
                    events.append((name, data))
                    if len(events) == 1:
                        sent = time.monotonic()
                        assert (
                            agent.post(f"/agent/handoffs/{ticket}/live/start", data={"csrf_token": csrf}).status_code
                            == 303
                        )
                    elif name == "ticket" and data["mode"] == "live":
                        timings.append(time.monotonic() - sent)
                        sent = time.monotonic()
                        agent.post(
                            f"/agent/handoffs/{ticket}/live/messages",
                            data={"csrf_token": csrf, "text": "Hello from replica two"},
                        )
                    elif name == "message":
                        timings.append(time.monotonic() - sent)
                        break
            assert [n for n, _ in events] == ["ticket", "ticket", "message"]
            assert events[-1][1]["text"] == "Hello from replica two"
            assert max(timings) < 2.0, timings  # woken by the notice, not by a keep-alive (15 s)


def _run_collecting(scenario) -> list[BaseException]:
    import asyncio

    try:
        asyncio.run(scenario())
    except BaseException as exc:  # reported by the test in the main thread
        return [exc]
    return []
