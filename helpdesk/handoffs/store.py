"""HandoffStore: the durable queue of handoffs and the notification outbox (the agents' accounts
are its part in helpdesk/handoffs/agents.py).

Every write is one database transaction: a handoff, its transcript, the
articles shown, its first audit event and its notifications are committed
together or not at all, before POST /handoffs answers. Idempotency rests on a
unique index on the client's key, so a retried or concurrent duplicate finds
the first ticket instead of making a second one, on SQLite and PostgreSQL
alike. The engine and its SQLite setup (BEGIN IMMEDIATE, WAL with
synchronous=FULL, secure_delete) are those of the desk's database
(helpdesk/db.py), so a committed handoff survives a crash of the process.

Everything returned is plain data (dicts, dataclasses), so callers never hold
a session; datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, case, event, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from helpdesk.db import as_utc, open_engine, utcnow
from helpdesk.handoffs.agents import AgentAccounts, secret_hash
from helpdesk.handoffs.errors import IdempotencyConflict, InvalidTransition, StoreError, TicketNotFound
from helpdesk.handoffs.models import (
    PRIORITIES,
    ArticleShown,
    DeliveryAttempt,
    Handoff,
    HandoffEvent,
    OutboxItem,
    TranscriptMessage,
)
from helpdesk.handoffs.schemas import HandoffIn, Message
from helpdesk.i18n import N_, Text, msg, term
from helpdesk.ratings.links import hide_rating_tokens

# No 0/O, 1/I: a ticket id read out on the phone must not be ambiguous.
TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TICKET_LENGTH = 6
OPEN_STATUSES = ("new", "claimed", "escalated")
SORTS = ("due", "age", "priority")
# A ticket's moves to another team: action -> (its new status, the team notification's event, the refusal
# of a ticket that is no longer open).
MOVES = {
    "escalated": ("escalated", "handoff.escalated", N_("%(ticket)s is %(status)s: cannot escalate it")),
    "reassigned": ("new", "handoff.reassigned", N_("%(ticket)s is %(status)s: cannot reassign it")),
}
SEEN_EVERY = timedelta(seconds=20)  # how often the customer's chat page refreshes customer_seen_at at most


Scope = tuple[str, ...] | None  # the teams a caller may see (AgentInfo.scope); None: all
FileView = TypeVar("FileView")


def buttons_json(message: Message) -> str | None:
    """A bot message's buttons as stored (JSON), None without any."""
    if not message.buttons:
        return None
    return json.dumps([b.model_dump() for b in message.buttons], ensure_ascii=False)


def new_ticket_id() -> str:
    return "HD-" + "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


@dataclass(frozen=True)
class OutboxJob:
    id: int
    handoff_id: int | None
    event: str
    channel: str
    target: str
    payload: str
    attempts: int


@dataclass(frozen=True)
class Notification:
    """A notification to enqueue with a handoff: where to, and what to say."""

    channel: str  # webhook | email
    target: str


# PostgreSQL NOTIFY channel of committed handoff changes; the payload is the ticket id
# (helpdesk/handoffs/changes.py listens on it in every replica).
TICKET_CHANNEL = "helpdesk_ticket_changed"


class _StoreSession(Session):
    """A session that remembers which tickets it wrote (every write to a handoff touches its row)."""


@event.listens_for(_StoreSession, "before_flush")
def _remember_changed_tickets(session: Session, _context: Any, _instances: Any) -> None:
    changed = session.info.setdefault("changed_tickets", set())
    changed.update(obj.ticket_id for obj in (*session.new, *session.dirty) if isinstance(obj, Handoff))


