"""Rasa's SQL tracker store, with a SQLite file kept open in write-ahead-log mode.

bot/endpoints.yml names this class instead of Rasa's ``SQL`` type. For a PostgreSQL URL
(several machines) it is Rasa's store unchanged. For the SQLite file of a one-machine
deployment, Rasa's store opens a new connection for every read and write of a turn and
commits in SQLite's rollback-journal mode, which syncs the disk twice per commit: on a
virtual disk that is 20 to 40 ms a turn, more than everything else a turn without a search
does (docs/benchmarks.md, "Bot turns"). Here the file stays open (a connection pool) in
WAL mode with ``synchronous=NORMAL``: a commit is written to the log without a sync, so a
crash of Rasa itself (``kill -9``) loses nothing; a power cut can lose the last turns
since the operating system last wrote the log out, which a chat survives (the customer's
next message starts from the turn before).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore


def _write_ahead_log(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` whose SQLite engine keeps its connection, in WAL mode."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite" or self.engine.url.database in (None, "", ":memory:"):
            return
        url = self.engine.url
        self.engine.dispose()
        # One event loop thread uses the store; the pool hands the same connection back.
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, pool_size=2, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
