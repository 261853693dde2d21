"""Tickets linked to a known incident: linking, unlinking and resolving them with the incident.

A ticket made while the bot told the customer of an incident is linked at creation
(``handoffs.incident_id``); agents link and unlink the others here. Each change is one transaction
that locks the incident and the ticket and writes both audit trails: the ticket's history and the
incident's timeline (entries that the public status page leaves out, ``LINK_ACTIONS``). The team
scope is the tickets' and the incidents' own: a ticket or an incident outside the caller's teams
does not exist for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from helpdesk.handoffs.errors import InvalidTransition, StoreError
from helpdesk.handoffs.models import Handoff, HandoffEvent
from helpdesk.handoffs.store import OPEN_STATUSES, Scope
from helpdesk.i18n import msg
from helpdesk.incidents.models import Incident, IncidentEvent
from helpdesk.incidents.store import IncidentStore, message_in

LINKED, UNLINKED, TICKETS_RESOLVED = "ticket linked", "ticket unlinked", "tickets resolved"
LINK_ACTIONS = (LINKED, UNLINKED, TICKETS_RESOLVED)  # the timeline's internal entries
# The ticket's history: triage, not a response to the customer (the reports' first response).
TICKET_LINKED, TICKET_UNLINKED = "incident linked", "incident unlinked"


class AlreadyLinked(InvalidTransition):
    pass


class NotLinked(StoreError):
    pass


def timeline_entry(incident: Incident, actor: str, action: str, changes: str, at: Any) -> IncidentEvent:
    return IncidentEvent(
        incident_id=incident.id,
        at=at,
        actor=actor,
        action=action,
        status=incident.status,
        message_de=incident.message_de,
        message_en=incident.message_en,
        changes=changes,
    )


def change(
    store: IncidentStore, incident_id: int, ticket_id: str, actor: str, link: bool, ticket_teams: Scope, teams: Scope
) -> dict[str, Any]:
    """Link a ticket to an active incident (one linked to any incident already: AlreadyLinked) or
    remove its link (a ticket not linked to this incident: NotLinked); a resolved incident's
    tickets stay as they are (InvalidTransition)."""
    handoffs = store.handoffs
    now = handoffs.clock()
    with handoffs.transaction() as s:
        incident = store._load(s, incident_id, teams, for_update=True)
        handoff = handoffs._load(s, ticket_id, for_update=True, teams=ticket_teams)
        if incident.status == "resolved":
            raise InvalidTransition(msg("incident %(id)s is resolved: its tickets cannot change", id=incident.id))
        if link and handoff.incident_id is not None:
            raise AlreadyLinked(
                msg("%(ticket)s is linked to incident %(id)s already", ticket=handoff.ticket_id, id=handoff.incident_id)
            )
        if not link and handoff.incident_id != incident.id:
            raise NotLinked(f"{handoff.ticket_id} is not linked to incident {incident.id}")
        handoff.incident_id = incident.id if link else None
        handoff.updated_at = now
        action = TICKET_LINKED if link else TICKET_UNLINKED
        s.add(HandoffEvent(handoff_id=handoff.id, at=now, actor=actor, action=action, note=describe(incident)))
        incident.updated_at = now
        s.add(
            timeline_entry(incident, actor, LINKED if link else UNLINKED, named(handoff.ticket_id, handoff.team), now)
        )
        ticket = handoff.ticket_id
    return {"incident_id": incident_id, "ticket_id": ticket, "linked": link}


def named(ticket_id: str, team: str) -> str:
    """A ticket as the timeline names it; ``in_scope`` hides it from agents of other teams."""
    return f"{ticket_id} (team {team})"


NAMED_RE = re.compile(r"(\S+) \(team ([^)]+)\)")


def in_scope(incident: dict[str, Any], ticket_teams: Scope) -> dict[str, Any]:
    """The incident as the caller reads it: the timeline's tickets of teams outside their scope
    become "a ticket of another team" (a ticket outside an agent's teams does not exist for them)."""
    if ticket_teams is None:
        return incident

    def hide(found: re.Match[str]) -> str:
        return found.group(0) if found.group(2) in ticket_teams else "a ticket of another team"

    events = [
        {**e, "changes": NAMED_RE.sub(hide, e["changes"])} if e["action"] in LINK_ACTIONS and e["changes"] else e
        for e in incident["events"]
    ]
    return {**incident, "events": events}


def describe(incident: Incident) -> str:
    return f"incident {incident.id}: {incident.title}"


def tickets(store: IncidentStore, incident_id: int, ticket_teams: Scope) -> dict[str, Any]:
    """The incident's linked tickets the caller may see (number, status, team, language), oldest
    first, and how many others there are."""
    query = select(Handoff).where(Handoff.incident_id == incident_id).order_by(Handoff.created_at, Handoff.id)
    with store.handoffs.transaction() as s:
        rows = list(s.scalars(query))
    visible = [h for h in rows if ticket_teams is None or h.team in ticket_teams]
    return {
        "tickets": [
            {"ticket_id": h.ticket_id, "status": h.status, "team": h.team, "language": h.language} for h in visible
        ],
        "hidden": len(rows) - len(visible),
    }


def titles(store: IncidentStore, incident_ids: Iterable[int | None], teams: Scope) -> dict[int, dict[str, Any]]:
    """id -> {title, visible} of the incidents tickets are linked to; ``visible``: the caller may
    open the incident's page (titles are public on the status page anyway)."""
    ids = sorted({i for i in incident_ids if i})
    if not ids:
        return {}
    with store.handoffs.transaction() as s:
        rows = s.execute(select(Incident.id, Incident.title, Incident.team).where(Incident.id.in_(ids))).all()
    return {i: {"title": title, "visible": teams is None or team in teams} for i, title, team in rows}


def resolve_linked(store: IncidentStore, incident: dict[str, Any], actor: str, ticket_teams: Scope) -> list[str]:
    """Resolve every open linked ticket the caller may change, through the tickets' own resolution
    (history, resolution note, live updates), with the incident's public message in the ticket's
    language as the note; the incident's timeline records which. Returns them as it names them."""
    handoffs = store.handoffs
    done = []
    for ticket in tickets(store, incident["id"], ticket_teams)["tickets"]:
        note = message_in(incident["messages"], ticket["language"])
        if ticket["status"] not in OPEN_STATUSES or not note:
            continue
        try:
            handoffs.resolve(ticket["ticket_id"], actor, note, ticket_teams)
        except StoreError:  # resolved or moved to another team meanwhile by someone else
            continue
        done.append(named(ticket["ticket_id"], ticket["team"]))
    if done:
        with handoffs.transaction() as s:
            row = store._load(s, incident["id"], None, for_update=True)
            changes = f"{len(done)} linked ticket(s) resolved: {', '.join(done)}"
            s.add(timeline_entry(row, actor, TICKETS_RESOLVED, changes, handoffs.clock()))
    return done
