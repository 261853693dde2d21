"""Live takeover of a web chat by an agent: state, messages and the hand-back to Rasa.

After the bot handed a conversation over (``POST /handoffs`` with
``conversation_id`` = the chat's session id, kept for the hand-back to Rasa
only; the customer's page uses the ticket's own chat key), the customer stays
in the same chat window. Its state is derived from the handoff store, so every replica
sees the same thing and nothing is kept only in memory:

- ``waiting``: the ticket is open and no agent has joined; the bot is silent
  (its ticket slot is set), so the customer's messages go to the transcript;
- ``live``: an agent chose "Reply live" (audit event ``live_started``);
- ``bot``: the agent handed the conversation back (audit event
  ``handed_back``) and the bot answers again; a resolved ticket is also back
  with the bot.

Every message of the live part is appended to the ticket's transcript through
``HandoffStore.append_messages``. Event streams wait on their ticket's change
notices (``helpdesk/handoffs/changes.py``): every committed write, on any replica,
wakes them at once; nothing polls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from helpdesk.chat.config import ChatConfig
from helpdesk.db import utcnow
from helpdesk.handoffs.errors import InvalidTransition, TicketNotFound
from helpdesk.handoffs.models import Handoff, HandoffEvent
from helpdesk.handoffs.schemas import Message
from helpdesk.handoffs.store import OPEN_STATUSES, HandoffStore
from helpdesk.i18n import Text, msg, term

# The chat page makes its session id from 128 random bits (32 hex digits); shorter
# or other ids (REST tests, other channels) are not reachable from a browser.
SESSION_ID_RE = re.compile(r"^[0-9a-f]{32}$")
LIVE_STARTED, HANDED_BACK = "live_started", "handed_back"

# Slots the bot sets at a handoff (bot/domain.yml); clearing them makes the bot answer again.
BOT_HANDOFF_SLOTS = ("ticket_id",)


def ended(ticket_id: str, status: str) -> Text:
    return msg("%(ticket)s is %(status)s: the live chat has ended", ticket=ticket_id, status=term("status", status))


class RasaUnavailable(Exception):
    """Hand-back needs Rasa's private channel; it was not configured or did not answer."""


@dataclass(frozen=True)
class LiveMessage:
    id: int  # the message's position in the transcript
    role: str  # customer | agent
    text: str
    at: datetime | None

    def as_json(self) -> dict[str, Any]:
        at = self.at.astimezone(UTC).isoformat().replace("+00:00", "Z") if self.at else None
        return {"id": self.id, "role": self.role, "text": self.text, "at": at}


def live_mode(view: dict[str, Any]) -> tuple[str, str | None]:
    """(mode, name of the agent who joined) of a handoff view, from its audit events."""
    if view["status"] not in OPEN_STATUSES:
        return "bot", None
    mode, agent = "waiting", None
    for event in view["events"]:
        if event["action"] == LIVE_STARTED:
            mode, agent = "live", event["note"] or event["actor"]
        elif event["action"] == HANDED_BACK:
            mode = "bot"
    return mode, agent


def live_messages(view: dict[str, Any], after: int = -1) -> list[LiveMessage]:
    """The messages of the live part: what was said after the handoff was created.

    The transcript's first messages are the bot conversation the action server
    sent with the handoff (the page has them already); live messages are
    appended later, stamped by this service's clock. A message of the desk
    itself after the handoff (sender "bot": a new response time,
    helpdesk/handoffs/notice.py) is a ``notice``.
    """
    created = view["created_at"]
    result = []
    for position, message in enumerate(view["transcript"]):
        if position <= after or message["sender"] not in ("customer", "agent", "bot"):
            continue
        if message["sender"] != "agent" and (message["timestamp"] is None or message["timestamp"] < created):
            continue
        role = "notice" if message["sender"] == "bot" else message["sender"]
        result.append(LiveMessage(position, role, message["text"], message["timestamp"]))
    return result


def expected_now(routing: Any, view: dict[str, Any]) -> dict[str, Any]:
    """The response time the customer was last told: the one of the ticket's creation, or the newer one
    a move to another team told them (its ``customer_told`` history entry says when)."""
    if view.get("told_due_at") is None:
        return routing.expected(view["created_at"], view["due_at"]).as_json()
    told = next((e["at"] for e in reversed(view["events"]) if e["action"] == "customer_told"), view["updated_at"])
    return routing.expected(told, view["told_due_at"]).as_json()


