"""What the desk's pages behind the agent login share: templates, headers, the logged-in agent, event streams.

The inbox, the incident pages, the e-mail channel's forms, the reports and the
agent's side of the live chat are server-rendered pages under ``/agent`` with one
look (the templates in ``helpdesk/inbox/templates``: ``base.html``, ``error.html``),
one set of security headers and one login (its cookies and CSRF tokens:
``helpdesk.inbox.security``). A page takes the logged-in agent as ``AgentDep``
(``current_agent``: nobody logged in goes to the login page), an event stream as
``StreamingAgentDep`` (``streaming_agent``: 401); ``event`` and ``sse`` write the
streams.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NamedTuple
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from helpdesk.db import utcnow
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.inbox import security
from helpdesk.inbox.transcript import render_message, render_transcript

# autoescape=True for every template: customer text is never markup.
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(Path(__file__).parent / "inbox" / "templates"), autoescape=True)
)
# Second line of defence behind autoescape: no inline or foreign scripts, no framing (clickjacking of the
# action buttons), forms post only here, and pages with customer data are not cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def duration(minutes: float) -> str:
    minutes = int(abs(minutes))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


def age(moment: datetime | None) -> str:
    return duration((utcnow() - moment).total_seconds() / 60) if moment else "-"


def countdown(due: datetime | None, state: str, promised: datetime | None = None) -> dict[str, str]:
    """The response countdown of a ticket: its text and CSS class. A due time later than the response
    time ``promised`` to the customer (an escalation's longer target) is late however far away it is."""
    if due is None or state == "resolved":
        return {"text": "-", "css": "done"}
    minutes = (due - utcnow()).total_seconds() / 60
    if minutes < 0:
        return {"text": f"overdue {duration(minutes)}", "css": "overdue"}
    text = f"due in {duration(minutes)}"
    if promised is not None:
        past_promise = (due - promised).total_seconds() / 60
        if past_promise >= 1:
            return {"text": f"{text}, {duration(past_promise)} after the customer's promise", "css": "overdue"}
    return {"text": text, "css": "soon" if minutes < 15 else "ok"}


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    tz = request.app.state.routing.tz
    context.update(
        local=lambda moment: moment.astimezone(tz).strftime("%a %d %b %H:%M") if moment else "-",
        tz_name=tz.key,
        age=age,
        countdown=countdown,
        render_message=render_message,
        render_transcript=render_transcript,
    )
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": f"/agent/login?next={quote(target)}"})


BACKGROUND_HEADER = "x-helpdesk-background"  # agent-inbox.js's redraws: not the agent's activity


class AgentContext(NamedTuple):
    """The logged-in agent of a request and their login (whose CSRF token the forms carry)."""

    agent: AgentInfo
    session: security.Session


def current_agent(request: Request) -> AgentContext:
    session = security.read_session(request, touch=request.headers.get(BACKGROUND_HEADER) != "1")
    agent = request.app.state.handoffs.agent(session.agent_id) if session else None
    if agent is None or session is None:
        raise login_redirect(request)
    return AgentContext(agent, session)


def streaming_agent(request: Request) -> AgentContext:
    """Like ``current_agent`` for event streams: they do not count as activity, and answer 401, not a redirect."""
    session = security.read_session(request, touch=False)
    agent = request.app.state.handoffs.agent(session.agent_id) if session else None
    if agent is None or session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not logged in")
    return AgentContext(agent, session)


AgentDep = Annotated[AgentContext, Depends(current_agent)]
StreamingAgentDep = Annotated[AgentContext, Depends(streaming_agent)]


def forged(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status.HTTP_403_FORBIDDEN,
        agent=None,
        message="The form's security token is missing or wrong (CSRF check failed). "
        "Nothing was changed. Reload the page and try again.",
    )


def event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse(generator: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        generator, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
