"""Tables of known incidents and their timeline (SQLAlchemy models on the desk's ``Base``).

They hang on the handoff store's declarative ``Base`` so the one Alembic chain in
``helpdesk/migrations`` sees them; revision 0007 creates them. An incident holds no customer
data: only what the desk declares about an outage (helpdesk/privacy/inventory.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.handoffs.models import Base

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
ACTIVE_STATUSES = INCIDENT_STATUSES[:-1]


class Incident(Base):
    """One outage as the desk declared it, in its latest state (the timeline keeps the earlier)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64), index=True)
    # The team owning the category when the incident was declared or last moved (team scope).
    team: Mapped[str] = mapped_column(String(64), index=True)
    product: Mapped[str | None] = mapped_column(String(200))  # None: every product of the category
    # Comma-separated postal-code prefixes; empty: everywhere.
    postal_prefixes: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)  # one of INCIDENT_STATUSES
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expected_resolution_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    message_de: Mapped[str | None] = mapped_column(Text)
    message_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))

    events: Mapped[list[IncidentEvent]] = relationship(
        back_populates="incident", order_by="IncidentEvent.id", cascade="all, delete-orphan"
    )


class IncidentSubscription(Base):
    """A customer who asked the bot to be told by e-mail when an incident is resolved.

    Customer data: erasure finds it by the address or the conversation (helpdesk/privacy).
    """

    __tablename__ = "incident_subscriptions"
    __table_args__ = (UniqueConstraint("incident_id", "email", name="uq_incident_subscription"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # lower case
    language: Mapped[str] = mapped_column(String(8))
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IncidentConversation(Base):
    """A conversation the bot told of an incident (at most once per incident): the reports count the
    customers told and, without a ticket in that conversation, the contacts the incident deflected.

    Customer data: erasure finds it by the conversation (helpdesk/privacy).
    """

    __tablename__ = "incident_conversations"
    __table_args__ = (UniqueConstraint("incident_id", "conversation_id", name="uq_incident_conversation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str] = mapped_column(String(8))
    told_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class IncidentEvent(Base):
    """The timeline and audit trail: who declared or changed what, when, and the public message
    at that moment."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # declared | updated | resolved
    status: Mapped[str] = mapped_column(String(16))
    message_de: Mapped[str | None] = mapped_column(Text)
    message_en: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[str | None] = mapped_column(Text)  # for agents: "status: a -> b; ..."
    note: Mapped[str | None] = mapped_column(Text)  # internal note, never shown publicly
    incident: Mapped[Incident] = relationship(back_populates="events")
