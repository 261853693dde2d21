"""A customer's data, found by contact address or ticket: exported, or erased everywhere.

A customer is known to the desk by the contact they gave in a handoff (e-mail or
phone) or by a ticket id. What belongs to them: those handoffs, every other handoff
of the same conversations (a chat, or a mail thread), and everything keyed by those
handoffs, conversations or addresses: the transcripts, articles shown, history,
notifications and their delivery log, the mails' Message-IDs and attachments (rows
and files), the files they attached in the chat (rows, files and thumbnails, also those no ticket
took), the article drafts written from the tickets, their "solved"/"not solved"
clicks, their unanswered questions (``/search`` keeps the conversation id), the
reports' record of their conversations, the known incidents the bot told them of, their
conversations' procedure attempts (the limits; the audit log holds nothing of them),
their "tell me when it is fixed" subscriptions and notices, the auto-reply record of their
addresses and Rasa's tracker events (helpdesk/privacy/tracker.py). Nothing is matched by free text,
so another customer's rows are never touched. helpdesk/privacy/inventory.py lists
every table and column and how it is found.

Erasure deletes Rasa's events first, then the desk's rows and files in one
transaction with its audit entry: if the desk part fails, the customer is still found
by the same selector and a second run finishes the job (deleting events is
idempotent). Then the storage is cleaned (helpdesk/privacy/vacuum.py): SQLite's
write-ahead log is checkpointed and truncated, PostgreSQL's tables are vacuumed. A dry
run counts the same rows and files under the same keys and changes nothing.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Engine, delete, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.attachments.models import ChatAttachment
from helpdesk.db import as_utc, utcnow
from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.handoffs.models import (
    ArticleShown,
    Base,
    DeliveryAttempt,
    Handoff,
    HandoffEvent,
    OutboxItem,
    TranscriptMessage,
)
from helpdesk.handoffs.store import HandoffStore
from helpdesk.incidents.models import IncidentConversation, IncidentSubscription
from helpdesk.mail.models import AutoReply, MailAttachment, MailMessage
from helpdesk.mail.store import MailStore
from helpdesk.privacy import audit
from helpdesk.privacy.files import CustomerFiles, remove
from helpdesk.privacy.tracker import EVENTS, TrackerStore
from helpdesk.privacy.vacuum import after_delete
from helpdesk.procedures.models import ProcedureAttempt
from helpdesk.ratings.models import Rating
from helpdesk.ratings.store import rows_of as rating_rows
from helpdesk.reports.activity import ReportArticleView, ReportConversation

SELECTORS = ("email", "phone", "ticket")
_NOT_DIGITS = re.compile(r"\D")


class SelectorError(ValueError):
    """A selector that cannot find anyone (empty, malformed): a 4xx, or exit status 2."""


@dataclass(frozen=True)
class CustomerStores:
    """Everywhere the desk keeps customer data: its database, Rasa's tracker store (None when not
    configured) and the files; ``vacuum`` is the privacy configuration's ``postgresql_vacuum``."""

    store: HandoffStore
    tracker: TrackerStore | None
    files: CustomerFiles
    vacuum: str = "plain"


@dataclass
class Selection:
    kind: str
    handoff_ids: list[int] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)  # e-mail addresses, lower case: the auto-reply record


@dataclass(frozen=True)
class Erasure:
    counts: dict[str, int]  # rows per table, files per kind: the same keys for a dry run
    storage: list[str]  # what was done to the database files afterwards, in words (nothing for a dry run)


def phone_digits(value: str) -> str:
    """ "+49 30 1234567", "0049-30-1234567" and "+49 (30) 123 45 67" are one number."""
    digits = _NOT_DIGITS.sub("", value)
    return digits[2:] if value.strip().startswith("00") else digits


