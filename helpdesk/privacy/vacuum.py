"""No deleted byte left readable in the database files after an erasure or a purge.

Deleting a row does not remove its bytes from disk. On SQLite the pages that held
it stay in the write-ahead log (``-wal``) until a checkpoint copies the log into the
database and truncates it, and a freed cell or page keeps its content unless
``secure_delete`` is on, whose default is a compile-time option of the SQLite build.
So every SQLite connection of the desk's store, the migrations and the tracker store
turns ``secure_delete`` on (``secure_delete_on_connect``), and ``after_delete``
checkpoints with TRUNCATE: afterwards the deleted rows are neither in the database
file, nor in its free pages, nor in the log, whatever the build.

On PostgreSQL a deleted row is a dead tuple in the table's files until VACUUM
removes it; ``after_delete`` vacuums the tables it is given, outside a transaction
(VACUUM cannot run in one). ``plain`` VACUUM removes dead tuples and their index
entries and makes the space reusable without locking out the desk, but leaves the
freed bytes in the table and index files until new rows reuse the space; ``full``
(VACUUM FULL) rewrites the tables and their indexes into new files that hold only
live rows, under an exclusive lock for as long as that takes. Either way
PostgreSQL's own WAL keeps the deleted rows until its segments are recycled.

SQLAlchemy Core only, as in ``tracker.py``: this module also runs under the bot's
SQLAlchemy 1.4.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Literal, get_args

import sqlalchemy as sa

log = logging.getLogger(__name__)

VacuumMode = Literal["plain", "full"]
VACUUM_MODES: tuple[VacuumMode, ...] = get_args(VacuumMode)
CHECKPOINT_TRIES = 3


def secure_delete_on_connect(engine: sa.engine.Engine) -> None:
    """Every SQLite connection of ``engine`` overwrites deleted content with zeros (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def secure_delete(dbapi_connection, _record):  # pragma: no cover - exercised by every SQLite test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def _checkpoint(engine: sa.engine.Engine) -> str:
    """Copy the write-ahead log into the database and truncate it to zero bytes."""
    for attempt in range(1, CHECKPOINT_TRIES + 1):
        # A raw connection: the PRAGMA must run outside the transaction the engine would begin.
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            busy, frames, copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            connection.close()
        if frames == -1:  # not in WAL mode: a rollback journal is deleted at commit
            return "no write-ahead log"
        if not busy:
            return "write-ahead log checkpointed and truncated"
        log.warning(
            "SQLite checkpoint busy (%d of %d frames copied), try %d of %d", copied, frames, attempt, CHECKPOINT_TRIES
        )
        time.sleep(0.5 * attempt)
    return "write-ahead log NOT truncated (readers kept it busy): run the command again"


def _vacuum(engine: sa.engine.Engine, tables: list[str], mode: str) -> str:
    quote = engine.dialect.identifier_preparer.quote
    statement = f"VACUUM {'FULL ' if mode == 'full' else ''}{', '.join(quote(t) for t in tables)}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)
    return f"VACUUM {'FULL ' if mode == 'full' else ''}of {', '.join(tables)}"


def after_delete(engine: sa.engine.Engine, tables: Iterable[str], mode: str = "plain") -> str | None:
    """Make the rows just deleted from ``tables`` unreadable in the files; what was done, in words
    (None when no table lost a row)."""
    if mode not in VACUUM_MODES:
        raise ValueError(f"unknown vacuum mode {mode!r} (one of {', '.join(VACUUM_MODES)})")
    tables = sorted(set(tables))
    if not tables:
        return None
    name = engine.dialect.name
    if name == "sqlite":
        return f"SQLite: {_checkpoint(engine)}"
    if name == "postgresql":
        return f"PostgreSQL: {_vacuum(engine, tables, mode)}"
    return f"{name}: nothing done (only SQLite and PostgreSQL are supported)"
