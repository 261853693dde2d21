"""``helpdesk purge`` on SQLite and PostgreSQL with Rasa's real tracker store.

Everything past its period goes, in batches (batch size 2 here, so several batches
run and are logged); open tickets and everything recent stay; ``--dry-run`` counts
the same numbers and deletes nothing; the run is in the audit log. A purged ticket's
attachment files and article drafts go with it, attachment files without a row once
they are an hour old, auto-reply records once the auto-reply period is over.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from helpdesk.cli import main
from helpdesk.db import utcnow
from helpdesk.feedback.store import FeedbackStore
from helpdesk.inbox.drafts import ticket_of, write_draft
from helpdesk.incidents.store import IncidentStore
from helpdesk.mail import attachments
from helpdesk.mail.parsing import Attachment
from helpdesk.mail.store import MailStore
from helpdesk.privacy.audit import entries
from helpdesk.privacy.purge import parse_interval
from helpdesk.procedures import store as procedures
from helpdesk.reports.activity import ActivityStore
from tests.privacy.conftest import declare_outage, make_handoff, set_updated, table_dump

NOW = datetime.now(UTC)
DAY = 86400


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "privacy.yml"
    path.write_text(
        "retention_days: {handoffs: 100, trackers: 30, unanswered: 60, feedback: 200, reports: 150, "
        "audit: 0}\n"
        "batch_size: 2\n",
        encoding="utf-8",
    )
    return path


def test_purge_deletes_what_is_past_its_period_in_batches(store, trackers, config, monkeypatch, capsys, caplog):
    monkeypatch.setenv("DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("RASA_TRACKER_STORE_URL", trackers.url)
    monkeypatch.setenv("HELPDESK_SECRETS_FILE", "/nonexistent")
    old = [
        make_handoff(store, f"conv-old-{i}", NOW - timedelta(days=200), email=f"old{i}@example.org") for i in range(3)
    ]
    for ticket in old:
        store.resolve(ticket, "anna", "fixed")
        set_updated(store, ticket, NOW - timedelta(days=101))
    recent = make_handoff(store, "conv-recent", NOW - timedelta(days=200), email="recent@example.org")
    store.resolve(recent, "anna", "fixed")
    set_updated(store, recent, NOW - timedelta(days=99))
    still_open = make_handoff(store, "conv-open", NOW - timedelta(days=400), email="open@example.org")
    set_updated(store, still_open, NOW - timedelta(days=400))
    feedback = FeedbackStore(store.engine)
    for i, age in enumerate((201, 250, 10)):
        feedback.record_feedback(
            f"conv-f{i}", "router-no-internet", f"feedback {age}", True, now=NOW - timedelta(days=age)
        )
    for age in (61, 62, 63, 59):
        feedback.record_unanswered(f"unanswered {age}", "en", 0.1, 0.5, None, now=NOW - timedelta(days=age))
    for age in (151, 160, 149):  # the reports' record of conversations, by their last search
        ActivityStore(store.engine).record_search(
            f"conv-report-{age}", "de", "router-no-internet", now=NOW - timedelta(days=age)
        )
    incidents, outage = IncidentStore(store), declare_outage(store)
    for age in (151, 160, 149):  # the reports' record of the conversations told of an incident
        told_at = NOW - timedelta(days=age)
        store.clock = lambda moment=told_at: moment
        incidents.record_told(outage, f"conv-told-{age}", "de")
    store.clock = utcnow
    for age in (31, 40, 29):  # a conversation's procedure runs counted for its limits: the trackers' period
        procedures.record(
            store.engine, "en-line-check", "en", "done", 200, 120, f"conv-run-{age}", NOW - timedelta(days=age)
        )
    t = time.time()
    trackers.rasa(
        "save",
        {
            "idle-1": [("hi", t - 40 * DAY)],
            "idle-2": [("hi", t - 31 * DAY)],
            "idle-3": [("hi", t - 300 * DAY)],
            "active": [("hi", t - 40 * DAY), ("back", t - DAY)],
        },
    )

    before = table_dump(store)
    assert main(["purge", "--dry-run", "--config", str(config)]) == 0
    dry = json.loads(capsys.readouterr().out)
    # The handoffs with everything that hangs on them (one team notification and its attempt each).
    expected = {
        "handoffs": 3,
        "notification_attempts": 3,
        "notification_outbox": 3,
        "handoff_messages": 9,
        "handoff_articles": 3,
        "handoff_events": 6,
        "mail_messages": 0,
        "mail_attachments": 0,
        "chat_attachments": 0,
        "attachment_files": 0,
        "chat_attachment_files": 0,
        "article_drafts": 0,
        "article_feedback": 2,
        "unanswered_searches": 3,
        "report_conversations": 2,
        "report_article_views": 2,
        "incident_conversations": 2,
        "mail_auto_replies": 0,
        "orphaned_attachment_files": 0,
        "tracker_conversations": 3,
        "tracker_events": 9,
        "incident_subscriptions": 0,
        "procedure_attempts": 2,
        "ratings": 0,
    }
    assert dry == {"dry_run": True, "counts": expected, "storage": []}
    assert {k: v for k, v in table_dump(store).items() if k != "privacy_audit"} == {
        k: v for k, v in before.items() if k != "privacy_audit"
    }

    caplog.set_level(logging.INFO, logger="helpdesk.purge")
    assert main(["purge", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "dry_run": False,
        "counts": expected,
        "storage": [
            "desk database: SQLite: write-ahead log checkpointed and truncated"
            if store.engine.dialect.name == "sqlite"
            else "desk database: PostgreSQL: VACUUM of article_feedback, handoff_articles, handoff_events, "
            "handoff_messages, handoffs, incident_conversations, notification_attempts, notification_outbox, "
            "procedure_attempts, report_article_views, report_conversations, unanswered_searches",
            "tracker store: "
            + (
                "SQLite: no write-ahead log"
                if store.engine.dialect.name == "sqlite"
                else "PostgreSQL: VACUUM of events"
            ),
        ],
    }
    batches = [r.getMessage() for r in caplog.records if "batch" in r.getMessage()]
    assert "purge: handoffs: deleted a batch of 2 (2 so far)" in batches
    assert "purge: handoffs: deleted a batch of 1 (3 so far)" in batches
    assert "purge: tracker store: deleted a batch of 2 conversations (6 events)" in batches

    assert sorted(h["ticket_id"] for h in store.list_handoffs()) == sorted([recent, still_open])
    dump = table_dump(store)
    assert not any(f"old{i}@" in "\n".join(dump.values()) for i in range(3))
    assert "feedback 10" in dump["article_feedback"] and "feedback 2" not in dump["article_feedback"]
    assert "unanswered 59" in dump["unanswered_searches"] and "unanswered 6" not in dump["unanswered_searches"]
    assert "conv-report-149" in dump["report_conversations"] and "conv-report-15" not in dump["report_conversations"]
    assert "conv-report-149" in dump["report_article_views"] and "conv-report-160" not in dump["report_article_views"]
    assert "conv-told-149" in dump["incident_conversations"] and "conv-told-15" not in dump["incident_conversations"]
    assert trackers.rasa("keys") == {"active": 6}
    assert "conv-run-29" in dump["procedure_attempts"] and "conv-run-3" not in dump["procedure_attempts"]
    assert len(dump["procedure_runs"].splitlines()) == 3  # the audit log (period 0 here: kept)

    runs = [e for e in entries(store.engine) if e["action"] == "purge"]
    assert [(e["dry_run"], e["counts"]) for e in runs] == [(False, expected), (True, expected)]
    assert main(["purge", "--config", str(config)]) == 0  # nothing left: all zero
    assert set(json.loads(capsys.readouterr().out)["counts"].values()) == {0}


def test_bad_configuration_and_interval_stop_the_purge(tmp_path, capsys):
    bad = tmp_path / "privacy.yml"
    bad.write_text("retention_days:\n  handoffs: -1\n  tickets: 3\n", encoding="utf-8")
    assert main(["purge", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: retention_days.handoffs: Input should be greater than or equal to 0" in err
    assert f"{bad}:3: retention_days.tickets: unknown key" in err
    assert main(["purge", "--every", "10s"]) == 2
    assert "at least a minute" in capsys.readouterr().err
    assert parse_interval("1h") == 3600 and parse_interval("30m") == 1800 and parse_interval("120") == 120
    assert main(["privacy-check"]) == 0
    assert "handoffs 365, trackers 30, unanswered 90, feedback 365, reports 365, audit 1095" in capsys.readouterr().out


def test_purge_takes_attachment_files_drafts_and_old_auto_reply_records_along(
    store, trackers, config, tmp_path, monkeypatch, capsys
):
    files = tmp_path / "var" / "mail-attachments"
    drafts = tmp_path / "kb" / "drafts"
    for key, value in {
        "DATABASE_URL": store.engine.url.render_as_string(hide_password=False),
        "RASA_TRACKER_STORE_URL": trackers.url,
        "HELPDESK_SECRETS_FILE": "/nonexistent",
        "HELPDESK_MAIL_ATTACHMENTS_DIR": str(files),
        "HELPDESK_DRAFTS_DIR": str(drafts),
        "HELPDESK_MAIL_AUTOREPLY_HOURS": "24",
    }.items():
        monkeypatch.setenv(key, value)
    old, recent = (
        make_handoff(store, f"mail-{name}", NOW - timedelta(days=200), email=f"{name}@example.org")
        for name in ("old", "recent")
    )
    mails = MailStore(store)
    for ticket in (old, recent):
        saved = attachments.save(files, Attachment("router.jpg", "image/jpeg", f"photo of {ticket}".encode()))
        assert mails.take_in(ticket, f"<{ticket}@example.org>", "Router", [], [saved])
        store.resolve(ticket, "anna", "Reset the router to factory settings.")
        write_draft(store.get(ticket), drafts, tmp_path / "articles", ())
    set_updated(store, old, NOW - timedelta(days=101))
    orphan = files / ("ab" * 32)  # a file whose row was never written (a crash in between)
    orphan.write_bytes(b"left behind")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    (files / ("cd" * 32)).write_bytes(b"being taken in right now")  # young: its row may still come
    assert mails.claim_auto_reply("old@example.org", timedelta(hours=24), now=NOW - timedelta(hours=25))
    assert mails.claim_auto_reply("recent@example.org", timedelta(hours=24), now=NOW - timedelta(hours=1))

    assert main(["purge", "--config", str(config)]) == 0
    counts = json.loads(capsys.readouterr().out)["counts"]
    assert (
        counts["handoffs"],
        counts["mail_messages"],
        counts["mail_attachments"],
        counts["attachment_files"],
        counts["article_drafts"],
        counts["mail_auto_replies"],
        counts["orphaned_attachment_files"],
    ) == (1, 1, 1, 1, 1, 1, 1)
    assert [h["ticket_id"] for h in store.list_handoffs()] == [recent]
    assert sorted(p.name for p in files.iterdir()) == sorted([mails.attachments(recent)[0].token, "cd" * 32])
    assert [ticket_of(p) for p in drafts.rglob("*.md")] == [recent]
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT sender FROM mail_auto_replies")).scalars().all() == [
            "recent@example.org"
        ]