def find(engine: Engine, kind: str, value: str) -> Selection:
    """The handoffs, conversations and addresses of the customer ``kind`` = ``value`` names."""
    value = (value or "").strip()
    if kind not in SELECTORS:
        raise SelectorError(f"unknown selector {kind!r} (one of {', '.join(SELECTORS)})")
    if not value or len(value) > 254:
        raise SelectorError(f"give the customer's {kind} (1 to 254 characters)")
    addresses = {value.lower()} if kind == "email" else set()
    with Session(engine) as s:
        if kind == "email":
            if "@" not in value:
                raise SelectorError(f"{value!r} is not an e-mail address")
            ids = list(s.scalars(select(Handoff.id).where(func.lower(Handoff.contact_email) == value.lower())))
        elif kind == "phone":
            wanted = phone_digits(value)
            if len(wanted) < 5:
                raise SelectorError("a phone number needs at least 5 digits")
            ids = [
                i
                for i, phone in s.execute(
                    select(Handoff.id, Handoff.contact_phone).where(Handoff.contact_phone.is_not(None))
                )
                if phone and phone_digits(phone) == wanted
            ]
        else:
            ids = list(s.scalars(select(Handoff.id).where(Handoff.ticket_id == value.upper())))
        conversations = (
            sorted(set(s.scalars(select(Handoff.conversation_id).where(Handoff.id.in_(ids))))) if ids else []
        )
        if conversations:  # every handoff of the same conversations is the same customer's
            ids = list(s.scalars(select(Handoff.id).where(Handoff.conversation_id.in_(conversations))))
        tickets = sorted(s.scalars(select(Handoff.ticket_id).where(Handoff.id.in_(ids)))) if ids else []
        # The addresses the desk wrote to (a mail's Reply-To) are the customer's as well.
        addresses.update(
            a.lower()
            for a in s.scalars(
                select(Handoff.contact_email).where(Handoff.id.in_(ids), Handoff.contact_email.is_not(None))
            )
            if a
        )
        addresses.update(
            a.lower()
            for a in s.scalars(
                select(OutboxItem.target).where(OutboxItem.handoff_id.in_(ids), OutboxItem.channel == "mail")
            )
        )
    return Selection(kind, sorted(ids), tickets, conversations, sorted(addresses))


# The tables whose rows hang on a handoff (their outbox rows' delivery attempts apart).
HANDOFF_CHILDREN = (
    OutboxItem,
    TranscriptMessage,
    ArticleShown,
    HandoffEvent,
    MailMessage,
    MailAttachment,
    ChatAttachment,
    Rating,
)


def handoff_rows(ids: list[int]) -> list[tuple[str, Any, Any]]:
    """(table, model, condition) of the handoffs ``ids`` and every row that hangs on them, children first.
    Explicit deletes, not the foreign keys' cascade: the counts are what the audit log and the operator see."""
    outbox = select(OutboxItem.id).where(OutboxItem.handoff_id.in_(ids)).scalar_subquery()
    return [
        (DeliveryAttempt.__tablename__, DeliveryAttempt, DeliveryAttempt.outbox_id.in_(outbox)),
        *((model.__tablename__, model, model.handoff_id.in_(ids)) for model in HANDOFF_CHILDREN),
        (Handoff.__tablename__, Handoff, Handoff.id.in_(ids)),
    ]


# Rows kept per conversation id outside the handoffs: the customer's clicks, unanswered
# questions, the reports' record of the conversation and the articles it was shown, the
# known incidents the bot told it of, and its procedure runs counted for the limits.
CONVERSATION_TABLES = (
    ArticleFeedback,
    UnansweredSearch,
    ReportConversation,
    ReportArticleView,
    IncidentConversation,
    ProcedureAttempt,
)


def other_rows(selection: Selection) -> list[tuple[str, Any, Any]]:
    """(table, model, condition) of the selected customer's rows that do not hang on a handoff: those of
    their conversations (chat attachments no ticket took among them) and the auto-reply record of their
    addresses."""
    convs = selection.conversations
    return [
        *((model.__tablename__, model, model.conversation_id.in_(convs)) for model in CONVERSATION_TABLES),
        (ChatAttachment.__tablename__, ChatAttachment, unlinked_chat_attachments(convs)),
        (AutoReply.__tablename__, AutoReply, AutoReply.sender.in_(selection.addresses)),
        (IncidentSubscription.__tablename__, IncidentSubscription, subscriptions_of(selection)),
    ]


