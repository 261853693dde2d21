"""JSON APIs of known incidents: for agents' tools (list, declare, read, update, link tickets; an agent's
bearer token) and for the bot's action server (which incidents concern a message, which one it
told a conversation of, "tell me when it is fixed"; the service token).

The agents' operations back the inbox pages too (helpdesk/incidents/pages.py): ``declare`` and
``update`` check what pydantic cannot (the routing file's categories, the knowledge base's
products, the deployment's languages, the team scope) and answer a clear 4xx for every bad input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from helpdesk.auth import require_service
from helpdesk.handoffs.access import check_incident_team
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.api import require_agent, store_error
from helpdesk.handoffs.errors import StoreError
from helpdesk.handoffs.routing import EMAIL_RE
from helpdesk.handoffs.schemas import Strict, Text
from helpdesk.incidents import links, notices
from helpdesk.incidents.matching import POSTAL_CODE_RE, named_categories, relevant
from helpdesk.incidents.schemas import (
    IncidentIn,
    IncidentListOut,
    IncidentOut,
    IncidentUpdateIn,
    LinkedTicketsOut,
    TicketLinkIn,
    TicketLinkOut,
)
from helpdesk.incidents.status import local_time
from helpdesk.incidents.store import IncidentNotFound, IncidentStore, message_in
from helpdesk.profile import category_words, public_by_category, topic_title

router = APIRouter(prefix="/agent/api/incidents", tags=["agent API: incidents"])
NOT_CLEARABLE = ("status", "title", "category", "postal_prefixes", "messages")
IncidentId = Path(ge=1, le=2**31 - 1, description="the incident's number")


def incident_store(state) -> IncidentStore:
    return IncidentStore(state.handoffs, notices.Sender.of(state))


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


def category_products(state, category: str) -> list[str]:
    """The products the knowledge base's front matter names for a category."""
    return sorted({a.product for a in state.search.index.articles.values() if a.category == category and a.product})


def check_subject(state, agent: AgentInfo, category: str, product: str | None) -> str:
    """The team owning ``category``, which the caller must be allowed to declare for;
    422 on an unknown category or product."""
    routing = state.routing
    if category not in routing.categories:
        raise unprocessable(f"unknown category {category!r}; the routing file has: {', '.join(routing.categories)}")
    known = category_products(state, category)
    if product and product not in known:
        raise unprocessable(
            f"unknown product {product!r} for category {category!r}; the knowledge "
            f"base names: {', '.join(known) or 'none (leave the product empty)'}"
        )
    team = routing.categories[category]
    check_incident_team(agent, team, category)
    return team


def check_messages(state, messages: dict[str, str | None]) -> None:
    served = state.deployment.languages
    missing = [lang for lang in served if not (messages.get(lang) or "").strip()]
    if missing:
        raise unprocessable(
            f"a public message is needed in every language the deployment serves; missing: {', '.join(missing)}"
        )


def declare(state, agent: AgentInfo, body: IncidentIn) -> dict[str, Any]:
    team = check_subject(state, agent, body.category, body.product)
    messages = body.messages.model_dump()
    check_messages(state, messages)
    return incident_store(state).declare(
        title=body.title,
        category=body.category,
        team=team,
        product=body.product,
        postal_prefixes=body.postal_prefixes,
        status=body.status,
        started_at=body.started_at,
        expected_resolution_at=body.expected_resolution_at,
        messages=messages,
        actor=agent.username,
        note=body.note,
    )


