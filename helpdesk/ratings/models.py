"""The ``ratings`` table: one row per question asked after a resolution, and the customer's answer.

A row hangs on its ticket (erased and purged with it, helpdesk/privacy). Only the sha256 of the
link's random token is kept, so a copy of the database names no working link; ``agent`` and
``team`` are who resolved the ticket and the team holding it then, the reports' grouping.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.handoffs.models import Base


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    agent: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    asked_by: Mapped[str] = mapped_column(String(16))  # email | chat
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    score: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
