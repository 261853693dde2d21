"""Rasa's public input channels with limits, and a private channel for the web service.

Why: one anonymous 100,000-character message kept Rasa's NLU busy for a minute
and grew it by gigabytes. These subclasses of Rasa's REST and socket.io
channels (configured in credentials.yml) refuse, before anything reaches NLU:

- a request over ``HELPDESK_BOT_MAX_REQUEST_BYTES`` (default 1,000,000) at the
  HTTP layer: Sanic's ``REQUEST_MAX_SIZE`` and ``WEBSOCKET_MAX_SIZE``, engine.io's
  ``max_http_buffer_size`` (413, or the websocket is closed);
- a message over ``HELPDESK_BOT_MAX_MESSAGE_CHARS`` (default 8,000, the most a
  ticket keeps whole), answered with a localised text as a normal bot message (the
  page's ``customData.language``, REST ``metadata.language`` or ``Accept-Language``;
  both languages when unknown);
- more than ``HELPDESK_BOT_RATE_LIMIT_ADDRESS`` messages per client address or
  ``HELPDESK_BOT_RATE_LIMIT_CONVERSATION`` per conversation (the ``limits``
  library's moving window, in Redis when ``HELPDESK_REDIS_URL`` is set, else in
  this process); REST answers 429 with ``Retry-After``;
- REST bodies that are not a JSON object (400) or have no ``sender`` (400);
- socket.io connections from a browser page of another origin than
  ``HELPDESK_CHAT_ORIGINS`` (default ``HELPDESK_PUBLIC_URL``, space-separated).
  The page that connects is the chat page (``/chat``, also inside the iframe of
  ``/chat/embed.js``), so these are the web service's public origins, never the
  sites that embed the chat. Each refused origin is logged at most once a
  minute, with the number of refused requests (``OriginCheck``).

A message within the limit reaches NLU bounded, so its cost stays flat however long
the message: NLU (featurizers, DIET) gets the first ``NLU_CHARS`` characters, cut
after a sentence or a word (``nlu_text``), and the whole text travels in the
message's metadata under ``FULL_TEXT``, where the actions read what the customer
wrote (actions/conversation.py ``said``). Only the channel sets that key: a
client's own is dropped.

Rasa runs without ``--enable-api``, so its HTTP API (models, trackers) is not
served at all. What the web service needs of it, reading and clearing slots
at a hand-back (helpdesk/chat/live.py), is ``HelpdeskControlInput``:
``GET``/``POST /webhooks/helpdesk/conversations/<id>/slots`` with the bearer
token ``HELPDESK_RASA_TOKEN`` (environment, or ``HELPDESK_SECRETS_FILE``);
without a token it refuses everyone.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.shared.core.events import SlotSet
from sanic import Blueprint, Sanic, response
from sanic.blueprint_group import BlueprintGroup
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.backend import MAX_MESSAGE_CHARS  # the default limit: what a ticket keeps whole

# The actions' reader of secrets (environment, then HELPDESK_SECRETS_FILE), as the web service reads them.
from actions.backend import _secret as secret
from actions.conversation import FULL_TEXT  # the metadata key the actions read the whole message from
from actions.texts import texts as customer_texts

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 200
# What NLU classifies of a message: an intent shows in its first sentences, and DIET's and the
# featurizers' cost grows with the text. The search bounds its query itself (actions/backend.py).
NLU_CHARS = 1000
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*\s|\n")
_WORD_END = re.compile(r"\s")


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


class OriginCheck:
    """engine.io's origin check (its ``cors_allowed_origins`` may be a callable): a page origin in
    ``origins`` is accepted (``*`` accepts all); each refused origin is logged at most once per
    ``every`` seconds, with the number of requests refused since its last line.

    engine.io asks twice per request (the check, then the CORS headers of the answer); the
    request's environ remembers the answer, so each request counts once. At most
    ``MAX_ORIGINS`` origins are tracked at a time; refusals beyond them count as "other origins".
    """

    MAX_ORIGINS = 100
    OTHERS = "(other origins)"
    _ENVIRON_KEY = "helpdesk.origin_accepted"

    def __init__(self, origins: list[str], every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.origins = list(origins)
        self._accepted = set(self.origins)
        self.every = every
        self.clock = clock
        self._refused: dict[str, tuple[int, float]] = {}  # origin -> (refused since its last line, that line's time)

    def __call__(self, origin: str | None, environ: dict[str, Any] | None = None) -> bool:
        if environ is not None and self._ENVIRON_KEY in environ:
            return bool(environ[self._ENVIRON_KEY])
        accepted = not origin or "*" in self._accepted or origin in self._accepted
        if environ is not None:
            environ[self._ENVIRON_KEY] = accepted
        if not accepted:
            self.refused(str(origin))
        return accepted

    def refused(self, origin: str) -> None:
        now = self.clock()
        if origin not in self._refused and len(self._refused) >= self.MAX_ORIGINS:
            # Forget the origins whose minute is over and that were not refused since.
            self._refused = {o: e for o, e in self._refused.items() if e[0] or now - e[1] < self.every}
            if len(self._refused) >= self.MAX_ORIGINS:
                origin = self.OTHERS
        count, logged = self._refused.get(origin, (0, -math.inf))
        count += 1
        if now - logged < self.every:
            self._refused[origin] = (count, logged)
            return
        self._refused[origin] = (0, now)
        logger.warning(
            "socket.io: refused %d request(s) from the page origin %s%s; accepted origins "
            "(HELPDESK_CHAT_ORIGINS): %s. The chat page is served by the web service (also inside "
            "the iframe of /chat/embed.js), so its public origin belongs there, not the website "
            "that embeds the chat.",
            count,
            origin,
            "" if logged == -math.inf else f" in the last {now - logged:.0f} s",
            " ".join(self.origins) or "(none)",
        )


class Limits:
    """The edge's limits, from the environment; one per process, shared by both channels."""

    _shared: Limits | None = None

    def __init__(self) -> None:
        self.max_chars = int(_env("HELPDESK_BOT_MAX_MESSAGE_CHARS", str(MAX_MESSAGE_CHARS)))
        self.max_bytes = int(_env("HELPDESK_BOT_MAX_REQUEST_BYTES", "1000000"))
        self.per_address = parse_many(_env("HELPDESK_BOT_RATE_LIMIT_ADDRESS", "5/second;300/minute"))
        self.per_conversation = parse_many(_env("HELPDESK_BOT_RATE_LIMIT_CONVERSATION", "10/second;60/minute"))
        # The limiter keeps only a weak reference to its storage: this object holds it.
        self.storage = storage_from_string(_env("HELPDESK_REDIS_URL", "memory://"))
        self.limiter = MovingWindowRateLimiter(self.storage)
        public = _env("HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000")
        self.origins = [o.rstrip("/") for o in _env("HELPDESK_CHAT_ORIGINS", public).replace(",", " ").split()]

    @classmethod
    def shared(cls) -> Limits:
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def wait(self, address: str, conversation: str) -> int | None:
        """Seconds to wait when this message is over a rate limit, else None (and it is counted)."""
        for items, scope, key in (
            (self.per_address, "address", address),
            (self.per_conversation, "conversation", conversation),
        ):
            for item in items:
                try:
                    if not self.limiter.hit(item, "helpdesk-bot", scope, key):
                        reset = self.limiter.get_window_stats(item, "helpdesk-bot", scope, key)[0]
                        return max(1, math.ceil(reset - time.time()))
                except Exception:  # Redis down: answer customers rather than refuse everyone
                    logger.warning("rate limit store unavailable; message not counted", exc_info=True)
                    return None
        return None

    def apply_to(self, app: Sanic) -> None:
        """The byte limit at the HTTP layer: request bodies and websocket messages."""
        app.config.REQUEST_MAX_SIZE = self.max_bytes
        app.config.WEBSOCKET_MAX_SIZE = self.max_bytes


