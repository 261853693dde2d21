"""HandoffStore against SQLite and PostgreSQL: durability, idempotency, transitions, agents, outbox."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from helpdesk.db import utcnow
from helpdesk.handoffs.errors import AgentExists, IdempotencyConflict, InvalidTransition, TicketNotFound
from helpdesk.handoffs.schemas import HandoffIn, Message
from helpdesk.handoffs.store import Notification
from tests.handoffs.conftest import handoff_payload

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def create(store, payload=None, notifications=(), now=NOW):
    data = HandoffIn.model_validate(payload or handoff_payload())
    return store.create(
        data,
        team="network",
        priority="high",
        on_call=False,
        expected_minutes=30,
        due_at=now + timedelta(minutes=30),
        now=now,
        notifications=notifications,
    )


def test_create_stores_everything_and_reads_it_back(store):
    view, created = create(store)
    assert created and view["ticket_id"].startswith("HD-") and len(view["ticket_id"]) == 9
    full = store.get(view["ticket_id"].lower())  # ticket ids are read case-insensitively
    assert full["status"] == "new" and full["team"] == "network" and full["priority"] == "high"
    assert full["created_at"] == NOW and full["due_at"] == NOW + timedelta(minutes=30)
    assert full["summary"]["tried"].startswith("Router neu gestartet")
    assert full["summary"]["contact"] == {
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "phone": "+49 30 1234567",
    }
    assert [m["sender"] for m in full["transcript"]] == ["customer", "bot", "customer"]
    assert full["transcript"][0]["timestamp"] == datetime(2026, 11, 27, 6, 58, tzinfo=UTC)
    assert full["articles_shown"] == [
        {"article_id": "router-no-internet", "title": "Router: kein Internet", "score": 0.71, "feedback": "not_solved"}
    ]
    assert [(e["actor"], e["action"]) for e in full["events"]] == [("bot", "created")]


def test_replay_returns_the_same_ticket_and_another_payload_is_a_conflict(store):
    payload = handoff_payload("conv-42-handoff-1")
    first, created = create(store, payload)
    again, created_again = create(store, payload)
    assert created and not created_again and again["ticket_id"] == first["ticket_id"]
    payload["summary"]["description"] = "something else"
    with pytest.raises(IdempotencyConflict, match=first["ticket_id"]):
        create(store, payload)
    assert store.count() == 1


def test_concurrent_duplicates_make_one_ticket(store):
    payload = handoff_payload("conv-race-handoff-1")
    results, errors = [], []
    barrier = threading.Barrier(8)

    def post():
        barrier.wait()
        try:
            results.append(create(store, payload))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({view["ticket_id"] for view, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert store.count() == 1


def test_a_failed_write_leaves_nothing_behind(store):
    # A notification row that violates NOT NULL fails the transaction after the handoff row was flushed.
    with pytest.raises(IntegrityError):
        create(store, notifications=[Notification(None, "x@example.org")])
    assert store.count() == 0
    assert store.list_handoffs(status=None) == []


def test_claim_note_escalate_resolve_with_audit_trail(store):
    ticket = create(store)[0]["ticket_id"]
    assert store.claim(ticket, "anna")["assignee"] == "anna"
    with pytest.raises(InvalidTransition, match="claimed by anna"):
        store.claim(ticket, "ben")
    store.add_note(ticket, "anna", "Leitung gemessen: ok")
    escalated = store.escalate(
        ticket, "anna", "DSLAM-Problem, braucht Experten", "experts", utcnow() + timedelta(hours=1)
    )
    assert (escalated["status"], escalated["team"], escalated["assignee"]) == ("escalated", "experts", None)
    with pytest.raises(InvalidTransition, match="already with team experts"):
        store.escalate(ticket, "anna", "again", "experts", utcnow())
    store.claim(ticket, "eva")
    resolved = store.resolve(ticket, "eva", "Port am DSLAM neu geschaltet")
    assert resolved["status"] == "resolved" and resolved["resolution"] == "Port am DSLAM neu geschaltet"
    with pytest.raises(InvalidTransition, match="resolved"):
        store.claim(ticket, "eva")
    events = [(e["actor"], e["action"], e["to_team"]) for e in resolved["events"]]
    assert events == [
        ("bot", "created", "network"),
        ("anna", "claimed", None),
        ("anna", "note", None),
        ("anna", "escalated", "experts"),
        ("eva", "claimed", None),
        ("eva", "resolved", None),
    ]
    assert resolved["events"][3]["from_team"] == "network"
    assert resolved["events"][2]["note"] == "Leitung gemessen: ok"
    with pytest.raises(TicketNotFound):
        store.claim("HD-ZZZZZZ", "eva")


def test_list_filters(store):
    a = create(store)[0]["ticket_id"]
    b = create(store)[0]["ticket_id"]
    store.claim(b, "anna")
    assert [h["ticket_id"] for h in store.list_handoffs(status="new")] == [a]
    assert {h["ticket_id"] for h in store.list_handoffs(status="open", team="network", priority="high")} == {a, b}
    assert store.list_handoffs(team="billing") == [] and store.list_handoffs(priority="low") == []


def test_append_messages_continues_the_transcript(store):
    ticket = create(store)[0]["ticket_id"]
    at = datetime(2026, 11, 27, 9, 5, tzinfo=UTC)
    view = store.append_messages(
        ticket,
        [
            Message(sender="agent", text="Hallo, hier ist Anna", timestamp=at),
            Message(sender="customer", text="Danke!", timestamp=at),
        ],
        "anna",
    )
    assert [m["text"] for m in view["transcript"]][-2:] == ["Hallo, hier ist Anna", "Danke!"]
    assert len(view["transcript"]) == 5 and view["events"][-1]["action"] == "messages"


def test_agents_passwords_and_tokens(store):
    agent = store.create_agent("anna", "Anna Agent", ["network", "experts"], "correct horse battery")
    assert agent.teams == ("network", "experts")
    with pytest.raises(AgentExists):
        store.create_agent("anna", "Other", ["network"], "another password")
    assert store.authenticate("anna", "correct horse battery") == agent
    assert store.authenticate("anna", "wrong password") is None
    assert store.authenticate("nobody", "correct horse battery") is None
    token = store.create_token("anna", "laptop")
    assert store.agent_for_token(token) == agent
    assert store.agent_for_token(token + "x") is None
    with store.transaction() as s:
        from sqlalchemy import select

        from helpdesk.handoffs.models import Agent, AgentToken

        assert s.scalar(select(Agent.password_hash)).startswith("$argon2id$")
        assert token not in s.scalar(select(AgentToken.token_hash))


def test_outbox_lease_retry_and_give_up(store):
    now = utcnow()
    ticket = create(store, notifications=[Notification("webhook", "http://127.0.0.1:9/hook")], now=now)[0]
    jobs = store.claim_due_notifications(utcnow(), timedelta(seconds=60))
    assert len(jobs) == 1 and jobs[0].channel == "webhook" and ticket["ticket_id"] in jobs[0].payload
    assert store.claim_due_notifications(utcnow(), timedelta(seconds=60)) == []  # leased
    store.record_attempt(jobs[0], False, "HTTP 500", 12, retry_at=utcnow() - timedelta(seconds=1))
    again = store.claim_due_notifications(utcnow(), timedelta(seconds=60))
    assert [j.attempts for j in again] == [1]
    store.record_attempt(again[0], False, "HTTP 503", 10, retry_at=None)
    (item,) = store.notifications(ticket["ticket_id"])
    assert item["state"] == "failed" and item["attempts"] == 2
    assert [(a["attempt"], a["ok"], a["detail"]) for a in item["attempt_log"]] == [
        (1, False, "HTTP 500"),
        (2, False, "HTTP 503"),
    ]
    assert store.claim_due_notifications(utcnow() + timedelta(days=1), timedelta(seconds=60)) == []


def test_processes_starting_together_migrate_one_after_the_other(database_url, tmp_path):
    """Replicas, or make run's web service and purge, migrate a new database at the same moment."""
    go = tmp_path / "go"
    script = (
        "import time\nfrom pathlib import Path\nfrom helpdesk.migrations import upgrade\n"
        f"while not Path({str(go)!r}).exists(): time.sleep(0.005)\n"
        f"upgrade({database_url!r})\n"
    )
    starts = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    time.sleep(5)  # each has imported alembic and the models and waits for the start
    go.touch()
    results = [(p.wait(120), p.stderr.read()) for p in starts]
    assert [code for code, _ in results] == [0, 0, 0], results
