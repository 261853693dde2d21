"""Telling the customer the new response time when their ticket moves to another team.

A move (escalation, reassignment: ``helpdesk/handoffs/moves.py``) restarts the agents' countdown
with the new team's response time. When that differs by a minute or more from the time the customer
was last told (``due_at`` at creation, ``told_due_at`` after a notice or a mail reopen), the customer
gets a message with the ticket number and the new time, in the ticket's language
(``texts.yml``), where they are:

- in the chat while it is live: the customer's chat page read the ticket within ``LIVE``
  (an open page renews its event stream every minute, ``helpdesk/chat/live_api.py``); the page
  shows the message as a notice;
- otherwise by e-mail to the ticket's contact address, through the notification outbox: an
  automatic mail (null envelope sender, ``Auto-Submitted``) threaded with the ticket's mails;
- when no mail can go (no address, no SMTP server), in the chat of a web-chat ticket, where the
  customer finds it when they come back; a ticket with neither is not told, and its history says so.

Everything is written in the move's own transaction (``HandoffStore.move``'s ``also``): the new
promise (``told_due_at``), the chat message or the mail, and the history entry ``customer_told``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from helpdesk.chat.live import SESSION_ID_RE
from helpdesk.db import as_utc
from helpdesk.handoffs.models import Handoff, HandoffEvent
from helpdesk.handoffs.schemas import Message
from helpdesk.handoffs.store import HandoffStore
from helpdesk.mail.replies import greeting
from helpdesk.mail.to_customer import queue_customer_mail

TEXTS: dict[str, dict[str, str]] = yaml.safe_load((Path(__file__).parent / "texts.yml").read_text(encoding="utf-8"))
LIVE = timedelta(seconds=90)
CHANGE = timedelta(minutes=1)  # a new time closer than this to the old one is not news to the customer
TOLD = "customer_told"  # the history entry of a notice
ACTOR = "desk"
MAIL_EVENT = "mail.response-time"


def promise(handoff: Handoff) -> datetime:
    """The response time the customer was last told."""
    return as_utc(handoff.told_due_at or handoff.due_at)


def is_live(handoff: Handoff, now: datetime) -> bool:
    seen = as_utc(handoff.customer_seen_at)
    return seen is not None and now - seen <= LIVE


def tell(state: Any, s: Session, handoff: Handoff, action: str, due: datetime, now: datetime) -> str | None:
    """Tell the customer of a moved ticket its new response time ``due``, if it changed; how (chat, e-mail),
    or None when nothing changed. ``state`` has ``routing``, ``settings`` and ``deployment``."""
    if abs(due - promise(handoff)) < CHANGE:
        return None
    lang = handoff.language if handoff.language in TEXTS else "en"
    texts = TEXTS[lang]
    expected = state.routing.expected(now, due).text[lang]
    words = {"ticket": handoff.ticket_id, "where": texts[action], "expected": expected}
    settings = state.settings
    can_mail = bool(handoff.contact_email and settings.smtp_host)
    web_chat = handoff.chat_key_hash is not None and SESSION_ID_RE.match(handoff.conversation_id) is not None
    how = None
    if web_chat and (is_live(handoff, now) or not can_mail):
        message = Message(sender="bot", text=texts["chat"].format(**words), timestamp=now)
        HandoffStore.add_messages(s, handoff, [message], ACTOR, now)
        how = "in the chat"
    elif can_mail:
        mail(state, s, handoff, lang, words, now)
        how = f"by e-mail to {handoff.contact_email}"
    if how is None:
        note = f"the customer could not be told the new response time ({expected}): no live chat, no e-mail address"
        note += " or no SMTP server"
    else:
        handoff.told_due_at = due
        note = f"new response time {expected}, {how}"
    s.add(HandoffEvent(handoff_id=handoff.id, at=now, actor=ACTOR, action=TOLD, note=note))
    return how or "nobody"


def mail(state: Any, s: Session, handoff: Handoff, lang: str, words: dict[str, str], now: datetime) -> None:
    """The notice by e-mail: in the thread of an e-mail ticket (and its transcript), else a mail of its own."""
    texts = TEXTS[lang]
    body = queue_customer_mail(
        state,
        s,
        handoff,
        body=texts["mail"].format(greeting=greeting(lang, handoff.contact_name or ""), **words),
        subject=texts["subject"],
        reply_hint=texts["mail_reply"],
        closing=texts["mail_end"],
        event=MAIL_EVENT,
        now=now,
    )
    if handoff.channel == "email":  # an e-mail ticket's transcript holds every mail of the conversation
        HandoffStore.add_messages(s, handoff, [Message(sender="bot", text=body, timestamp=now)], ACTOR, now)