def update(state, agent: AgentInfo, incident_id: int, body: IncidentUpdateIn) -> dict[str, Any]:
    store = incident_store(state)
    current = store.get(incident_id, teams=agent.scope)  # 404 before 403: nothing about other teams
    fields = body.model_fields_set - {"note", "resolve_tickets"}
    changes: dict[str, Any] = {name: getattr(body, name) for name in fields}
    for name in NOT_CLEARABLE:
        if name in changes and changes[name] is None:
            raise unprocessable(f"{name} cannot be cleared")
    if "category" in changes or "product" in changes:
        category = changes.get("category", current["category"])
        product = changes.get("product", current["product"])
        changes["team"] = check_subject(state, agent, category, product)
    if "messages" in changes and body.messages is not None:
        changes["messages"] = body.messages.model_dump(exclude_unset=True)
        check_messages(state, {**current["messages"], **changes["messages"]})
    expected = changes.get("expected_resolution_at")
    if expected is not None and expected <= current["started_at"]:
        raise unprocessable("expected_resolution_at must be after the incident's start")
    result = store.update(incident_id, agent.username, changes, note=body.note, teams=agent.scope)
    if body.resolve_tickets and result["status"] == "resolved":
        if links.resolve_linked(store, result, agent.username, agent.scope):
            result = store.get(incident_id, agent.scope)
    return result


def change_link(state, agent: AgentInfo, incident_id: int, ticket_id: str, link: bool) -> dict[str, Any]:
    store = incident_store(state)
    return links.change(store, incident_id, ticket_id, agent.username, link, agent.scope, agent.scope)


def run(action, *args) -> dict[str, Any]:
    try:
        return action(*args)
    except (IncidentNotFound, links.NotLinked) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except StoreError as exc:
        raise store_error(exc) from None


@router.get("", response_model=IncidentListOut, summary="Incidents of the caller's teams")
def list_incidents(
    request: Request,
    agent: AgentInfo = Depends(require_agent),
    state: Literal["active", "resolved", "all"] = "active",
    limit: int = Query(100, ge=1, le=500),
) -> dict[str, Any]:
    items = run(incident_store(request.app.state).list, state, agent.scope, limit)
    return {"incidents": items}


@router.post(
    "",
    status_code=201,
    response_model=IncidentOut,
    summary="Declare an incident",
    responses={403: {"description": "a category of another team"}, 422: {"description": "invalid input"}},
)
def declare_incident(body: IncidentIn, request: Request, agent: AgentInfo = Depends(require_agent)) -> dict[str, Any]:
    return run(declare, request.app.state, agent, body)


