"""Tables of customer feedback and unanswered searches.

They hang on the handoff store's declarative ``Base`` so the one Alembic chain
in ``helpdesk/migrations`` sees them (autogenerate must neither miss nor drop
them); revision 0002 creates them. Query texts are stored already bounded
(``MAX_QUERY_CHARS``) and with e-mail addresses and phone-like numbers masked,
because authors read them and they need the question, not the customer. Both
keep the conversation id, so a customer's erasure (helpdesk/privacy) finds their rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.handoffs.models import Base


class ArticleFeedback(Base):
    """One customer's verdict on one shown article; the latest click of a conversation wins."""

    __tablename__ = "article_feedback"
    # A retried POST, or a customer changing their mind, updates the row instead of counting twice.
    __table_args__ = (UniqueConstraint("conversation_id", "article_id", name="uq_article_feedback_conversation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    query: Mapped[str] = mapped_column(Text)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UnansweredSearch(Base):
    """A /search whose best hit was below the answerable threshold."""

    __tablename__ = "unanswered_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    query: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    confidence: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    top_article_id: Mapped[str | None] = mapped_column(String(200))
    # The bot's sender id when the bot asked (revision 0005_privacy): erasure per customer finds it.
    conversation_id: Mapped[str | None] = mapped_column(String(200), index=True)