def notice_rows(selection: Selection) -> list[tuple[str, Any, Any]]:
    """The outbox rows of incident notices to the customer's addresses (they have no handoff),
    their delivery attempts first."""
    notices = (
        select(OutboxItem.id)
        .where(OutboxItem.handoff_id.is_(None), OutboxItem.target.in_(selection.addresses))
        .scalar_subquery()
    )
    attempts = DeliveryAttempt.outbox_id.in_(notices)
    return [
        (DeliveryAttempt.__tablename__, DeliveryAttempt, attempts),
        (OutboxItem.__tablename__, OutboxItem, OutboxItem.id.in_(notices)),
    ]


def unlinked_chat_attachments(conversations: list[str]):
    """The chat attachments of these conversations that no ticket took (those of a ticket go with it)."""
    return ChatAttachment.conversation_id.in_(conversations) & ChatAttachment.handoff_id.is_(None)


def subscriptions_of(selection: Selection):
    """The customer's "tell me when it is fixed" rows: by their addresses or conversations."""
    return or_(
        IncidentSubscription.email.in_(selection.addresses),
        IncidentSubscription.conversation_id.in_(selection.conversations),
    )


def count_or_delete(s: Session, rows: list[tuple[str, Any, Any]], dry_run: bool) -> dict[str, int]:
    """Rows per table: counted with ``dry_run``, else deleted."""
    if dry_run:
        return {
            name: s.scalar(select(func.count()).select_from(model).where(where)) or 0 for name, model, where in rows
        }
    return {name: _delete(s, model, where) for name, model, where in rows}


def _delete(s: Session, model: Any, where: Any) -> int:
    result = s.execute(delete(model).where(where))
    assert isinstance(result, CursorResult)  # what a DELETE statement returns
    return result.rowcount


def handoff_files(s: Session, files: CustomerFiles, ids: list[int]) -> dict[str, list[Path]]:
    """The files of these handoffs: their mail and chat attachments and the article drafts written from them."""
    tokens = s.scalars(select(MailAttachment.token).where(MailAttachment.handoff_id.in_(ids))).all()
    chat = s.scalars(select(ChatAttachment.token).where(ChatAttachment.handoff_id.in_(ids))).all()
    tickets = s.scalars(select(Handoff.ticket_id).where(Handoff.id.in_(ids))).all()
    return {
        "attachment_files": files.attachments(tokens),
        "chat_attachment_files": files.chat_attachments(chat),
        "article_drafts": files.drafts(tickets),
    }


def delete_handoffs(s: Session, files: CustomerFiles, ids: list[int], dry_run: bool = False) -> dict[str, int]:
    """Delete (count) these handoffs with every row and file that hangs on them; rows per table, files per
    kind. The files go before the commit: a failed commit leaves rows whose files are gone, never files
    that no row finds again."""
    found = handoff_files(s, files, ids)
    counts = count_or_delete(s, handoff_rows(ids), dry_run)
    counts.update({kind: len(paths) if dry_run else remove(paths) for kind, paths in found.items()})
    return counts


def desk_tables(counts: dict[str, int]) -> list[str]:
    """The tables of the desk's database that lost rows, by the counts (the other keys count files and
    Rasa's events)."""
    return [name for name, n in counts.items() if n and name in Base.metadata.tables]


