"""The rating links and the customers' answers.

A link is ``/rate/<token>``: 256 random bits, of which only the sha256 is stored
(``ratings.token_hash``), naming nothing about the ticket. It is single-use: the first
score recorded ends it (a conditional UPDATE, so two clicks at once record one score);
afterwards the page says "already rated" and still takes the one optional comment. A link
expires ``VALID`` after the question was asked. A ticket resolved again gets a new link, and
its earlier unanswered one stops working.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from helpdesk.db import as_utc, utcnow
from helpdesk.handoffs.agents import secret_hash
from helpdesk.handoffs.models import Handoff
from helpdesk.handoffs.store import HandoffStore
from helpdesk.ratings.links import TOKEN_PREFIX
from helpdesk.ratings.models import Rating

VALID = timedelta(days=14)
SCORES = (1, 2, 3, 4, 5)
MAX_COMMENT = 2000

State = Literal["open", "rated", "expired"]
Outcome = Literal["recorded", "already", "expired", "unknown", "not_rated"]


@dataclass(frozen=True)
class Link:
    """What the public page may know of a link: its state and the customer's own answer, no ticket."""

    state: State
    language: str
    score: int | None
    comment: str | None


def ask(s: Session, handoff: Handoff, asked_by: str, now: datetime) -> str:
    """A new rating link for a just resolved ticket, in the caller's transaction; returns the token."""
    s.execute(delete(Rating).where(Rating.handoff_id == handoff.id, Rating.score.is_(None)))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    s.add(
        Rating(
            handoff_id=handoff.id,
            token_hash=secret_hash(token),
            language=handoff.language,
            agent=handoff.assignee or "",
            team=handoff.team,
            asked_by=asked_by,
            asked_at=now,
            expires_at=now + VALID,
        )
    )
    return token


def _hash(token: str) -> str | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return secret_hash(token)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)  # what an UPDATE statement returns
    return result.rowcount


class RatingStore:
    def __init__(self, handoffs: HandoffStore):
        self.handoffs = handoffs

    def link(self, token: str, now: datetime | None = None) -> Link | None:
        """The link's state; None for a malformed or unknown token."""
        digest = _hash(token)
        if digest is None:
            return None
        now = now or utcnow()
        with self.handoffs.transaction() as s:
            row = s.scalar(select(Rating).where(Rating.token_hash == digest))
            if row is None:
                return None
            state: State = "rated" if row.score is not None else "open"
            if state == "open" and as_utc(row.expires_at) <= now:
                state = "expired"
            return Link(state, row.language, row.score, row.comment)

    def rate(self, token: str, score: int, now: datetime | None = None) -> Outcome:
        """Record ``score`` (one of SCORES) once: "recorded", or why not."""
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}")
        digest = _hash(token)
        if digest is None:
            return "unknown"
        now = now or utcnow()
        if self._set_once(digest, now, Rating.score.is_(None), score=score, rated_at=now):
            return "recorded"
        return self._why_not(token, now)

    def comment(self, token: str, text: str, now: datetime | None = None) -> Outcome:
        """The optional comment after the score, once, before the link expires."""
        digest = _hash(token)
        if digest is None:
            return "unknown"
        now = now or utcnow()
        if self._set_once(
            digest, now, Rating.score.is_not(None), Rating.comment.is_(None), comment=text, commented_at=now
        ):
            return "recorded"
        link = self.link(token, now)
        if link is None:
            return "unknown"
        if link.state == "open":
            return "not_rated"
        if link.state == "expired" or link.comment is None:
            return "expired"
        return "already"

    def _set_once(self, digest: str, now: datetime, *unset: Any, **values: Any) -> bool:
        """Set ``values`` on the unexpired link ``digest`` where the ``unset`` conditions still hold,
        in one conditional UPDATE: of two requests at once, one wins. Whether it was set."""
        with self.handoffs.transaction() as s:
            done = s.execute(
                update(Rating)
                .where(Rating.token_hash == digest, Rating.expires_at > now, *unset)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return bool(_rowcount(done))

    def _why_not(self, token: str, now: datetime) -> Outcome:
        link = self.link(token, now)
        if link is None:
            return "unknown"
        return "already" if link.state == "rated" else "expired"

    def of_ticket(self, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's questions and answers, oldest first (the workspace, after its access check)."""
        with self.handoffs.transaction() as s:
            ids = list(s.scalars(select(Handoff.id).where(Handoff.ticket_id == ticket_id)))
            return rows_of(s, ids)


def rows_of(s: Session, handoff_ids: list[int]) -> list[dict[str, Any]]:
    """The ratings of these handoffs as plain data (the workspace and the customer's export)."""
    rows = s.scalars(select(Rating).where(Rating.handoff_id.in_(handoff_ids)).order_by(Rating.id))
    return [
        {
            "asked_by": r.asked_by,
            "asked_at": as_utc(r.asked_at),
            "expires_at": as_utc(r.expires_at),
            "agent": r.agent,
            "team": r.team,
            "language": r.language,
            "score": r.score,
            "rated_at": as_utc(r.rated_at),
            "comment": r.comment,
            "commented_at": as_utc(r.commented_at),
        }
        for r in rows
    ]
