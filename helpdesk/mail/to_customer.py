"""A mail the desk sends a ticket's customer of its own accord: a changed response time
(handoffs/notice.py), the invitation to rate the help (ratings/invitations.py).

Both go the same way: for an e-mail ticket, in the thread of the customer's own mail under
its subject, with a line saying that a reply reaches the ticket; otherwise as a mail of its
own under the given subject. Either way signed with the company's name and queued in the
mail outbox with the ticket, so the worker sends it and retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from helpdesk.handoffs.models import Handoff
from helpdesk.mail.replies import compose
from helpdesk.mail.store import MailStore


def queue_customer_mail(
    state: Any,
    s: Session,
    handoff: Handoff,
    *,
    body: str,
    subject: str,
    reply_hint: str,
    closing: str,
    event: str,
    now: datetime,
) -> str:
    """Queue ``body`` to the ticket's customer; the text as sent. ``reply_hint`` is added
    in an e-mail ticket's thread only; ``closing`` is formatted with the company's name."""
    settings = state.settings
    company = state.deployment.company or ""
    by_mail = handoff.channel == "email"
    if by_mail:
        body += "\n\n" + reply_hint
    body += "\n\n" + closing.format(company=company)
    thread = MailStore.thread_in(s, Handoff.id == handoff.id)
    first_in = next((m["subject"] for m in thread if m["direction"] == "in"), None)
    out = compose(
        desk_address=settings.mail.desk_address(settings.smtp_from),
        company=company,
        to=handoff.contact_email or "",
        ticket_id=handoff.ticket_id,
        subject=first_in if by_mail and first_in else subject,
        text=body,
        thread=[m["message_id"] for m in thread],
        automatic=True,
        answer=bool(by_mail and first_in),
    )
    MailStore.queue(s, handoff, out.message_id, out.subject, out.to, out.raw, out.mail_from, event, now)
    return body
