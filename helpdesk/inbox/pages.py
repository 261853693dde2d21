"""Routes of the agent inbox pages: login, list, detail, and the action forms.

Every POST checks the CSRF token first, then validates like the JSON API
(same pydantic models, same store calls), then redirects (post/redirect/get),
so a reload never repeats an action.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import ValidationError

from helpdesk.handoffs.api import detail, escalate
from helpdesk.handoffs.models import PRIORITIES, STATUSES
from helpdesk.handoffs.schemas import EscalateIn, NoteIn, ResolveIn
from helpdesk.handoffs.store import AgentInfo, StoreError, TicketNotFound, utcnow
from helpdesk.inbox import security

# autoescape=True for every template: customer text is never markup.
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                                            autoescape=True))
router = APIRouter(prefix="/agent", include_in_schema=False)
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


def countdown(due: datetime | None, state: str) -> dict[str, str]:
    if due is None or state == "resolved":
        return {"text": "-", "css": "done"}
    minutes = (due - utcnow()).total_seconds() / 60
    if minutes < 0:
        return {"text": f"overdue {duration(minutes)}", "css": "overdue"}
    return {"text": f"due in {duration(minutes)}", "css": "soon" if minutes < 15 else "ok"}


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    tz = request.app.state.routing.tz
    context.update(
        local=lambda moment: moment.astimezone(tz).strftime("%a %d %b %H:%M") if moment else "-",
        tz_name=tz.key, age=age, countdown=countdown,
    )
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": f"/agent/login?next={quote(target)}"})


def current_agent(request: Request) -> tuple[AgentInfo, security.Session]:
    session = security.read_session(request)
    agent = request.app.state.handoffs.agent(session.agent_id) if session else None
    if agent is None or session is None:
        raise login_redirect(request)
    return agent, session


def forged(request: Request) -> HTMLResponse:
    return render(request, "error.html", status.HTTP_403_FORBIDDEN, agent=None,
                  message="The form's security token is missing or wrong (CSRF check failed). "
                          "Nothing was changed. Reload the page and try again.")


def safe_next(target: str | None) -> str:
    # Only paths inside the inbox: no open redirect to another site.
    if target and target.startswith("/agent") and not target.startswith("//"):
        return target
    return "/agent"


MAX_FAILED_LOGINS_PER_USER = 5  # in security.LoginThrottle's window (5 minutes)
MAX_FAILED_LOGINS_PER_ADDRESS = 20


def login_throttle(request: Request) -> security.LoginThrottle:
    state = request.app.state
    if getattr(state, "login_throttle", None) is None:
        state.login_throttle = security.LoginThrottle()
    return state.login_throttle


def login_form(request: Request, next: str | None, username: str = "", error: str | None = None) -> HTMLResponse:
    token = security.new_token()
    response = render(request, "login.html", status.HTTP_401_UNAUTHORIZED if error else 200, agent=None,
                      error=error, next=safe_next(next), username=username, csrf_token=token)
    security.set_login_csrf(request, response, token)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return login_form(request, next)


@router.post("/login")
async def login(request: Request, username: str = Form(""), password: str = Form(""),
                csrf_token: str = Form(""), next: str = Form("/agent")) -> Response:
    if not security.check_login_csrf(request, csrf_token):
        return forged(request)
    throttle = login_throttle(request)
    user_key = f"user:{username[:64].lower()}"
    limits = {user_key: MAX_FAILED_LOGINS_PER_USER, f"ip:{request.client.host if request.client else '-'}":
              MAX_FAILED_LOGINS_PER_ADDRESS}
    wait = throttle.retry_after(limits)
    if wait:
        response = login_form(request, next, username[:64],
                              f"Too many failed logins. Try again in {wait // 60 + 1} minutes.")
        response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
        response.headers["Retry-After"] = str(wait)
        return response
    agent = await run_in_threadpool(request.app.state.handoffs.authenticate, username[:64], password[:1024])
    if agent is None:
        throttle.failed(*limits)
        return login_form(request, next, username[:64], "Unknown user or wrong password.")
    throttle.succeeded(user_key)
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    security.start_session(request, response, agent.id)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    session = security.read_session(request)
    if session is not None and not security.check_csrf(session, csrf_token):
        return forged(request)
    response = RedirectResponse("/agent/login", status.HTTP_303_SEE_OTHER)
    security.end_session(response)
    return response


@router.get("")
def inbox(request: Request, who=Depends(current_agent), status_: str = Query("open", alias="status"),
          team: str = "", priority: str = "") -> HTMLResponse:
    agent, session = who
    routing = request.app.state.routing
    errors = []
    if status_ not in (*STATUSES, "open", ""):
        errors.append(f"unknown status {status_!r}")
    if team and team != "mine" and not routing.has_team(team):
        errors.append(f"unknown team {team!r}")
    if priority and priority not in PRIORITIES:
        errors.append(f"unknown priority {priority!r}")
    teams = agent.teams if team == "mine" else (team or None)
    items = [] if errors else request.app.state.handoffs.list(status=status_ or None, team=teams,
                                                              priority=priority or None)
    return render(request, "inbox.html", 400 if errors else 200, agent=agent, csrf_token=session.csrf,
                  items=items, errors=errors, filters={"status": status_, "team": team, "priority": priority},
                  statuses=STATUSES, priorities=PRIORITIES, teams=list(routing.teams))


def detail_page(request: Request, agent: AgentInfo, session: security.Session, ticket_id: str,
                error: str | None = None, status_code: int = 200) -> HTMLResponse:
    try:
        view = detail(request.app.state, ticket_id)
    except TicketNotFound:
        return render(request, "error.html", 404, agent=agent, csrf_token=session.csrf,
                      message=f"There is no handoff {ticket_id}.")
    routing = request.app.state.routing
    return render(request, "detail.html", status_code, agent=agent, csrf_token=session.csrf, h=view,
                  error=error, done=request.query_params.get("done"), teams=list(routing.teams),
                  escalation_team=routing.escalation_team)


@router.get("/handoffs/{ticket_id}")
def handoff_page(ticket_id: str, request: Request, who=Depends(current_agent)) -> HTMLResponse:
    return detail_page(request, *who, ticket_id)


async def act(request: Request, who, ticket_id: str, csrf_token: str, done: str, action) -> Response:
    agent, session = who
    if not security.check_csrf(session, csrf_token):
        return forged(request)
    try:
        await run_in_threadpool(action, agent)
    except ValidationError as exc:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return detail_page(request, agent, session, ticket_id, error=message, status_code=422)
    except HTTPException as exc:
        return detail_page(request, agent, session, ticket_id, error=str(exc.detail), status_code=exc.status_code)
    except TicketNotFound:
        return detail_page(request, agent, session, ticket_id)
    except StoreError as exc:
        return detail_page(request, agent, session, ticket_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/agent/handoffs/{quote(ticket_id)}?{urlencode({'done': done})}",
                            status.HTTP_303_SEE_OTHER)


@router.post("/handoffs/{ticket_id}/claim")
async def claim(ticket_id: str, request: Request, who=Depends(current_agent), csrf_token: str = Form("")):
    store = request.app.state.handoffs
    return await act(request, who, ticket_id, csrf_token, "claimed",
                     lambda agent: store.claim(ticket_id, agent.username))


@router.post("/handoffs/{ticket_id}/note")
async def note(ticket_id: str, request: Request, who=Depends(current_agent), csrf_token: str = Form(""),
               text: str = Form("")):
    store = request.app.state.handoffs
    return await act(request, who, ticket_id, csrf_token, "note added",
                     lambda agent: store.add_note(ticket_id, agent.username, NoteIn(text=text).text))


@router.post("/handoffs/{ticket_id}/resolve")
async def resolve(ticket_id: str, request: Request, who=Depends(current_agent), csrf_token: str = Form(""),
                  note: str = Form("")):
    store = request.app.state.handoffs
    return await act(request, who, ticket_id, csrf_token, "resolved",
                     lambda agent: store.resolve(ticket_id, agent.username, ResolveIn(note=note).note))


@router.post("/handoffs/{ticket_id}/escalate")
async def escalate_form(ticket_id: str, request: Request, who=Depends(current_agent), csrf_token: str = Form(""),
                        reason: str = Form(""), team: str = Form("")):
    def run(agent: AgentInfo):
        body = EscalateIn(reason=reason, team=team or None)
        return escalate(request.app.state, ticket_id, agent, body.reason, body.team)

    return await act(request, who, ticket_id, csrf_token, "escalated", run)
