"""Who may do what in the desk: the three roles and the team scope, decided in one place.

- ``agent``: the tickets of their own teams (list, read, claim, note, resolve, live chat,
  live stream), escalation to the routing file's expert team and reassignment between their
  own teams;
- ``supervisor``: every team's tickets, reassignment to any team, and the reports page;
- ``admin``: what a supervisor may, plus accounts and API tokens.

The same rules hold for the inbox pages (session cookie), the JSON API (bearer token: a
token carries its agent's role and teams, read on every request) and the live takeover.
A ticket outside an agent's teams does not exist for them: the store answers
``TicketNotFound`` (404, not 403), so probing ids tells nothing about other teams.
"""

from __future__ import annotations

from fastapi import HTTPException, status

from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.models import ROLES
from helpdesk.i18n import msg

__all__ = [
    "ROLES",
    "may_reassign",
    "may_administer",
    "may_see_reports",
    "require_admin",
    "check_reassignment",
    "check_incident_team",
]


def may_reassign(agent: AgentInfo) -> bool:
    return agent.role in ("supervisor", "admin")


def may_see_reports(agent: AgentInfo) -> bool:
    """The reports (helpdesk/reports) cover every team: supervisors and admins; an agent gets 403."""
    return agent.role in ("supervisor", "admin")


def may_administer(agent: AgentInfo) -> bool:
    return agent.role == "admin"


def require_admin(agent: AgentInfo) -> AgentInfo:
    if not may_administer(agent):
        raise HTTPException(status.HTTP_403_FORBIDDEN, msg("only an admin may manage accounts and tokens"))
    return agent


def check_reassignment(agent: AgentInfo, team: str) -> None:
    """An agent moves a ticket between their own teams; to any other team it is a supervisor's reassignment."""
    if team not in agent.teams and not may_reassign(agent):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            msg(
                "only a supervisor may reassign a ticket to team %(team)r; an agent reassigns between their own teams",
                team=team,
            ),
        )


def check_incident_team(agent: AgentInfo, team: str, category: str) -> None:
    """Incidents follow the tickets' team scope: an agent declares and changes them for the categories
    their teams own; supervisors and admins for every category."""
    if agent.scope is not None and team not in agent.scope:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            msg(
                "only a supervisor or an agent of team %(team)r may declare or change an "
                "incident of category %(category)r",
                team=team,
                category=category,
            ),
        )