def erase(stores: CustomerStores, selection: Selection, actor: str, dry_run: bool = False) -> Erasure:
    """Delete everything of the selected customer (with ``dry_run``: count it); rows per table, files per kind."""
    counts: dict[str, int] = {}
    if stores.tracker is not None:
        convs = selection.conversations
        counts["tracker_events"] = stores.tracker.count(convs) if dry_run else stores.tracker.delete(convs)
    rows = other_rows(selection)
    with Session(stores.store.engine) as s, s.begin():
        counts.update(delete_handoffs(s, stores.files, selection.handoff_ids, dry_run))
        unlinked = s.scalars(
            select(ChatAttachment.token).where(unlinked_chat_attachments(selection.conversations))
        ).all()
        chat_files = stores.files.chat_attachments(unlinked)
        counts["chat_attachment_files"] += len(chat_files) if dry_run else remove(chat_files)
        for name, count in count_or_delete(s, rows, dry_run).items():
            counts[name] = counts.get(name, 0) + count  # chat attachments: beside those of their handoffs
        for name, count in count_or_delete(s, notice_rows(selection), dry_run).items():
            counts[name] = counts.get(name, 0) + count  # beside those of their handoffs
        audit.add_entry(s, actor, "erase", selection.kind, counts, selection.tickets, dry_run)
    if dry_run:
        return Erasure(counts, [])
    storage = []
    if desk := after_delete(stores.store.engine, desk_tables(counts), stores.vacuum):
        storage.append(f"desk database: {desk}")
    if stores.tracker is not None and counts["tracker_events"]:
        storage.append(f"tracker store: {after_delete(stores.tracker.engine, [EVENTS], stores.vacuum)}")
    return Erasure(counts, storage)


def export(stores: CustomerStores, selection: Selection, actor: str) -> dict[str, Any]:
    """Everything stored about the selected customer, JSON-ready; the export is audited."""
    store, tracker = stores.store, stores.tracker
    mails = MailStore(store)
    handoffs = []
    for ticket in selection.tickets:
        view = store.get(ticket)
        view["conversation_id"] = store.conversation_of(ticket)
        view["notifications"] = [
            {k: n[k] for k in ("event", "channel", "state", "attempts", "delivered_at")}
            for n in store.notifications(ticket)
        ]
        view["mails"] = [{k: m[k] for k in ("direction", "subject", "at")} for m in mails.thread(ticket)]
        view["attachments"] = [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256, "at": a.at}
            for a in mails.attachments(ticket)
        ]
        handoffs.append(view)
    convs = selection.conversations
    with Session(store.engine) as s:
        for view in handoffs:
            ids = list(s.scalars(select(Handoff.id).where(Handoff.ticket_id == view["ticket_id"])))
            view["ratings"] = rating_rows(s, ids)
    with Session(store.engine) as s:
        feedback = [
            {
                "conversation_id": f.conversation_id,
                "article_id": f.article_id,
                "query": f.query,
                "helpful": f.helpful,
                "created_at": as_utc(f.created_at),
                "updated_at": as_utc(f.updated_at),
            }
            for f in s.scalars(
                select(ArticleFeedback).where(ArticleFeedback.conversation_id.in_(convs)).order_by(ArticleFeedback.id)
            )
        ]
        unanswered = [
            {"conversation_id": u.conversation_id, "query": u.query, "lang": u.lang, "asked_at": as_utc(u.asked_at)}
            for u in s.scalars(
                select(UnansweredSearch)
                .where(UnansweredSearch.conversation_id.in_(convs))
                .order_by(UnansweredSearch.id)
            )
        ]
        conversations = [
            {
                "conversation_id": c.conversation_id,
                "language": c.language,
                "started_at": as_utc(c.started_at),
                "last_search_at": as_utc(c.last_search_at),
                "searches": c.searches,
                "answered": c.answered,
            }
            for c in s.scalars(
                select(ReportConversation)
                .where(ReportConversation.conversation_id.in_(convs))
                .order_by(ReportConversation.id)
            )
        ]
        views = [
            {"conversation_id": v.conversation_id, "article_id": v.article_id, "shown_at": as_utc(v.shown_at)}
            for v in s.scalars(
                select(ReportArticleView)
                .where(ReportArticleView.conversation_id.in_(convs))
                .order_by(ReportArticleView.id)
            )
        ]
        auto_replies = [
            {"address": a.sender, "last_at": as_utc(a.last_at)}
            for a in s.scalars(
                select(AutoReply).where(AutoReply.sender.in_(selection.addresses)).order_by(AutoReply.id)
            )
        ]
        subscriptions = [
            {
                "incident_id": i.incident_id,
                "email": i.email,
                "language": i.language,
                "conversation_id": i.conversation_id,
                "created_at": as_utc(i.created_at),
                "notified_at": as_utc(i.notified_at),
            }
            for i in s.scalars(
                select(IncidentSubscription).where(subscriptions_of(selection)).order_by(IncidentSubscription.id)
            )
        ]
        told = [
            {
                "incident_id": t.incident_id,
                "conversation_id": t.conversation_id,
                "language": t.language,
                "told_at": as_utc(t.told_at),
            }
            for t in s.scalars(
                select(IncidentConversation)
                .where(IncidentConversation.conversation_id.in_(convs))
                .order_by(IncidentConversation.id)
            )
        ]
        attempts = [
            {
                "conversation_id": a.conversation_id,
                "procedure_id": a.procedure_id,
                "identity_failed": a.identity_failed,
                "at": as_utc(a.at),
            }
            for a in s.scalars(
                select(ProcedureAttempt)
                .where(ProcedureAttempt.conversation_id.in_(convs))
                .order_by(ProcedureAttempt.id)
            )
        ]
    chat_files = chat_attachments_of(stores, convs)
    drafts = [
        {"path": str(path.relative_to(stores.files.drafts_dir)), "text": path.read_text(encoding="utf-8")}
        for path in stores.files.drafts(selection.tickets)
    ]
    events = tracker.events(convs) if tracker is not None else []
    for event in events:  # beside Rasa's unix time, the moment as every other date of the export gives it
        event["at"] = datetime.fromtimestamp(event["timestamp"], UTC) if event["timestamp"] else None
    document = {
        "generated_at": utcnow(),
        "selector": selection.kind,
        "tickets": selection.tickets,
        "handoffs": handoffs,
        "article_feedback": feedback,
        "unanswered_searches": unanswered,
        "report_conversations": conversations,
        "report_article_views": views,
        "mail_auto_replies": auto_replies,
        "incident_subscriptions": subscriptions,
        "incident_conversations": told,
        "procedure_attempts": attempts,
        "chat_attachments": chat_files,
        "article_drafts": drafts,
        "conversation_events": events,
        "tracker_store": "included" if tracker is not None else "not configured",
    }
    audit.record(store.engine, actor, "export", selection.kind, export_counts(document), selection.tickets)
    return store.to_json(document)


