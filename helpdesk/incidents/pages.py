"""Inbox pages of known incidents: the list with the declaration form, one incident with its
timeline and the update form.

Like the ticket pages (helpdesk/inbox/pages.py): a session and a CSRF token on every POST, the
same pydantic models and checks as the JSON API (``api.declare``, ``api.update``), then a
redirect, so a reload never repeats an update. Times in the forms are the routing file's zone.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.errors import StoreError
from helpdesk.i18n import DeskLanguage, desk_language, msg, term
from helpdesk.inbox import security
from helpdesk.incidents import api, links
from helpdesk.incidents.models import INCIDENT_STATUSES
from helpdesk.incidents.schemas import IncidentIn, IncidentUpdateIn
from helpdesk.incidents.store import IncidentNotFound
from helpdesk.web import AgentContext, AgentDep, forged, render

router = APIRouter(prefix="/agent/incidents", include_in_schema=False)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


class FormError(ValueError):
    pass


def local_time(request: Request, text: str, field: str) -> datetime | None:
    """A datetime-local field in the routing file's zone; empty: None."""
    if not text.strip():
        return None
    try:
        moment = datetime.strptime(text.strip()[:16], LOCAL_FORMAT)
    except ValueError:
        raise FormError(msg("%(field)s: not a date and time (YYYY-MM-DDTHH:MM)", field=term("field", field))) from None
    return moment.replace(tzinfo=request.app.state.routing.tz)


def prefixes(text: str) -> list[str]:
    return [p for p in re.split(r"[\s,;]+", text) if p]


def declarable(request: Request, agent: AgentInfo) -> list[str]:
    """The categories the agent may declare an incident for (their teams' categories)."""
    routing = request.app.state.routing
    return [c for c, team in routing.categories.items() if agent.scope is None or team in agent.scope]


def products(request: Request) -> dict[str, list[str]]:
    state = request.app.state
    return {c: api.category_products(state, c) for c in state.routing.categories}


