"""HTTP side of the live takeover: the customer's ``/chat/api`` and the agent's live-chat actions.

Customer endpoints take the customer's chat key in the path and nothing else:
a random key made for the ticket by ``POST /handoffs`` (the bot hands it to the
chat page in a custom message), valid while the ticket is open. It is not
Rasa's sender id, which no agent, API answer or notification ever shows; an
endpoint answers only with that ticket's own state and live messages.

Agent endpoints sit under ``/agent/handoffs/{ticket_id}/live`` and use the
inbox's login session and CSRF token, like every inbox form, and the
agent's team scope (``helpdesk.handoffs.access``: another team's ticket is a
404); without
JavaScript a form posts and redirects back to the ticket; with JavaScript
(``agent-live.js``) the same forms post with ``Accept: application/json`` and
an event stream shows the customer's messages as they come.

Both streams are Server-Sent Events that end after ``STREAM_SECONDS``;
EventSource reconnects by itself (with ``Last-Event-ID``), so no connection
outlives a deploy by more than that. Between reads a stream sleeps until its
ticket changes (``helpdesk/handoffs/changes.py``), on whichever replica wrote.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from helpdesk.chat.config import ChatConfig, get_chat_config
from helpdesk.chat.live import LiveChat, RasaUnavailable
from helpdesk.handoffs.changes import TicketChanges
from helpdesk.handoffs.errors import StoreError, TicketNotFound
from helpdesk.handoffs.schemas import MAX_MESSAGE_CHARS, Text
from helpdesk.i18n import desk_language
from helpdesk.inbox import security
from helpdesk.inbox.pages import detail_page
from helpdesk.web import AgentContext, AgentDep, StreamingAgentDep, event, forged, sse

STREAM_SECONDS = 55.0
KEEP_ALIVE_SECONDS = 15.0  # a comment line this often keeps proxies from closing a quiet stream
ALLOWED_CHECK_SECONDS = 2.0  # how soon a logout or a move to another team ends an agent's stream
router = APIRouter()


def get_live(request: Request) -> LiveChat:
    live = getattr(request.app.state, "live_chat", None)
    if live is None:
        live = request.app.state.live_chat = LiveChat(
            request.app.state.handoffs, get_chat_config(request), getattr(request.app.state, "routing", None)
        )
    return live


class CustomerMessageIn(BaseModel):
    # The configured limit (HELPDESK_BOT_MAX_MESSAGE_CHARS) is checked by the route; this is its most.
    text: Text = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    client_id: str | None = Field(default=None, max_length=40, pattern=r"^[0-9a-f]+$")


def key_ticket(live: LiveChat, key: str) -> str:
    """The ticket of a customer's chat key; the customer's page is there now (their chat is live)."""
    ticket_id = live.store.ticket_for_chat_key(key)
    if ticket_id is None:
        # One answer for a wrong key and for the key of a closed ticket: nothing to learn by probing.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown or expired chat key")
    live.store.seen_by_customer(ticket_id)
    return ticket_id


def after_from(request: Request, after: int | None) -> int:
    last = request.headers.get("last-event-id", "")
    if last.isdigit():
        return int(last)
    return -1 if after is None else after


async def event_stream(
    request: Request,
    changes: TicketChanges,
    ticket_id: str,
    load: Callable[[int], dict | None],
    after: int,
    allowed: Callable[[], bool] = lambda: True,
) -> AsyncIterator[str]:
    """Ticket state when it changes, each new message once; woken by change notices (no
    polling); ends after STREAM_SECONDS, or within ALLOWED_CHECK_SECONDS once not ``allowed``."""
    yield "retry: 1500\n\n"
    last_ticket = None
    deadline = time.monotonic() + STREAM_SECONDS
    last_beat = 0.0
    with changes.subscribe(ticket_id) as subscription:  # before the first read: no change slips between
        changed = True
        while time.monotonic() < deadline:
            if not await run_in_threadpool(allowed):
                return
            if changed:
                data = await run_in_threadpool(load, after)
                if data is None:
                    yield event("ticket", None)
                    return
                closing = data["ticket"]["status"] == "closed"
                if data["ticket"] != last_ticket and not closing:
                    last_ticket = data["ticket"]
                    yield event("ticket", last_ticket)
                for message in data["messages"]:
                    after = message["id"]
                    yield event("message", message, after)
                if data["ticket"] != last_ticket and closing:  # after the last messages: the page stops reading
                    last_ticket = data["ticket"]
                    yield event("ticket", last_ticket)
            if time.monotonic() - last_beat >= KEEP_ALIVE_SECONDS or changed:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return
            remaining = max(0.0, deadline - time.monotonic())
            changed = await subscription.wait(min(ALLOWED_CHECK_SECONDS, remaining))


# -- customer ---------------------------------------------------------------------------------------
@router.get(
    "/chat/api/live/{key}",
    tags=["chat"],
    summary="The ticket of this chat key and its live messages (404 once the ticket is closed)",
)
async def conversation(
    key: str, request: Request, after: int | None = None, live: LiveChat = Depends(get_live)
) -> JSONResponse:
    ticket_id = await run_in_threadpool(key_ticket, live, key)
    view = await run_in_threadpool(live.customer_view, ticket_id, -1 if after is None else after, True)
    return JSONResponse(view, headers={"Cache-Control": "no-store"})


@router.post(
    "/chat/api/live/{key}/messages",
    status_code=201,
    tags=["chat"],
    summary="The customer's message to the agent (while the ticket is open)",
)
async def customer_message(
    key: str, body: CustomerMessageIn, live: LiveChat = Depends(get_live), config: ChatConfig = Depends(get_chat_config)
):
    if len(body.text) > config.max_message_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"text: at most {config.max_message_chars} characters"
        )
    ticket_id = await run_in_threadpool(key_ticket, live, key)
    try:
        message = await run_in_threadpool(live.post, ticket_id, "customer", body.text, "customer")
    except StoreError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return JSONResponse({**message.as_json(), "client_id": body.client_id}, status_code=201)


@router.get(
    "/chat/api/live/{key}/events",
    tags=["chat"],
    summary="Server-Sent Events: ticket state changes and live messages of this chat key",
)
async def customer_events(
    key: str, request: Request, after: int | None = None, live: LiveChat = Depends(get_live)
) -> StreamingResponse:
    ticket_id = await run_in_threadpool(key_ticket, live, key)
    return sse(
        event_stream(
            request,
            request.app.state.ticket_changes,
            ticket_id,
            lambda a: live.customer_view(ticket_id, a, rating_links=True),
            after_from(request, after),
        )
    )


# -- agent ------------------------------------------------------------------------------------------
def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def agent_action(
    request: Request, who: AgentContext, ticket_id: str, csrf_token: str, done: str, action: Callable
) -> Response:
    """Run one live-chat action for a logged-in agent; JSON for scripts, redirect for forms."""
    agent, session = who
    lang = desk_language(request, agent)
    if not security.check_csrf(session, csrf_token):
        if wants_json(request):
            return JSONResponse({"detail": lang.gettext("CSRF check failed")}, status.HTTP_403_FORBIDDEN)
        return forged(request)
    live = get_live(request)
    try:
        await run_in_threadpool(live.store.get, ticket_id, agent.scope)  # another team's ticket: 404
        result = await run_in_threadpool(action, live, agent)
    except ValidationError as exc:
        error, code = lang.problem(exc), 422
    except TicketNotFound as exc:
        error, code = lang.problem(exc), 404
    except RasaUnavailable as exc:
        error, code = lang.gettext("%(problem)s. The conversation stays with you.", problem=str(exc)), 502
    except StoreError as exc:
        error, code = lang.problem(exc), 409
    else:
        query = {"done": done, **({"bot": "untold"} if result is False else {})}  # False: Rasa was not told
        if wants_json(request):
            return JSONResponse(result if isinstance(result, dict) else query)
        return RedirectResponse(
            f"/agent/handoffs/{quote(ticket_id)}?{urlencode(query)}#live", status.HTTP_303_SEE_OTHER
        )
    if wants_json(request):
        return JSONResponse({"detail": error}, code)
    return detail_page(request, agent, session, ticket_id, error=error, status_code=code)


class AgentMessageIn(BaseModel):
    text: Text = Field(min_length=1, max_length=4000)


class CloseIn(BaseModel):
    note: Text = Field(min_length=1, max_length=4000)


@router.post("/agent/handoffs/{ticket_id}/live/start", include_in_schema=False)
async def start_live(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form("")):
    return await agent_action(
        request,
        who,
        ticket_id,
        csrf_token,
        "live chat started",
        lambda live, agent: live.start(ticket_id, agent.username, agent.display_name),
    )


@router.post("/agent/handoffs/{ticket_id}/live/messages", include_in_schema=False)
async def agent_message(
    ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form(""), text: str = Form("")
):
    def send(live: LiveChat, agent):
        body = AgentMessageIn(text=text.strip())
        if live.mode(ticket_id) != "live":  # writing to the customer is replying live
            live.start(ticket_id, agent.username, agent.display_name)
        return live.post(ticket_id, "agent", body.text, agent.username).as_json()

    return await agent_action(request, who, ticket_id, csrf_token, "message sent", send)


@router.post("/agent/handoffs/{ticket_id}/live/hand-back", include_in_schema=False)
async def hand_back(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form("")):
    return await agent_action(
        request,
        who,
        ticket_id,
        csrf_token,
        "handed back to the bot",
        lambda live, agent: live.hand_back(ticket_id, agent.username),
    )


@router.post("/agent/handoffs/{ticket_id}/live/close", include_in_schema=False)
async def close_live(ticket_id: str, request: Request, who: AgentDep, csrf_token: str = Form(""), note: str = Form("")):
    def close(live: LiveChat, agent):
        body = CloseIn(note=note.strip() or "Closed in the live chat.")
        return live.close(ticket_id, agent.username, body.note)

    return await agent_action(request, who, ticket_id, csrf_token, "chat closed and ticket resolved", close)


@router.get("/agent/handoffs/{ticket_id}/live/events", include_in_schema=False)
async def agent_events(
    ticket_id: str,
    request: Request,
    who: StreamingAgentDep,
    after: int | None = None,
    live: LiveChat = Depends(get_live),
) -> StreamingResponse:
    agent, _ = who
    try:
        await run_in_threadpool(live.store.get, ticket_id, agent.scope)
    except TicketNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such ticket") from None

    def allowed() -> bool:
        # Logout, deactivation or a move to another team ends the stream at its next beat.
        again = security.read_session(request, touch=False)
        current = live.store.agent(again.agent_id) if again else None
        if current is None:
            return False
        try:
            live.store.get(ticket_id, current.scope)
        except TicketNotFound:
            return False
        return True

    return sse(
        event_stream(
            request,
            request.app.state.ticket_changes,
            ticket_id,
            lambda a: live.customer_view(ticket_id, a),
            after_from(request, after),
            allowed,
        )
    )
