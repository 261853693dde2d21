"""A customer's data, found by contact address or ticket: exported as JSON, or erased everywhere.

A customer is known to the desk by the contact they gave in a handoff (e-mail or
phone) or by a ticket id. What belongs to them: those handoffs, every other handoff
of the same chat conversations, and everything keyed by those conversations: the
transcripts, articles shown, history, notifications and their delivery log, their
"solved"/"not solved" clicks, their unanswered questions (``/search`` keeps the
conversation id since revision 0005_privacy) and Rasa's tracker events
(helpdesk/privacy/tracker.py). Nothing is matched by free text, so another
customer's rows are never touched.

Erasure deletes Rasa's events first, then the desk's rows in one transaction with
its audit entry: if the desk part fails, the customer is still found by the same
selector and a second run finishes the job (deleting events is idempotent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, selectinload

from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.reports.activity import ReportArticleView, ReportConversation
from helpdesk.handoffs.models import ArticleShown, DeliveryAttempt, Handoff, HandoffEvent, OutboxItem, TranscriptMessage
from helpdesk.handoffs.store import HandoffStore, as_utc, utcnow
from helpdesk.privacy import audit
from helpdesk.privacy.tracker import TrackerStore

SELECTORS = ("email", "phone", "ticket")
_NOT_DIGITS = re.compile(r"\D")


class SelectorError(ValueError):
    """A selector that cannot find anyone (empty, malformed): a 4xx, or exit status 2."""


@dataclass
class Selection:
    kind: str
    handoff_ids: list[int] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)


def phone_digits(value: str) -> str:
    """"+49 30 1234567", "0049-30-1234567" and "+49 (30) 123 45 67" are one number."""
    digits = _NOT_DIGITS.sub("", value)
    return digits[2:] if value.strip().startswith("00") else digits


def find(engine: Engine, kind: str, value: str) -> Selection:
    """The handoffs and conversations of the customer ``kind`` = ``value`` names."""
    value = (value or "").strip()
    if kind not in SELECTORS:
        raise SelectorError(f"unknown selector {kind!r} (one of {', '.join(SELECTORS)})")
    if not value or len(value) > 254:
        raise SelectorError(f"give the customer's {kind} (1 to 254 characters)")
    with Session(engine) as s:
        if kind == "email":
            if "@" not in value:
                raise SelectorError(f"{value!r} is not an e-mail address")
            ids = list(s.scalars(select(Handoff.id).where(func.lower(Handoff.contact_email) == value.lower())))
        elif kind == "phone":
            wanted = phone_digits(value)
            if len(wanted) < 5:
                raise SelectorError("a phone number needs at least 5 digits")
            ids = [i for i, phone in s.execute(select(Handoff.id, Handoff.contact_phone)
                                               .where(Handoff.contact_phone.is_not(None)))
                   if phone_digits(phone) == wanted]
        else:
            ids = list(s.scalars(select(Handoff.id).where(Handoff.ticket_id == value.upper())))
        conversations = sorted(set(s.scalars(select(Handoff.conversation_id).where(Handoff.id.in_(ids))))) if ids else []
        if conversations:  # every handoff of the same chats is the same customer's
            ids = list(s.scalars(select(Handoff.id).where(Handoff.conversation_id.in_(conversations))))
        tickets = sorted(s.scalars(select(Handoff.ticket_id).where(Handoff.id.in_(ids)))) if ids else []
    return Selection(kind, sorted(ids), tickets, conversations)


def export(store: HandoffStore, tracker: TrackerStore | None, selection: Selection,
           actor: str) -> dict[str, Any]:
    """Everything stored about the selected customer, JSON-ready; the export is audited."""
    handoffs = []
    for ticket in selection.tickets:
        view = store.get(ticket)
        view["conversation_id"] = store.conversation_of(ticket)
        view["notifications"] = [{k: n[k] for k in ("event", "channel", "state", "attempts", "delivered_at")}
                                 for n in store.notifications(ticket)]
        handoffs.append(store.to_json(view))
    convs = selection.conversations
    with Session(store.engine) as s:
        feedback = [{"conversation_id": f.conversation_id, "article_id": f.article_id, "query": f.query,
                     "helpful": f.helpful, "created_at": as_utc(f.created_at), "updated_at": as_utc(f.updated_at)}
                    for f in s.scalars(select(ArticleFeedback).where(ArticleFeedback.conversation_id.in_(convs))
                                       .order_by(ArticleFeedback.id))] if convs else []
        unanswered = [{"conversation_id": u.conversation_id, "query": u.query, "lang": u.lang,
                       "asked_at": as_utc(u.asked_at)}
                      for u in s.scalars(select(UnansweredSearch).where(UnansweredSearch.conversation_id.in_(convs))
                                         .order_by(UnansweredSearch.id))] if convs else []
        conversations = [{"conversation_id": c.conversation_id, "language": c.language,
                          "started_at": as_utc(c.started_at), "last_search_at": as_utc(c.last_search_at),
                          "searches": c.searches, "answered": c.answered}
                         for c in s.scalars(select(ReportConversation)
                                            .where(ReportConversation.conversation_id.in_(convs))
                                            .order_by(ReportConversation.id))] if convs else []
        views = [{"conversation_id": v.conversation_id, "article_id": v.article_id, "shown_at": as_utc(v.shown_at)}
                 for v in s.scalars(select(ReportArticleView).where(ReportArticleView.conversation_id.in_(convs))
                                    .order_by(ReportArticleView.id))] if convs else []
    events = tracker.events(convs) if tracker is not None else []
    document = {
        "generated_at": utcnow(), "selector": selection.kind, "tickets": selection.tickets,
        "handoffs": handoffs, "article_feedback": feedback, "unanswered_searches": unanswered,
        "report_conversations": conversations, "report_article_views": views,
        "conversation_events": events,
        "tracker_store": "included" if tracker is not None else "not configured",
    }
    audit.record(store.engine, actor, "export", selection.kind, export_counts(document), selection.tickets)
    return store.to_json(document)


def export_counts(document: dict[str, Any]) -> dict[str, int]:
    return {"handoffs": len(document["handoffs"]), "article_feedback": len(document["article_feedback"]),
            "unanswered_searches": len(document["unanswered_searches"]),
            "report_conversations": len(document["report_conversations"]),
            "report_article_views": len(document["report_article_views"]),
            "tracker_events": len(document["conversation_events"])}


def delete_handoffs(s: Session, ids: list[int]) -> dict[str, int]:
    """Delete these handoffs with every row that hangs on them; rows per table. Explicit deletes, not
    the foreign keys' cascade: the counts are what the audit log and the operator see."""
    if not ids:
        return {"handoffs": 0, "handoff_messages": 0, "handoff_articles": 0, "handoff_events": 0,
                "notification_outbox": 0, "notification_attempts": 0}
    outbox = select(OutboxItem.id).where(OutboxItem.handoff_id.in_(ids)).scalar_subquery()
    counts = {"notification_attempts": s.execute(delete(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(outbox)))
              .rowcount}
    for name, model in (("notification_outbox", OutboxItem), ("handoff_messages", TranscriptMessage),
                        ("handoff_articles", ArticleShown), ("handoff_events", HandoffEvent)):
        counts[name] = s.execute(delete(model).where(model.handoff_id.in_(ids))).rowcount
    counts["handoffs"] = s.execute(delete(Handoff).where(Handoff.id.in_(ids))).rowcount
    return counts


