"""Which ticket an inbound mail belongs to, and what a reply does to it.

A reply names the desk's mails in In-Reply-To/References; those Message-IDs are random
and stored with their ticket, so a match there is trusted. Mail clients that drop the
headers still keep the subject: a ticket number in it counts when the mail comes from
the ticket's contact address (a stranger cannot add to someone's ticket by guessing a
number). A reply reopens a resolved ticket within HELPDESK_MAIL_REOPEN_DAYS of its last
change, unless it only says "solved" ("funktioniert nicht" does not) or a machine wrote it;
later it starts a new ticket.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from helpdesk.handoffs.errors import TicketNotFound
from helpdesk.handoffs.store import HandoffStore
from helpdesk.mail.parsing import ParsedMail, new_text
from helpdesk.mail.store import MailStore

SOLVED = re.compile(
    r"^\W*(?:solved|resolved|fixed|it works|works now|gel(?:ö|oe)st|erledigt|problem gel(?:ö|oe)st"
    r"|funktioniert(?: wieder)?|hat geholfen|that helped|thanks?,? (?:it )?(?:solved|worked))\b"
    r"(?![\s,]*(?:immer noch |noch |leider |still |yet )?(?:nicht|not|nie|never|no)\b)",  # "funktioniert nicht"
    re.IGNORECASE,
)


def find_ticket(mail: ParsedMail, mail_store: MailStore, handoffs: HandoffStore) -> str | None:
    ticket = mail_store.ticket_for(mail.thread_ids)
    if ticket is not None:
        return ticket
    for candidate in mail.subject_tickets:
        try:
            contact = handoffs.get(candidate)["summary"]["contact"]["email"]
        except TicketNotFound:
            continue
        if contact and contact.lower() in (mail.sender, mail.reply_to):
            return candidate
    return None


def says_solved(mail: ParsedMail) -> bool:
    """The customer's answer to an automatic answer is (starts with) "solved"."""
    return bool(SOLVED.match(new_text(mail.text)))


def reopen_expired(view: dict[str, Any], now: datetime, reopen_days: float) -> bool:
    """A resolved ticket whose last change is longer ago than the reopen period: the reply starts a new one."""
    return view["status"] == "resolved" and view["updated_at"] < now - timedelta(days=reopen_days)
