"""Rate limits of the public endpoints: per client address and per chat conversation (429 + Retry-After).

Counting is the ``limits`` library's moving window, in Redis when
``HELPDESK_REDIS_URL`` is set (so every replica shares the counters) and in
this process's memory otherwise. Endpoints are grouped (``RULES``); each group
has its own budget per client address, and the chat API also one per
conversation (the session id in its path). The bot's action server calls
/search, /language and /feedback for every customer from one address with the
service token: such requests are not limited here, because the bot's input
channels already limit each customer (bot/channels.py). A Redis outage lets
requests through (logged) rather than failing every search.

The client address is the connection's peer. Behind a reverse proxy, run
uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so the peer is
the customer's address from ``X-Forwarded-For``.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    group: str
    methods: frozenset[str]
    path: re.Pattern  # a named group "conversation" adds the per-conversation limit


RULES = (
    Rule("search", frozenset({"POST"}), re.compile(r"^/(search|language)$")),
    Rule("feedback", frozenset({"POST"}), re.compile(r"^/feedback$")),
    Rule("chat", frozenset({"GET", "POST"}), re.compile(r"^/chat/api/live/(?P<conversation>[^/]+)(/.*)?$")),
    Rule("attachments", frozenset({"POST"}), re.compile(r"^/chat/api/attachments$")),  # the chat's files
    Rule("rate", frozenset({"GET", "POST"}), re.compile(r"^/rate/")),  # the customers' rating links
)


class RateLimiter:
    """Moving-window counters; ``hit`` answers None (go on) or the seconds to wait."""

    def __init__(
        self, address_limits: str, conversation_limits: str, storage_url: str | None = None, prefix: str = "helpdesk"
    ):
        self.address_limits: list[RateLimitItem] = parse_many(address_limits)
        self.conversation_limits: list[RateLimitItem] = parse_many(conversation_limits)
        self.storage = storage_from_string(storage_url or "memory://")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.prefix = prefix

    def hit(self, items: list[RateLimitItem], *key: str) -> float | None:
        for item in items:
            if not self.limiter.hit(item, self.prefix, *key):
                reset = self.limiter.get_window_stats(item, self.prefix, *key).reset_time
                return max(1.0, reset - time.time())
        return None


def too_many(retry_after: float, what: str) -> tuple[dict, bytes]:
    seconds = math.ceil(retry_after)
    body = json.dumps({"detail": f"too many requests {what}; retry in {seconds} s"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    return {"type": "http.response.start", "status": 429, "headers": headers}, body


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, service_token: str | None = None):
        self.app = app
        self.limiter = limiter
        self.service_token = service_token

    def _is_service(self, scope: Scope) -> bool:
        if not self.service_token:
            return False
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.service_token.encode())

    def check(self, scope: Scope) -> tuple[float, str] | None:
        """(seconds to wait, which limit) when the request is over a limit, else None."""
        for rule in RULES:
            match = rule.path.match(scope["path"])
            if match is None or scope["method"] not in rule.methods:
                continue
            if self._is_service(scope):
                return None
            address = scope["client"][0] if scope.get("client") else "unknown"
            try:
                wait = self.limiter.hit(self.limiter.address_limits, rule.group, "address", address)
                if wait is not None:
                    return wait, "from this address"
                conversation = match.groupdict().get("conversation")
                if conversation:
                    wait = self.limiter.hit(
                        self.limiter.conversation_limits, rule.group, "conversation", conversation[:200]
                    )
                    if wait is not None:
                        return wait, "in this conversation"
            except Exception:  # the counters' store is down: serve rather than fail every request
                log.warning("rate limit store unavailable; request not counted", exc_info=True)
            return None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            over = self.check(scope)
            if over is not None:
                start, body = too_many(*over)
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
