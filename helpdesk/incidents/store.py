"""IncidentStore: declaring, updating and reading known incidents, on the handoff store's database.

Every declaration and update is one transaction with its timeline entry, under a row lock, so two
agents updating at once both land in the timeline in order. Team scope works like the tickets'
(helpdesk/handoffs/access.py): an incident of a team outside the caller's scope does not exist for
them. Everything returned is plain data with timezone-aware UTC datetimes.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from helpdesk.db import as_utc
from helpdesk.handoffs.errors import InvalidTransition, StoreError
from helpdesk.handoffs.store import HandoffStore, Scope
from helpdesk.i18n import msg
from helpdesk.incidents.models import (
    ACTIVE_STATUSES,
    Incident,
    IncidentConversation,
    IncidentEvent,
    IncidentSubscription,
)

LANGS = ("de", "en")
RECENT_DAYS = 14  # how long a resolved incident stays on the status page
STATES = ("active", "resolved", "all")


class IncidentNotFound(StoreError):
    pass


def prefixes_text(prefixes: Iterable[str]) -> str:
    return ",".join(dict.fromkeys(p.strip() for p in prefixes if p.strip()))


def covers(prefixes: Iterable[str], postal_code: str) -> bool:
    """Whether an incident's area covers a postal code; no prefixes: everywhere."""
    prefixes = list(prefixes)
    code = "".join(postal_code.split())
    return not prefixes or any(code.startswith(p) for p in prefixes)


