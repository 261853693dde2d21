"""The agents' accounts: who may log in to the desk, with which role and teams, and their API tokens.

Passwords are stored as argon2id hashes (argon2-cffi, the reference implementation's binding),
re-hashed on login when the library's parameters grow; an unknown user costs as much time as a
wrong password, so logins do not reveal who has an account. API tokens are random and stored
as SHA-256 hashes (a token has 256 bits of entropy, so a fast hash suffices), revoked with the
agent. ``AgentAccounts`` is the part of ``HandoffStore`` (helpdesk/handoffs/store.py) that
works on these tables, in the store's transactions.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.db import utcnow
from helpdesk.handoffs.errors import AgentExists, AgentNotFound, StoreError
from helpdesk.handoffs.models import ROLES, Agent, AgentSession, AgentToken
from helpdesk.i18n import LANGUAGES, msg

__all__ = ["AgentAccounts", "AgentExists", "AgentInfo", "AgentNotFound", "secret_hash"]

_hasher = PasswordHasher()  # argon2id with the library's current parameters
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    teams: tuple[str, ...]
    role: str = "agent"
    active: bool = True
    language: str | None = None  # the desk's language for this agent; None: the browser's

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The teams whose tickets this agent may see; None: every team (supervisor, admin)."""
        return None if self.role in ("supervisor", "admin") else self.teams

    def may_see(self, team: str) -> bool:
        """Whether this agent may see the tickets of ``team``."""
        return self.scope is None or team in self.scope


class AgentAccounts:
    """Agents, passwords and API tokens; the class using it provides ``transaction()``."""

    def transaction(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def create_agent(
        self,
        username: str,
        display_name: str,
        teams: Iterable[str],
        password: str,
        role: str = "agent",
        language: str | None = None,
    ) -> AgentInfo:
        teams = tuple(dict.fromkeys(t.strip() for t in teams if t.strip()))
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        _check_language(language)
        try:
            with self.transaction() as s:
                agent = Agent(
                    username=username,
                    display_name=display_name,
                    teams=",".join(teams),
                    role=role,
                    password_hash=_hasher.hash(password),
                    active=True,
                    created_at=utcnow(),
                    language=language,
                )
                s.add(agent)
                s.flush()
                return self._agent_info(agent)
        except IntegrityError:
            raise AgentExists(f"an agent named {username!r} exists already") from None

    def deactivate_agent(self, username: str) -> None:
        """No more logins, sessions or API tokens for this agent; the audit trail keeps the name."""
        with self.transaction() as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AgentNotFound(f"no agent {username!r}")
            agent.active = False
            for token in s.scalars(select(AgentToken).where(AgentToken.agent_id == agent.id)):
                token.revoked = True
            s.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))

    def update_agent(self, username: str, role: str | None = None, teams: Iterable[str] | None = None) -> AgentInfo:
        """Change an agent's role or teams; sessions and tokens carry the new scope from their next request."""
        if role is not None and role not in ROLES:
            raise StoreError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        with self.transaction() as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AgentNotFound(f"no agent {username!r}")
            if role is not None:
                agent.role = role
            if teams is not None:
                agent.teams = ",".join(dict.fromkeys(t.strip() for t in teams if t.strip()))
            return self._agent_info(agent)

    def set_language(self, username: str, language: str | None) -> AgentInfo:
        """The language the desk speaks to this agent (one of ``LANGUAGES``); None: the browser's."""
        _check_language(language)
        with self.transaction() as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AgentNotFound(f"no agent {username!r}")
            agent.language = language
            return self._agent_info(agent)

    def agents(self) -> list[AgentInfo]:
        with self.transaction() as s:
            return [self._agent_info(a) for a in s.scalars(select(Agent).order_by(Agent.username))]

    def set_password(self, username: str, password: str) -> None:
        with self.transaction() as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AgentNotFound(f"no agent {username!r}")
            agent.password_hash = _hasher.hash(password)
            # A new password ends every session: whoever knew the old one is out at once.
            s.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))

    def authenticate(self, username: str, password: str) -> AgentInfo | None:
        with self.transaction() as s:
            agent = s.scalar(select(Agent).where(Agent.username == username, Agent.active.is_(True)))
            try:
                # An unknown user costs as much time as a wrong password: no user enumeration by timing.
                _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                return None
            if agent is None:
                return None
            if _hasher.check_needs_rehash(agent.password_hash):
                agent.password_hash = _hasher.hash(password)
            return self._agent_info(agent)

    def agent(self, agent_id: int) -> AgentInfo | None:
        with self.transaction() as s:
            agent = s.get(Agent, agent_id)
            return self._agent_info(agent) if agent is not None and agent.active else None

    def create_token(self, username: str, name: str) -> str:
        token = "hdat_" + secrets.token_urlsafe(32)
        with self.transaction() as s:
            agent = s.scalar(select(Agent).where(Agent.username == username))
            if agent is None:
                raise AgentNotFound(f"no agent {username!r}")
            s.add(
                AgentToken(
                    agent_id=agent.id, name=name, token_hash=secret_hash(token), created_at=utcnow(), revoked=False
                )
            )
        return token

    def agent_for_token(self, token: str) -> AgentInfo | None:
        with self.transaction() as s:
            row = s.scalar(
                select(AgentToken).where(AgentToken.token_hash == secret_hash(token), AgentToken.revoked.is_(False))
            )
            if row is None or not row.agent.active:
                return None
            return self._agent_info(row.agent)

    @staticmethod
    def _agent_info(agent: Agent) -> AgentInfo:
        return AgentInfo(
            agent.id,
            agent.username,
            agent.display_name,
            tuple(agent.team_list),
            agent.role,
            agent.active,
            agent.language,
        )


def _check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise StoreError(msg("unknown language %(language)r (languages: %(known)s)", language=language, known=known))


def secret_hash(token: str) -> str:
    """How a random secret (an API token, a chat key) is stored: it has 256 bits, a fast hash suffices."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
