"""``helpdesk purge``: delete what is older than its retention period (config/privacy.yml).

Each kind of data is deleted in batches of ``batch_size`` rows, one transaction per
batch, so a purge of a large backlog never holds long locks on a desk in use, and each
batch is logged. Resolved handoffs go by their last change (open ones never), with
everything that hangs on them, their attachment files and the article drafts written
from them (helpdesk/privacy/erasure.py); feedback by its last click, unanswered
questions by when they were asked, Rasa's conversations by their last event, audit
entries (the privacy audit and the procedures' runs) by their time, a conversation's
procedure attempts and the files it attached in the chat that no ticket took with its
tracker period, auto-reply records once the auto-reply period is over.
Attachment files that no row names go too. One audit entry per run records the
counts; then the database files are cleaned as after an erasure
(helpdesk/privacy/vacuum.py). ``--dry-run`` counts what would go and deletes nothing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.attachments.models import ChatAttachment
from helpdesk.db import utcnow
from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.handoffs.models import DeliveryAttempt, Handoff, OutboxItem, PrivacyAuditEntry
from helpdesk.handoffs.store import HandoffStore
from helpdesk.incidents.models import Incident, IncidentConversation, IncidentSubscription
from helpdesk.mail.models import AutoReply, MailAttachment
from helpdesk.privacy import audit
from helpdesk.privacy import tracker as tracker_store
from helpdesk.privacy.erasure import count_or_delete, delete_handoffs, desk_tables
from helpdesk.privacy.files import CustomerFiles, remove
from helpdesk.privacy.retention import PrivacyConfig
from helpdesk.privacy.vacuum import after_delete
from helpdesk.procedures.models import ProcedureAttempt, ProcedureRun
from helpdesk.reports.activity import ReportArticleView, ReportConversation

log = logging.getLogger("helpdesk.purge")


def _batches(
    store: HandoffStore,
    kind: str,
    model,
    condition,
    batch: int,
    dry_run: bool,
    remove: Callable[[Session, list[int], bool], dict[str, int]],
) -> dict[str, int]:
    """``remove`` (or count, with ``dry_run``) the rows of ``model`` that meet ``condition``, ``batch`` rows
    per transaction; the sums of what each call returns (rows per table, files per kind)."""
    totals: Counter[str] = Counter()
    last = 0
    while True:
        with Session(store.engine) as s, s.begin():
            ids = list(s.scalars(select(model.id).where(condition, model.id > last).order_by(model.id).limit(batch)))
            if not ids:
                break
            counts = remove(s, ids, dry_run)
        last = ids[-1]
        totals.update(counts)
        if not dry_run:
            log.info(
                "purge: %s: deleted a batch of %d (%d so far)",
                kind,
                counts[model.__tablename__],
                totals[model.__tablename__],
            )
    if dry_run:
        log.info("purge (dry run): %s: %d rows would be deleted", kind, totals[model.__tablename__])
    return {model.__tablename__: 0, **totals}


def _rows(model):
    return lambda s, ids, dry_run: count_or_delete(s, [(model.__tablename__, model, model.id.in_(ids))], dry_run)


def add(counts: dict[str, Any], more: dict[str, int]) -> None:
    """Counts of several kinds that share a table (the outbox): summed, not replaced."""
    for name, count in more.items():
        counts[name] = counts.get(name, 0) + count


def incident_rows(store: HandoffStore, before: datetime, batch: int, dry_run: bool) -> dict[str, int]:
    """Subscriptions of incidents resolved before ``before``, and the notices mailed before it
    that are done (delivered or given up), with their delivery attempts."""
    ended = select(Incident.id).where(Incident.resolved_at < before).scalar_subquery()
    counts = _batches(
        store,
        "incident subscriptions",
        IncidentSubscription,
        IncidentSubscription.incident_id.in_(ended),
        batch,
        dry_run,
        _rows(IncidentSubscription),
    )
    done = (
        OutboxItem.handoff_id.is_(None)
        & (OutboxItem.created_at < before)
        & OutboxItem.state.in_(("delivered", "failed"))
    )

    def notices(s: Session, ids: list[int], dry: bool) -> dict[str, int]:
        return count_or_delete(
            s,
            [
                (DeliveryAttempt.__tablename__, DeliveryAttempt, DeliveryAttempt.outbox_id.in_(ids)),
                (OutboxItem.__tablename__, OutboxItem, OutboxItem.id.in_(ids)),
            ],
            dry,
        )

    add(counts, _batches(store, "incident notices", OutboxItem, done, batch, dry_run, notices))
    return counts


def purge(
    store: HandoffStore,
    config: PrivacyConfig,
    tracker_url: str | None,
    files: CustomerFiles,
    auto_reply_hours: float,
    dry_run: bool = False,
    now: datetime | None = None,
    actor: str = "purge",
) -> dict[str, Any]:
    """Delete (or with ``dry_run`` count) everything past its period: ``counts`` (rows per table, files per
    kind, trackers' conversations and events) and ``storage`` (what was done to the database files
    afterwards, vacuum.py). A kind whose period is 0 is kept. Auto-reply records older than the
    auto-reply period (``auto_reply_hours``) limit nothing and go, and so do attachment files that no
    row names."""
    now = now or utcnow()
    days, batch = config.retention_days, config.batch_size
    counts: dict[str, Any] = {}

    def cutoff(period: int) -> datetime:
        return now - timedelta(days=period)

    if days.handoffs:
        counts.update(
            _batches(
                store,
                "handoffs",
                Handoff,
                (Handoff.status == "resolved") & (Handoff.updated_at < cutoff(days.handoffs)),
                batch,
                dry_run,
                lambda s, ids, dry: delete_handoffs(s, files, ids, dry),
            )
        )
    for period, kind, model, moment in (
        (days.feedback, "article feedback", ArticleFeedback, ArticleFeedback.updated_at),
        (days.unanswered, "unanswered searches", UnansweredSearch, UnansweredSearch.asked_at),
        (days.reports, "report conversations", ReportConversation, ReportConversation.last_search_at),
        (days.reports, "report article views", ReportArticleView, ReportArticleView.shown_at),
        (days.reports, "incident conversations", IncidentConversation, IncidentConversation.told_at),
        (days.audit, "audit log", PrivacyAuditEntry, PrivacyAuditEntry.at),
        (days.audit, "procedure runs", ProcedureRun, ProcedureRun.started_at),
        (days.trackers, "procedure attempts", ProcedureAttempt, ProcedureAttempt.at),
    ):
        if period:
            counts.update(_batches(store, kind, model, moment < cutoff(period), batch, dry_run, _rows(model)))
    if days.trackers:
        unlinked = ChatAttachment.handoff_id.is_(None) & (ChatAttachment.at < cutoff(days.trackers))

        def chat_files(s: Session, ids: list[int], dry: bool) -> dict[str, int]:
            tokens = s.scalars(select(ChatAttachment.token).where(ChatAttachment.id.in_(ids))).all()
            paths = files.chat_attachments(tokens)
            found = count_or_delete(
                s, [(ChatAttachment.__tablename__, ChatAttachment, ChatAttachment.id.in_(ids))], dry
            )
            return {**found, "chat_attachment_files": len(paths) if dry else remove(paths)}

        add(
            counts,
            _batches(store, "chat attachments without a ticket", ChatAttachment, unlinked, batch, dry_run, chat_files),
        )
    if days.incidents:
        add(counts, incident_rows(store, cutoff(days.incidents), batch, dry_run))
    limit_over = AutoReply.last_at < now - timedelta(hours=auto_reply_hours)  # such a record limits nothing
    counts.update(_batches(store, "auto-reply records", AutoReply, limit_over, batch, dry_run, _rows(AutoReply)))
    with Session(store.engine) as s:
        known = set(s.scalars(select(MailAttachment.token))) | set(s.scalars(select(ChatAttachment.token)))
        orphans = files.orphan_attachments(known, now.timestamp())
    counts["orphaned_attachment_files"] = len(orphans) if dry_run else remove(orphans)
    storage = []
    if days.trackers and tracker_url:

        def logged(conversations: int, events: int) -> None:
            log.info(
                "purge%s: tracker store: %s %d conversations (%d events)",
                " (dry run)" if dry_run else "",
                "would delete" if dry_run else "deleted a batch of",
                conversations,
                events,
            )

        conversations, events, cleaned = tracker_store.purge(
            tracker_url,
            days.trackers,
            now=now.timestamp(),
            batch=batch,
            dry_run=dry_run,
            on_batch=logged,
            vacuum=config.postgresql_vacuum,
        )
        counts["tracker_conversations"], counts["tracker_events"] = conversations, events
        storage += [f"tracker store: {cleaned}"] if cleaned else []
    audit.record(store.engine, actor, "purge", "retention", counts, dry_run=dry_run)
    if not dry_run and (desk := after_delete(store.engine, desk_tables(counts), config.postgresql_vacuum)):
        storage.insert(0, f"desk database: {desk}")
    log.info(
        "purge%s done: %s",
        " (dry run)" if dry_run else "",
        ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing configured",
    )
    return {"counts": counts, "storage": storage}


def parse_interval(text: str) -> float:
    """ "1h", "30m", "45s", "2d" or plain seconds; at least 60 seconds."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except ValueError:
        raise ValueError(f"not an interval: {text!r} (e.g. 1h, 30m, 3600)") from None
    if seconds < 60:
        raise ValueError("the interval must be at least a minute")
    return seconds


def run_every(interval: float, once: Callable[[], Any]) -> None:
    """``once()`` now and then every ``interval`` seconds; a failed run is logged and retried next time."""
    while True:
        started = time.monotonic()
        try:
            once()
        except Exception:
            log.exception("purge failed; next try in %.0f s", interval)
        time.sleep(max(interval - (time.monotonic() - started), 1.0))
