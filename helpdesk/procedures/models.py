"""The tables of procedures (SQLAlchemy models on the desk's ``Base``; revision 0014 creates them).

``procedure_runs`` is the audit log: one row per run, with the procedure, the outcome and how long
it took, and nothing of the customer (helpdesk/privacy/inventory.py). ``procedure_attempts``
counts a conversation's runs and refused identities for the limits (helpdesk/procedures/store.py):
it names the conversation, so erasure and the purge find it like the other conversation tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.handoffs.models import Base


class ProcedureRun(Base):
    """One run of a procedure, as the audit log keeps it."""

    __tablename__ = "procedure_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(100), index=True)
    language: Mapped[str] = mapped_column(String(8))
    # done | handoff | identity_failed | failed | locked | limit
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    status_code: Mapped[int | None] = mapped_column(Integer)  # the system's HTTP status; None: no answer
    duration_ms: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ProcedureAttempt(Base):
    """A run in a conversation, for its limits: whether the system refused the identity."""

    __tablename__ = "procedure_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    procedure_id: Mapped[str] = mapped_column(String(100))
    identity_failed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