def chat_attachments_of(stores: CustomerStores, conversations: list[str]) -> list[dict[str, Any]]:
    """The files the customer attached in their chats, each with its bytes (base64) as the desk keeps
    them (an image re-encoded, without its metadata); ``content_base64`` is None when the file is gone."""
    found = []
    with Session(stores.store.engine) as s:
        rows = s.execute(
            select(ChatAttachment, Handoff.ticket_id)
            .outerjoin(Handoff, Handoff.id == ChatAttachment.handoff_id)
            .where(ChatAttachment.conversation_id.in_(conversations))
            .order_by(ChatAttachment.id)
        ).all()
    for row, ticket_id in rows:
        paths = stores.files.chat_attachments([row.token])
        path = next((p for p in paths if p.name == row.token), None)
        found.append(
            {
                "conversation_id": row.conversation_id,
                "ticket_id": ticket_id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
                "sha256": row.sha256,
                "language": row.language,
                "at": as_utc(row.at),
                "content_base64": base64.b64encode(path.read_bytes()).decode() if path else None,
            }
        )
    return found


def export_counts(document: dict[str, Any]) -> dict[str, int]:
    handoffs = document["handoffs"]
    return {
        "handoffs": len(handoffs),
        "mail_messages": sum(len(h["mails"]) for h in handoffs),
        "mail_attachments": sum(len(h["attachments"]) for h in handoffs),
        "ratings": sum(len(h.get("ratings", [])) for h in handoffs),
        **{
            name: len(document[name])
            for name in (
                "article_feedback",
                "unanswered_searches",
                "report_conversations",
                "report_article_views",
                "mail_auto_replies",
                "article_drafts",
                "incident_subscriptions",
                "incident_conversations",
                "procedure_attempts",
                "chat_attachments",
            )
        },
        "tracker_events": len(document["conversation_events"]),
    }
