"""Erasure and export of one customer, on SQLite and PostgreSQL, with Rasa's real tracker store.

Customer Erika has three handoffs in two chat conversations (one handoff without her
e-mail, found through its conversation), feedback, unanswered questions, the reports'
record of her conversations, the incident the bot told her of, the procedure runs counted for
her conversations' limits and Rasa events; Bob and an
anonymous chat have the same kinds of rows. After ``helpdesk erase --email`` nothing of
Erika is left in any table of the desk or in Rasa's tracker store (Rasa itself no longer
finds her conversations), and Bob's and the anonymous rows are exactly as before. The dry
run counts the same keys; without ``--yes`` the command asks and erases nothing unless the
answer is yes. The audit log says who erased what, without her address.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.cli import main
from helpdesk.feedback.store import FeedbackStore
from helpdesk.incidents.store import IncidentStore
from helpdesk.privacy.audit import entries
from helpdesk.procedures import store as procedures
from helpdesk.reports.activity import ActivityStore
from tests.privacy.conftest import declare_outage, make_handoff, table_dump

NOW = datetime.now(UTC).replace(microsecond=0)
ERIKA_CONVS = ("conv-erika-1", "conv-erika-2")
OTHER_CONVS = ("conv-bob", "conv-anonymous")


@pytest.fixture
def desk(store, trackers, monkeypatch):
    for key, value in {
        "DATABASE_URL": store.engine.url.render_as_string(hide_password=False),
        "RASA_TRACKER_STORE_URL": trackers.url,
        "HELPDESK_SECRETS_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(key, value)
    erika = [
        make_handoff(
            store,
            "conv-erika-1",
            NOW - timedelta(days=3),
            email="erika@example.org",
            name="Erika Mustermann",
            description="Router ERIKA-ROUTER blinkt",
            customer_text="Erikas Router blinkt rot",
        ),
        make_handoff(
            store,
            "conv-erika-1",
            NOW - timedelta(days=2),
            phone="+49 30 1234567",
            description="Immer noch ERIKA-ROUTER",
            customer_text="Erika schon wieder",
        ),
        make_handoff(
            store,
            "conv-erika-2",
            NOW - timedelta(days=1),
            email="Erika@Example.org",
            description="Rechnung ERIKA-BILL",
            customer_text="Erikas Rechnung ist falsch",
        ),
    ]
    bob = [
        make_handoff(
            store,
            "conv-bob",
            NOW - timedelta(days=1),
            email="bob@example.org",
            name="Bob",
            description="Bob's printer",
            customer_text="Bob cannot print",
        )
    ]
    feedback = FeedbackStore(store.engine)
    for conv in (*ERIKA_CONVS, *OTHER_CONVS):
        feedback.record_feedback(conv, "router-no-internet", f"question of {conv}", conv != "conv-bob")
        feedback.record_unanswered(f"unanswered of {conv}", "de", 0.2, 0.5, None, conversation_id=conv)
    feedback.record_unanswered("asked by nobody known", "en", 0.1, 0.5, None)
    for conv in (*ERIKA_CONVS, *OTHER_CONVS):
        ActivityStore(store.engine).record_search(conv, "de", "router-no-internet")
    incidents, outage = IncidentStore(store), declare_outage(store)
    for conv in ("conv-erika-2", "conv-bob"):  # the bot told them of the outage
        incidents.record_told(outage, conv, "de")
    for conv in ("conv-erika-1", "conv-erika-1", "conv-bob"):  # they ran a procedure (the limits count it)
        procedures.record(store.engine, "de-leitung-pruefen", "de", "identity_failed", 404, 80, conv)
    start = time.time() - 3600
    before = trackers.rasa(
        "save",
        {
            conv: [(f"hello from {conv}", start), (f"more from {conv}", start + 60)]
            for conv in (*ERIKA_CONVS, *OTHER_CONVS)
        },
    )
    assert before == {conv: before[conv] for conv in (*ERIKA_CONVS, *OTHER_CONVS)} and min(before.values()) >= 4
    return {"erika": erika, "bob": bob, "trackers": before}


def test_export_has_everything_of_the_customer_and_nothing_else(desk, store, capsys):
    assert main(["export", "--email", "erika@EXAMPLE.org", "--actor", "dpo-anna"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(document["tickets"]) == sorted(desk["erika"])
    assert sorted(h["ticket_id"] for h in document["handoffs"]) == sorted(desk["erika"])
    first = next(h for h in document["handoffs"] if h["summary"]["description"] == "Router ERIKA-ROUTER blinkt")
    assert first["summary"]["contact"]["email"] == "erika@example.org"
    assert first["transcript"][0]["text"] == "Erikas Router blinkt rot" and first["events"][0]["action"] == "created"
    assert first["notifications"][0]["state"] == "delivered"
    assert {f["conversation_id"] for f in document["article_feedback"]} == set(ERIKA_CONVS)
    assert {u["query"] for u in document["unanswered_searches"]} == {f"unanswered of {c}" for c in ERIKA_CONVS}
    assert {e["sender_id"] for e in document["conversation_events"]} == set(ERIKA_CONVS)
    assert any(
        e["type"] == "user" and e["data"]["text"] == "hello from conv-erika-2" for e in document["conversation_events"]
    )
    text = json.dumps(document)
    assert "bob" not in text.lower() and "conv-anonymous" not in text and "asked by nobody" not in text
    [entry] = entries(store.engine)
    assert (entry["actor"], entry["action"], entry["selector"]) == ("dpo-anna", "export", "email")
    assert {c["conversation_id"] for c in document["report_conversations"]} == set(ERIKA_CONVS)
    assert {v["conversation_id"] for v in document["report_article_views"]} == set(ERIKA_CONVS)
    assert [t["conversation_id"] for t in document["incident_conversations"]] == ["conv-erika-2"]
    assert [(a["conversation_id"], a["identity_failed"]) for a in document["procedure_attempts"]] == [
        ("conv-erika-1", True)
    ] * 2
    assert entry["counts"] == {
        "handoffs": 3,
        "article_feedback": 2,
        "unanswered_searches": 2,
        "report_conversations": 2,
        "report_article_views": 2,
        "mail_messages": 0,
        "mail_attachments": 0,
        "mail_auto_replies": 0,
        "article_drafts": 0,
        "incident_subscriptions": 0,
        "incident_conversations": 1,
        "procedure_attempts": 2,
        "chat_attachments": 0,
        "ratings": 0,
        "tracker_events": sum(desk["trackers"][c] for c in ERIKA_CONVS),
    }


def test_erase_by_email_leaves_nothing_of_the_customer_and_touches_nobody_else(
    desk, store, trackers, capsys, monkeypatch
):
    dump_before = table_dump(store)
    assert main(["erase", "--email", "erika@example.org", "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["counts"]["handoffs"] == 3 and table_dump(store) != {}
    assert {k: v for k, v in table_dump(store).items() if k != "privacy_audit"} == {
        k: v for k, v in dump_before.items() if k != "privacy_audit"
    }

    # Without --yes the command asks; no answer (no terminal, as in CI) or anything but "yes" erases nothing.
    assert main(["erase", "--email", "erika@example.org"]) == 1
    assert "This cannot be undone. Type yes to erase:" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert main(["erase", "--email", "erika@example.org"]) == 1
    assert "not confirmed; nothing erased" in capsys.readouterr().err
    assert {k: v for k, v in table_dump(store).items() if k != "privacy_audit"} == {
        k: v for k, v in dump_before.items() if k != "privacy_audit"
    }

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["erase", "--email", "erika@example.org", "--actor", "dpo-anna"]) == 0
    result = json.loads(capsys.readouterr().out)
    counts = result["counts"]
    assert counts == dry["counts"]  # the dry run counted the same rows and files under the same keys
    assert dry["storage"] == [] and result["storage"][0].startswith("desk database: ")
    assert sorted(result["tickets"]) == sorted(desk["erika"])
    assert counts["handoffs"] == 3 and counts["handoff_messages"] == 9 and counts["notification_outbox"] == 3
    assert counts["notification_attempts"] == 3 and counts["article_feedback"] == 2
    assert counts["unanswered_searches"] == 2
    assert counts["report_conversations"] == 2 and counts["report_article_views"] == 2
    assert counts["incident_conversations"] == 1 and counts["procedure_attempts"] == 2
    assert counts["tracker_events"] == sum(desk["trackers"][c] for c in ERIKA_CONVS)

    dump = table_dump(store)
    everything = "\n".join(dump.values()).lower()
    for trace in ("erika", "1234567", "conv-erika", *[t.lower() for t in desk["erika"]]):
        if trace.startswith("hd-"):  # the audit log keeps the ticket ids it erased, nothing else
            everything_but_audit = "\n".join(v for k, v in dump.items() if k != "privacy_audit").lower()
            assert trace not in everything_but_audit
        else:
            assert trace not in everything, trace
    # Nobody else lost anything: Bob's ticket, the anonymous chat, the question of nobody known.
    assert store.get(desk["bob"][0])["summary"]["contact"]["email"] == "bob@example.org"
    assert store.get(desk["bob"][0])["transcript"][0]["text"] == "Bob cannot print"
    for conv in OTHER_CONVS:
        assert f"question of {conv}" in dump["article_feedback"]
        assert f"unanswered of {conv}" in dump["unanswered_searches"]
        assert conv in dump["report_conversations"] and conv in dump["report_article_views"]
    assert "conv-bob" in dump["incident_conversations"] and "conv-bob" in dump["procedure_attempts"]
    assert len(dump["procedure_runs"].splitlines()) == 3  # the audit log names no conversation: it stays
    assert "asked by nobody known" in dump["unanswered_searches"]
    assert len(dump["handoff_messages"].splitlines()) == 3  # Bob's transcript
    assert len(dump["notification_outbox"].splitlines()) == 1
    # Rasa no longer finds her conversations; the others keep every event.
    assert trackers.rasa("keys") == {conv: desk["trackers"][conv] for conv in OTHER_CONVS}

    audit = entries(store.engine)
    erase = next(e for e in audit if e["action"] == "erase" and not e["dry_run"])
    assert (erase["actor"], erase["selector"], sorted(erase["tickets"])) == ("dpo-anna", "email", sorted(desk["erika"]))
    assert erase["counts"] == counts
    assert "erika" not in json.dumps(audit).lower() and "example.org" not in json.dumps(audit)

    # Again: nothing left to find, nothing erased, no error.
    assert main(["erase", "--email", "erika@example.org", "--yes"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["handoffs"] == 0


def test_erase_by_ticket_and_by_phone(desk, store, trackers, capsys):
    # The phone is compared by its digits: "0049 30 123-4567" is "+49 30 1234567".
    assert main(["export", "--phone", "0049 30 123-4567"]) == 0
    assert sorted(json.loads(capsys.readouterr().out)["tickets"]) == sorted(desk["erika"][:2])
    assert main(["erase", "--ticket", desk["bob"][0].lower(), "--yes"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["handoffs"] == 1
    assert "bob" not in "\n".join(table_dump(store).values()).lower()
    assert set(trackers.rasa("keys")) == {*ERIKA_CONVS, "conv-anonymous"}
    assert len(store.list_handoffs()) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--email", "not-an-address"], "is not an e-mail address"),
        (["--phone", "12"], "at least 5 digits"),
        (["--ticket", " "], "give the customer's ticket"),
    ],
)
def test_bad_selectors_are_refused(desk, store, args, message, capsys):
    assert main(["erase", *args]) == 2
    assert message in capsys.readouterr().err
    assert len(store.list_handoffs()) == 4
