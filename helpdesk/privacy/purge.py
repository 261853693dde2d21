"""``helpdesk purge``: delete what is older than its retention period (config/privacy.yml).

Each kind of data is deleted in batches of ``batch_size`` rows, one transaction per
batch, so a purge of a large backlog never holds long locks on a desk in use, and each
batch is logged. Resolved handoffs go by their last change (open ones never), feedback
by its last click, unanswered questions by when they were asked, Rasa's conversations
by their last event, audit entries by their time. One audit entry per run records the
counts. ``--dry-run`` counts what would go and deletes nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.reports.activity import ReportArticleView, ReportConversation
from helpdesk.handoffs.models import Handoff, PrivacyAuditEntry
from helpdesk.handoffs.store import HandoffStore, utcnow
from helpdesk.privacy import audit, tracker as tracker_store
from helpdesk.privacy.erasure import delete_handoffs
from helpdesk.privacy.retention import PrivacyConfig

log = logging.getLogger("helpdesk.purge")


def _batches(store: HandoffStore, kind: str, model, condition, batch: int, dry_run: bool,
             remove: Callable[[Session, list[int]], int]) -> int:
    if dry_run:
        with Session(store.engine) as s:
            count = s.scalar(select(func.count()).select_from(model).where(condition)) or 0
        log.info("purge (dry run): %s: %d rows would be deleted", kind, count)
        return count
    total = 0
    while True:
        with Session(store.engine) as s, s.begin():
            ids = list(s.scalars(select(model.id).where(condition).order_by(model.id).limit(batch)))
            if not ids:
                break
            removed = remove(s, ids)
        total += removed
        log.info("purge: %s: deleted a batch of %d (%d so far)", kind, removed, total)
    return total


def _delete_rows(model):
    return lambda s, ids: s.execute(delete(model).where(model.id.in_(ids))).rowcount


def purge(store: HandoffStore, config: PrivacyConfig, tracker_url: str | None, dry_run: bool = False,
          now: datetime | None = None, actor: str = "purge") -> dict[str, Any]:
    """Delete (or with ``dry_run`` count) everything past its period; rows per kind, and trackers'
    conversations. A kind whose period is 0 is kept."""
    now = now or utcnow()
    days, batch = config.retention_days, config.batch_size
    counts: dict[str, Any] = {}

    def cutoff(period: int) -> datetime:
        return now - timedelta(days=period)

    if days.handoffs:
        counts["handoffs"] = _batches(
            store, "handoffs", Handoff, (Handoff.status == "resolved") & (Handoff.updated_at < cutoff(days.handoffs)),
            batch, dry_run, lambda s, ids: delete_handoffs(s, ids)["handoffs"])
    if days.feedback:
        counts["article_feedback"] = _batches(store, "article feedback", ArticleFeedback,
                                              ArticleFeedback.updated_at < cutoff(days.feedback), batch, dry_run,
                                              _delete_rows(ArticleFeedback))
    if days.unanswered:
        counts["unanswered_searches"] = _batches(store, "unanswered searches", UnansweredSearch,
                                                 UnansweredSearch.asked_at < cutoff(days.unanswered), batch, dry_run,
                                                 _delete_rows(UnansweredSearch))
    if days.reports:
        counts["report_conversations"] = _batches(store, "report conversations", ReportConversation,
                                                  ReportConversation.last_search_at < cutoff(days.reports), batch,
                                                  dry_run, _delete_rows(ReportConversation))
        counts["report_article_views"] = _batches(store, "report article views", ReportArticleView,
                                                  ReportArticleView.shown_at < cutoff(days.reports), batch,
                                                  dry_run, _delete_rows(ReportArticleView))
    if days.audit:
        counts["privacy_audit"] = _batches(store, "audit log", PrivacyAuditEntry,
                                           PrivacyAuditEntry.at < cutoff(days.audit), batch, dry_run,
                                           _delete_rows(PrivacyAuditEntry))
    if days.trackers and tracker_url:
        def logged(conversations: int, events: int) -> None:
            log.info("purge%s: tracker store: %s %d conversations (%d events)", " (dry run)" if dry_run else "",
                     "would delete" if dry_run else "deleted a batch of", conversations, events)

        conversations, events = tracker_store.purge(tracker_url, days.trackers, now=now.timestamp(), batch=batch,
                                                    dry_run=dry_run, on_batch=logged)
        counts["tracker_conversations"], counts["tracker_events"] = conversations, events
    audit.record(store.engine, actor, "purge", "retention", counts, dry_run=dry_run)
    log.info("purge%s done: %s", " (dry run)" if dry_run else "",
             ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing configured")
    return counts


def parse_interval(text: str) -> float:
    """"1h", "30m", "45s", "2d" or plain seconds; at least 60 seconds."""
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
        except Exception:  # noqa: BLE001 - the loop outlives a database restart
            log.exception("purge failed; next try in %.0f s", interval)
        time.sleep(max(interval - (time.monotonic() - started), 1.0))
