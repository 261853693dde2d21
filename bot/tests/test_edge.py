"""The bot's public edge against the real stack (Rasa with bot/channels.py, action server, web service).

A customer's long paste (up to HELPDESK_BOT_MAX_MESSAGE_CHARS, 8,000 characters)
gets a normal reply, a longer one the localised "too long" text as a bot message;
an attacker's oversized messages over REST and socket.io are refused within a
second, before NLU, while Rasa keeps answering and its memory stays flat;
malformed REST bodies are 400s; the rate limits answer 429 (REST) or a
localised text (socket.io); Rasa's HTTP API is not served; the private
channel wants its token; a bounded burst (scripts/edge_burst.py) against every
public endpoint leaves every service answering. Each test sends from its own
loopback address (127.0.0.x), so the per-address budgets of other tests are untouched.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from conftest import REPO

sys.path.insert(0, str(REPO))
from scripts import edge_burst
from scripts.edge_burst import ChatSocket as Chat

_addresses = itertools.count(20)


def new_address() -> str:
    return f"127.0.0.{next(_addresses)}"


def client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def rest(stack, address: str, body: Any, **kwargs) -> httpx.Response:
    with client(address) as c:
        return c.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, **kwargs)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_malformed_rest_bodies_are_400(bot_stack):
    address = new_address()
    for body in (
        b"",
        b"[]",
        b'"text"',
        b"{not json",
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "s", "message": 5}',
        b'{"sender": "s", "message": "hi", "metadata": []}',
    ):
        with client(address) as c:
            response = c.post(
                f"{bot_stack.rasa_url}/webhooks/rest/webhook",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        assert response.status_code == 400, body
        assert response.json()["detail"]


async def test_oversized_messages_are_refused_fast_while_rasa_keeps_answering(bot_stack):
    rasa_pid = bot_stack.process.process.pid
    before = rss_mb(rasa_pid)
    slowest_probe = 0.0
    attacking = True

    async def probe() -> None:
        nonlocal slowest_probe
        async with httpx.AsyncClient(timeout=5) as c:
            while attacking:
                started = time.perf_counter()
                assert (await c.get(f"{bot_stack.rasa_url}/")).status_code == 200
                slowest_probe = max(slowest_probe, time.perf_counter() - started)
                await asyncio.sleep(0.05)

    async def rest_attack(size: int, lang: str) -> httpx.Response:
        body = {"sender": secrets.token_hex(8), "message": "x" * size, "metadata": {"language": lang}}
        transport = httpx.AsyncHTTPTransport(local_address=new_address())
        async with httpx.AsyncClient(transport=transport, timeout=10) as c:
            started = time.perf_counter()
            response = await c.post(f"{bot_stack.rasa_url}/webhooks/rest/webhook", json=body)
            assert time.perf_counter() - started < 1.0
            return response

    async def rest_attack_10mb() -> bytes:
        # As a client sends it: headers announcing 10 MB, then the body; the answer comes before the body is read.
        port = int(bot_stack.rasa_url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(new_address(), 0))
        started = time.perf_counter()
        writer.write(
            b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: rasa\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000100\r\n\r\n" + b'{"sender": "attacker", "message": "' + b"x" * 65536
        )
        try:
            await writer.drain()
        except ConnectionError:
            pass
        answer = await asyncio.wait_for(reader.read(65536), 1.0)
        assert time.perf_counter() - started < 1.0
        writer.close()
        return answer

    probing = asyncio.ensure_future(probe())
    try:
        for _ in range(3):  # three waves of the four attacks
            # REST, 100 KB: a localised refusal instead of NLU.
            response = await rest_attack(100_000, "de")
            assert response.status_code == 200
            assert "Ihre Nachricht ist zu lang (100000 Zeichen; höchstens 8000)" in response.json()[0]["text"]
            # REST, 10 MB: refused at the HTTP layer, before the body is read.
            answer = await rest_attack_10mb()
            assert answer.startswith(b"HTTP/1.1 413") and b"Request body exceeds the size limit" in answer

            async with Chat(bot_stack.rasa_url, new_address()) as chat:
                started = time.perf_counter()
                await chat.say("y" * 100_000, lang="en")
                reply = await chat.reply(timeout=1.0)
                assert time.perf_counter() - started < 1.0
                assert reply["text"].startswith("Your message is too long (100000 characters; at most 8000)")
                # 10 MB in one websocket message: the connection is closed at the byte limit.
                started = time.perf_counter()
                try:
                    await chat.say("z" * 10_000_000)
                except websockets.ConnectionClosed:
                    pass  # the server may close it while the message is still being sent
                await asyncio.wait_for(chat.closed.wait(), 1.0)
                assert time.perf_counter() - started < 1.0
                assert chat.ws.close_code == 1009  # "message too big"
    finally:
        attacking = False
        await probing
    assert slowest_probe < 1.0, f"Rasa took {slowest_probe:.2f} s to answer during the attack"
    grown = rss_mb(rasa_pid) - before
    assert grown < 100, f"Rasa grew by {grown:.0f} MB"

    # After the attack a customer is served as usual.
    assert rest(bot_stack, new_address(), {"sender": secrets.token_hex(8), "message": "hello"}).json()


def long_message(size: int) -> str:
    """A customer's long paste of ``size`` characters: a description, umlauts, the customer number last."""
    end = " Meine Kundennummer ist 4711-0815, bitte rufen Sie mich zurück 🙏"
    text = "Seit dem Update auf Version 5.2 stürzt die Office-Anwendung beim Öffnen großer Dateien ab. " * 100
    return text[: size - len(end)] + end


