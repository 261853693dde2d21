"""Tables of the handoff store (SQLAlchemy 2 declarative models).

Why separate tables and not one JSON blob: agents filter and sort on status,
team and priority, the audit trail and the notification outbox grow row by row,
and the live chat takeover appends transcript messages one at a time.
The schema itself is created and changed only by the Alembic migrations in
``helpdesk/migrations``; these classes must match them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("new", "claimed", "escalated", "resolved")
ROLES = ("agent", "supervisor", "admin")  # what each may do: helpdesk/handoffs/access.py
PRIORITIES = ("low", "normal", "high", "critical")


class Base(DeclarativeBase):
    pass


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(16), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # sha256 of the canonical request payload: a replay with another payload is a 409.
    payload_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), index=True)
    team: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[str] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32))
    # The bot's sender id: the customer's Rasa session key. Only the service itself uses it (hand-back
    # to the bot); no view, API answer or notification shows it.
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    # sha256 of the customer's live-chat key (helpdesk/chat/live_api.py); valid while the ticket is open.
    chat_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    product: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    tried: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    # What the customer was promised at creation (minutes and the UTC instant).
    expected_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The agents' countdown: starts as due_at, restarts with the expert team's time on escalation.
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The response time last told to the customer after a move to another team or a reopen (None: due_at
    # is still the promise); the agents' countdown compares its target with this promise.
    told_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the customer's chat page last read the ticket: the chat is live while this is recent.
    customer_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text)
    # The known incident the customer was told of when the ticket was made (helpdesk/incidents).
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # JSON of the procedure the bot ran before the handoff (schemas.ProcedureRunIn); None: none ran.
    procedure_run: Mapped[str | None] = mapped_column(Text, nullable=True)

    messages: Mapped[list[TranscriptMessage]] = relationship(
        back_populates="handoff", order_by="TranscriptMessage.position", cascade="all, delete-orphan"
    )
    articles: Mapped[list[ArticleShown]] = relationship(
        back_populates="handoff", order_by="ArticleShown.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[HandoffEvent]] = relationship(
        back_populates="handoff", order_by="HandoffEvent.id", cascade="all, delete-orphan"
    )


class TranscriptMessage(Base):
    __tablename__ = "handoff_messages"
    __table_args__ = (UniqueConstraint("handoff_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # JSON [{title, payload}]: the buttons a bot message offered (None: none, or an older bot).
    buttons: Mapped[str | None] = mapped_column(Text, nullable=True)
    handoff: Mapped[Handoff] = relationship(back_populates="messages")


class ArticleShown(Base):
    __tablename__ = "handoff_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    article_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    score: Mapped[float | None] = mapped_column(Float)
    feedback: Mapped[str] = mapped_column(String(16))
    handoff: Mapped[Handoff] = relationship(back_populates="articles")


class HandoffEvent(Base):
    """The audit trail: who did what, when (created, claimed, note, escalated, resolved, ...)."""

    __tablename__ = "handoff_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    from_team: Mapped[str | None] = mapped_column(String(64))
    to_team: Mapped[str | None] = mapped_column(String(64))
    handoff: Mapped[Handoff] = relationship(back_populates="events")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    teams: Mapped[str] = mapped_column(String(500))  # comma-separated team names
    role: Mapped[str] = mapped_column(String(16), default="agent")  # one of ROLES
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The language the desk speaks to this agent (helpdesk.i18n.LANGUAGES); None: their browser's.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)

    @property
    def team_list(self) -> list[str]:
        return [t for t in self.teams.split(",") if t]


class AgentToken(Base):
    """Bearer tokens of the agent JSON API; only their sha256 is stored."""

    __tablename__ = "agent_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    agent: Mapped[Agent] = relationship()


class AgentSession(Base):
    """A login session of the inbox; the cookie holds a random token, only its sha256 is stored.

    Rows are the truth: logout, deactivation and a password change delete them, so a copied
    cookie stops working at once on every replica.
    """

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """One failed login, counted per key ("user:anna", "ip:192.0.2.1", "device:...") by every process."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxItem(Base):
    """A notification to deliver, written in the same transaction as its handoff.

    Because the row is committed together with the handoff, a crash after the
    201 can delay a notification but never lose it (at-least-once delivery).
    """

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for a notice about an incident to its subscribers (helpdesk/incidents/notices.py).
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(32))  # handoff.new | handoff.escalated | mail.auto-reply | ...
    # webhook | email (to the team) | mail (to the customer, composed in full: helpdesk/mail/replies.py)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))  # URL or e-mail address
    payload: Mapped[str] = mapped_column(Text)  # JSON, frozen at enqueue time
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("notification_outbox.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)  # HTTP status or SMTP reply or the error
    duration_ms: Mapped[int] = mapped_column(Integer)


class PrivacyAuditEntry(Base):
    """One erasure, export or purge (helpdesk/privacy/audit.py): who, when, which selector, how many rows.

    It never holds the personal data itself: the selector is its kind ("email", "phone", "ticket")
    and the tickets it found, ``counts`` is JSON of rows per store.
    """

    __tablename__ = "privacy_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # erase | export | purge
    selector: Mapped[str] = mapped_column(String(16))  # email | phone | ticket | retention
    tickets: Mapped[str] = mapped_column(Text, default="")  # comma-separated ticket ids found
    counts: Mapped[str] = mapped_column(Text)  # JSON {store: rows}
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
