"""What the reports count that no other table holds: the bot's conversations and the articles it answered with.

Handoffs and feedback already carry a conversation id, but a conversation the
bot answered (or failed to answer) without a handoff or a click leaves no row
anywhere else. So every ``/search`` the bot makes with its conversation id
(``SearchRequest.conversation_id``, sent with the service token) updates one
row per conversation here: when it started, its language, how many searches
it made and how many the service answered, when it last searched and when the
service last answered (an answer with no question after it: the reports'
"assumed solved"); and the best hit of each answered
search is kept once per conversation as an article *shown*. A search without
the service token or without a conversation id is not counted: nobody outside
can inflate the figures. The conversation id is stored as the handoffs and
feedback tables store it (for joins) and shown nowhere.

The rows are written by ``record_search`` (a search listener, after the
response) and, with a simulated clock, by the demo data generator.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import DateTime, Engine, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.db import as_utc, engine_transaction, utcnow
from helpdesk.handoffs.models import Base

log = logging.getLogger(__name__)


class ReportConversation(Base):
    """One bot conversation that searched the knowledge base."""

    __tablename__ = "report_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(8))  # of its first search
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_search_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    searches: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)  # searches the service answered (decision "answer")
    # When the service last answered one of its searches (revision 0012): equal to last_search_at
    # when the customer asked nothing after the last answer.
    last_answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReportArticleView(Base):
    """An article the service answered with in a conversation (its best hit), once per conversation."""

    __tablename__ = "report_article_views"
    __table_args__ = (UniqueConstraint("conversation_id", "article_id", name="uq_report_article_views"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActivityStore:
    """Writes of the two tables above, on the handoff store's engine (one database, one pool)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def transaction(self):
        return engine_transaction(self.engine)

    def record_search(
        self, conversation_id: str, language: str, answered_article: str | None, now: datetime | None = None
    ) -> None:
        """Count one search of ``conversation_id``; ``answered_article``: the article it answered with, or None."""
        now = now or utcnow()
        for attempt in range(3):
            try:
                with self.transaction() as s:
                    row = s.scalar(
                        select(ReportConversation)
                        .where(ReportConversation.conversation_id == conversation_id)
                        .with_for_update()
                    )
                    if row is None:
                        row = ReportConversation(
                            conversation_id=conversation_id,
                            language=language[:8],
                            started_at=now,
                            last_search_at=now,
                            searches=0,
                            answered=0,
                        )
                        s.add(row)
                    row.searches += 1
                    row.last_search_at = max(as_utc(row.last_search_at), now)
                    if answered_article:
                        row.answered += 1
                        row.last_answered_at = max(as_utc(row.last_answered_at) or now, now)
                        seen = s.scalar(
                            select(ReportArticleView.id).where(
                                ReportArticleView.conversation_id == conversation_id,
                                ReportArticleView.article_id == answered_article,
                            )
                        )
                        if seen is None:
                            s.add(
                                ReportArticleView(
                                    conversation_id=conversation_id, article_id=answered_article, shown_at=now
                                )
                            )
                return
            except IntegrityError:  # two first searches of one conversation at once: the loser retries as an update
                if attempt == 2:
                    raise


def record_search(app, result, call=None) -> None:
    """Search listener: count a search of the bot (service token + conversation id); never fails the search."""
    if call is None or not call.conversation_id:
        return
    token = app.state.settings.service_token
    if (
        not token
        or not call.authorization
        or not secrets.compare_digest(call.authorization.encode(), f"Bearer {token}".encode())
    ):
        return
    answered = result.hits[0].article.id if result.answerable and result.hits else None
    try:
        ActivityStore(app.state.engine).record_search(call.conversation_id, result.lang, answered)
    except Exception:  # the customer already has the answer; losing one statistic must not surface
        log.exception("could not record a search for the reports")
