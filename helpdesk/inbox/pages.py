"""Routes of the agent inbox pages: login, list, detail, and the action forms.

Every POST checks the CSRF token first, then validates like the JSON API
(same pydantic models, same store calls), then redirects (post/redirect/get),
so a reload never repeats an action.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from helpdesk.attachments.store import AttachmentStore
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.api import detail
from helpdesk.handoffs.errors import StoreError, TicketNotFound
from helpdesk.handoffs.models import PRIORITIES, STATUSES
from helpdesk.handoffs.moves import escalate, reassign, reassign_targets
from helpdesk.handoffs.schemas import NoteIn, ReasonIn, ResolveIn
from helpdesk.handoffs.store import SORTS
from helpdesk.i18n import LANGUAGES, desk_language, msg
from helpdesk.inbox import assist, security
from helpdesk.inbox.drafts import write_draft
from helpdesk.inbox.routed import RECENT, routed_elsewhere
from helpdesk.inbox.sessions import Limit
from helpdesk.incidents import links
from helpdesk.incidents.store import IncidentNotFound, IncidentStore
from helpdesk.mail.store import MailStore
from helpdesk.ratings.store import RatingStore
from helpdesk.web import AgentContext, AgentDep, forged, render

router = APIRouter(prefix="/agent", include_in_schema=False)
log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    # Only paths inside the inbox: no open redirect to another site.
    if target and target.startswith("/agent") and not target.startswith("//"):
        return target
    return "/agent"


# Growing delays after failed logins (helpdesk/inbox/sessions.py): an account waits at most a minute,
# a browser that logged in as that account before is slowed only by its own failures.
ACCOUNT_LIMIT = Limit(free=5, base=1.0, cap=60.0)
DEVICE_LIMIT = Limit(free=5, base=1.0, cap=300.0)
ADDRESS_LIMIT = Limit(free=20, base=1.0, cap=300.0)


def login_form(
    request: Request, next: str | None, username: str = "", error: str | None = None, chosen: str | None = None
) -> HTMLResponse:
    """The login page, in the language ``chosen`` with its switch (``?lang=``), else the browser's."""
    token = security.new_token()
    chosen = chosen if chosen in LANGUAGES else None
    response = render(
        request,
        "login.html",
        status.HTTP_401_UNAUTHORIZED if error else 200,
        lang=desk_language(request, None, chosen),
        agent=None,
        error=error,
        next=safe_next(next),
        username=username,
        csrf_token=token,
        chosen=chosen,
    )
    security.set_login_csrf(request, response, token)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None, lang: str | None = None) -> HTMLResponse:
    return login_form(request, next, chosen=lang)


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/agent"),
    lang: str = Form(""),
) -> Response:
    if not security.check_login_csrf(request, csrf_token):
        return forged(request)
    throttle = security.login_throttle(request)
    username = username[:64]
    user_key, address_key = f"user:{username.lower()}", f"ip:{request.client.host if request.client else '-'}"
    device = security.device_key(request, username)
    limits = {device: DEVICE_LIMIT} if device else {user_key: ACCOUNT_LIMIT, address_key: ADDRESS_LIMIT}
    wait = math.ceil(await run_in_threadpool(throttle.retry_after, limits))
    if wait > 0:
        # Refused before the password is looked at: a guess during the delay tells nothing.
        refused = msg("Too many failed logins. Try again in %(seconds)s seconds.", seconds=wait)
        response = login_form(request, next, username, refused, lang)
        response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
        response.headers["Retry-After"] = str(wait)
        return response
    agent = await run_in_threadpool(request.app.state.handoffs.authenticate, username, password[:1024])
    if agent is None:
        await run_in_threadpool(throttle.failed, user_key, address_key, *([device] if device else []))
        return login_form(request, next, username, msg("Unknown user or wrong password."), lang)
    await run_in_threadpool(throttle.succeeded, user_key, *([device] if device else []))
    if lang in LANGUAGES and lang != agent.language:  # chosen on the login page: kept in the profile
        await run_in_threadpool(request.app.state.handoffs.set_language, agent.username, lang)
    redirect = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    await run_in_threadpool(security.start_session, request, redirect, agent.id, agent.username)
    return redirect


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    session = security.read_session(request)
    if session is not None and not security.check_csrf(session, csrf_token):
        return forged(request)
    response = RedirectResponse("/agent/login", status.HTTP_303_SEE_OTHER)
    security.end_session(request, response)
    return response


@router.post("/language")
def choose_language(
    request: Request, who: AgentDep, csrf_token: str = Form(""), language: str = Form(""), next: str = Form("/agent")
) -> Response:
    """The language switch of every page: the agent's choice, kept in their profile."""
    agent, session = who
    if not security.check_csrf(session, csrf_token):
        return forged(request)
    if language not in LANGUAGES:
        problem = msg(
            "Unknown language %(language)r: the desk speaks %(known)s.",
            language=language[:20],
            known=", ".join(LANGUAGES),
        )
        return render(request, "error.html", 400, agent=agent, csrf_token=session.csrf, message=problem)
    request.app.state.handoffs.set_language(agent.username, language)
    return RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)