def text_for(name: str, lang: str | None, **values: Any) -> str:
    """Entry ``name`` of the actions' texts (actions/texts.yml) in ``lang``; in both languages
    when the language is unknown (the channel answers before NLU has seen the message)."""
    entry = customer_texts()[name]
    lang = (lang or "").lower()[:2]
    if lang in entry:
        return str(entry[lang]).format(**values)
    return " / ".join(str(entry[key]).format(**values) for key in ("de", "en"))


def nlu_text(text: str, most: int = NLU_CHARS) -> str:
    """``text`` if it has at most ``most`` characters, else its start: up to the last sentence end
    within ``most``, else the last word end (either in the second half), else ``most`` characters."""
    if len(text) <= most:
        return text
    head = text[: most + 1]  # a space just after the limit ends a word within it
    for boundary in (_SENTENCE_END, _WORD_END):
        cuts = [match.end() for match in boundary.finditer(head) if match.end() > most // 2]
        if cuts:
            return head[: cuts[-1]].rstrip()
    return text[:most]


def for_nlu(text: str, metadata: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """(the text NLU gets, the message's metadata): the whole text under ``FULL_TEXT`` when NLU
    gets only its start; a ``FULL_TEXT`` the client sent is dropped."""
    metadata = {key: value for key, value in (metadata or {}).items() if key != FULL_TEXT}
    bounded = nlu_text(text)
    if bounded != text:
        metadata[FULL_TEXT] = text
    return bounded, metadata


def _bad_request(detail: str) -> HTTPResponse:
    return response.json({"detail": detail}, status=400)


class LimitedRestInput(RestInput):
    """``POST /webhooks/rest/webhook`` with body, length and rate limits (the same name as Rasa's)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.shared()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    @staticmethod
    def _language(body: dict[str, Any], request: Request) -> str | None:
        metadata = body.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("language"), str):
            return metadata["language"]
        return request.headers.get("accept-language", "").split(",")[0].strip() or None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint(f"limited_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json.loads(request.body or b"")
            except (ValueError, RecursionError):
                return _bad_request('the body must be a JSON object {"sender": ..., "message": ...}')
            if not isinstance(body, dict):
                return _bad_request('the body must be a JSON object {"sender": ..., "message": ...}')
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return _bad_request(f"'sender' (the conversation id, 1-{MAX_SENDER_CHARS} characters) is required")
            if not isinstance(text, str):
                return _bad_request("'message' must be a string")
            metadata = body.get("metadata")
            if metadata is not None and not isinstance(metadata, dict):
                return _bad_request("'metadata' must be an object")
            lang = self._language(body, request)
            wait = self.limits.wait(request.remote_addr or request.ip, sender)
            if wait is not None:
                return response.json(
                    [{"recipient_id": sender, "text": text_for("too_many_messages", lang, seconds=wait)}],
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            if len(text) > self.limits.max_chars:
                # A bot message like any other: a client shows it, where a 413 would show nothing.
                reply = text_for("message_too_long", lang, length=len(text), limit=self.limits.max_chars)
                return response.json([{"recipient_id": sender, "text": reply}])
            text, metadata = for_nlu(text, metadata)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:
                logger.exception("rest message failed")
            return response.json(collector.messages)

        return with_byte_limits(webhook, self.limits)


class LimitedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (the web chat) with origin, length and rate limits."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.limits = Limits.shared()
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        limits: Limits = getattr(self, "limits", None) or Limits.shared()
        sio = self.sio
        namespace = self.namespace or "/"
        sio.eio.max_http_buffer_size = limits.max_bytes
        # engine.io checks the Origin of every request (polling and websocket) and answers CORS itself.
        sio.eio.cors_allowed_origins = OriginCheck(limits.origins)
        handle_message = sio.handlers[namespace][self.user_message_evt]

        async def limited_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                logger.info("socket.io message of %s refused: not an object with a text message", sid)
                return
            custom = data.get("customData")
            lang = custom.get("language") if isinstance(custom, dict) else None
            request = (sio.get_environ(sid, namespace) or {}).get("sanic.request")
            address = (request.remote_addr or request.ip) if request is not None else "unknown"
            conversation = str(data.get("session_id") or sid)[:MAX_SENDER_CHARS]
            wait = limits.wait(address, conversation)
            if wait is not None:
                await sio.emit(
                    self.bot_message_evt, {"text": text_for("too_many_messages", lang, seconds=wait)}, room=sid
                )
                return
            text = data.get("message", "")
            if len(text) > limits.max_chars:
                reply = text_for("message_too_long", lang, length=len(text), limit=limits.max_chars)
                await sio.emit(self.bot_message_evt, {"text": reply}, room=sid)
                return
            text, metadata = for_nlu(text, _metadata(data.get(self.metadata_key)))
            await handle_message(sid, {**data, "message": text, self.metadata_key: metadata})

        sio.on(self.user_message_evt, limited_message, namespace=namespace)
        return with_byte_limits(blueprint, limits)


def _metadata(value: Any) -> dict[str, Any]:
    """socket.io's metadata as Rasa's channel reads it (an object, or one as a JSON string)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return value if isinstance(value, dict) else {}


class ByteLimits(Blueprint):
    """No routes: registering it sets the byte limits on the app (before the server starts)."""

    def __init__(self, limits: Limits, name: str) -> None:
        super().__init__(name)
        self.ctx.limits = limits

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        self.ctx.limits.apply_to(app)
        super().register(app, options)


def with_byte_limits(blueprint: Blueprint, limits: Limits) -> BlueprintGroup:
    """A channel's blueprint together with one that applies the byte limits to the app it joins."""
    return Blueprint.group(ByteLimits(limits, f"byte_limits_{blueprint.name}"), blueprint)


class HelpdeskControlInput(InputChannel):
    """Private: the web service reads and clears a conversation's slots (hand-back after a live chat)."""

    @classmethod
    def name(cls) -> str:
        return "helpdesk"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(secret("HELPDESK_RASA_TOKEN"))

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def _refusal(self, request: Request) -> HTTPResponse | None:
        if not self.token:
            return response.json({"detail": "disabled: HELPDESK_RASA_TOKEN is not set"}, status=403)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return response.json(
                {"detail": "missing or invalid bearer token"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        control = Blueprint("helpdesk_control", __name__)

        @control.route("/conversations/<conversation_id:str>/slots", methods=["GET", "POST"])
        async def slots(request: Request, conversation_id: str) -> HTTPResponse:
            refused = self._refusal(request)
            if refused is not None:
                return refused
            agent = request.app.ctx.agent
            if agent is None or not agent.is_ready():
                return response.json({"detail": "no model loaded"}, status=503)
            events: list[SlotSet] = []
            if request.method == "POST":
                try:
                    body = json.loads(request.body or b"")
                except ValueError:
                    body = None
                if not isinstance(body, dict) or not body:
                    return _bad_request("the body must be a JSON object {slot: value}")
                known = {slot.name for slot in agent.domain.slots}
                unknown = sorted(set(body) - known)
                if unknown:
                    return _bad_request(f"no such slots: {', '.join(unknown)}")
                events = [SlotSet(name, value) for name, value in body.items()]
            async with agent.lock_store.lock(conversation_id):
                tracker = await agent.processor.fetch_tracker_with_initial_session(conversation_id)
                for event in events:
                    tracker.update(event, agent.domain)
                if events:
                    await agent.tracker_store.save(tracker)
            return response.json(
                {
                    "conversation_id": conversation_id,
                    "slots": tracker.current_slot_values(),
                    "active_loop": tracker.active_loop_name,
                }
            )

        return control
