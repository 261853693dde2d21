"""The desk's one database: its engine, its transactions and the time helpers of every store.

Handoffs, mail, incidents, feedback, the reports and the privacy tools keep their
tables in one database and work on one engine (one connection pool, one migration
chain, ``helpdesk/migrations``), which the web service keeps as ``app.state.engine``.
On SQLite every transaction starts with BEGIN IMMEDIATE (writers queue on the busy
timeout instead of failing) and the journal is WAL with synchronous=FULL, so a
committed write survives a crash of the process; secure_delete is on, so a deleted
row's bytes do not stay in the file (helpdesk/privacy/vacuum.py).

Datetimes in the database are UTC: ``utcnow`` is the desk's clock, ``as_utc`` makes
the naive datetimes SQLite hands back timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session

from helpdesk.privacy.vacuum import secure_delete_on_connect


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...


@overload
def as_utc(moment: None) -> None: ...


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything in the store is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def engine_transaction(engine: Engine) -> Iterator[Session]:
    """One session in one transaction on ``engine``: committed when the block ends, rolled back
    when it raises. The stores without a transaction of their own (feedback, reports) use it."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:  # pragma: no cover - exercised by every test
            dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(connection: Connection) -> None:  # pragma: no cover
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        secure_delete_on_connect(engine)  # an erased row leaves no bytes in free pages (helpdesk/privacy)
        return engine
    return create_engine(database_url, pool_pre_ping=True)


def open_engine(database_url: str, migrate: bool = True) -> Engine:
    """The engine of the desk's database, migrated to the newest schema first (unless ``migrate`` is False)."""
    if migrate:
        from helpdesk.migrations import upgrade

        make_engine(database_url).dispose()  # creates the SQLite file's directory
        upgrade(database_url)
    return make_engine(database_url)


@contextmanager
def temporary_schema(base_url: str, prefix: str = "hd_tmp") -> Iterator[str]:
    """A new, empty PostgreSQL schema, dropped with everything in it when the block ends; yields a URL
    whose connections use it (their search_path). Tests and benchmarks run on one server side by side."""
    import os
    import secrets

    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
