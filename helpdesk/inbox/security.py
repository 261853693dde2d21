"""Signed session cookies and CSRF tokens of the agent inbox.

Why not Starlette's SessionMiddleware: it would act on the whole app, and the
inbox needs only two small things, kept here where they can be read whole.
The session cookie holds the agent id and the session's CSRF token, signed and
time-stamped with HELPDESK_SESSION_SECRET (itsdangerous); a cookie that was
altered, or is older than SESSION_MAX_AGE, is no session. Before login a
separate short-lived cookie carries the login form's CSRF token (double
submit), so a foreign site cannot log a browser into an attacker's account.
``LoginThrottle`` slows password guessing: after too many failures for a user
name (or from one address) logins are refused for a while (per process).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "hd_session"
LOGIN_CSRF_COOKIE = "hd_login_csrf"
SESSION_MAX_AGE = 12 * 3600  # one long shift
LOGIN_CSRF_MAX_AGE = 3600


@dataclass(frozen=True)
class Session:
    agent_id: int
    csrf: str


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.session_secret, salt=salt)


def _cookie_flags(request: Request) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": request.url.scheme == "https", "path": "/agent"}


def read_session(request: Request) -> Session | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request, "agent-session").loads(raw, max_age=SESSION_MAX_AGE)
        return Session(int(data["a"]), str(data["c"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def start_session(request: Request, response: Response, agent_id: int) -> None:
    # A fresh CSRF token on every login: nothing from before the login carries over.
    token = _serializer(request, "agent-session").dumps({"a": agent_id, "c": new_token()})
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE, **_cookie_flags(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/agent")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/agent")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    """The login form's token goes into the form and, signed, into a cookie (double submit)."""
    signed = _serializer(request, "login-csrf").dumps(token)
    response.set_cookie(LOGIN_CSRF_COOKIE, signed, max_age=LOGIN_CSRF_MAX_AGE, **_cookie_flags(request))


def check_login_csrf(request: Request, submitted: str) -> bool:
    raw = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not raw or not submitted:
        return False
    try:
        expected = _serializer(request, "login-csrf").loads(raw, max_age=LOGIN_CSRF_MAX_AGE)
    except BadSignature:
        return False
    return hmac.compare_digest(str(expected).encode(), submitted.encode())


def check_csrf(session: Session, submitted: str) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), submitted.encode())


class LoginThrottle:
    """Refuses logins after ``limit`` failures for one key within ``window`` seconds (in memory, per process)."""

    def __init__(self, window: float = 300.0):
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, limits: dict[str, int]) -> int:
        """Seconds until a login may be tried again (0: now), for keys like {"user:anna": 5, "ip:1.2.3.4": 20}."""
        now = time.monotonic()
        with self._lock:
            waits = [self._recent(key, now)[0] + self.window - now
                     for key, limit in limits.items() if len(self._recent(key, now)) >= limit]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