class IncidentStore:
    def __init__(self, handoffs: HandoffStore, sender: Any = None):
        self.handoffs = handoffs
        # Resolving tells the subscribers by e-mail (notices.Sender); None: no SMTP, nobody told.
        self.sender = sender

    # -- writes ----------------------------------------------------------------------------------
    def declare(
        self,
        *,
        title: str,
        category: str,
        team: str,
        messages: dict[str, str | None],
        actor: str,
        product: str | None = None,
        postal_prefixes: Iterable[str] = (),
        status: str = "investigating",
        started_at: datetime | None = None,
        expected_resolution_at: datetime | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """A new incident; without an area it affects every postal code, without a start it starts now."""
        now = self.handoffs.clock()
        with self.handoffs.transaction() as s:
            incident = Incident(
                title=title,
                category=category,
                team=team,
                product=product or None,
                postal_prefixes=prefixes_text(postal_prefixes),
                status=status,
                started_at=started_at or now,
                expected_resolution_at=expected_resolution_at,
                message_de=messages.get("de"),
                message_en=messages.get("en"),
                created_at=now,
                updated_at=now,
                created_by=actor,
            )
            incident.events = [
                IncidentEvent(
                    at=now,
                    actor=actor,
                    action="declared",
                    status=status,
                    message_de=incident.message_de,
                    message_en=incident.message_en,
                    note=note,
                )
            ]
            s.add(incident)
            s.flush()
            incident_id = incident.id
        return self.get(incident_id)

    def update(
        self, incident_id: int, actor: str, changes: dict[str, Any], note: str | None = None, teams: Scope = None
    ) -> dict[str, Any]:
        """Apply ``changes`` (column -> value; ``messages`` is a dict per language) and append the
        timeline entry. A resolved incident is closed: InvalidTransition."""
        now = self.handoffs.clock()
        with self.handoffs.transaction() as s:
            incident = self._load(s, incident_id, teams, for_update=True)
            if incident.status == "resolved":
                raise InvalidTransition(msg("incident %(id)s is resolved: declare a new one", id=incident.id))
            described = []
            messages = changes.pop("messages", None) or {}
            for lang in LANGS:
                if lang in messages and messages[lang] != getattr(incident, f"message_{lang}"):
                    setattr(incident, f"message_{lang}", messages[lang])
                    described.append(f"message ({lang})")
            if "postal_prefixes" in changes:
                changes["postal_prefixes"] = prefixes_text(changes["postal_prefixes"])
            for key, value in changes.items():
                old = getattr(incident, key)
                if (as_utc(old) if isinstance(old, datetime) else old) == value:
                    continue
                setattr(incident, key, value)
                described.append(f"{key}: {show(old)} -> {show(value)}")
            action, told = "updated", 0
            if incident.status == "resolved":
                incident.resolved_at, action = now, "resolved"
                if self.sender is not None:
                    from helpdesk.incidents import notices

                    told = notices.enqueue(s, incident, self.sender, now)
                    described.append(f"{told} subscriber(s) notified by e-mail")
            incident.updated_at = now
            s.add(
                IncidentEvent(
                    incident_id=incident.id,
                    at=now,
                    actor=actor,
                    action=action,
                    status=incident.status,
                    message_de=incident.message_de,
                    message_en=incident.message_en,
                    changes="; ".join(described) or None,
                    note=note,
                )
            )
        if told:
            self.handoffs.outbox_signal.set()  # the worker sends at once
        return self.get(incident_id)

    def subscribe(self, incident_id: int, email: str, language: str, conversation_id: str) -> dict[str, Any]:
        """A customer to tell by e-mail when the incident is resolved; once per address (a second
        request only changes the language)."""
        now = self.handoffs.clock()
        with self.handoffs.transaction() as s:
            incident = self._load(s, incident_id, None, for_update=True)  # one writer at a time
            if incident.status == "resolved":
                raise InvalidTransition(msg("incident %(id)s is resolved already", id=incident.id))
            row = s.scalar(
                select(IncidentSubscription).where(
                    IncidentSubscription.incident_id == incident.id, IncidentSubscription.email == email
                )
            )
            if row is not None:
                row.language = language
            else:
                s.add(
                    IncidentSubscription(
                        incident_id=incident.id,
                        email=email,
                        language=language,
                        conversation_id=conversation_id,
                        created_at=now,
                    )
                )
        return {"incident_id": incident_id, "email": email, "created": row is None}

    def record_told(self, incident_id: int, conversation_id: str, language: str) -> dict[str, Any]:
        """The bot told a conversation of the incident; once per conversation (a repeat changes nothing)."""
        now = self.handoffs.clock()
        with self.handoffs.transaction() as s:
            incident = self._load(s, incident_id, None, for_update=True)  # one writer at a time
            row = s.scalar(
                select(IncidentConversation).where(
                    IncidentConversation.incident_id == incident.id,
                    IncidentConversation.conversation_id == conversation_id,
                )
            )
            if row is None:
                s.add(
                    IncidentConversation(
                        incident_id=incident.id, conversation_id=conversation_id, language=language, told_at=now
                    )
                )
        return {"incident_id": incident_id, "created": row is None}

    # -- reads -----------------------------------------------------------------------------------
    def get(self, incident_id: int, teams: Scope = None) -> dict[str, Any]:
        with self.handoffs.transaction() as s:
            return view(self._load(s, incident_id, teams), full=True)

    def list(self, state: str = "active", teams: Scope = None, limit: int = 200) -> list[dict[str, Any]]:
        """Incidents of the caller's teams: active ones first by start, then the latest resolved."""
        if state not in STATES:
            raise StoreError(f"unknown state {state!r} (states: {', '.join(STATES)})")
        query = select(Incident)
        if state == "active":
            query = query.where(Incident.status.in_(ACTIVE_STATUSES))
        elif state == "resolved":
            query = query.where(Incident.status == "resolved")
        if teams is not None:
            query = query.where(Incident.team.in_(list(teams)))
        query = query.order_by(
            Incident.resolved_at.is_not(None),
            Incident.resolved_at.desc(),
            Incident.started_at.desc(),
            Incident.id.desc(),
        ).limit(limit)
        with self.handoffs.transaction() as s:
            return [view(i, full=False) for i in s.scalars(query)]

    def public(self, days: int = RECENT_DAYS) -> builtins.list[dict[str, Any]]:
        """What the status page shows: the active incidents and those resolved in the last
        ``days``."""
        since = self.handoffs.clock() - timedelta(days=days)
        query = (
            select(Incident)
            .options(selectinload(Incident.events))
            .where(or_(Incident.status.in_(ACTIVE_STATUSES), Incident.resolved_at >= since))
            .order_by(
                Incident.resolved_at.is_not(None),
                Incident.resolved_at.desc(),
                Incident.started_at.desc(),
                Incident.id.desc(),
            )
        )
        with self.handoffs.transaction() as s:
            return [view(i, full=True) for i in s.scalars(query)]

    def _load(self, s: Session, incident_id: int, teams: Scope, for_update: bool = False) -> Incident:
        query = select(Incident).where(Incident.id == incident_id)
        if for_update:
            query = query.with_for_update()
        else:
            query = query.options(selectinload(Incident.events))
        incident = s.scalar(query)
        if incident is None or (teams is not None and incident.team not in teams):
            raise IncidentNotFound(msg("no incident %(id)s", id=incident_id))
        return incident


def message_in(messages: dict[str, str | None], lang: str) -> str | None:
    """The public message in ``lang``, else in any language it was written in."""
    return messages.get(lang) or next((m for m in messages.values() if m), None)


def show(value: Any) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    return "-" if value in (None, "") else str(value)


def messages_of(row: Incident | IncidentEvent) -> dict[str, str | None]:
    return {lang: getattr(row, f"message_{lang}") for lang in LANGS}


def view(incident: Incident, full: bool) -> dict[str, Any]:
    prefixes = [p for p in incident.postal_prefixes.split(",") if p]
    result: dict[str, Any] = {
        "id": incident.id,
        "title": incident.title,
        "category": incident.category,
        "team": incident.team,
        "product": incident.product,
        "postal_prefixes": prefixes,
        "everywhere": not prefixes,
        "status": incident.status,
        "active": incident.status in ACTIVE_STATUSES,
        "started_at": as_utc(incident.started_at),
        "expected_resolution_at": as_utc(incident.expected_resolution_at),
        "resolved_at": as_utc(incident.resolved_at),
        "messages": messages_of(incident),
        "created_at": as_utc(incident.created_at),
        "updated_at": as_utc(incident.updated_at),
        "created_by": incident.created_by,
        "events": [],
    }
    if full:
        result["events"] = [
            {
                "at": as_utc(e.at),
                "actor": e.actor,
                "action": e.action,
                "status": e.status,
                "messages": messages_of(e),
                "changes": e.changes,
                "note": e.note,
            }
            for e in incident.events
        ]
    return result