# Rows kept per conversation id outside the handoffs: the customer's clicks, unanswered
# questions, and the reports' record of the conversation and the articles it was shown.
CONVERSATION_TABLES = (("article_feedback", ArticleFeedback), ("unanswered_searches", UnansweredSearch),
                       ("report_conversations", ReportConversation), ("report_article_views", ReportArticleView))


def erase(store: HandoffStore, tracker: TrackerStore | None, selection: Selection, actor: str,
          dry_run: bool = False) -> dict[str, int]:
    """Delete everything of the selected customer; rows per store (counted only with ``dry_run``)."""
    convs = selection.conversations
    counts: dict[str, int] = {}
    if tracker is not None:
        counts["tracker_events"] = tracker.count(convs) if dry_run else tracker.delete(convs)
    with Session(store.engine) as s, s.begin():
        if dry_run:
            counts["handoffs"] = len(selection.handoff_ids)
        else:
            counts.update(delete_handoffs(s, selection.handoff_ids))
        for name, model in CONVERSATION_TABLES:
            where = model.conversation_id.in_(convs)
            counts[name] = (s.scalar(select(func.count()).select_from(model).where(where)) or 0) if dry_run \
                else s.execute(delete(model).where(where)).rowcount
        audit.add_entry(s, actor, "erase", selection.kind, counts, selection.tickets, dry_run)
    return counts
