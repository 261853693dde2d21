"""Deleted rows leave no readable bytes: SQLite's file, free pages and write-ahead log; PostgreSQL's vacuum.

On SQLite a row is written, deleted and ``after_delete`` runs; then the raw bytes of
the database file and its ``-wal`` and ``-shm`` are searched for the row's text. A
control deletes the same way through a plain connection with ``secure_delete`` off
and without the checkpoint, and finds the text: the scan can fail. On PostgreSQL the
tables show a vacuum after the deletion (``pg_stat_user_tables.last_vacuum``), or
with ``full`` a new file (``relfilenode``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from helpdesk.handoffs.store import HandoffStore
from helpdesk.privacy.tracker import TrackerStore
from helpdesk.privacy.vacuum import after_delete
from tests.privacy.conftest import raw_hits, sqlite_files

SECRET = "Erika Probe, Kundennummer 4711-0815"


def fill(store: HandoffStore) -> None:
    with store.engine.begin() as connection:
        for i in range(200):  # enough rows for several pages, the secret in the middle
            connection.execute(
                text("INSERT INTO login_failures (key, at) VALUES (:k, :at)"),
                {"k": SECRET if i == 100 else f"someone-{i}", "at": datetime.now(UTC)},
            )


def delete_secret(store: HandoffStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM login_failures WHERE key = :k"), {"k": SECRET})


def test_every_sqlite_connection_of_both_stores_overwrites_deleted_content(tmp_path):
    store = HandoffStore.open(f"sqlite:///{tmp_path / 'handoffs.db'}")
    tracker = TrackerStore(f"sqlite:///{tmp_path / 'rasa-trackers.db'}")
    try:
        for engine in (store.engine, tracker.engine):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        store.close()
        tracker.close()


def test_after_an_erasure_nothing_is_left_in_the_sqlite_files(tmp_path):
    path = tmp_path / "handoffs.db"
    store = HandoffStore.open(f"sqlite:///{path}")
    try:
        fill(store)
        delete_secret(store)
        assert raw_hits(sqlite_files(path), [SECRET])  # the log still holds the pages that had it
        assert after_delete(store.engine, ["login_failures"]) == "SQLite: write-ahead log checkpointed and truncated"
        assert raw_hits(sqlite_files(path), [SECRET]) == {}
        assert (tmp_path / "handoffs.db-wal").stat().st_size == 0
        with store.engine.connect() as connection:  # the others are all there
            assert connection.exec_driver_sql("SELECT count(*) FROM login_failures").scalar() == 199
        assert after_delete(store.engine, []) is None  # nothing deleted, nothing to do
    finally:
        store.close()


def test_control_without_secure_delete_and_checkpoint_the_bytes_stay(tmp_path):
    path = tmp_path / "handoffs.db"
    store = HandoffStore.open(f"sqlite:///{path}")
    fill(store)
    after_delete(store.engine, ["login_failures"])  # the secret now only in the database file
    store.close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA secure_delete=OFF")
    connection.execute("DELETE FROM login_failures WHERE key = ?", (SECRET,))
    connection.commit()
    assert connection.execute("SELECT count(*) FROM login_failures WHERE key = ?", (SECRET,)).fetchone() == (0,)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    assert list(raw_hits(sqlite_files(path), [SECRET])) == [path.name]  # in the table's and the index's page


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["plain", "full"])
def test_on_postgresql_the_tables_are_vacuumed(mode):
    from tests.handoffs.conftest import postgres_schema

    with postgres_schema() as url:
        store = HandoffStore.open(url)
        try:
            fill(store)
            with store.engine.connect() as connection:
                before = connection.execute(text("SELECT now(), pg_relation_filenode('login_failures')")).one()
            delete_secret(store)
            assert (
                after_delete(store.engine, ["login_failures", "handoffs"], mode)
                == f"PostgreSQL: VACUUM {'FULL ' if mode == 'full' else ''}of handoffs, login_failures"
            )
            with store.engine.connect() as connection:
                stats = connection.execute(
                    text(
                        "SELECT relname, last_vacuum, pg_relation_filenode(relid) FROM pg_stat_user_tables "
                        "WHERE schemaname = current_schema() AND relname IN ('login_failures', 'handoffs')"
                    )
                ).all()
            assert len(stats) == 2
            for name, last_vacuum, filenode in stats:
                if mode == "plain":  # VACUUM FULL rewrites the files instead; PostgreSQL does not count it
                    assert last_vacuum is not None and last_vacuum >= before[0], name
                elif name == "login_failures":
                    assert filenode != before[1]
        finally:
            store.close()
        with pytest.raises(ValueError, match="unknown vacuum mode 'fast'"):
            after_delete(store.engine, ["handoffs"], "fast")
