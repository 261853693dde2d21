"""The satisfaction question on resolution: by e-mail, or in the live chat the customer is still in.

Registered on the handoff store (``HandoffStore.resolve_hooks``) by the app factory, so every way
a person resolves a ticket (the workspace, the JSON API, closing the live chat, resolving an
incident's tickets) asks, in the resolution's own transaction: the rating link
(``store.ask``), then

- in the chat, when it is a web chat whose page read the ticket within ``notice.LIVE``: a desk
  message with the link to the page, which shows the five scores;
- otherwise by e-mail to the ticket's contact address through the notification outbox: the
  resolution mail, with one link per score (``/rate/<token>?score=N``); an automatic mail, in the
  thread of an e-mail ticket;
- neither (no address, no SMTP server): nobody is asked.

The history says how the customer was asked. Tickets the e-mail channel resolved by itself (its
automatic answer, actor ``mail``) are not asked: nobody of the desk solved them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from helpdesk.chat.live import SESSION_ID_RE
from helpdesk.handoffs.models import Handoff, HandoffEvent
from helpdesk.handoffs.notice import is_live
from helpdesk.handoffs.schemas import Message
from helpdesk.handoffs.store import HandoffStore
from helpdesk.mail.intake import AUTO_ACTOR
from helpdesk.mail.replies import greeting
from helpdesk.mail.to_customer import queue_customer_mail
from helpdesk.ratings.links import rating_path
from helpdesk.ratings.store import SCORES, VALID, ask

TEXTS: dict[str, dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "texts.yml").read_text(encoding="utf-8"))
ACTOR = "desk"
ASKED = "rating_asked"  # the history entry
MAIL_EVENT = "mail.resolved"
NOT_ASKED = frozenset({AUTO_ACTOR})


def texts_for(language: str) -> dict[str, Any]:
    return TEXTS[language if language in TEXTS else "en"]


def link(base_url: str, token: str, score: int | None = None) -> str:
    return base_url.rstrip("/") + rating_path(token, score)


def on_resolution(state: Any):
    """The resolve hook of an app: ``state`` has ``settings`` and ``deployment``."""

    def ask_customer(s: Session, handoff: Handoff, now: datetime) -> None:
        if handoff.assignee in NOT_ASKED:
            return
        settings = state.settings
        texts = texts_for(handoff.language)
        web_chat = SESSION_ID_RE.match(handoff.conversation_id) is not None
        if web_chat and is_live(handoff, now):
            token = ask(s, handoff, "chat", now)
            text = texts["chat"].format(ticket=handoff.ticket_id, link=link(settings.public_base_url, token))
            HandoffStore.add_messages(s, handoff, [Message(sender="bot", text=text, timestamp=now)], ACTOR, now)
            how = "in the chat"
        elif handoff.contact_email and settings.smtp_host:
            token = ask(s, handoff, "email", now)
            mail(state, s, handoff, token, now)
            how = f"by e-mail to {handoff.contact_email}"
        else:
            return
        note = f"the customer was asked to rate the solution {how}"
        s.add(HandoffEvent(handoff_id=handoff.id, at=now, actor=ACTOR, action=ASKED, note=note))

    return ask_customer


def mail(state: Any, s: Session, handoff: Handoff, token: str, now: datetime) -> None:
    """The resolution mail with one link per score, in the thread of an e-mail ticket. Not in the
    transcript: the links are the customer's alone."""
    lang = handoff.language if handoff.language in TEXTS else "en"
    texts = TEXTS[lang]
    links = "\n".join(
        f"{n} – {texts['scores'][n]}: {link(state.settings.public_base_url, token, n)}" for n in reversed(SCORES)
    )
    queue_customer_mail(
        state,
        s,
        handoff,
        body=texts["mail"].format(
            greeting=greeting(lang, handoff.contact_name or ""), ticket=handoff.ticket_id, links=links, days=VALID.days
        ),
        subject=texts["subject"],
        reply_hint=texts["mail_reply"],
        closing=texts["mail_end"],
        event=MAIL_EVENT,
        now=now,
    )
