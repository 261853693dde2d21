"""Conversations survive a crash of Rasa: the SQL tracker store of bot/endpoints.yml.

The operator's check of issue 12, on a single stack (web service + action server +
Rasa): a German conversation is mid-way (an article shown, "did this solve it?"),
Rasa is killed with SIGKILL and started again on the same tracker store, and the
customer clicks "not solved". The answer must continue the conversation in German
with what the bot had collected (the next candidate article, then the handoff form
with topic and problem prefilled), not start over in English. Run on the SQLite
file of ``make run`` and on PostgreSQL (a schema of its own in the test database,
the way several Rasa servers share it).
"""

from __future__ import annotations

import os
import secrets
import uuid
from typing import Iterator

import psycopg2
import pytest

from conftest import BotStack, free_port, start_rasa
from helpers import buttons, texts

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

        reply = bot_stack.say(me, "/deny")  # "Nein, nicht gelöst"
        assert "Dann passt vielleicht dieser Artikel besser" in texts(reply)
        assert "How can I help" not in texts(reply)

        reply = bot_stack.say(me, "/deny")
        # The second unresolved answer: the handoff form, with the problem from before the
        # crash kept, asks the topic first, in German.
        assert "Kollegen aus unserem Support" in texts(reply) and "Worum geht es bei Ihrem Anliegen?" in texts(reply)
        slots = bot_stack.slots(me)
        assert slots["language"] == "de" and slots["unresolved_count"] == 2
    finally:
        rasa.stop()
