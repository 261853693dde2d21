"""Wakes the event streams of the live chat and the inbox list when a ticket changes, on every replica, without polling.

Every committed write to a handoff (a customer's or an agent's message, "Reply
live", hand-back, resolve — from any endpoint of any replica) names its ticket
(``HandoffStore.change_listeners`` and, on PostgreSQL, ``NOTIFY
helpdesk_ticket_changed, '<ticket>'`` sent in the writing transaction, so it is
delivered at commit). A stream subscribes to its ticket *before* it reads the
ticket, so a change committed between its read and its wait is never missed.

- SQLite (one process, ``make run``): the store's in-process listener wakes the
  subscribers.
- PostgreSQL (any number of replicas): one ``LISTEN`` connection per replica
  (psycopg's async notifications) wakes that replica's subscribers; the writing
  replica hears its own NOTIFY too. When the connection is lost it reconnects
  and wakes every subscriber once, since a change may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg
from sqlalchemy.engine import make_url

from helpdesk.handoffs.store import TICKET_CHANNEL, HandoffStore

log = logging.getLogger(__name__)
RECONNECT_SECONDS = (0.5, 1, 2, 5)
ANY_TICKET = "*"  # subscribe to this to be woken by a change of any ticket (the inbox list)


class Subscription:
    """One stream's interest in one ticket: ``wait`` returns when it changed (or at the timeout)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """True when the ticket changed since the last wait; the flag is cleared for the next one."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        self.event.clear()
        return True


class TicketChanges:
    """Subscribers per ticket, woken from the store's threads or from PostgreSQL notifications."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._subscribers: dict[str, set[Subscription]] = {}
        self.listening = asyncio.Event()  # PostgreSQL: set once the LISTEN is in place

    @contextmanager
    def subscribe(self, ticket_id: str) -> Iterator[Subscription]:
        subscription = Subscription()
        self._subscribers.setdefault(ticket_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(ticket_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[ticket_id]

    def wake(self, ticket_id: str) -> None:
        """In the event loop's thread: wake every subscriber of one ticket, and those of any ticket."""
        for key in (ticket_id, ANY_TICKET):
            for subscription in self._subscribers.get(key, ()):
                subscription.event.set()

    def wake_all(self) -> None:
        for ticket_id in list(self._subscribers):
            self.wake(ticket_id)

    def changed_threadsafe(self, ticket_ids: set[str]) -> None:
        """The store's change listener: called after a commit, in whatever thread wrote."""
        for ticket_id in ticket_ids:
            self.loop.call_soon_threadsafe(self.wake, ticket_id)

    async def listen(self, conninfo: str) -> None:
        """LISTEN on the store's PostgreSQL database until cancelled, reconnecting when the connection drops."""
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {TICKET_CHANNEL}")
                    self.listening.set()
                    if failures:
                        log.warning("ticket change notifications are back after %d failed attempts", failures)
                        self.wake_all()  # whatever changed while we were deaf
                    failures = 0
                    async for notice in connection.notifies():
                        self.wake(notice.payload)
            except psycopg.Error as exc:
                delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                log.warning("ticket change notifications lost (%s); reconnecting in %ss", exc, delay)
                self.wake_all()
                await asyncio.sleep(delay)


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL of the store as a libpq connection string (psycopg's own)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def ticket_changes(store: HandoffStore, database_url: str) -> AsyncIterator[TicketChanges]:
    """The app's change notices for its lifetime: LISTEN on PostgreSQL, the store's listener otherwise."""
    changes = TicketChanges(asyncio.get_running_loop())
    listener = None
    if store.engine.dialect.name == "postgresql":
        listener = asyncio.create_task(changes.listen(libpq_url(database_url)))
        # Serve only once notices arrive; the store's migrations just reached the same server.
        await asyncio.wait_for(changes.listening.wait(), 30)
    else:
        store.change_listeners.append(changes.changed_threadsafe)
    try:
        yield changes
    finally:
        if listener is not None:
            listener.cancel()
            try:
                await listener
            except asyncio.CancelledError:
                pass
        else:
            store.change_listeners.remove(changes.changed_threadsafe)
