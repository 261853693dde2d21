"""Conversations survive a crash of Rasa: the SQL tracker store of bot/endpoints.yml.

The operator's check of durable conversations, on a single stack (web service + action server +
Rasa): a German conversation is mid-way (an article shown, "did this solve it?"),
Rasa is killed with SIGKILL and started again on the same tracker store, and the
customer clicks "not solved". The answer must continue the conversation in German
with what the bot had collected (the next candidate article, then the handoff form
with topic and problem prefilled), not start over in English. Run on the SQLite
file of ``make run`` and on PostgreSQL (a schema of its own in the test database,
the way several Rasa servers share it).

Then the whole stack: the web service, the action server and Rasa are all killed
with SIGKILL while one conversation is mid-way and another has just become a ticket,
and started again on the same files (``make run``'s layout: SQLite handoffs and
trackers). The ticket is stored unchanged, both conversations go on where they were,
and the customer's next message reaches the ticket's transcript.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from conftest import BotStack, SearchService, free_port, start_action_server, start_rasa, start_web_service
from helpers import buttons, texts, ticket_in

PG_DSN = os.environ.get("HELPDESK_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store(request, tmp_path) -> Iterator[tuple]:
    """(tracker store URL, extra environment of Rasa) on a fresh, empty store."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trackers.db'}", {}
        return
    schema = f"rasa_kill9_{uuid.uuid4().hex[:10]}"
    connection = psycopg2.connect(PG_DSN)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema}"')
        params = dict(item.split("=", 1) for item in PG_DSN.split())
        url = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
        yield url, {"POSTGRESQL_SCHEMA": schema}  # Rasa's own setting: its tables go into this schema
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.close()


def test_german_conversation_continues_after_rasa_is_killed(search_service, action_server, tracker_store):
    url, env = tracker_store
    port = free_port()
    rasa_url = f"http://127.0.0.1:{port}"
    token = secrets.token_urlsafe(24)
    rasa = start_rasa("rasa-before-kill", port, action_server, url, token, env)
    bot_stack = BotStack(rasa_url, search_service, token, rasa)
    me = f"kill9-{uuid.uuid4().hex[:8]}"
    try:
        reply = bot_stack.say(me, "Mein Internet ist sehr langsam")
        assert "/articles/de-internet-langsam" in texts(reply)
        assert buttons(reply) == ["/affirm", "/deny"]
        before = bot_stack.slots(me)
        assert before["language"] == "de" and before["flow"] == "feedback"
    finally:
        rasa.process.kill()  # SIGKILL: nothing is flushed or closed
        rasa.process.wait(timeout=10)
    assert rasa.process.returncode == -9

    rasa = start_rasa("rasa-after-kill", port, action_server, url, token, env)
    try:
        after = bot_stack.slots(me)
        assert after == before  # every slot the bot had collected, read back from the store

        reply = bot_stack.say(me, "/deny")  # "Nein, nicht gelöst": the question for details, in German
        assert "was genau passiert" in texts(reply)
        assert "How can I help" not in texts(reply)

        reply = bot_stack.say(me, "/deny")  # "no" again instead of details
        # The second unresolved answer: the handoff form, with the problem and the article from
        # before the crash kept (the topic from the article), asks what was tried, in German.
        assert "Kollegen aus unserem Support" in texts(reply) and "Was haben Sie schon versucht" in texts(reply)
        slots = bot_stack.slots(me)
        assert slots["language"] == "de" and slots["unresolved_count"] == 2
        assert slots["handoff_category"] == "network"
    finally:
        rasa.stop()


def test_whole_stack_restart_keeps_conversations_and_tickets(tmp_path):
    web_port, action_port, rasa_port = free_port(), free_port(), free_port()
    token, rasa_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    db_path, trackers = tmp_path / "handoffs.db", f"sqlite:///{tmp_path / 'trackers.db'}"
    web_url, action_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{action_port}/webhook"
    desk = SearchService(web_url, token, db_path)

    def start_stack(suffix: str):
        web = start_web_service(f"web-{suffix}", web_port, db_path, token)
        actions = start_action_server(f"actions-{suffix}", action_port, web_url, token)
        rasa = start_rasa(f"rasa-{suffix}", rasa_port, action_url, trackers, rasa_token)
        return [web, actions, rasa]

    def ticket_rows(ticket: str):
        handoff = [dict(r) for r in desk.query("SELECT * FROM handoffs WHERE ticket_id = ?", ticket)]
        assert len(handoff) == 1
        messages = [
            tuple(r)
            for r in desk.query(
                "SELECT sender, text FROM handoff_messages WHERE handoff_id = ? ORDER BY position", handoff[0]["id"]
            )
        ]
        return handoff[0], messages

    processes = start_stack("before-restart")
    bot = BotStack(f"http://127.0.0.1:{rasa_port}", desk, rasa_token, processes[-1])
    midway, handed_off = f"restart-de-{uuid.uuid4().hex[:8]}", f"restart-en-{uuid.uuid4().hex[:8]}"
    try:
        assert "/articles/de-internet-langsam" in texts(bot.say(midway, "Mein Internet ist sehr langsam"))
        for message in (
            "I want to talk to a human",
            '/inform{"choice": "billing"}',
            "I was charged twice for November",
            "nothing",
            '/inform{"choice": "normal"}',
            "anna@example.com",
        ):
            bot.say(handed_off, message)
        ticket = ticket_in(texts(bot.say(handed_off, "/affirm")))
        slots_before = {me: bot.slots(me) for me in (midway, handed_off)}
        handoff_before, messages_before = ticket_rows(ticket)
    finally:
        for process in processes:  # SIGKILL, all at once: nothing is flushed or closed
            process.process.kill()
        for process in processes:
            process.process.wait(timeout=10)
    assert all(p.process.returncode == -9 for p in processes)

    processes = start_stack("after-restart")
    try:
        assert {me: bot.slots(me) for me in (midway, handed_off)} == slots_before
        assert ticket_rows(ticket) == (handoff_before, messages_before)

        reply = bot.say(midway, "/deny")  # the German conversation goes on, in German
        assert "was genau passiert" in texts(reply)
        reply = bot.say(handed_off, "Is anybody there?")  # the ticket's conversation reaches the ticket
        assert ticket in texts(reply)
        _, messages_after = ticket_rows(ticket)
        assert messages_after[: len(messages_before)] == messages_before
        assert ("customer", "Is anybody there?") in messages_after[len(messages_before) :]
    finally:
        for process in processes:
            process.stop()
