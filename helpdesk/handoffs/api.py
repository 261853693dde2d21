"""HTTP API of the handoff queue: POST /handoffs for the bot, /agent/api/... for agents.

POST /handoffs is called by the bot's action server with HELPDESK_SERVICE_TOKEN.
It reads the body itself (size limit, strict UTF-8, JSON, then the pydantic
contract in ``schemas``) so every kind of bad input gets a clear 4xx before
anything is written, routes the handoff (``routing``), and answers only after
the store committed it. The agent JSON API offers what the inbox pages offer
(list, detail, claim, note, resolve, escalate, reassign) with per-agent bearer tokens
made by ``helpdesk create-agent-token``.

``open_handoffs`` is the start-up/shut-down work the app's lifespan runs:
validate the routing file, migrate and open the store, start the
notification worker.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import State

from helpdesk.auth import require_service
from helpdesk.db import utcnow
from helpdesk.handoffs.access import ROLES, require_admin
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.errors import (
    AgentExists,
    AgentNotFound,
    IdempotencyConflict,
    InvalidTransition,
    StoreError,
    TicketNotFound,
)
from helpdesk.handoffs.moves import check_team, escalate, reassign
from helpdesk.handoffs.notifications import NotificationConfig, NotificationWorker
from helpdesk.handoffs.routing import ExpectedResponse, RoutingConfig
from helpdesk.handoffs.schemas import (
    EscalateIn,
    HandoffIn,
    Message,
    NoteIn,
    ReassignIn,
    ResolveIn,
    TranscriptAppendIn,
)
from helpdesk.handoffs.store import OPEN_STATUSES, HandoffStore
from helpdesk.handoffs.views import (
    AgentDeactivated,
    AgentList,
    AgentView,
    HandoffList,
    HandoffView,
    PasswordSet,
    Suggestions,
    TokenCreated,
)
from helpdesk.i18n import LANGUAGES, msg
from helpdesk.inbox import assist
from search_api.auth import bearer

if TYPE_CHECKING:
    from helpdesk.settings import Settings

MAX_BODY_BYTES = 1024 * 1024
R = TypeVar("R")
router = APIRouter()


@contextmanager
def open_handoffs(app: FastAPI, settings: Settings) -> Iterator[HandoffStore]:
    """Start-up of the handoff part: refuses to start on a bad routing file or notification setup."""
    routing = RoutingConfig.load(settings.routing_file)
    notify = NotificationConfig(settings, routing)
    store = HandoffStore.open(settings.database_url)
    worker = NotificationWorker(store, notify)
    app.state.routing, app.state.notify, app.state.handoffs = routing, notify, store
    worker.start()
    try:
        yield store
    finally:
        worker.stop()
        store.close()


def error_list(exc: ValidationError) -> list[dict[str, Any]]:
    # Same shape as the app's RequestValidationError handler; inputs are not echoed back.
    return [
        {"loc": ["body", *e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
    ]


def store_error(exc: StoreError) -> HTTPException:
    if isinstance(exc, (TicketNotFound, AgentNotFound)):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, (InvalidTransition, IdempotencyConflict, AgentExists)):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(exc))


async def read_json_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"request body over {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"request body over {max_bytes} bytes")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"request body is not valid UTF-8 (byte {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except RecursionError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "request body is nested too deeply") from None


def create_routed(state: Any, data: HandoffIn, notify: bool = True) -> tuple[dict[str, Any], bool, ExpectedResponse]:
    """Route a handoff by the routing file's rules and store it with its team notifications (unless
    ``notify`` is False); returns (view, created, what the customer was promised at creation). Used by
    POST /handoffs and the e-mail channel; ``state`` has ``routing``, ``notify`` and ``handoffs``."""
    routing: RoutingConfig = state.routing
    now = utcnow()
    decision = routing.route(data.summary.category, data.summary.urgency, data.reason, now)
    view, created = state.handoffs.create(
        data,
        team=decision.team,
        priority=decision.priority,
        on_call=decision.on_call,
        expected_minutes=decision.expected.minutes,
        due_at=decision.expected.due_at,
        now=now,
        notifications=state.notify.plan(routing, decision.team) if notify else (),
    )
    return view, created, routing.expected(view["created_at"], view["due_at"])


def handoff_schema() -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": HandoffIn.model_json_schema(ref_template="#/components/schemas/{model}")}
            },
        }
    }


@router.post(
    "/handoffs",
    status_code=201,
    dependencies=[Depends(require_service)],
    tags=["handoffs"],
    summary="Store a handoff from the bot (idempotent on idempotency_key)",
    openapi_extra=handoff_schema(),
    responses={
        200: {"description": "replay of a stored handoff"},
        409: {"description": "key reused"},
        413: {"description": "body too large"},
        422: {"description": "invalid payload"},
    },
)
async def post_handoff(request: Request) -> JSONResponse:
    raw = await read_json_body(request)
    try:
        data = HandoffIn.model_validate(raw)
    except ValidationError as exc:
        return JSONResponse({"detail": error_list(exc)}, status_code=422)
    state = request.app.state
    routing: RoutingConfig = state.routing
    if data.summary.category not in routing.categories:
        return JSONResponse(
            {
                "detail": [
                    {
                        "loc": ["body", "summary", "category"],
                        "type": "enum",
                        "msg": f"unknown category; the routing file has: {', '.join(routing.categories)}",
                    }
                ]
            },
            status_code=422,
        )
    try:
        view, created, expected = await run_in_threadpool(create_routed, state, data)
    except StoreError as exc:
        raise store_error(exc) from None
    # The customer's live-chat key: only here, once; a replay gets a new one (the first answer was lost).
    chat_key = await run_in_threadpool(state.handoffs.new_chat_key, view["ticket_id"])
    body = {
        "ticket_id": view["ticket_id"],
        "status": view["status"],
        "team": view["team"],
        "priority": view["priority"],
        "created": created,
        "expected_response": expected.as_json(),
        "chat_key": chat_key,
    }
    return JSONResponse(body, status_code=201 if created else 200)


@router.post(
    "/handoffs/{ticket_id}/messages",
    dependencies=[Depends(require_service)],
    tags=["handoffs"],
    summary="Add what the customer wrote to the bot after the handoff to the ticket's transcript",
    responses={
        404: {"description": "no such ticket for this conversation"},
        409: {"description": "the ticket is closed"},
    },
)
def append_transcript(ticket_id: str, body: TranscriptAppendIn, request: Request) -> dict[str, Any]:
    """The bot's side of "messages after the ticket" on every channel (the web chat's live part
    posts to /chat/api itself). Only the conversation that made the ticket may add to it, only
    customer messages, stamped with this service's clock, only while the ticket is open."""
    store: HandoffStore = request.app.state.handoffs
    if any(m.sender != "customer" for m in body.messages):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "only customer messages can be added")
    view: dict[str, Any] | None
    try:
        view = store.get(ticket_id)
        conversation = store.conversation_of(ticket_id)
    except TicketNotFound:
        view, conversation = None, ""
    if view is None or not hmac.compare_digest(conversation.encode(), body.conversation_id.encode()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such ticket for this conversation")
    if view["status"] not in OPEN_STATUSES:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{view['ticket_id']} is {view['status']}")
    now = utcnow()
    messages = [Message(sender="customer", text=m.text, timestamp=now) for m in body.messages]
    try:
        after = store.append_messages(ticket_id, messages, actor="bot")
    except StoreError as exc:
        raise store_error(exc) from None
    return {"ticket_id": after["ticket_id"], "status": after["status"], "messages": len(after["transcript"])}


# -- the agents' JSON API ----------------------------------------------------------------------------
def require_agent(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> AgentInfo:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    agent: AgentInfo | None = request.app.state.handoffs.agent_for_token(credentials.credentials)
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked agent token", headers={"WWW-Authenticate": "Bearer"}
        )
    return agent


agent_api = APIRouter(prefix="/agent/api", tags=["agent API"])
StatusFilter = Literal["new", "claimed", "escalated", "resolved", "open"]
PriorityFilter = Literal["low", "normal", "high", "critical"]
SortOrder = Literal["due", "age", "priority"]


def detail(state: State, ticket_id: str, agent: AgentInfo) -> dict[str, Any]:
    view: dict[str, Any] = state.handoffs.get(ticket_id, teams=agent.scope)
    view["notifications"] = state.handoffs.notifications(ticket_id, teams=agent.scope)
    return view


def run_action(action: Callable[..., R], *args: Any) -> R:
    """``action(*args)``; a StoreError as its HTTP error."""
    try:
        return action(*args)
    except StoreError as exc:
        raise store_error(exc) from None


def me_json(agent: AgentInfo) -> dict[str, Any]:
    return {
        "username": agent.username,
        "display_name": agent.display_name,
        "teams": list(agent.teams),
        "role": agent.role,
        "active": agent.active,
        "language": agent.language,
    }


@agent_api.get("/me", response_model=AgentView)
def me(agent: AgentInfo = Depends(require_agent)) -> dict[str, Any]:
    return me_json(agent)


@agent_api.get("/handoffs", response_model=HandoffList)
def list_handoffs(
    request: Request,
    agent: AgentInfo = Depends(require_agent),
    status_: StatusFilter | None = Query(None, alias="status"),
    team: str | None = None,
    priority: PriorityFilter | None = None,
    q: str | None = Query(None, max_length=200),
    sort: SortOrder = "due",
    limit: int = Query(100, ge=1, le=500),
) -> dict[str, Any]:
    team = check_team(request.app.state.routing, team)
    items = request.app.state.handoffs.list_handoffs(
        status=status_, team=team, priority=priority, limit=limit, teams=agent.scope, q=q, sort=sort
    )
    return {"handoffs": items}


@agent_api.get("/handoffs/{ticket_id}", response_model=HandoffView)
def get_handoff(ticket_id: str, request: Request, agent: AgentInfo = Depends(require_agent)) -> dict[str, Any]:
    return run_action(detail, request.app.state, ticket_id, agent)


@agent_api.post("/handoffs/{ticket_id}/claim", response_model=HandoffView)
def claim(ticket_id: str, request: Request, agent: AgentInfo = Depends(require_agent)) -> dict[str, Any]:
    return run_action(request.app.state.handoffs.claim, ticket_id, agent.username, agent.scope)


@agent_api.post("/handoffs/{ticket_id}/notes", response_model=HandoffView)
def add_note(
    ticket_id: str, body: NoteIn, request: Request, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    return run_action(request.app.state.handoffs.add_note, ticket_id, agent.username, body.text, agent.scope)


@agent_api.post("/handoffs/{ticket_id}/resolve", response_model=HandoffView)
def resolve(
    ticket_id: str, body: ResolveIn, request: Request, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    return run_action(request.app.state.handoffs.resolve, ticket_id, agent.username, body.note, agent.scope)


@agent_api.post("/handoffs/{ticket_id}/escalate", response_model=HandoffView)
def escalate_handoff(
    ticket_id: str, body: EscalateIn, request: Request, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    """Hand the ticket up to the expert team (the routing file's ``escalation_team``): status "escalated"."""
    return run_action(escalate, request.app.state, ticket_id, agent, body.reason, body.team)


@agent_api.post("/handoffs/{ticket_id}/reassign", response_model=HandoffView)
def reassign_handoff(
    ticket_id: str, body: ReassignIn, request: Request, agent: AgentInfo = Depends(require_agent)
) -> dict[str, Any]:
    """Give the ticket to another team without escalating it: status "new" there, nobody assigned. A supervisor
    may choose any team but the expert team, an agent one of their own teams; the customer is told when
    the new team's response time changes the time they were promised."""
    return run_action(reassign, request.app.state, ticket_id, agent, body.reason, body.team)


@agent_api.get("/handoffs/{ticket_id}/suggestions", response_model=Suggestions)
def suggestions(ticket_id: str, request: Request, agent: AgentInfo = Depends(require_agent)) -> dict[str, Any]:
    """Agent assist: KB articles (internal ones too) that match the ticket's summary."""
    view = run_action(request.app.state.handoffs.get, ticket_id, agent.scope)
    return {"articles": assist.suggestions(request.app.state, view, request.app.state.settings.public_base_url)}


# -- accounts and tokens (admin) ---------------------------------------------------------------------
MIN_PASSWORD_LENGTH = 10
Role = Literal["agent", "supervisor", "admin"]
assert set(get_args(Role)) == set(ROLES)
Language = Literal["en", "de"]  # the desk's languages (helpdesk.i18n); null: the browser's
assert set(get_args(Language)) == set(LANGUAGES)


def require_admin_agent(agent: AgentInfo = Depends(require_agent)) -> AgentInfo:
    return require_admin(agent)


class AgentIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    display_name: str = Field(default="", max_length=200)
    teams: list[str] = Field(default_factory=list, max_length=50)
    role: Role = "agent"
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    language: Language | None = None


class AgentChangeIn(BaseModel):
    role: Role | None = None
    teams: list[str] | None = Field(default=None, max_length=50)
    language: Language | None = Field(default=None, description="given as null: the browser's language again")


class PasswordIn(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class TokenIn(BaseModel):
    name: str = Field(default="api", min_length=1, max_length=100)


def checked_teams(routing: RoutingConfig, teams: list[str], role: str) -> list[str]:
    for team in teams:
        check_team(routing, team)
    if role == "agent" and not teams:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, msg("an agent needs at least one team"))
    return teams


admin_api = APIRouter(prefix="/agent/api/admin", tags=["agent API: admin"])


@admin_api.get("/agents", response_model=AgentList)
def list_agents(request: Request, admin: AgentInfo = Depends(require_admin_agent)) -> dict[str, Any]:
    return {"agents": [me_json(a) for a in request.app.state.handoffs.agents()]}


@admin_api.post("/agents", status_code=201, response_model=AgentView)
def create_agent(body: AgentIn, request: Request, admin: AgentInfo = Depends(require_admin_agent)) -> dict[str, Any]:
    teams = checked_teams(request.app.state.routing, body.teams, body.role)
    agent = run_action(
        request.app.state.handoffs.create_agent,
        body.username,
        body.display_name or body.username,
        teams,
        body.password,
        body.role,
        body.language,
    )
    return me_json(agent)


@admin_api.patch("/agents/{username}", response_model=AgentView)
def change_agent(
    username: str, body: AgentChangeIn, request: Request, admin: AgentInfo = Depends(require_admin_agent)
) -> dict[str, Any]:
    if body.teams is not None:
        checked_teams(request.app.state.routing, body.teams, body.role or "supervisor")
    agent = run_action(request.app.state.handoffs.update_agent, username, body.role, body.teams)
    if "language" in body.model_fields_set:
        agent = run_action(request.app.state.handoffs.set_language, username, body.language)
    return me_json(agent)


@admin_api.post("/agents/{username}/deactivate", response_model=AgentDeactivated)
def deactivate_agent(
    username: str, request: Request, admin: AgentInfo = Depends(require_admin_agent)
) -> dict[str, Any]:
    run_action(request.app.state.handoffs.deactivate_agent, username)
    return {"username": username, "active": False}


@admin_api.post("/agents/{username}/password", response_model=PasswordSet)
def set_password(
    username: str, body: PasswordIn, request: Request, admin: AgentInfo = Depends(require_admin_agent)
) -> dict[str, Any]:
    run_action(request.app.state.handoffs.set_password, username, body.password)
    return {"username": username, "sessions_ended": True}


@admin_api.post("/agents/{username}/tokens", status_code=201, response_model=TokenCreated)
def create_token(
    username: str, body: TokenIn, request: Request, admin: AgentInfo = Depends(require_admin_agent)
) -> dict[str, Any]:
    token = run_action(request.app.state.handoffs.create_token, username, body.name)
    return {"username": username, "name": body.name, "token": token}  # shown once; only its hash is stored


router.include_router(agent_api)
router.include_router(admin_api)