class HandoffStore(AgentAccounts):
    def __init__(self, engine: Engine):
        self.engine = engine
        # Set whenever a notification is enqueued, so the worker sends at once instead of on its next poll.
        self.outbox_signal = threading.Event()
        # Called after each commit that changed handoffs, with their ticket ids, in the writer's thread.
        # On PostgreSQL the same news also goes to every replica as NOTIFY TICKET_CHANNEL.
        self.change_listeners: list[Callable[[set[str]], None]] = []
        # The time of claims, notes, escalations, resolutions and appended messages; the demo data
        # generator (helpdesk/reports/demo.py) sets it to replay weeks of traffic through the store.
        self.clock: Callable[[], datetime] = utcnow
        # Called in the transaction of each resolution, after the change (the customer's satisfaction
        # question, helpdesk/ratings/invitations.py); the outbox worker is woken after the commit.
        self.resolve_hooks: list[Callable[[Session, Handoff, datetime], None]] = []
        # Called in the transaction of each new handoff, after its insert (the files its chat sent before,
        # helpdesk/attachments/store.py).
        self.create_hooks: list[Callable[[Session, Handoff, datetime], None]] = []

    @classmethod
    def open(cls, database_url: str, migrate: bool = True) -> HandoffStore:
        return cls(open_engine(database_url, migrate))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with _StoreSession(self.engine, expire_on_commit=False) as session:
            with session.begin():
                yield session
                session.flush()
                changed = session.info.pop("changed_tickets", set())
                if changed and self.engine.dialect.name == "postgresql":
                    for ticket_id in sorted(changed):  # delivered at commit, to every listening replica
                        session.execute(
                            text("SELECT pg_notify(:channel, :ticket)"),
                            {"channel": TICKET_CHANNEL, "ticket": ticket_id},
                        )
            for listener in self.change_listeners if changed else ():
                listener(changed)

    # -- handoffs --------------------------------------------------------------------------------
    def create(
        self,
        data: HandoffIn,
        *,
        team: str,
        priority: str,
        on_call: bool,
        expected_minutes: int,
        due_at: datetime,
        now: datetime,
        notifications: Iterable[Notification] = (),
    ) -> tuple[dict[str, Any], bool]:
        """Store a handoff; return (its view, True) or, for a replay of its key, (the first one, False)."""
        payload_hash = data.payload_hash()
        notifications = list(notifications)
        last_error: IntegrityError | None = None
        for _ in range(5):
            existing = self._by_key(data.idempotency_key, payload_hash)
            if existing is not None:
                return existing, False
            try:
                with self.transaction() as s:
                    handoff = self._insert(
                        s, data, payload_hash, team, priority, on_call, expected_minutes, due_at, now
                    )
                    for hook in self.create_hooks:
                        hook(s, handoff, now)
                    self._enqueue(s, handoff, "handoff.new", notifications, now)
                    view = self._view(handoff, full=False)
                if notifications:
                    self.outbox_signal.set()
                return view, True
            except IntegrityError as exc:
                # Either a concurrent request with the same key won (the next _by_key finds it),
                # or, once in a billion, the random ticket id was taken (the next loop draws another).
                last_error = exc
        assert last_error is not None
        raise last_error

    def _by_key(self, key: str, payload_hash: str) -> dict[str, Any] | None:
        with self.transaction() as s:
            handoff = s.scalar(select(Handoff).where(Handoff.idempotency_key == key))
            if handoff is None:
                return None
            if handoff.payload_hash != payload_hash:
                raise IdempotencyConflict(
                    f"idempotency_key {key!r} was already used for ticket {handoff.ticket_id} with a different "
                    "payload; use a new key for a new handoff"
                )
            return self._view(handoff, full=False)

    def _insert(
        self,
        s: Session,
        data: HandoffIn,
        payload_hash: str,
        team: str,
        priority: str,
        on_call: bool,
        expected_minutes: int,
        due_at: datetime,
        now: datetime,
    ) -> Handoff:
        summary, contact = data.summary, data.summary.contact
        handoff = Handoff(
            ticket_id=new_ticket_id(),
            idempotency_key=data.idempotency_key,
            payload_hash=payload_hash,
            created_at=now,
            updated_at=now,
            status="new",
            team=team,
            priority=priority,
            language=data.language,
            channel=data.channel,
            conversation_id=data.conversation_id,
            reason=data.reason,
            category=summary.category,
            product=summary.product,
            description=summary.description,
            tried=summary.tried,
            urgency=summary.urgency,
            impact=summary.impact,
            contact_name=contact.name,
            contact_email=contact.email,
            contact_phone=contact.phone,
            expected_minutes=expected_minutes,
            due_at=due_at,
            sla_due_at=due_at,
            on_call=on_call,
            incident_id=self._incident(s, data.incident_id),
            procedure_run=(
                json.dumps(data.procedure_run.model_dump(mode="json"), ensure_ascii=False)
                if data.procedure_run
                else None
            ),
        )
        handoff.messages = [
            TranscriptMessage(position=i, sender=m.sender, text=m.text, sent_at=m.timestamp, buttons=buttons_json(m))
            for i, m in enumerate(data.transcript)
        ]
        handoff.articles = [
            ArticleShown(position=i, article_id=a.article_id, title=a.title, score=a.score, feedback=a.feedback)
            for i, a in enumerate(data.articles_shown)
        ]
        handoff.events = [
            HandoffEvent(
                at=now,
                actor="bot",
                action="created",
                to_team=team,
                note=f"reason: {data.reason}; priority {priority}"
                + ("; on-call" if on_call else "")
                + (f"; during incident {handoff.incident_id}" if handoff.incident_id else ""),
            )
        ]
        s.add(handoff)
        s.flush()  # the unique indexes fire here, inside the transaction
        return handoff

    @staticmethod
    def _incident(s: Session, incident_id: int | None) -> int | None:
        """The incident a new ticket is linked to, if it exists: a stale id never costs a ticket."""
        from helpdesk.incidents.models import Incident

        return incident_id if incident_id and s.get(Incident, incident_id) is not None else None

    def _enqueue(
        self, s: Session, handoff: Handoff, event_name: str, notifications: list[Notification], now: datetime
    ) -> None:
        if not notifications:
            return
        payload = json.dumps(
            {"event": event_name, "handoff": self._json(self._view(handoff, full=True))}, ensure_ascii=False
        )
        for n in notifications:
            s.add(
                OutboxItem(
                    handoff_id=handoff.id,
                    event=event_name,
                    channel=n.channel,
                    target=n.target,
                    payload=payload,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    def enqueue(
        self, s: Session, handoff: Handoff, event_name: str, notifications: Iterable[Notification], now: datetime
    ) -> None:
        """Enqueue a handoff's team notifications inside the caller's transaction, the payload made from
        the handoff as it is now (the e-mail channel's reopen); the worker is woken by the caller."""
        s.flush()
        s.refresh(handoff)
        self._enqueue(s, handoff, event_name, list(notifications), now)

    def get(self, ticket_id: str, teams: Scope = None, rating_links: bool = False) -> dict[str, Any]:
        """A ticket with its transcript. ``rating_links``: the customer's own view, with the
        rating link of the live chat whole (helpdesk/ratings/links.py); else its token hidden."""
        with self.transaction() as s:
            return self._view(self._load(s, ticket_id, teams=teams), full=True, rating_links=rating_links)

    def list_handoffs(
        self,
        status: str | None = None,
        team: str | Iterable[str] | None = None,
        priority: str | None = None,
        limit: int = 200,
        teams: Scope = None,
        q: str | None = None,
        sort: str = "due",
    ) -> list[dict[str, Any]]:
        """Handoffs of the caller's ``teams``; ``status="open"`` means not resolved; ``team`` may be several.

        ``q`` finds a ticket id, words of the problem or the transcript, or a contact's name, e-mail or
        phone (case-insensitive substring); ``sort`` is one of SORTS: due (soonest first), age (oldest
        first), priority (critical first, then soonest due).
        """
        query = select(Handoff)
        if status == "open":
            query = query.where(Handoff.status.in_(OPEN_STATUSES))
        elif status:
            query = query.where(Handoff.status == status)
        if isinstance(team, str):
            query = query.where(Handoff.team == team)
        elif team is not None:
            query = query.where(Handoff.team.in_(list(team)))
        if teams is not None:
            query = query.where(Handoff.team.in_(list(teams)))
        if priority:
            query = query.where(Handoff.priority == priority)
        if q and q.strip():
            pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            in_transcript = (
                select(TranscriptMessage.id)
                .where(
                    TranscriptMessage.handoff_id == Handoff.id,
                    func.lower(TranscriptMessage.text).like(pattern, escape="\\"),
                )
                .exists()
            )
            query = query.where(
                or_(
                    in_transcript,
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (
                            Handoff.ticket_id,
                            Handoff.description,
                            Handoff.product,
                            Handoff.contact_name,
                            Handoff.contact_email,
                            Handoff.contact_phone,
                        )
                    ),
                )
            )
        if sort not in SORTS:
            raise StoreError(msg("unknown sort %(sort)r (sorts: %(known)s)", sort=sort, known=", ".join(SORTS)))
        if sort == "age":
            query = query.order_by(Handoff.created_at, Handoff.id)
        elif sort == "priority":
            rank = case({p: i for i, p in enumerate(reversed(PRIORITIES))}, value=Handoff.priority, else_=9)
            query = query.order_by(rank, Handoff.sla_due_at, Handoff.id)
        else:
            query = query.order_by(Handoff.sla_due_at, Handoff.id)
        query = query.limit(limit)
        with self.transaction() as s:
            return [self._view(h, full=False) for h in s.scalars(query)]

    def waiting(self, ticket_ids: Iterable[str]) -> set[str]:
        """The tickets whose customer wrote last, after the handoff: someone is waiting for an answer."""
        ids = list(ticket_ids)
        if not ids:
            return set()
        last = (
            select(TranscriptMessage.handoff_id, func.max(TranscriptMessage.position).label("position"))
            .group_by(TranscriptMessage.handoff_id)
            .subquery()
        )
        query = (
            select(Handoff.ticket_id)
            .join(last, last.c.handoff_id == Handoff.id)
            .join(
                TranscriptMessage,
                (TranscriptMessage.handoff_id == Handoff.id) & (TranscriptMessage.position == last.c.position),
            )
            .where(
                Handoff.ticket_id.in_(ids),
                TranscriptMessage.sender == "customer",
                TranscriptMessage.sent_at > Handoff.created_at,
            )
        )
        with self.transaction() as s:
            return set(s.scalars(query))

    def count(self) -> int:
        with self.transaction() as s:
            return s.scalar(select(func.count()).select_from(Handoff)) or 0

    def ticket_ids(self) -> dict[str, str]:
        """idempotency_key -> ticket_id of every handoff (for checks and reports)."""
        with self.transaction() as s:
            return dict(s.execute(select(Handoff.idempotency_key, Handoff.ticket_id)).tuples().all())

    def _load(self, s: Session, ticket_id: str, for_update: bool = False, teams: Scope = None) -> Handoff:
        """The handoff; outside ``teams`` it does not exist for the caller (same error, same words)."""
        query = select(Handoff).where(Handoff.ticket_id == ticket_id.strip().upper())
        if for_update:
            query = query.with_for_update()
        else:
            query = query.options(
                selectinload(Handoff.messages), selectinload(Handoff.articles), selectinload(Handoff.events)
            )
        handoff = s.scalar(query)
        if handoff is None or (teams is not None and handoff.team not in teams):
            raise TicketNotFound(msg("no handoff %(ticket)r", ticket=ticket_id))
        return handoff

    def _change(
        self,
        ticket_id: str,
        actor: str,
        action: str,
        refusal: str,
        note: str | None = None,
        allowed: tuple[str, ...] = OPEN_STATUSES,
        teams: Scope = None,
        also: Iterable[Callable[[Session, Handoff, datetime], None]] = (),
        **changes: Any,
    ) -> dict[str, Any]:
        """One state change and its audit event, under a row lock (two agents cannot both claim); ``also``
        adds to the same transaction. ``refusal``: the msgid that says why a ticket of another status cannot
        take it."""
        now = self.clock()
        with self.transaction() as s:
            handoff = self._load(s, ticket_id, for_update=True, teams=teams)
            if handoff.status not in allowed:
                by = (
                    msg(" by %(agent)s", agent=handoff.assignee)
                    if handoff.status == "claimed" and handoff.assignee
                    else ""
                )
                status = term("status", handoff.status)
                raise InvalidTransition(Text(refusal, {"ticket": handoff.ticket_id, "status": status, "by": by}))
            for key, value in changes.items():
                setattr(handoff, key, value)
            handoff.updated_at = now
            s.add(HandoffEvent(handoff_id=handoff.id, at=now, actor=actor, action=action, note=note))
            for hook in also:
                hook(s, handoff, now)
        return self.get(ticket_id)

    def claim(self, ticket_id: str, actor: str, teams: Scope = None) -> dict[str, Any]:
        return self._change(
            ticket_id,
            actor,
            "claimed",
            N_("%(ticket)s is %(status)s%(by)s: cannot claim it"),
            allowed=("new", "escalated"),
            teams=teams,
            status="claimed",
            assignee=actor,
        )

    def add_note(self, ticket_id: str, actor: str, text: str, teams: Scope = None) -> dict[str, Any]:
        return self._change(
            ticket_id,
            actor,
            "note",
            N_("%(ticket)s is %(status)s%(by)s: cannot add a note to it"),
            note=text,
            allowed=(*OPEN_STATUSES, "resolved"),
            teams=teams,
        )

    def resolve(self, ticket_id: str, actor: str, note: str, teams: Scope = None) -> dict[str, Any]:
        # The customer's chat key ends with the ticket.
        view = self._change(
            ticket_id,
            actor,
            "resolved",
            N_("%(ticket)s is %(status)s%(by)s: cannot resolve it"),
            note=note,
            teams=teams,
            status="resolved",
            resolution=note,
            assignee=actor,
            chat_key_hash=None,
            also=self.resolve_hooks,
        )
        if self.resolve_hooks:
            self.outbox_signal.set()
        return view

    def move(
        self,
        ticket_id: str,
        actor: str,
        reason: str,
        team: str,
        sla_due_at: datetime,
        action: str = "escalated",
        notifications: Iterable[Notification] = (),
        teams: Scope = None,
        also: Callable[[Session, Handoff, datetime], None] | None = None,
    ) -> dict[str, Any]:
        """Move an open ticket to ``team`` (``action``: one of MOVES) with its history entry, the new team's
        countdown and notifications; ``also`` adds to the same transaction (the customer's notice)."""
        status, event_name, refusal = MOVES[action]
        now = self.clock()
        notifications = list(notifications)
        with self.transaction() as s:
            handoff = self._load(s, ticket_id, for_update=True, teams=teams)
            if handoff.status not in OPEN_STATUSES:
                was = term("status", handoff.status)
                raise InvalidTransition(Text(refusal, {"ticket": handoff.ticket_id, "status": was}))
            if handoff.team == team:
                raise InvalidTransition(
                    msg("%(ticket)s is already with team %(team)s", ticket=handoff.ticket_id, team=team)
                )
            s.add(
                HandoffEvent(
                    handoff_id=handoff.id,
                    at=now,
                    actor=actor,
                    action=action,
                    note=reason,
                    from_team=handoff.team,
                    to_team=team,
                )
            )
            handoff.status, handoff.team, handoff.assignee = status, team, None
            handoff.sla_due_at, handoff.updated_at = sla_due_at, now
            if also is not None:
                also(s, handoff, now)
            s.flush()
            s.refresh(handoff)
            self._enqueue(s, handoff, event_name, notifications, now)
        if notifications or also is not None:
            self.outbox_signal.set()
        return self.get(ticket_id)

    def escalate(
        self,
        ticket_id: str,
        actor: str,
        reason: str,
        team: str,
        sla_due_at: datetime,
        notifications: Iterable[Notification] = (),
        teams: Scope = None,
    ) -> dict[str, Any]:
        """Hand the ticket up to ``team`` (the expert team): status "escalated", nobody assigned. A reassignment
        is ``move`` with the action "reassigned"."""
        return self.move(ticket_id, actor, reason, team, sla_due_at, "escalated", notifications, teams)

    def seen_by_customer(self, ticket_id: str, now: datetime | None = None) -> None:
        """The customer's chat page read the ticket now (at most one write per SEEN_EVERY). A plain UPDATE:
        no change notice, so agents' pages are not redrawn for it."""
        now = now or utcnow()
        with self.transaction() as s:
            s.execute(
                update(Handoff)
                .where(
                    Handoff.ticket_id == ticket_id,
                    or_(Handoff.customer_seen_at.is_(None), Handoff.customer_seen_at < now - SEEN_EVERY),
                )
                .values(customer_seen_at=now)
                .execution_options(synchronize_session=False)
            )

    def append_messages(self, ticket_id: str, messages: Iterable[Message], actor: str) -> dict[str, Any]:
        """Add messages to a handoff's transcript (the live chat takeover adds them one at a time)."""
        now = self.clock()
        with self.transaction() as s:
            self.add_messages(s, self._load(s, ticket_id, for_update=True), messages, actor, now)
        return self.get(ticket_id)

    @staticmethod
    def add_messages(s: Session, handoff: Handoff, messages: Iterable[Message], actor: str, now: datetime) -> int:
        """Append to a locked handoff's transcript inside the caller's transaction; returns the first
        new position (the e-mail channel adds its attachments and Message-IDs in the same transaction)."""
        last = s.scalar(select(func.max(TranscriptMessage.position)).where(TranscriptMessage.handoff_id == handoff.id))
        start = -1 if last is None else last
        added = [
            TranscriptMessage(
                handoff_id=handoff.id,
                position=start + 1 + i,
                sender=m.sender,
                text=m.text,
                sent_at=m.timestamp,
                buttons=buttons_json(m),
            )
            for i, m in enumerate(messages)
        ]
        s.add_all(added)
        s.add(
            HandoffEvent(
                handoff_id=handoff.id,
                at=now,
                actor=actor,
                action="messages",
                note=f"{len(added)} message(s) added to the transcript",
            )
        )
        handoff.updated_at = now
        return start + 1

    def lock(self, s: Session, ticket_id: str, teams: Scope = None) -> Handoff:
        """The handoff, row-locked in the caller's transaction (TicketNotFound outside ``teams``)."""
        return self._load(s, ticket_id, for_update=True, teams=teams)

    def files_of(
        self,
        ticket_id: str,
        model: Any,
        view: Callable[[Any, str], FileView],
        teams: Scope = None,
        token: str | None = None,
    ) -> list[FileView]:
        """The stored files of a ticket (rows of ``model``: ``handoff_id``, ``token``, ``id``), each as
        ``view(row, ticket_id)``, in the order they came; with ``token`` that one file, else
        TicketNotFound, the same answer as for a ticket outside ``teams``."""
        with self.transaction() as s:
            handoff = self.lock(s, ticket_id, teams=teams)
            query = select(model).where(model.handoff_id == handoff.id)
            if token is not None:
                query = query.where(model.token == token)
            rows = s.scalars(query.order_by(model.id)).all()
            if token is not None and not rows:
                raise TicketNotFound(f"no attachment {token!r} on {ticket_id!r}")
            return [view(row, handoff.ticket_id) for row in rows]

    # -- the customer's live-chat key ------------------------------------------------------------
    def new_chat_key(self, ticket_id: str) -> str | None:
        """A fresh random key for the customer's live chat of an open ticket (the old one stops working).

        Only its sha256 is kept; it is handed to the bot once, in the answer of POST /handoffs, and
        resolving the ticket clears it.
        """
        key = "hdck_" + secrets.token_urlsafe(32)
        with self.transaction() as s:
            handoff = self._load(s, ticket_id, for_update=True)
            if handoff.status not in OPEN_STATUSES:
                return None
            handoff.chat_key_hash = secret_hash(key)
        return key

    def ticket_for_chat_key(self, key: str) -> str | None:
        """The open ticket a customer's chat key belongs to; None for an unknown, old or expired key."""
        if not key.startswith("hdck_") or len(key) > 100:
            return None
        with self.transaction() as s:
            return s.scalar(
                select(Handoff.ticket_id).where(
                    Handoff.chat_key_hash == secret_hash(key), Handoff.status.in_(OPEN_STATUSES)
                )
            )

    def conversation_of(self, ticket_id: str) -> str:
        """The bot's sender id of a ticket, for the service's own call to Rasa (never shown to anyone)."""
        with self.transaction() as s:
            return self._load(s, ticket_id, for_update=False).conversation_id

    def notifications(self, ticket_id: str, teams: Scope = None) -> list[dict[str, Any]]:
        """The outbox rows of a handoff with each delivery attempt (what was sent, when, the answer)."""
        with self.transaction() as s:
            handoff = self._load(s, ticket_id, teams=teams)
            items = s.scalars(
                select(OutboxItem).where(OutboxItem.handoff_id == handoff.id).order_by(OutboxItem.id)
            ).all()
            result = []
            for item in items:
                attempts = s.scalars(
                    select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == item.id).order_by(DeliveryAttempt.id)
                ).all()
                result.append(
                    {
                        "id": item.id,
                        "event": item.event,
                        "channel": item.channel,
                        "target": item.target,
                        "state": item.state,
                        "attempts": item.attempts,
                        "last_error": item.last_error,
                        "delivered_at": as_utc(item.delivered_at),
                        "attempt_log": [
                            {
                                "attempt": a.attempt,
                                "at": as_utc(a.at),
                                "ok": a.ok,
                                "detail": a.detail,
                                "duration_ms": a.duration_ms,
                            }
                            for a in attempts
                        ],
                    }
                )
            return result

    # -- views -----------------------------------------------------------------------------------
    @staticmethod
    def _view(h: Handoff, full: bool, rating_links: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {
            "ticket_id": h.ticket_id,
            "status": h.status,
            "team": h.team,
            "priority": h.priority,
            "language": h.language,
            "channel": h.channel,
            "reason": h.reason,
            "created_at": as_utc(h.created_at),
            "updated_at": as_utc(h.updated_at),
            "expected_minutes": h.expected_minutes,
            "due_at": as_utc(h.due_at),
            "sla_due_at": as_utc(h.sla_due_at),
            "told_due_at": as_utc(h.told_due_at),
            "on_call": h.on_call,
            "assignee": h.assignee,
            "resolution": h.resolution,
            "incident_id": h.incident_id,
            "summary": {
                "category": h.category,
                "product": h.product,
                "description": h.description,
                "tried": h.tried,
                "urgency": h.urgency,
                "impact": h.impact,
                "contact": {"name": h.contact_name, "email": h.contact_email, "phone": h.contact_phone},
            },
        }
        if full:
            view["transcript"] = [
                {
                    "sender": m.sender,
                    "text": m.text if rating_links or m.sender != "bot" else hide_rating_tokens(m.text),
                    "timestamp": as_utc(m.sent_at),
                    **({"buttons": json.loads(m.buttons)} if m.buttons else {}),
                }
                for m in h.messages
            ]
            view["articles_shown"] = [
                {"article_id": a.article_id, "title": a.title, "score": a.score, "feedback": a.feedback}
                for a in h.articles
            ]
            view["procedure_run"] = json.loads(h.procedure_run) if h.procedure_run else None
            view["events"] = [
                {
                    "at": as_utc(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "note": e.note,
                    "from_team": e.from_team,
                    "to_team": e.to_team,
                }
                for e in h.events
            ]
        return view

    @staticmethod
    def _json(value: Any) -> Any:
        """A view with datetimes as ISO-8601 UTC strings."""
        if isinstance(value, dict):
            return {k: HandoffStore._json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [HandoffStore._json(v) for v in value]
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value

    to_json = _json

    # -- notification outbox ---------------------------------------------------------------------
    def claim_due_notifications(self, now: datetime, lease: timedelta, limit: int = 20) -> list[OutboxJob]:
        """Lease due outbox rows to this worker; another worker (or replica) skips them until the lease ends."""
        with self.transaction() as s:
            rows = s.scalars(
                select(OutboxItem)
                .where(
                    OutboxItem.state == "pending",
                    OutboxItem.next_attempt_at <= now,
                    or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
                )
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.locked_until = now + lease
            return [OutboxJob(r.id, r.handoff_id, r.event, r.channel, r.target, r.payload, r.attempts) for r in rows]

    def record_attempt(
        self, job: OutboxJob, ok: bool, detail: str, duration_ms: int, retry_at: datetime | None
    ) -> None:
        """Record one delivery attempt; ``retry_at`` None after a failure means: give up (state failed)."""
        now = utcnow()
        with self.transaction() as s:
            item = s.get(OutboxItem, job.id, with_for_update=True)
            if item is None:  # erased with its handoff while the delivery ran
                return
            item.attempts += 1
            s.add(
                DeliveryAttempt(
                    outbox_id=item.id,
                    attempt=item.attempts,
                    at=now,
                    ok=ok,
                    detail=detail[:2000],
                    duration_ms=duration_ms,
                )
            )
            item.locked_until = None
            if ok:
                item.state, item.delivered_at = "delivered", now
            else:
                item.last_error = detail[:2000]
                if retry_at is None:
                    item.state = "failed"
                else:
                    item.next_attempt_at = retry_at

    def next_notification_due(self) -> datetime | None:
        with self.transaction() as s:
            return as_utc(s.scalar(select(func.min(OutboxItem.next_attempt_at)).where(OutboxItem.state == "pending")))