def list_page(
    request: Request,
    agent: AgentInfo,
    session: security.Session,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    store = api.incident_store(request.app.state)
    return render(
        request,
        "incidents.html",
        status_code,
        agent=agent,
        csrf_token=session.csrf,
        active=store.list("active", agent.scope),
        resolved=store.list("resolved", agent.scope, 20),
        categories=declarable(request, agent),
        products=products(request),
        error=error,
        form=form or {},
        statuses=INCIDENT_STATUSES[:-1],
        languages=request.app.state.deployment.languages,
    )


def detail_page(
    request: Request,
    agent: AgentInfo,
    session: security.Session,
    incident_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        incident = links.in_scope(api.incident_store(request.app.state).get(incident_id, agent.scope), agent.scope)
    except IncidentNotFound:
        return render(
            request,
            "error.html",
            404,
            agent=agent,
            csrf_token=session.csrf,
            message=msg("There is no incident %(id)s.", id=incident_id),
        )
    tz = request.app.state.routing.tz
    expected = incident["expected_resolution_at"]
    linked = links.tickets(api.incident_store(request.app.state), incident_id, agent.scope)
    return render(
        request,
        "incident.html",
        status_code,
        agent=agent,
        csrf_token=session.csrf,
        i=incident,
        linked=linked,
        error=error,
        statuses=INCIDENT_STATUSES,
        products=products(request)[incident["category"]],
        expected_local=expected.astimezone(tz).strftime(LOCAL_FORMAT) if expected else "",
        languages=request.app.state.deployment.languages,
    )


def problem(lang: DeskLanguage, exc: Exception) -> tuple[str, int]:
    """What went wrong in a form, in the API's terms in the agent's language, and its status."""
    if isinstance(exc, IncidentNotFound):
        code = 404
    elif isinstance(exc, (ValidationError, FormError)):
        code = 422
    elif isinstance(exc, HTTPException):
        code = exc.status_code
    else:
        code = 409
    return lang.problem(exc), code


async def posted(request: Request, session: security.Session) -> dict[str, str] | None:
    """The form's text fields, or None when its CSRF token is wrong."""
    data = await request.form()
    fields = {key: value for key, value in data.items() if isinstance(value, str)}
    return fields if security.check_csrf(session, fields.get("csrf_token", "")) else None


def shared_fields(request: Request, form: dict[str, str]) -> dict[str, Any]:
    """The fields the declaration and the update form share, as the API takes them."""
    return {
        "product": form.get("product") or None,
        "postal_prefixes": prefixes(form.get("postal_prefixes", "")),
        "expected_resolution_at": local_time(request, form.get("expected_resolution_at", ""), "expected_resolution_at"),
        "messages": {"de": form.get("message_de") or None, "en": form.get("message_en") or None},
    }


FORM_ERRORS = (ValidationError, HTTPException, FormError, StoreError)


@router.get("")
def incidents_page(request: Request, who: AgentDep) -> HTMLResponse:
    return list_page(request, *who)


async def submit(request: Request, who: AgentContext, action, failed) -> Response:
    """A form post: the CSRF check, then ``action(agent, form)`` in a thread, which answers the
    page to go to; on bad input ``failed(agent, session, message, status, form)`` renders the form
    again with the API's words."""
    agent, session = who
    form = await posted(request, session)
    if form is None:
        return forged(request)
    try:
        target = await run_in_threadpool(action, agent, form)
    except FORM_ERRORS as exc:
        message, code = problem(desk_language(request, agent), exc)
        return failed(agent, session, message, code, form)
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("")
async def declare_form(request: Request, who: AgentDep) -> Response:
    def declare(agent: AgentInfo, form: dict[str, str]) -> str:
        body = IncidentIn(
            title=form.get("title", ""),
            category=form.get("category", ""),
            status=form.get("status") or "investigating",
            started_at=local_time(request, form.get("started_at", ""), "started_at"),
            note=form.get("note") or None,
            **shared_fields(request, form),
        )
        created = api.declare(request.app.state, agent, body)
        return f"/agent/incidents/{created['id']}?{urlencode({'done': 'declared'})}"

    def failed(agent, session, message, code, form) -> HTMLResponse:
        return list_page(request, agent, session, error=message, status_code=code, form=form)

    return await submit(request, who, declare, failed)


@router.get("/{incident_id}")
def incident_page(request: Request, who: AgentDep, incident_id: int = api.IncidentId) -> HTMLResponse:
    agent, session = who
    return detail_page(request, agent, session, incident_id)


@router.post("/{incident_id}/update")
async def update_form(request: Request, who: AgentDep, incident_id: int = api.IncidentId) -> Response:
    def update(agent: AgentInfo, form: dict[str, str]) -> str:
        current = api.incident_store(request.app.state).get(incident_id, agent.scope)
        submitted = {"status": form.get("status") or current["status"], **shared_fields(request, form)}
        body = IncidentUpdateIn(
            **changed(current, submitted),
            note=form.get("note") or None,
            resolve_tickets=bool(form.get("resolve_tickets")),
        )
        api.update(request.app.state, agent, incident_id, body)
        return f"/agent/incidents/{incident_id}?{urlencode({'done': 'updated'})}"

    def failed(agent, session, message, code, _form) -> HTMLResponse:
        return detail_page(request, agent, session, incident_id, error=message, status_code=code)

    return await submit(request, who, update, failed)


def changed(current: dict[str, Any], submitted: dict[str, Any]) -> dict[str, Any]:
    """The form posts every field; the update carries only those that differ from the incident."""
    result = {}
    for key, value in submitted.items():
        if key == "messages":
            value = {lang: text for lang, text in value.items() if text != current["messages"][lang]}
            if value:
                result[key] = value
        elif value != current[key]:
            result[key] = value
    return result
