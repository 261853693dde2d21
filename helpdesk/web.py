"""What the desk's pages behind the agent login share: templates, headers, the logged-in agent, event streams.

The inbox, the incident pages, the e-mail channel's forms, the reports and the
agent's side of the live chat are server-rendered pages under ``/agent`` with one
look (the templates in ``helpdesk/inbox/templates``: ``base.html``, ``error.html``)
in the agent's language (``helpdesk.i18n``), one set of security headers and one login (its cookies and CSRF tokens:
``helpdesk.inbox.security``). A page takes the logged-in agent as ``AgentDep``
(``current_agent``: nobody logged in goes to the login page), an event stream as
``StreamingAgentDep`` (``streaming_agent``: 401); ``event`` and ``sse`` write the
streams.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NamedTuple
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from helpdesk.db import utcnow
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.i18n import N_, DeskLanguage, desk_language, msg
from helpdesk.i18n.catalogs import LANGUAGE_NAMES
from helpdesk.i18n.templates import desk_environment
from helpdesk.inbox import security
from helpdesk.inbox.transcript import render_message, render_transcript

# Autoescape for every template (customer text is never markup), jinja2.ext.i18n in the reader's language.
# The reports' templates extend the inbox's base.html.
templates = Jinja2Templates(
    env=desk_environment(Path(__file__).parent / "inbox" / "templates", Path(__file__).parent / "reports" / "templates")
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
# What a form did, named by its redirect (``?done=<key>``); the page says it in the agent's language.
DONE = {
    key: msg(key)
    for key in (
        N_("claimed"),
        N_("note added"),
        N_("resolved"),
        N_("escalated"),
        N_("linked"),
        N_("unlinked"),
        N_("reply sent by e-mail"),
        N_("live chat started"),
        N_("message sent"),
        N_("handed back to the bot"),
        N_("chat closed and ticket resolved"),
        N_("declared"),
        N_("updated"),
    )
}
DRAFT_DONE = N_("article draft written to %(path)s (drafts folder); check it, then move it to the articles")
REASSIGNED_DONE = N_("reassigned to %(team)s")
BOT_UNTOLD = N_("the bot could not be told, so it stays silent in this chat")


def confirmation(lang: DeskLanguage, query: Mapping[str, str]) -> str | None:
    """The page's "Done: ..." for the redirect of a form (``done``, with ``draft``, ``team`` or ``bot=untold``)."""
    key = query.get("done", "")
    if key == "draft" and query.get("draft"):
        what = lang.gettext(DRAFT_DONE, path=query["draft"])
    elif key == "reassigned" and query.get("team"):
        what = lang.gettext(REASSIGNED_DONE, team=query["team"])
    elif key in DONE:
        what = lang.say(DONE[key])
    else:
        return None
    if query.get("bot") == "untold":
        what = f"{what}; {lang.gettext(BOT_UNTOLD)}"
    return lang.gettext("Done: %(what)s.", what=what)


def age(lang: DeskLanguage, moment: datetime | None) -> str:
    return lang.duration((utcnow() - moment).total_seconds() / 60) if moment else "-"


def countdown(lang: DeskLanguage, due: datetime | None, state: str, promised: datetime | None = None) -> dict[str, str]:
    """The response countdown of a ticket: its text and CSS class. A due time later than the response
    time ``promised`` to the customer (an escalation's longer target) is late however far away it is."""
    if due is None or state == "resolved":
        return {"text": "-", "css": "done"}
    minutes = (due - utcnow()).total_seconds() / 60
    if minutes < 0:
        return {"text": lang.gettext("overdue %(time)s", time=lang.duration(minutes)), "css": "overdue"}
    text = lang.gettext("due in %(time)s", time=lang.duration(minutes))
    if promised is not None:
        past_promise = (due - promised).total_seconds() / 60
        if past_promise >= 1:
            late = lang.gettext(
                "%(countdown)s, %(time)s after the customer's promise", countdown=text, time=lang.duration(past_promise)
            )
            return {"text": late, "css": "overdue"}
    return {"text": text, "css": "soon" if minutes < 15 else "ok"}


def current_page(request: Request) -> str:
    """Where the language switch comes back to: this page; after a form's post, the page the form was on."""
    url = request.url if request.method == "GET" else urlsplit(request.headers.get("referer", ""))
    if not url.path.startswith("/agent"):
        return "/agent"
    return url.path + (f"?{url.query}" if url.query else "")


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A desk page in its reader's language: ``lang`` when the route chose it, else the agent's
    (``agent`` in the context) or the browser's."""
    lang = context.get("lang") or desk_language(request, context.get("agent"))
    context.update(
        lang=lang,
        local=lang.moment,
        tz_name=request.app.state.routing.tz.key,
        age=partial(age, lang),
        countdown=partial(countdown, lang),
        render_message=render_message,
        render_transcript=render_transcript,
        languages_offered=LANGUAGE_NAMES,
        here=current_page(request),
    )
    context.setdefault("done", confirmation(lang, request.query_params))
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = lang.code
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
        message=msg(
            "The form's security token is missing or wrong (CSRF check failed). "
            "Nothing was changed. Reload the page and try again."
        ),
    )


def event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse(generator: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        generator, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