def visible_teams(request: Request, agent: AgentInfo) -> list[str]:
    teams = request.app.state.routing.teams
    return [t for t in teams if agent.may_see(t)]


@router.get("")
def inbox(
    request: Request,
    who: AgentDep,
    status_: str = Query("open", alias="status"),
    team: str = "",
    priority: str = "",
    q: str = Query("", max_length=200),
    sort: str = "due",
) -> HTMLResponse:
    agent, session = who
    routing = request.app.state.routing
    errors = []
    if status_ not in (*STATUSES, "open", ""):
        errors.append(msg("unknown status %(value)r", value=status_))
    if team and team != "mine" and not routing.has_team(team):
        errors.append(msg("unknown team %(value)r", value=team))
    if priority and priority not in PRIORITIES:
        errors.append(msg("unknown priority %(value)r", value=priority))
    if sort not in SORTS:
        errors.append(msg("unknown sort %(value)r", value=sort))
    teams = agent.teams if team == "mine" else (team or None)
    items = (
        []
        if errors
        else request.app.state.handoffs.list_handoffs(
            status=status_ or None, team=teams, priority=priority or None, teams=agent.scope, q=q, sort=sort
        )
    )
    filters = {"status": status_, "team": team, "priority": priority, "q": q, "sort": sort}
    waiting = request.app.state.handoffs.waiting(h["ticket_id"] for h in items)
    incidents = IncidentStore(request.app.state.handoffs)
    # Where the tickets of the teams shown went: the filter's team, else the agent's own teams; never
    # the tickets of a team outside the agent's scope.
    home_teams = [t for t in ([team] if team and team != "mine" else agent.teams) if agent.may_see(t)]
    elsewhere = [] if errors else routed_elsewhere(request.app.state.handoffs, routing, home_teams, agent.scope)
    return render(
        request,
        "inbox.html",
        400 if errors else 200,
        agent=agent,
        csrf_token=session.csrf,
        items=items,
        errors=errors,
        waiting=waiting,
        elsewhere=elsewhere,
        elsewhere_days=RECENT.days,
        home_teams=home_teams,
        incidents=links.titles(incidents, (h["incident_id"] for h in items), agent.scope),
        filters=filters,
        statuses=STATUSES,
        priorities=PRIORITIES,
        sorts=SORTS,
        teams=visible_teams(request, agent),
    )


def no_such_ticket(request: Request, agent: AgentInfo, session: security.Session, ticket_id: str) -> HTMLResponse:
    """The 404 of a ticket that does not exist, or that the agent's teams may not see: the same page."""
    return render(
        request,
        "error.html",
        404,
        agent=agent,
        csrf_token=session.csrf,
        message=msg("There is no handoff %(ticket)s.", ticket=ticket_id),
    )