@router.get(
    "/{incident_id}",
    response_model=IncidentOut,
    summary="An incident with its timeline",
    responses={404: {"description": "no such incident for the caller"}},
)
def get_incident(
    request: Request, incident_id: int = IncidentId, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    store = incident_store(request.app.state)
    return links.in_scope(run(store.get, incident_id, agent.scope), agent.scope)


@router.post(
    "/{incident_id}/updates",
    response_model=IncidentOut,
    summary="Update an incident (appends to its timeline; status resolved closes it)",
    responses={
        404: {"description": "no such incident for the caller"},
        409: {"description": "the incident is resolved"},
        422: {"description": "invalid input"},
    },
)
def update_incident(
    body: IncidentUpdateIn, request: Request, incident_id: int = IncidentId, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    return links.in_scope(run(update, request.app.state, agent, incident_id, body), agent.scope)


LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such incident or ticket for the caller"},
    409: {"description": "the incident is resolved, or the ticket is linked already"},
    422: {"description": "invalid input"},
}


@router.get(
    "/{incident_id}/tickets",
    response_model=LinkedTicketsOut,
    summary="The incident's linked tickets (those of the caller's teams)",
    responses={404: {"description": "no such incident for the caller"}},
)
def linked_tickets(
    request: Request, incident_id: int = IncidentId, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    store = incident_store(request.app.state)
    run(store.get, incident_id, agent.scope)
    return links.tickets(store, incident_id, agent.scope)


@router.post(
    "/{incident_id}/tickets",
    status_code=201,
    response_model=TicketLinkOut,
    summary="Link a ticket to an active incident (the ticket's history and the timeline record it)",
    responses=LINK_ERRORS,
)
def link_incident_ticket(
    body: TicketLinkIn, request: Request, incident_id: int = IncidentId, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    return run(change_link, request.app.state, agent, incident_id, body.ticket_id, True)


@router.delete(
    "/{incident_id}/tickets/{ticket_id}",
    response_model=TicketLinkOut,
    summary="Unlink a ticket from an active incident",
    responses=LINK_ERRORS,
)
def unlink_incident_ticket(
    request: Request,
    incident_id: int = IncidentId,
    ticket_id: str = Path(min_length=1, max_length=32),
    agent: AgentInfo = Depends(require_agent),
) -> dict[str, Any]:
    return run(change_link, request.app.state, agent, incident_id, ticket_id, False)


# -- the bot's side (service token) ------------------------------------------------------------
service_router = APIRouter(prefix="/api/incidents", tags=["bot"], dependencies=[Depends(require_service)])


class BotIncidentOut(BaseModel):
    id: int
    title: str
    category: str
    topic: str
    product: str | None
    status: str
    everywhere: bool
    postal_prefixes: list[str]
    in_area: bool | None  # None: area-bound and the customer's postal code is not known
    started_at: datetime
    expected_resolution_at: datetime | None
    since: str  # the start and the expected resolution as customers read them, in ``lang``
    expected: str | None
    message: str | None


class ActiveOut(BaseModel):
    incidents: list[BotIncidentOut]


class SubscriptionIn(Strict):
    email: Annotated[Text, Field(min_length=3, max_length=254)]
    language: Literal["de", "en"]
    conversation_id: Annotated[Text, Field(min_length=1, max_length=200)]

    @field_validator("email")
    @classmethod
    def valid_email(cls, value: str) -> str:
        if not EMAIL_RE.match(value):
            raise ValueError("not a valid e-mail address")
        return value.lower()


class SubscriptionOut(BaseModel):
    incident_id: int
    email: str
    created: bool


class ToldIn(Strict):
    conversation_id: Annotated[Text, Field(min_length=1, max_length=200)]
    language: Literal["de", "en"]


class ToldOut(BaseModel):
    incident_id: int
    created: bool


@service_router.get(
    "/active", response_model=ActiveOut, summary="The active incidents that concern a customer's message (the bot asks)"
)
def active_incidents(
    request: Request,
    category: list[str] = Query(default=[], max_length=10),
    product: list[str] = Query(default=[], max_length=10),
    q: str = Query("", max_length=1000),
    postal_code: str | None = Query(None, pattern=POSTAL_CODE_RE.pattern),
    lang: Literal["de", "en"] | None = None,
) -> dict[str, Any]:
    state = request.app.state
    lang = lang or state.deployment.default_language
    grouped = public_by_category(state.search.index.articles.values())
    words = category_words(state.routing, state.deployment, grouped) if q else {}
    named = named_categories(q, words)
    found = relevant(incident_store(state).list("active"), category, product, named, postal_code)
    local = local_time(request, lang)
    incidents = [
        {
            **i,
            "topic": topic_title(i["category"], lang, state.deployment, grouped.get(i["category"], [])),
            "since": local(i["started_at"]),
            "expected": (local(i["expected_resolution_at"]) if i["expected_resolution_at"] else None),
            "message": message_in(i["messages"], lang),
        }
        for i in found
    ]
    return {"incidents": incidents}


@service_router.post(
    "/{incident_id}/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    summary="Tell this customer by e-mail when the incident is resolved",
    responses={
        200: {"description": "already subscribed"},
        404: {"description": "no such incident"},
        409: {"description": "the incident is resolved"},
    },
)
def subscribe(body: SubscriptionIn, request: Request, incident_id: int = IncidentId) -> JSONResponse:
    result = run(
        incident_store(request.app.state).subscribe, incident_id, body.email, body.language, body.conversation_id
    )
    return JSONResponse(result, status_code=201 if result["created"] else 200)


@service_router.post(
    "/{incident_id}/told",
    status_code=201,
    response_model=ToldOut,
    summary="The bot told this conversation of the incident (the reports count it)",
    responses={200: {"description": "told already"}, 404: {"description": "no such incident"}},
)
def record_told(body: ToldIn, request: Request, incident_id: int = IncidentId) -> JSONResponse:
    result = run(incident_store(request.app.state).record_told, incident_id, body.conversation_id, body.language)
    return JSONResponse(result, status_code=201 if result["created"] else 200)
