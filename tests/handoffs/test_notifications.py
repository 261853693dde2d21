"""Webhook and e-mail notifications against a real local HTTP receiver and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import time
from email import message_from_bytes
from email.policy import default as email_policy

import pytest
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from helpdesk.handoffs.notifications import SIGNATURE_HEADER, verify
from tests.handoffs.conftest import SERVICE, free_port, handoff_payload, wait_for

SECRET = "webhook-secret-for-tests"


def test_new_and_escalated_handoffs_reach_webhook_and_team_mailbox(make_client, make_webhook, smtp_server):
    collector, smtp_port = smtp_server
    receiver = make_webhook()
    client = make_client(
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="helpdesk@helpdesk.example",
    )
    payload = handoff_payload(description="Kein Internet <b>seit 7 Uhr</b>\nBitte schnell")
    ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]

    assert wait_for(lambda: len(receiver.delivered()) == 1 and len(collector.messages) == 1)
    headers, body, _ = receiver.delivered()[0]
    assert verify(SECRET, headers[SIGNATURE_HEADER], body)
    assert not verify("another secret", headers[SIGNATURE_HEADER], body)
    assert not verify(SECRET, headers[SIGNATURE_HEADER], body + b" ")
    event = json.loads(body)
    assert event["event"] == "handoff.new" and headers["X-Helpdesk-Event"] == "handoff.new"
    assert event["handoff"]["ticket_id"] == ticket and event["handoff"]["team"] == "network"
    assert event["handoff"]["summary"]["description"].startswith("Kein Internet <b>")
    assert len(event["handoff"]["transcript"]) == 3

    envelope = collector.messages[0]
    assert envelope.rcpt_tos == ["network@helpdesk.example"]
    mail = message_from_bytes(envelope.content, policy=email_policy)
    assert ticket in mail["Subject"] and "\n" not in mail["Subject"]
    text = mail.get_content()
    assert "Seit heute" not in text and "Bitte schnell" in text and "Router neu gestartet" in text
    assert f"/agent/handoffs/{ticket}" in text

    store = client.app.state.handoffs
    store.create_agent("anna", "Anna", ["network", "experts"], "a long enough password")  # follows it up
    headers = {"Authorization": f"Bearer {store.create_token('anna', 't')}"}
    client.post(f"/agent/api/handoffs/{ticket}/escalate", json={"reason": "needs the experts"}, headers=headers)
    # The experts' team and, since their response time is later than promised, the customer.
    assert wait_for(lambda: len(receiver.delivered()) == 2 and len(collector.messages) == 3)
    assert json.loads(receiver.delivered()[1][1])["event"] == "handoff.escalated"
    by_recipient = {tuple(m.rcpt_tos): m for m in collector.messages[1:]}
    assert set(by_recipient) == {("experts@helpdesk.example",), ("erika@example.org",)}
    escalated_mail = message_from_bytes(by_recipient[("experts@helpdesk.example",)].content, policy=email_policy)
    assert "Escalated" in escalated_mail["Subject"] and "needs the experts" in escalated_mail.get_content()
    notice = message_from_bytes(by_recipient[("erika@example.org",)].content, policy=email_policy)
    assert ticket in notice["Subject"] and notice["Auto-Submitted"] == "auto-replied"
    assert f"Ihr Ticket {ticket} liegt jetzt bei unserem Expertenteam" in notice.get_content()
    log = client.get(f"/agent/api/handoffs/{ticket}", headers=headers).json()["notifications"]
    assert sorted((n["event"], n["channel"], n["state"], n["attempts"]) for n in log) == [
        ("handoff.escalated", "email", "delivered", 1),
        ("handoff.escalated", "webhook", "delivered", 1),
        ("handoff.new", "email", "delivered", 1),
        ("handoff.new", "webhook", "delivered", 1),
        ("mail.response-time", "mail", "delivered", 1),
    ]


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_recorded(make_client, make_webhook):
    receiver = make_webhook(fail_first=2)
    client = make_client(webhook_url=receiver.url, webhook_secret=SECRET)
    ticket = client.post("/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
    assert wait_for(lambda: len(receiver.delivered()) == 1)
    assert [code for _, _, code in receiver.requests] == [500, 500, 204]
    # The same delivery id on each attempt: receivers deduplicate on it (at-least-once).
    assert len({h["X-Helpdesk-Delivery"] for h, _, _ in receiver.requests}) == 1

    def recorded():
        (item,) = client.app.state.handoffs.notifications(ticket)
        return item

    assert wait_for(lambda: recorded()["state"] == "delivered")
    item = recorded()
    assert [(a["attempt"], a["ok"], a["detail"]) for a in item["attempt_log"]] == [
        (1, False, "HTTP 500"),
        (2, False, "HTTP 500"),
        (3, True, "HTTP 204"),
    ]
    first, second, third = (a["at"] for a in item["attempt_log"])
    # Backoff doubles: at least 0.2 s, then at least 0.4 s (HELPDESK_NOTIFY_RETRY_SECONDS=0.2, 10 % jitter).
    assert (second - first).total_seconds() >= 0.18 and (third - second).total_seconds() >= 0.36


def test_a_receiver_that_hangs_does_not_delay_the_answer(make_client):
    # Accepts connections, never answers: a delivery in the request path would take the 10 s timeout.
    with socket.create_server(("127.0.0.1", 0)) as black_hole:
        port = black_hole.getsockname()[1]
        client = make_client(
            webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret=SECRET, smtp_host="127.0.0.1", smtp_port=port
        )
        for _ in range(3):
            started = time.monotonic()
            response = client.post("/handoffs", json=handoff_payload(), headers=SERVICE)
            assert response.status_code == 201 and time.monotonic() - started < 5
        assert client.app.state.handoffs.count() == 3


def test_receivers_that_are_down_do_not_lose_the_handoff(make_client):
    dead = free_port()  # nothing listens here
    client = make_client(
        webhook_url=f"http://127.0.0.1:{dead}/hook", webhook_secret=SECRET, smtp_host="127.0.0.1", smtp_port=dead
    )
    response = client.post("/handoffs", json=handoff_payload(), headers=SERVICE)
    assert response.status_code == 201
    ticket = response.json()["ticket_id"]
    store = client.app.state.handoffs
    assert wait_for(lambda: all(n["state"] == "failed" for n in store.notifications(ticket)), timeout=20)
    items = store.notifications(ticket)
    assert sorted(n["channel"] for n in items) == ["email", "webhook"]
    assert all(n["attempts"] == 4 and len(n["attempt_log"]) == 4 for n in items)  # HELPDESK_NOTIFY_MAX_ATTEMPTS
    assert all("Connect" in n["last_error"] or "refused" in n["last_error"] for n in items), items
    assert store.get(ticket)["status"] == "new"


def test_pending_notifications_survive_a_restart(make_webhook, make_settings, tmp_path):
    receiver = make_webhook(fail_first=1000)  # refuses everything while the first app runs
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = TestClient(
        create_app(
            make_settings(database_url=url, webhook_url=receiver.url, webhook_secret=SECRET, notify_retry_seconds=30)
        )
    )
    first.__enter__()
    ticket = first.post("/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
    assert wait_for(lambda: len(receiver.requests) == 1)
    first.__exit__(None, None, None)
    receiver.fail_first = 0
    # A new process (here: a new app on the same database) delivers what is still pending, once due.
    with TestClient(create_app(make_settings(database_url=url, webhook_url=receiver.url, webhook_secret=SECRET))) as c:
        store = c.app.state.handoffs
        with store.transaction() as s:
            from sqlalchemy import update

            from helpdesk.db import utcnow
            from helpdesk.handoffs.models import OutboxItem

            s.execute(update(OutboxItem).values(next_attempt_at=utcnow()))  # skip the 30 s backoff
        store.outbox_signal.set()
        assert wait_for(lambda: len(receiver.delivered()) == 1)
        assert wait_for(lambda: store.notifications(ticket)[0]["state"] == "delivered")


def test_a_webhook_without_a_secret_is_refused_at_start(make_settings):
    with pytest.raises(ValueError, match="HELPDESK_WEBHOOK_SECRET"):
        with TestClient(create_app(make_settings(webhook_url="http://127.0.0.1:9/hook"))):
            pass
