"""Rasa's tracker store, as the desk sees it: where it is, and its rows of one conversation.

Rasa's ``SQLTrackerStore`` keeps one row per event in the table ``events``, keyed by
``sender_id``, which is the conversation id the desk stores with a handoff
(``Handoff.conversation_id``), a feedback and an unanswered search. Rasa never deletes
rows; the retention purge and a customer's erasure do it here, with SQL on that table.

``tracker_store_url`` is the one place that picks the URL (``scripts/run`` exports it
as RASA_TRACKER_STORE_URL for Rasa, the web service and ``helpdesk purge`` read the
same variable). This module runs in both venvs: ``scripts/tracker_db.py`` imports it
under Rasa's Python 3.10 (SQLAlchemy 1.4), the desk under 3.11 (SQLAlchemy 2); it uses
only SQLAlchemy Core that both have.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from helpdesk.privacy.vacuum import after_delete, secure_delete_on_connect

REPO = Path(__file__).resolve().parents[2]
# Absolute: Rasa runs with bot/ as its working directory (credentials.yml names channels.*).
DEFAULT_SQLITE = f"sqlite:///{REPO / 'var' / 'rasa-trackers.db'}"
TRACKER_DATABASE = "rasa"
EVENTS = "events"
BATCH = 500


def tracker_store_url(environ: Mapping[str, str] = os.environ) -> str:
    """RASA_TRACKER_STORE_URL; else database ``rasa`` on a PostgreSQL DATABASE_URL's server; else SQLite."""
    if environ.get("RASA_TRACKER_STORE_URL"):
        return environ["RASA_TRACKER_STORE_URL"]
    handoffs = environ.get("DATABASE_URL", "")
    if handoffs.startswith("postgresql"):
        url = make_url(handoffs).set(drivername="postgresql", database=TRACKER_DATABASE)
        return url.render_as_string(hide_password=False)
    return DEFAULT_SQLITE


def desk_url(url_text: str) -> str:
    """The same database through the desk's driver: Rasa's ``postgresql://`` means psycopg2, which
    only the bot's venv has; the desk's is psycopg 3."""
    url = make_url(url_text)
    if url.drivername == "postgresql" and sys.version_info >= (3, 11):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def ensure_database(url_text: str) -> None:
    """Create a missing PostgreSQL database (Rasa does not), or a SQLite file's folder."""
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            path = Path(url.database)
            (path if path.is_absolute() else REPO / path).parent.mkdir(parents=True, exist_ok=True)
        return
    if url.get_backend_name() != "postgresql":
        return  # other engines: the operator creates the database
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if not exists:
                try:
                    connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
                    print(f"tracker_db: created database {url.database}", file=sys.stderr)
                except sa.exc.ProgrammingError as exc:  # created by a replica starting at the same time
                    if "already exists" not in str(exc):
                        raise
    finally:
        engine.dispose()


def _senders_clause(statement: str) -> Any:
    return sa.text(statement).bindparams(sa.bindparam("senders", expanding=True))


class TrackerStore:
    """The ``events`` table of Rasa's SQL tracker store; a store without the table (Rasa never ran) is empty."""

    def __init__(self, url_text: str):
        self.url = desk_url(url_text)
        self.engine = sa.create_engine(self.url)
        secure_delete_on_connect(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def _has_events(self, connection) -> bool:
        return sa.inspect(connection).has_table(EVENTS)

    def _absent(self) -> bool:
        """A SQLite file that does not exist (Rasa never ran here): empty, and not created by asking."""
        url = make_url(self.url)
        database = url.database
        return (
            url.get_backend_name() == "sqlite"
            and bool(database)
            and database != ":memory:"
            and not Path(database or "").exists()
        )

    def events(self, senders: Iterable[str]) -> list[dict[str, Any]]:
        """Every event of these conversations, oldest first, as Rasa stored it (``data`` parsed)."""
        senders = sorted(set(senders))
        rows: list[dict[str, Any]] = []
        if not senders or self._absent():
            return rows
        with self.engine.connect() as connection:
            if not self._has_events(connection):
                return rows
            for start in range(0, len(senders), BATCH):
                result = connection.execute(
                    _senders_clause(
                        f"SELECT sender_id, type_name, timestamp, data FROM {EVENTS} "
                        "WHERE sender_id IN :senders ORDER BY timestamp, id"
                    ),
                    {"senders": senders[start : start + BATCH]},
                )
                for sender, kind, timestamp, data in result:
                    try:
                        parsed = json.loads(data) if data else None
                    except ValueError:
                        parsed = data
                    rows.append({"sender_id": sender, "type": kind, "timestamp": timestamp, "data": parsed})
        return rows

    def _each_batch(self, statement: str, senders: Iterable[str], write: bool) -> int:
        """Run ``statement`` (``... WHERE sender_id IN :senders``) per batch of senders; the sum of what
        each returns (a count for SELECT count(*), the rows deleted for DELETE)."""
        senders = sorted(set(senders))
        total = 0
        if not senders or self._absent():
            return 0
        with self.engine.begin() if write else self.engine.connect() as connection:
            if not self._has_events(connection):
                return 0
            for start in range(0, len(senders), BATCH):
                result = connection.execute(_senders_clause(statement), {"senders": senders[start : start + BATCH]})
                total += result.rowcount if write else (result.scalar() or 0)
        return total

    def count(self, senders: Iterable[str]) -> int:
        return self._each_batch(f"SELECT count(*) FROM {EVENTS} WHERE sender_id IN :senders", senders, False)

    def delete(self, senders: Iterable[str]) -> int:
        """Delete every event of these conversations; returns how many rows."""
        return self._each_batch(f"DELETE FROM {EVENTS} WHERE sender_id IN :senders", senders, True)

    def idle_senders(self, before: float, limit: int) -> list[str]:
        """Up to ``limit`` conversations whose last event is older than ``before`` (unix seconds)."""
        if self._absent():
            return []
        with self.engine.connect() as connection:
            if not self._has_events(connection):
                return []
            query = sa.text(
                f"SELECT sender_id FROM {EVENTS} GROUP BY sender_id HAVING max(timestamp) < :before "
                "ORDER BY sender_id LIMIT :limit"
            )
            return [row[0] for row in connection.execute(query, {"before": before, "limit": limit})]


def purge(
    url_text: str,
    days: float,
    now: float | None = None,
    batch: int = BATCH,
    dry_run: bool = False,
    on_batch=None,
    vacuum: str = "plain",
) -> tuple[int, int, str | None]:
    """Delete the events of conversations idle for more than ``days``, ``batch`` conversations per
    transaction; returns (conversations, events, what was done to the database files afterwards or None,
    helpdesk/privacy/vacuum.py). ``on_batch(conversations, events)`` after each."""
    before = (now if now is not None else time.time()) - days * 86400
    store = TrackerStore(url_text)
    conversations = events = 0
    try:
        seen: set[str] = set()
        while True:
            senders = [s for s in store.idle_senders(before, batch + len(seen)) if s not in seen]
            if not senders:
                break
            senders = senders[:batch]
            rows = store.count(senders) if dry_run else store.delete(senders)
            if dry_run:
                seen.update(senders)
            conversations, events = conversations + len(senders), events + rows
            if on_batch is not None:
                on_batch(len(senders), rows)
        cleaned = after_delete(store.engine, [EVENTS], vacuum) if events and not dry_run else None
        return conversations, events, cleaned
    finally:
        store.close()
