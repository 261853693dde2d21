"""Cookies and CSRF tokens of the agent inbox, on top of the server-side sessions (``sessions``).

The session cookie holds a random token whose row in ``agent_sessions`` is the
session: logout deletes the row, so a copied cookie is worthless at once. Each
session has its own CSRF token, checked on every POST. Before login a separate
short-lived signed cookie carries the login form's CSRF token (double submit),
so a foreign site cannot log a browser into an attacker's account. After a
successful login a signed, long-lived device cookie remembers that this browser
has logged in as that account, so the login throttle does not slow it down for
failures made elsewhere.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from helpdesk.inbox.sessions import LoginThrottle, Session, SessionStore

SESSION_COOKIE = "hd_session"
LOGIN_CSRF_COOKIE = "hd_login_csrf"
DEVICE_COOKIE = "hd_device"
LOGIN_CSRF_MAX_AGE = 3600
DEVICE_MAX_AGE = 90 * 86400

__all__ = [
    "Session",
    "read_session",
    "start_session",
    "end_session",
    "check_csrf",
    "new_token",
    "set_login_csrf",
    "check_login_csrf",
    "device_key",
    "sessions",
    "login_throttle",
]


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.session_secret, salt=salt)


def _cookie_flags(request: Request) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": request.url.scheme == "https", "path": "/agent"}


def sessions(request: Request) -> SessionStore:
    state = request.app.state
    if getattr(state, "agent_sessions", None) is None:
        settings = state.settings
        state.agent_sessions = SessionStore(
            state.handoffs,
            timedelta(seconds=settings.session_idle_seconds),
            timedelta(seconds=settings.session_max_seconds),
        )
    return state.agent_sessions


def login_throttle(request: Request) -> LoginThrottle:
    state = request.app.state
    if getattr(state, "login_throttle", None) is None:
        state.login_throttle = LoginThrottle(state.handoffs)
    return state.login_throttle


def read_session(request: Request, touch: bool = True) -> Session | None:
    return sessions(request).read(request.cookies.get(SESSION_COOKIE, ""), touch=touch)


def start_session(request: Request, response: Response, agent_id: int, username: str) -> Session:
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        sessions(request).end(old)  # no session fixation: a login never continues an earlier session
    token, session = sessions(request).start(agent_id, request.client.host if request.client else None)
    max_age = int(request.app.state.settings.session_max_seconds)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, **_cookie_flags(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/agent")
    device = _serializer(request, "device").dumps({"u": username.lower(), "d": secrets.token_hex(8)})
    response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_MAX_AGE, **_cookie_flags(request))
    return session


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sessions(request).end(token)
    response.delete_cookie(SESSION_COOKIE, path="/agent")


def device_key(request: Request, username: str) -> str | None:
    """``device:<id>`` when this browser logged in as ``username`` before (signed cookie), else None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request, "device").loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != username.lower():
        return None
    return f"device:{data.get('d')}"


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
