"""The inbox list, live: ``GET /agent/events`` streams the open tickets of the agent's teams.

Server-Sent Events instead of a page that reloads itself (a meta refresh steals
keyboard focus and rereads the page for a screen reader): the stream sends an
``inbox`` event with the open tickets (id, status, priority, team, whether a
customer is waiting) whenever that changes, and ``agent-inbox.js`` updates the
table, the badge and an alert. Like the live chat's streams it is woken at once
by a change of any ticket (change notices: PostgreSQL LISTEN/NOTIFY across
replicas), re-reads at least every ``POLL_SECONDS``, ends
after ``STREAM_SECONDS`` (EventSource reconnects), and stops as soon as the
session ends. Every beat reads the agent again: a new role or team applies at once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from helpdesk.handoffs.changes import ANY_TICKET
from helpdesk.handoffs.store import HandoffStore
from helpdesk.inbox import security
from helpdesk.web import StreamingAgentDep, event, sse

STREAM_SECONDS = 55.0
POLL_SECONDS = 2.0  # at the latest, even without a change notice: a logout ends the stream by then
router = APIRouter(include_in_schema=False)


def snapshot(store: HandoffStore, request: Request) -> dict[str, Any] | None:
    """The open tickets the session's agent may see now; None when the session has ended."""
    session = security.read_session(request, touch=False)
    agent = store.agent(session.agent_id) if session else None
    if agent is None:
        return None
    items = store.list_handoffs(status="open", teams=agent.scope, limit=500)
    waiting = store.waiting(h["ticket_id"] for h in items)
    tickets = [
        {
            "ticket_id": h["ticket_id"],
            "status": h["status"],
            "priority": h["priority"],
            "team": h["team"],
            "waiting": h["ticket_id"] in waiting,
        }
        for h in items
    ]
    return {
        "tickets": tickets,
        "open": len(tickets),
        "new": sum(t["status"] == "new" for t in tickets),
        "waiting": len(waiting),
    }


@router.get("/agent/events")
async def inbox_events(request: Request, who: StreamingAgentDep) -> StreamingResponse:
    store: HandoffStore = request.app.state.handoffs
    changes = request.app.state.ticket_changes

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        last = None
        deadline = time.monotonic() + STREAM_SECONDS
        with changes.subscribe(ANY_TICKET) as subscription:  # woken by any ticket's change notice
            while time.monotonic() < deadline:
                current = await run_in_threadpool(snapshot, store, request)
                if current is None:
                    return
                if current != last:
                    last = current
                    yield event("inbox", current)
                yield ": keep-alive\n\n"
                if await request.is_disconnected():
                    return
                await subscription.wait(POLL_SECONDS)

    return sse(stream())
