"""FeedbackStore: writes and reads customer feedback and unanswered searches.

It works on the desk's engine (helpdesk/db.py, ``app.state.engine``) rather
than opening one of its own: one database, one connection pool, one migration
chain, and SQLite's BEGIN IMMEDIATE/WAL setup applies here too. Feedback is an
upsert on (conversation_id, article_id), atomic on SQLite and PostgreSQL alike
(``INSERT ... ON CONFLICT DO UPDATE``), so a retried or doubled click never
counts twice and the customer's latest answer is the one that counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, select

from helpdesk.db import as_utc, engine_transaction, utcnow
from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.privacy.masking import mask

MAX_QUERY_CHARS = 2000  # the /search and /feedback limit; stored texts never grow past it


def clean_query(text: str) -> str:
    """The text as it is stored: bounded, stripped, personal details masked (authors need the
    question, not the customer)."""
    return mask(text.strip()[:MAX_QUERY_CHARS])


def feedback_upsert(
    dialect: str, conversation_id: str, article_id: str, query: str, helpful: bool, now: datetime | None = None
) -> Any:
    """The statement that records a verdict: insert, or update the conversation's earlier verdict on
    this article (latest wins). A statement rather than a write, so that the e-mail channel records
    a customer's "not solved" in the same transaction as the reopened ticket."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert: Any
    if dialect == "postgresql":
        insert = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:
        raise RuntimeError(f"feedback store: unsupported database {dialect!r} (SQLite or PostgreSQL)")
    now = now or utcnow()
    statement = insert(ArticleFeedback).values(
        conversation_id=conversation_id,
        article_id=article_id,
        query=clean_query(query),
        helpful=helpful,
        created_at=now,
        updated_at=now,
    )
    return statement.on_conflict_do_update(
        index_elements=[ArticleFeedback.conversation_id, ArticleFeedback.article_id],
        set_={
            "query": statement.excluded.query,
            "helpful": statement.excluded.helpful,
            "updated_at": statement.excluded.updated_at,
        },
    )


@dataclass(frozen=True)
class UnansweredRow:
    query: str
    lang: str
    confidence: float
    top_article_id: str | None
    asked_at: datetime


class FeedbackStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def transaction(self):
        return engine_transaction(self.engine)

    # -- writes ----------------------------------------------------------------------------------
    def record_feedback(
        self, conversation_id: str, article_id: str, query: str, helpful: bool, now: datetime | None = None
    ) -> None:
        """Insert, or update the conversation's earlier verdict on this article (latest wins)."""
        statement = feedback_upsert(self.engine.dialect.name, conversation_id, article_id, query, helpful, now)
        with self.transaction() as s:
            s.execute(statement)

    def record_unanswered(
        self,
        query: str,
        lang: str,
        confidence: float,
        threshold: float,
        top_article_id: str | None,
        now: datetime | None = None,
        conversation_id: str | None = None,
    ) -> None:
        """``conversation_id``: the chat the question came from, so erasing that customer erases it."""
        with self.transaction() as s:
            s.add(
                UnansweredSearch(
                    asked_at=now or utcnow(),
                    query=clean_query(query),
                    lang=lang[:8],
                    confidence=float(confidence),
                    threshold=float(threshold),
                    top_article_id=top_article_id,
                    conversation_id=conversation_id,
                )
            )

    # -- reads -----------------------------------------------------------------------------------
    def unanswered_since(self, since: datetime, limit: int) -> list[UnansweredRow]:
        """The newest ``limit`` unanswered searches since ``since``, newest first."""
        query = (
            select(UnansweredSearch)
            .where(UnansweredSearch.asked_at >= since)
            .order_by(UnansweredSearch.asked_at.desc(), UnansweredSearch.id.desc())
            .limit(limit)
        )
        with self.transaction() as s:
            return [
                UnansweredRow(r.query, r.lang, r.confidence, r.top_article_id, as_utc(r.asked_at))
                for r in s.scalars(query)
            ]

    def count_unanswered(self, since: datetime) -> int:
        with self.transaction() as s:
            return (
                s.scalar(select(func.count()).select_from(UnansweredSearch).where(UnansweredSearch.asked_at >= since))
                or 0
            )

    def feedback(self, conversation_id: str, article_id: str) -> dict[str, Any] | None:
        with self.transaction() as s:
            row = s.scalar(
                select(ArticleFeedback).where(
                    ArticleFeedback.conversation_id == conversation_id, ArticleFeedback.article_id == article_id
                )
            )
            if row is None:
                return None
            return {
                "conversation_id": row.conversation_id,
                "article_id": row.article_id,
                "query": row.query,
                "helpful": row.helpful,
                "created_at": as_utc(row.created_at),
                "updated_at": as_utc(row.updated_at),
            }

    def article_stats(self, since: datetime, examples: int = 3) -> list[dict[str, Any]]:
        """Per article: helpful and not-helpful counts, last verdict, and recent not-helpful questions."""
        helpful = func.sum(case((ArticleFeedback.helpful.is_(True), 1), else_=0))
        not_helpful = func.sum(case((ArticleFeedback.helpful.is_(False), 1), else_=0))
        totals = (
            select(ArticleFeedback.article_id, helpful, not_helpful, func.max(ArticleFeedback.updated_at))
            .where(ArticleFeedback.updated_at >= since)
            .group_by(ArticleFeedback.article_id)
        )
        failed = (
            select(ArticleFeedback.article_id, ArticleFeedback.query)
            .where(ArticleFeedback.updated_at >= since, ArticleFeedback.helpful.is_(False))
            .order_by(ArticleFeedback.updated_at.desc())
            .limit(2000)
        )
        with self.transaction() as s:
            stats = {
                aid: {
                    "article_id": aid,
                    "helpful": int(h or 0),
                    "not_helpful": int(n or 0),
                    "last_feedback": as_utc(last),
                    "not_helpful_queries": [],
                }
                for aid, h, n, last in s.execute(totals)
            }
            for aid, text in s.execute(failed):
                queries = stats[aid]["not_helpful_queries"] if aid in stats else []  # a row newer than totals
                if len(queries) < examples and text not in queries:
                    queries.append(text)
        return list(stats.values())
