"""Where a team's tickets went: the inbox's "recently routed elsewhere" list.

The routing file gives each category a team, yet a ticket of that category can end up with
another one: the on-call rule takes an urgent ticket its team cannot answer in time (outside
office hours, or too close to closing time), and agents escalate or reassign. The team no longer
sees such a ticket in its list (team scope), so its inbox names the ones moved within ``RECENT``:
the ticket, the team it is with now and why, from the ticket's history and the routing file.
The why is the desk's own words, with the moving agent's reason only when the move took the
ticket from one of the teams (they had it and read it); the ticket is a link only for a viewer
who may open it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.db import as_utc, utcnow
from helpdesk.handoffs.models import Handoff, HandoffEvent
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.handoffs.store import HandoffStore, Scope
from helpdesk.i18n import N_, Text, msg, term

RECENT = timedelta(days=3)  # covers a weekend's on-call tickets on Monday morning
LIMIT = 20
MOVES = ("created", "escalated", "reassigned")
REASON_CHARS = 80
# (reassigned, escalated): who moved the ticket, with the reason when the team may read it.
MOVED = (N_("reassigned by %(agent)s, priority %(priority)s"), N_("escalated by %(agent)s, priority %(priority)s"))
MOVED_WITH_REASON = (
    N_("reassigned by %(agent)s: %(reason)s, priority %(priority)s"),
    N_("escalated by %(agent)s: %(reason)s, priority %(priority)s"),
)


@dataclass(frozen=True)
class RoutedElsewhere:
    ticket_id: str
    team: str  # the team it is with now
    status: str
    at: datetime  # when it went there
    why: Text  # English, in the reader's language with DeskLanguage.say
    visible: bool  # the viewer may open it


def why(routing: RoutingConfig, home: str, event: HandoffEvent, handoff: Handoff, teams: list[str]) -> Text:
    """The reason of the move ``event`` in the desk's words: the on-call rule's, or who moved it and why."""
    priority = term("priority", handoff.priority)
    if event.action == "created":
        if not handoff.on_call:
            return msg("routed to %(team)s, priority %(priority)s", team=event.to_team, priority=priority)
        local = as_utc(event.at).astimezone(routing.tz)
        if routing.teams[home].hours.is_open(local):
            return msg("on-call routing before closing time, priority %(priority)s", priority=priority)
        return msg("on-call routing outside office hours, priority %(priority)s", priority=priority)
    reason = " ".join((event.note or "").split()) if event.from_team in teams else ""
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 1] + "…"
    wording = MOVED_WITH_REASON if reason else MOVED
    return Text(wording[event.action == "escalated"], {"agent": event.actor, "reason": reason, "priority": priority})


def routed_elsewhere(
    store: HandoffStore, routing: RoutingConfig, teams: Iterable[str], scope: Scope, now: datetime | None = None
) -> list[RoutedElsewhere]:
    """The tickets the routing file gives to one of ``teams`` that went to another team within RECENT,
    newest first; ``scope``: the teams whose tickets the viewer may open (None: all)."""
    teams = [t for t in teams if routing.has_team(t)]
    categories = [c for c, team in routing.categories.items() if team in teams]
    if not categories:
        return []
    since = (now or utcnow()) - RECENT
    moved = (
        select(HandoffEvent.id)
        .where(HandoffEvent.handoff_id == Handoff.id, HandoffEvent.action.in_(MOVES), HandoffEvent.at >= since)
        .exists()
    )
    query = (
        select(Handoff)
        .where(Handoff.category.in_(categories), Handoff.team.not_in(teams), moved)
        .options(selectinload(Handoff.events))
        .order_by(Handoff.updated_at.desc(), Handoff.id.desc())
        .limit(LIMIT * 2)
    )
    found = []
    with store.transaction() as s:
        for handoff in s.scalars(query):
            last = next((e for e in reversed(handoff.events) if e.action in MOVES), None)
            if last is None or as_utc(last.at) < since or last.to_team != handoff.team:
                continue  # its history does not end with the move to its team now
            home = routing.categories[handoff.category]
            found.append(
                RoutedElsewhere(
                    handoff.ticket_id,
                    handoff.team,
                    handoff.status,
                    as_utc(last.at),
                    why(routing, home, last, handoff, teams),
                    scope is None or handoff.team in scope,
                )
            )
    found.sort(key=lambda r: r.at, reverse=True)
    return found[:LIMIT]
