"""E-mails to the customers who asked the bot to be told when an incident is fixed.

Resolving an incident enqueues one mail per subscriber in the notification outbox
(helpdesk/handoffs/notifications.py), in the same transaction that resolves it and marks each
subscription as told: a crash enqueues each notice once or not at all, never twice, and the
outbox's worker delivers and retries it like every other mail of the desk, at least once (a
sending process killed after the SMTP server took a mail, before it recorded that, sends that
mail again when its lease ends; scripts/bench_incident_mail.py measures it). The mail is in the language the
customer chatted in, automatic (null envelope sender, ``Auto-Submitted``: no machine answers it),
and links the status page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from helpdesk.handoffs.models import OutboxItem
from helpdesk.incidents.models import Incident, IncidentSubscription
from helpdesk.incidents.status import TEXTS
from helpdesk.incidents.store import message_in

EVENT = "incident.resolved"
# The recipient's headers on one line each: a folded Message-ID reads back with a leading space.
UNFOLDED = policy.default.clone(max_line_length=998)
TOLD_BATCH = 500  # subscriptions marked told per UPDATE (SQLite allows some thousands of parameters)


@dataclass(frozen=True)
class Sender:
    """Who the notices come from: the company, the desk's address, the public base URL."""

    company: str
    address: str
    base_url: str

    @classmethod
    def of(cls, state) -> Sender | None:
        """The app's sender, or None while no SMTP server is configured (nothing is enqueued)."""
        settings = state.settings
        if not settings.smtp_host:
            return None
        return cls(
            state.deployment.company or "",
            settings.mail.desk_address(settings.smtp_from),
            settings.public_base_url.rstrip("/"),
        )


def compose(incident: Incident, lang: str, sender: Sender) -> str:
    """The mail in ``lang`` without its recipient and Message-ID (``addressed`` adds them): composed
    once per language, since a resolution mails thousands of customers inside one transaction."""
    texts = TEXTS.get(lang) or TEXTS["en"]
    message = EmailMessage()
    message["From"] = formataddr((sender.company, sender.address)) if sender.company else sender.address
    message["Subject"] = texts["notice_subject"].format(title=incident.title)
    message["Date"] = formatdate(localtime=False)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    latest = message_in({"de": incident.message_de, "en": incident.message_en}, lang) or ""
    body = (
        texts["notice_body"]
        .format(
            title=incident.title,
            message=latest,
            status_url=f"{sender.base_url}/status?lang={lang}",
            company=sender.company or "",
        )
        .strip()
    )
    message.set_content(body + "\n", cte="quoted-printable")
    return message.as_string()


def addressed(mail: str, to: str, incident_id: int, sender: Sender) -> str:
    """The whole mail of ``compose`` for one recipient, as the outbox's ``mail`` channel sends it."""
    headers = EmailMessage(policy=UNFOLDED)
    headers["To"] = to
    headers["Message-ID"] = make_msgid(idstring=f"incident-{incident_id}", domain=sender.address.rsplit("@", 1)[-1])
    return headers.as_string().removesuffix("\n") + mail


def enqueue(s: Session, incident: Incident, sender: Sender, now: datetime) -> int:
    """One notice per subscriber not yet told, in the caller's transaction; how many."""
    waiting = s.execute(
        select(IncidentSubscription.id, IncidentSubscription.email, IncidentSubscription.language)
        .where(IncidentSubscription.incident_id == incident.id, IncidentSubscription.notified_at.is_(None))
        .order_by(IncidentSubscription.id)
    ).all()
    if not waiting:
        return 0
    mails = {lang: compose(incident, lang, sender) for lang in {row.language for row in waiting}}
    s.execute(
        insert(OutboxItem),
        [
            {
                "handoff_id": None,
                "incident_id": incident.id,
                "event": EVENT,
                "channel": "mail",
                "target": row.email,
                "payload": json.dumps(
                    {"raw": addressed(mails[row.language], row.email, incident.id, sender), "mail_from": ""},
                    ensure_ascii=False,
                ),
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for row in waiting
        ],
    )
    ids = [row.id for row in waiting]
    for start in range(0, len(ids), TOLD_BATCH):
        s.execute(
            update(IncidentSubscription)
            .where(IncidentSubscription.id.in_(ids[start : start + TOLD_BATCH]))
            .values(notified_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(waiting)