@pytest.mark.parametrize("size", [3000, 7900])
def test_a_long_message_gets_a_normal_reply(bot_stack, size):
    text = long_message(size)
    assert len(text) == size and len(text.encode()) > size  # characters, not bytes, are counted
    response = rest(
        bot_stack, new_address(), {"sender": secrets.token_hex(8), "message": text, "metadata": {"language": "de"}}
    )
    assert response.status_code == 200
    replies = " ".join(str(r.get("text") or r.get("custom")) for r in response.json())
    assert response.json() and "zu lang" not in replies and "schiefgegangen" not in replies


async def test_nlu_gets_the_start_of_a_long_message_and_its_metadata_the_whole(bot_stack):
    whole = long_message(7900)
    senders = {"rest": secrets.token_hex(8), "short": secrets.token_hex(8)}
    # A client's own "full_text" is dropped: only the channel sets it.
    forged = {"language": "de", "full_text": "forged"}
    rest(bot_stack, new_address(), {"sender": senders["rest"], "message": whole, "metadata": forged})
    rest(bot_stack, new_address(), {"sender": senders["short"], "message": "Hallo", "metadata": forged})
    async with Chat(bot_stack.rasa_url, new_address()) as chat:
        await chat.say(whole, lang="de")
        reply = await chat.reply(timeout=30)
        senders["socket.io"] = chat.session
    assert "zu lang" not in str(reply) and "schiefgegangen" not in str(reply)

    for channel in ("rest", "socket.io"):
        deadline = time.monotonic() + 10  # socket.io replies before its tracker is saved
        while not bot_stack.user_events(senders[channel]) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        (event,) = bot_stack.user_events(senders[channel])
        nlu = event["parse_data"]["text"]
        assert nlu == event["text"] and 500 < len(nlu) <= 1000, channel
        assert whole.startswith(nlu) and nlu.endswith("ab."), channel  # cut after a sentence
        assert event["metadata"]["full_text"] == whole, channel
    (short,) = bot_stack.user_events(senders["short"])
    assert short["text"] == "Hallo" and short["metadata"]["language"] == "de" and "full_text" not in short["metadata"]


def test_a_message_over_the_limit_gets_the_localised_too_long_text(bot_stack):
    text = long_message(8001)
    for lang, expected in (
        ("de", "Ihre Nachricht ist zu lang (8001 Zeichen; höchstens 8000)"),
        ("en", "Your message is too long (8001 characters; at most 8000)"),
    ):
        response = rest(
            bot_stack, new_address(), {"sender": secrets.token_hex(8), "message": text, "metadata": {"language": lang}}
        )
        assert response.status_code == 200  # a bot message a client shows, not an HTTP error
        assert [r["text"] for r in response.json()] == [response.json()[0]["text"]]
        assert response.json()[0]["text"].startswith(expected)


