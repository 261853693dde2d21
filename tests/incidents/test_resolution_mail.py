"""Resolving an incident tells every subscriber once by e-mail, through the notification outbox,
to a real SMTP receiver (aiosmtpd); the notices are the customer's data for erasure."""

from __future__ import annotations

import email
import time
from datetime import timedelta
from email import policy

from sqlalchemy import text

from helpdesk.db import utcnow
from helpdesk.privacy.files import CustomerFiles
from helpdesk.privacy.purge import purge
from helpdesk.privacy.retention import PrivacyConfig
from tests.handoffs.conftest import SERVICE, wait_for
from tests.incidents.conftest import Desk, incident


def test_resolving_mails_each_subscriber_once_in_their_language(make_client, pg_url, smtp_server):
    collector, port = smtp_server
    desk = Desk(
        make_client(database_url=pg_url, smtp_host="127.0.0.1", smtp_port=port, smtp_from="support@nordwind.example")
    )
    store = desk.client.app.state.handoffs
    store.create_agent("ada", "Ada", (), "a long enough password", "admin")
    admin = {"Authorization": f"Bearer {store.create_token('ada', 'test')}"}
    number = desk.api("POST", "", "sue", json=incident()).json()["id"]
    other = desk.api("POST", "", "sue", json=incident(title="Other outage")).json()["id"]
    for address, lang, target in (
        ("erika@example.org", "de", number),
        ("john@example.org", "en", number),
        ("erika@example.org", "de", other),
    ):
        body = {"email": address, "language": lang, "conversation_id": f"conv-{address}"}
        url = f"/api/incidents/{target}/subscriptions"
        made = desk.client.post(url, json=body, headers=SERVICE)
        assert made.status_code == 201, made.text

    resolved = desk.api(
        "POST",
        f"/{number}/updates",
        "sue",
        json={"status": "resolved", "messages": {"de": "Das Kabel ist repariert.", "en": "The cable is repaired."}},
    ).json()
    assert "2 subscriber(s) notified by e-mail" in resolved["events"][-1]["changes"]
    assert wait_for(lambda: len(collector.messages) >= 2, timeout=20)
    time.sleep(0.5)
    assert len(collector.messages) == 2
    mails = {e.rcpt_tos[0]: (e, email.message_from_bytes(e.content, policy=policy.default)) for e in collector.messages}
    envelope, german = mails["erika@example.org"]
    assert envelope.mail_from in ("", "<>")  # automatic: the null sender, nobody answers it
    assert german["Subject"] == "Behoben: Fibre outage in Berlin-Mitte"
    assert german["Auto-Submitted"] == "auto-generated"
    assert "support@nordwind.example" in german["From"]
    assert german["To"] == "erika@example.org"
    assert german["Message-ID"].startswith("<") and german["Message-ID"].endswith("@nordwind.example>")
    body = german.get_content()
    assert "Das Kabel ist repariert." in body and "/status?lang=de" in body
    _, english = mails["john@example.org"]
    assert english["Subject"] == "Resolved: Fibre outage in Berlin-Mitte"
    assert "The cable is repaired." in english.get_content()
    assert english["To"] == "john@example.org" and english["Message-ID"] != german["Message-ID"]

    with store.engine.connect() as db:
        told = (
            db.execute(text("SELECT email FROM incident_subscriptions WHERE notified_at IS NOT NULL ORDER BY email"))
            .scalars()
            .all()
        )
        delivered = (
            db.execute(text("SELECT state FROM notification_outbox WHERE incident_id = :i"), {"i": number})
            .scalars()
            .all()
        )
    assert told == ["erika@example.org", "john@example.org"] and delivered == ["delivered"] * 2

    # Resolved is final: no second notice.
    assert desk.api("POST", f"/{number}/updates", "sue", json={"note": "again"}).status_code == 409
    time.sleep(0.5)
    assert len(collector.messages) == 2

    # The notices and subscriptions are Erika's data: her erasure takes them.
    erased = desk.client.post("/agent/api/admin/privacy/erase", json={"email": "erika@example.org"}, headers=admin)
    assert erased.status_code == 200, erased.text
    counts = erased.json()["counts"]
    assert counts["incident_subscriptions"] == 2 and counts["notification_outbox"] == 1
    assert counts["notification_attempts"] == 1
    with store.engine.connect() as db:
        left = db.execute(text("SELECT target FROM notification_outbox")).scalars().all()
    assert left == ["john@example.org"]


def test_the_purge_takes_subscriptions_and_notices_after_their_period(make_client, pg_url, smtp_server, tmp_path):
    collector, port = smtp_server
    desk = Desk(make_client(database_url=pg_url, smtp_host="127.0.0.1", smtp_port=port))
    store = desk.client.app.state.handoffs
    old, fresh = (desk.api("POST", "", "sue", json=incident(title=t)).json()["id"] for t in ("old", "fresh"))
    for number in (old, fresh):
        body = {"email": "erika@example.org", "language": "de", "conversation_id": "c"}
        desk.client.post(f"/api/incidents/{number}/subscriptions", json=body, headers=SERVICE)
    desk.api("POST", f"/{old}/updates", "sue", json={"status": "resolved"})
    assert wait_for(lambda: len(collector.messages) == 1, timeout=20)

    def states() -> list[str]:
        with store.engine.connect() as db:
            return db.execute(text("SELECT state FROM notification_outbox")).scalars().all()

    assert wait_for(lambda: states() == ["delivered"])
    files = CustomerFiles(tmp_path / "files", tmp_path / "drafts")
    config = PrivacyConfig()  # incidents: 30 days
    kept = purge(store, config, None, files, 24, dry_run=True)["counts"]
    assert kept["incident_subscriptions"] == 0 and kept["notification_outbox"] == 0
    later = utcnow() + timedelta(days=31)
    counts = purge(store, config, None, files, 24, now=later)["counts"]
    assert counts["incident_subscriptions"] == 1 and counts["notification_outbox"] == 1
    assert counts["notification_attempts"] == 1
    with store.engine.connect() as db:
        left = db.execute(text("SELECT incident_id FROM incident_subscriptions")).scalars().all()
        outbox = db.execute(text("SELECT count(*) FROM notification_outbox")).scalar()
    assert left == [fresh] and outbox == 0
