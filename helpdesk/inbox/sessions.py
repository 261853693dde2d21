"""Server-side login sessions of the inbox and the login throttle, both in the database.

Why in the database and not in a signed cookie or in memory: a session must end
at once when the agent logs out, is deactivated or changes the password, on every
replica; and password guessing must be counted by every process together. The
cookie holds only a random token; the ``agent_sessions`` row (sha256 of the
token) is the truth, with an idle timeout and an absolute age limit.

The throttle never locks out the right password for long: after a few free
failures a key ("user:anna", "ip:192.0.2.1") has to wait a delay that doubles
with each further failure, capped (one minute for an account), and a browser
that has logged in as that account before (its signed device cookie) is not
slowed by failures made elsewhere, only by its own (OWASP's "device cookies").
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from helpdesk.db import as_utc, utcnow
from helpdesk.handoffs.models import Agent, AgentSession, LoginFailure
from helpdesk.handoffs.store import HandoffStore

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often (or a tenth of the idle time)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    id: int
    agent_id: int
    csrf: str


class SessionStore:
    def __init__(
        self, store: HandoffStore, idle: timedelta, max_age: timedelta, clock: Callable[[], datetime] = utcnow
    ):
        self.store, self.idle, self.max_age, self.clock = store, idle, max_age, clock

    def start(self, agent_id: int, address: str | None) -> tuple[str, Session]:
        """A new session; returns the cookie's token (shown once) and the session."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        with self.store.transaction() as s:
            # Sessions nobody came back to are dead already; drop their rows here rather than never.
            s.execute(
                delete(AgentSession).where(
                    (AgentSession.last_seen_at < now - self.idle) | (AgentSession.created_at < now - self.max_age)
                )
            )
            row = AgentSession(
                token_hash=_hash(token),
                agent_id=agent_id,
                csrf=csrf,
                created_at=now,
                last_seen_at=now,
                address=(address or "")[:64] or None,
            )
            s.add(row)
            s.flush()
            return token, Session(row.id, agent_id, csrf)

    def read(self, token: str, touch: bool = True) -> Session | None:
        """The live session of a cookie token, or None (unknown, ended, idle too long, too old, agent inactive).

        ``touch`` False: a request that does not count as activity (the live streams), so an open tab
        alone never keeps a session alive.
        """
        if not token or len(token) > 100:
            return None
        now = self.clock()
        with self.store.transaction() as s:
            row = s.scalar(select(AgentSession).where(AgentSession.token_hash == _hash(token)))
            if row is None:
                return None
            agent = s.get(Agent, row.agent_id)
            if (
                agent is None
                or not agent.active
                or as_utc(row.last_seen_at) + self.idle < now
                or as_utc(row.created_at) + self.max_age < now
            ):
                s.delete(row)
                return None
            if touch and as_utc(row.last_seen_at) + min(TOUCH_EVERY, self.idle / 10) < now:
                row.last_seen_at = now
            return Session(row.id, row.agent_id, row.csrf)

    def end(self, token: str) -> None:
        with self.store.transaction() as s:
            s.execute(delete(AgentSession).where(AgentSession.token_hash == _hash(token)))

    def count(self, agent_id: int) -> int:
        with self.store.transaction() as s:
            return (
                s.scalar(select(func.count()).select_from(AgentSession).where(AgentSession.agent_id == agent_id)) or 0
            )


@dataclass(frozen=True)
class Limit:
    free: int  # failures in the window before any delay
    base: float  # seconds of the first delay, doubled by each further failure
    cap: float  # the longest delay


class LoginThrottle:
    """Growing delays per key after failed logins, counted in the database by every process."""

    window = timedelta(hours=1)

    def __init__(self, store: HandoffStore, clock: Callable[[], datetime] = utcnow):
        self.store, self.clock = store, clock

    def retry_after(self, limits: dict[str, Limit]) -> float:
        """Seconds until a login may be tried for these keys (0: now)."""
        now = self.clock()
        waits = [0.0]
        with self.store.transaction() as s:
            for key, limit in limits.items():
                count, last = s.execute(
                    select(func.count(), func.max(LoginFailure.at)).where(
                        LoginFailure.key == key, LoginFailure.at > now - self.window
                    )
                ).one()
                if count >= limit.free and last is not None:
                    delay = min(limit.cap, limit.base * 2 ** (count - limit.free))
                    waits.append((as_utc(last) + timedelta(seconds=delay) - now).total_seconds())
        return max(waits)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self.store.transaction() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - self.window))
            s.add_all([LoginFailure(key=key[:200], at=now) for key in keys])

    def succeeded(self, *keys: str) -> None:
        with self.store.transaction() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.key.in_([k[:200] for k in keys])))