def test_the_chat_page_counts_to_the_bots_limit(bot_stack):
    """One configured number: the page's counter (the web service) and the channels agree."""
    page = httpx.get(f"{bot_stack.search.url}/chat", timeout=10).text
    config = json.loads(re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', page, re.S)[1])
    refused = rest(bot_stack, new_address(), {"sender": secrets.token_hex(8), "message": "x" * 9000})
    assert f"höchstens {config['maxMessageChars']})" in refused.json()[0]["text"]


def first_refusal(send, most: int) -> tuple:
    """Sends until the first 429; (codes before it, the refusal)."""
    codes = []
    for _ in range(most):
        response = send()
        if response.status_code == 429:
            return codes, response
        codes.append(response.status_code)
    raise AssertionError(f"no 429 after {most} messages: {codes[-5:]}")


def test_rest_rate_limits_per_conversation_and_address(bot_stack):
    # Messages over the length limit are counted and refused without NLU: quick to send many.
    # Whatever the machine's speed, the minute budgets (60 per conversation, 200 per address in
    # these tests) are reached; on a fast machine the per-second budgets come first.
    long_text = "x" * 9000
    url = f"{bot_stack.rasa_url}/webhooks/rest/webhook"
    sender = secrets.token_hex(8)
    with client(new_address()) as c:
        codes, refused = first_refusal(
            lambda: c.post(url, json={"sender": sender, "message": long_text}, headers={"Accept-Language": "en"}), 61
        )
    assert codes and set(codes) == {200}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()[0]["recipient_id"] == sender and "Please wait" in refused.json()[0]["text"]

    with client(new_address()) as c:
        codes, refused = first_refusal(
            lambda: c.post(url, json={"sender": secrets.token_hex(8), "message": long_text}), 201
        )
    assert len(codes) >= 10 and set(codes) == {200}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another customer (address and conversation) is unaffected and gets a real answer.
    answer = rest(bot_stack, new_address(), {"sender": secrets.token_hex(8), "message": "hello"})
    assert answer.status_code == 200 and answer.json()


async def test_socketio_rate_limit_answers_in_the_customers_language(bot_stack):
    async with Chat(bot_stack.rasa_url, new_address()) as chat:
        for _ in range(61):  # the per-conversation minute budget is 60
            await chat.say("x" * 9000, lang="de")
        texts = [(await chat.reply(timeout=10))["text"] for _ in range(61)]
    assert texts[0].startswith("Ihre Nachricht ist zu lang (9000 Zeichen; höchstens 8000)")
    refused = [text for text in texts if "Bitte warten Sie" in text]
    assert refused and set(texts) == {texts[0], *refused}


async def test_socketio_refuses_pages_of_other_origins(bot_stack):
    with pytest.raises(websockets.InvalidStatusCode):
        async with Chat(bot_stack.rasa_url, new_address(), origin="https://evil.example"):
            pass
    async with Chat(bot_stack.rasa_url, new_address(), origin="http://127.0.0.1:8000") as chat:
        await chat.say("hello")
        assert (await chat.reply(timeout=10))["text"]


def test_rasas_http_api_is_not_served(bot_stack):
    for method, path in (
        ("GET", "/status"),
        ("GET", "/version"),
        ("GET", "/conversations/x/tracker"),
        ("POST", "/conversations/x/tracker/events"),
        ("POST", "/model/parse"),
        ("PUT", "/model"),
    ):
        assert httpx.request(method, f"{bot_stack.rasa_url}{path}", timeout=5).status_code in (404, 405), path


def test_private_channel_wants_its_token(bot_stack):
    url = f"{bot_stack.rasa_url}/webhooks/helpdesk/conversations/someone/slots"
    assert httpx.get(url, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    auth = {"Authorization": f"Bearer {bot_stack.rasa_token}"}
    assert httpx.post(url, json={"no_such_slot": 1}, headers=auth, timeout=5).status_code == 400
    assert httpx.post(url, content=b"[]", headers=auth, timeout=5).status_code == 400
    set_ = httpx.post(url, json={"ticket_id": "HD-TEST"}, headers=auth, timeout=5)
    assert set_.status_code == 200 and set_.json()["slots"]["ticket_id"] == "HD-TEST"
    cleared = httpx.post(url, json={"ticket_id": None}, headers=auth, timeout=5).json()
    assert cleared["slots"]["ticket_id"] is None


def test_bounded_burst_leaves_every_service_answering(bot_stack):
    report = asyncio.run(
        edge_burst.burst(
            bot_stack.search.url,
            bot_stack.rasa_url,
            "en-reset-password",
            requests=100,
            concurrency=10,
            source=new_address(),
            probe_limit=1.0,
        )
    )
    print(json.dumps(report, indent=2))
    assert report["ok"], report  # every probe of both services answered within a second
    by_name = {r["endpoint"]: r["answers"] for r in report["results"]}
    # The rate-limited endpoints refused part of the burst; nothing failed with a 5xx or a transport error.
    # (/search is left out here: it encodes with a model per request, and on a loaded machine it may
    # answer fewer than 20 a second, so the limit is not reached; tests/edge checks its 429 exactly.)
    for name in (
        "POST /language",
        "POST /feedback",
        "GET /chat/api/live/{key}",
        "POST /chat/api/live/{key}/messages",
        "POST /webhooks/rest/webhook",
    ):
        assert by_name[name].get("429", 0) > 0, (name, by_name[name])
    assert all(code.isdigit() and code < "500" for answers in list(by_name.values())[:-1] for code in answers)
    assert by_name["socket.io user_uttered"].get("refused: too many", 0) > 0