class LiveChat:
    """The live part of chats, on top of the handoff store."""

    def __init__(self, store: HandoffStore, config: ChatConfig, routing=None):
        self.store = store
        self.config = config
        self.routing = routing

    # -- reading ---------------------------------------------------------------------------------
    def mode(self, ticket_id: str) -> str:
        return live_mode(self.store.get(ticket_id))[0]

    def customer_view(self, ticket_id: str, after: int = -1, rating_links: bool = False) -> dict[str, Any]:
        """What the customer's page may see: its ticket's state and the live messages, nothing else.
        ``rating_links``: for the customer's page itself, the rating link whole (agents watching the
        chat get its token hidden)."""
        view = self.store.get(ticket_id, rating_links=rating_links)
        mode, agent = live_mode(view)
        expected = expected_now(self.routing, view) if self.routing is not None else None
        ticket = {
            "id": view["ticket_id"],
            "status": "open" if view["status"] in OPEN_STATUSES else "closed",
            "mode": mode,
            "agent": agent,
            "expected_response": expected,
        }
        messages = [m.as_json() for m in live_messages(view, after)]
        for message in messages:
            if message["role"] == "agent":
                message["name"] = agent  # the agent who took the chat over (an audit note, not the login)
        return {"ticket": ticket, "messages": messages}

    # -- writing ---------------------------------------------------------------------------------
    def post(self, ticket_id: str, role: str, text: str, actor: str) -> LiveMessage:
        """Append one message of the live part to the transcript; only while the ticket is open."""
        view = self.store.get(ticket_id)
        if view["status"] not in OPEN_STATUSES:
            raise InvalidTransition(ended(view["ticket_id"], view["status"]))
        if role == "customer" and live_mode(view)[0] == "bot":
            raise InvalidTransition(msg("%(ticket)s was handed back to the bot", ticket=view["ticket_id"]))
        # A form posts a textarea's line breaks as CRLF: stored as "\n", like every other message.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        message = Message(sender=role, text=text, timestamp=utcnow())
        after = self.store.append_messages(ticket_id, [message], actor=actor)
        position = len(after["transcript"]) - 1
        stored = after["transcript"][position]
        return LiveMessage(position, role, stored["text"], stored["timestamp"])

    def record(self, ticket_id: str, actor: str, action: str, note: str | None = None) -> None:
        """An audit event of the live part (live_started, handed_back) on an open ticket."""
        now = utcnow()
        with self.store.transaction() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.ticket_id == ticket_id.strip().upper()).with_for_update())
            if handoff is None:
                raise TicketNotFound(msg("no handoff %(ticket)r", ticket=ticket_id))
            if handoff.status not in OPEN_STATUSES:
                raise InvalidTransition(ended(handoff.ticket_id, handoff.status))
            s.add(HandoffEvent(handoff_id=handoff.id, at=now, actor=actor, action=action, note=note))
            handoff.updated_at = now

    def start(self, ticket_id: str, username: str, display_name: str) -> None:
        view = self.store.get(ticket_id)
        if not SESSION_ID_RE.match(self.store.conversation_of(ticket_id)):
            raise InvalidTransition(
                msg("%(ticket)s did not come from the web chat: no one to reply to live", ticket=view["ticket_id"])
            )
        if view["status"] in ("new", "escalated"):
            self.store.claim(ticket_id, username)
        self.record(ticket_id, username, LIVE_STARTED, display_name)

    def hand_back(self, ticket_id: str, username: str) -> None:
        self.resume_bot(self.store.conversation_of(ticket_id))  # first: if Rasa is down, the agent keeps the chat
        self.record(ticket_id, username, HANDED_BACK)

    def close(self, ticket_id: str, username: str, note: str) -> bool:
        """Resolve the ticket and give the chat back to the bot; False when Rasa could not be told."""
        self.store.resolve(ticket_id, username, note)
        try:
            self.resume_bot(self.store.conversation_of(ticket_id))
        except RasaUnavailable:
            return False
        return True

    def resume_bot(self, conversation_id: str) -> None:
        """Clear the bot's handoff slots through Rasa's private channel (bot/channels.py), so it answers again."""
        if not SESSION_ID_RE.match(conversation_id):
            return  # not a web chat: nothing waits for the bot
        if not self.config.rasa_token:
            raise RasaUnavailable("HELPDESK_RASA_TOKEN is not set: cannot hand the conversation back to the bot")
        try:
            response = httpx.post(
                f"{self.config.rasa_url}/webhooks/helpdesk/conversations/{conversation_id}/slots",
                headers={"Authorization": f"Bearer {self.config.rasa_token}"},
                json={slot: None for slot in BOT_HANDOFF_SLOTS},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa did not answer at {self.config.rasa_url}: {exc}") from None
        if response.status_code >= 300:
            raise RasaUnavailable(f"Rasa refused the hand-back: HTTP {response.status_code}")