def detail_page(
    request: Request,
    agent: AgentInfo,
    session: security.Session,
    ticket_id: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        view = detail(request.app.state, ticket_id, agent)
    except TicketNotFound:
        return no_such_ticket(request, agent, session, ticket_id)
    routing = request.app.state.routing
    problem = None
    try:
        found = assist.suggestions(request.app.state, view, request.app.state.settings.public_base_url)
    except Exception:
        log.exception("agent assist failed for %s", view["ticket_id"])
        found, problem = [], msg("Knowledge search is not available right now.")
    files = MailStore(request.app.state.handoffs).attachments(view["ticket_id"]) if view["channel"] == "email" else []
    chat_files = AttachmentStore(request.app.state.handoffs, request.app.state.settings.attachments.directory)
    incidents = IncidentStore(request.app.state.handoffs)
    return render(
        request,
        "detail.html",
        status_code,
        agent=agent,
        csrf_token=session.csrf,
        h=view,
        error=error,
        reassign_teams=reassign_targets(routing, agent, view["team"]),
        attachments=files,
        chat_files=chat_files.for_ticket(view["ticket_id"]),
        escalation_team=routing.escalation_team,
        suggestions=found,
        suggestions_problem=problem,
        incident=links.titles(incidents, [view["incident_id"]], agent.scope).get(view["incident_id"]),
        active_incidents=incidents.list("active", agent.scope),
        ratings=RatingStore(request.app.state.handoffs).of_ticket(view["ticket_id"]),
    )


@router.get("/handoffs/{ticket_id}")
def handoff_page(ticket_id: str, request: Request, who: AgentDep) -> HTMLResponse:
    agent, session = who
    return detail_page(request, agent, session, ticket_id)


async def act(
    request: Request,
    who: AgentContext,
    ticket_id: str,
    csrf_token: str,
    done: str,
    action: Callable[[AgentInfo], Any],
    said: dict[str, str] | None = None,
) -> Response:
    """Run a form's ``action``; then back to the ticket with ``done`` (a key of ``web.DONE``) and ``said``
    (what its sentence names: a team, a file), or the ticket's page with what went wrong."""
    agent, session = who
    if not security.check_csrf(session, csrf_token):
        return forged(request)
    lang = desk_language(request, agent)
    try:
        await run_in_threadpool(action, agent)
    except ValidationError as exc:
        return detail_page(request, agent, session, ticket_id, error=lang.problem(exc), status_code=422)
    except HTTPException as exc:
        return detail_page(request, agent, session, ticket_id, error=lang.problem(exc), status_code=exc.status_code)
    except TicketNotFound:
        return detail_page(request, agent, session, ticket_id)
    except StoreError as exc:
        return detail_page(request, agent, session, ticket_id, error=lang.problem(exc), status_code=409)
    return RedirectResponse(
        f"/agent/handoffs/{quote(ticket_id)}?{urlencode({'done': done, **(said or {})})}", status.HTTP_303_SEE_OTHER
    )


@router.post("/handoffs/{ticket_id}/claim")
async def claim(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form("")):
    store = request.app.state.handoffs
    return await act(
        request,
        who,
        ticket_id,
        csrf_token,
        "claimed",
        lambda agent: store.claim(ticket_id, agent.username, agent.scope),
    )


@router.post("/handoffs/{ticket_id}/note")
async def note(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form(""), text: str = Form("")):
    store = request.app.state.handoffs
    return await act(
        request,
        who,
        ticket_id,
        csrf_token,
        "note added",
        lambda agent: store.add_note(ticket_id, agent.username, NoteIn(text=text).text, agent.scope),
    )


@router.post("/handoffs/{ticket_id}/incident")
async def incident_link(
    ticket_id: str,
    request: Request,
    who: AgentDep,
    csrf_token: str = Form(""),
    incident_id: int = Form(0),
    unlink: str = Form(""),
):
    """Link the ticket to an active incident, or (``unlink``) remove its link."""

    def run(agent: AgentInfo) -> None:
        try:
            store = IncidentStore(request.app.state.handoffs)
            links.change(store, incident_id, ticket_id, agent.username, not unlink, agent.scope, agent.scope)
        except (IncidentNotFound, links.NotLinked) as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None

    return await act(request, who, ticket_id, csrf_token, "unlinked" if unlink else "linked", run)


@router.post("/handoffs/{ticket_id}/resolve")
async def resolve(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form(""), note: str = Form("")):
    store = request.app.state.handoffs
    return await act(
        request,
        who,
        ticket_id,
        csrf_token,
        "resolved",
        lambda agent: store.resolve(ticket_id, agent.username, ResolveIn(note=note).note, agent.scope),
    )


@router.post("/handoffs/{ticket_id}/escalate")
async def escalate_form(
    ticket_id: str,
    request: Request,
    who: AgentDep,
    csrf_token: str = Form(""),
    reason: str = Form(""),
):
    def run(agent: AgentInfo):
        return escalate(request.app.state, ticket_id, agent, ReasonIn(reason=reason).reason)

    return await act(request, who, ticket_id, csrf_token, "escalated", run)


@router.post("/handoffs/{ticket_id}/reassign")
async def reassign_form(
    ticket_id: str,
    request: Request,
    who: AgentDep,
    csrf_token: str = Form(""),
    reason: str = Form(""),
    team: str = Form(""),
):
    def run(agent: AgentInfo):
        return reassign(request.app.state, ticket_id, agent, ReasonIn(reason=reason).reason, team or None)

    return await act(request, who, ticket_id, csrf_token, "reassigned", run, {"team": team})


@router.post("/handoffs/{ticket_id}/draft")
async def draft(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form("")):
    """'Draft an article from this ticket' (resolved tickets): writes <drafts_dir>/<lang>/<slug>.md."""
    state = request.app.state
    written = []

    def run(agent: AgentInfo):
        view = detail(state, ticket_id, agent)
        written.append(
            write_draft(view, state.settings.drafts_dir, state.settings.articles_dir, state.search.index.articles)
        )
        log.info("article draft %s written from %s by %s", written[0].path, view["ticket_id"], agent.username)

    response = await act(request, who, ticket_id, csrf_token, "draft", run)
    if written and response.status_code == status.HTTP_303_SEE_OTHER:
        done = {"done": "draft", "draft": str(written[0].path)}  # the path is known once it ran
        response.headers["location"] = f"/agent/handoffs/{quote(ticket_id)}?{urlencode(done)}"
    return response
