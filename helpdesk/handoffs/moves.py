"""Moving a ticket to another team: escalation and reassignment, two actions with their own rules.

- *Escalation* hands a ticket up to the routing file's ``escalation_team`` (the experts): its
  status becomes "escalated". Every agent who sees the ticket may escalate it.
- *Reassignment* gives it to another team without escalating it: it is "new" there, nobody
  assigned. A supervisor or admin may reassign to any team, an agent between their own teams;
  the expert team is reached by escalation only.

Both are shared by the JSON API and the workspace's forms, checked in the same order (a ticket
outside the caller's teams is a 404 first, then the team, then the caller's right), recorded in
the ticket's history with the reason (``escalated`` / ``reassigned``, from and to which team),
notify the new team ("handoff.escalated" / "handoff.reassigned"), restart the agents' countdown
with the new team's response time and, when that changes the time the customer was told, tell
the customer (``notice``), all in one transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from helpdesk.db import utcnow
from helpdesk.handoffs import notice
from helpdesk.handoffs.access import check_reassignment, may_reassign
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.i18n import msg


def check_team(routing: RoutingConfig, team: str | None) -> str | None:
    if team and not routing.has_team(team):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            msg("unknown team %(team)r (teams: %(known)s)", team=team, known=", ".join(routing.teams)),
        )
    return team or None


def reassign_targets(routing: RoutingConfig, agent: AgentInfo, current: str) -> list[str]:
    """The teams ``agent`` may reassign a ticket of team ``current`` to, in the order offered: the agent's
    own teams, then the teams the routing file gives categories to, then the rest (on-call); never the
    ticket's team or the expert team (that is an escalation)."""
    ordinary = dict.fromkeys(routing.categories.values())
    ranked = sorted(routing.teams, key=lambda t: (t not in agent.teams, t not in ordinary))
    allowed = ranked if may_reassign(agent) else [t for t in ranked if t in agent.teams]
    return [t for t in allowed if t not in (current, routing.escalation_team)]


def move(state: Any, current: dict[str, Any], agent: AgentInfo, reason: str, team: str, action: str) -> dict[str, Any]:
    """Move the ticket ``current`` (its view) to ``team`` with the new team's response time."""
    routing: RoutingConfig = state.routing
    ticket_id = current["ticket_id"]
    sla = routing.expected_for_team(team, current["priority"], utcnow()).due_at
    moved: dict[str, Any] = state.handoffs.move(
        ticket_id,
        agent.username,
        reason,
        team,
        sla,
        action,
        state.notify.plan(routing, team),
        teams=agent.scope,
        also=lambda s, handoff, now: notice.tell(state, s, handoff, action, sla, now),
    )
    return moved


def escalate(state: Any, ticket_id: str, agent: AgentInfo, reason: str, team: str | None = None) -> dict[str, Any]:
    """Escalate to the expert team; ``team``, if given, must be it (another team is a reassignment)."""
    routing: RoutingConfig = state.routing
    current = state.handoffs.get(ticket_id, teams=agent.scope)  # 404 first: no hint about other teams
    team = check_team(routing, team) or routing.escalation_team
    if team != routing.escalation_team:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            msg(
                "escalation goes to the expert team %(experts)r; to move the ticket to team %(team)r without "
                "escalating it, reassign it (POST /agent/api/handoffs/{ticket_id}/reassign)",
                experts=routing.escalation_team,
                team=team,
            ),
        )
    return move(state, current, agent, reason, team, "escalated")


def reassign(state: Any, ticket_id: str, agent: AgentInfo, reason: str, team: str | None) -> dict[str, Any]:
    """Reassign to ``team`` without escalating."""
    routing: RoutingConfig = state.routing
    current = state.handoffs.get(ticket_id, teams=agent.scope)
    team = check_team(routing, team)
    if team is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, msg("team: choose the team to reassign the ticket to")
        )
    if team == routing.escalation_team:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            msg("team %(team)r is the expert team: escalate the ticket instead (POST …/escalate)", team=team),
        )
    check_reassignment(agent, team)
    return move(state, current, agent, reason, team, "reassigned")
