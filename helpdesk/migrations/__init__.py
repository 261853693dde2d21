"""Alembic migrations of the handoff store.

``upgrade(database_url)`` runs them programmatically (the app does it at
start-up, ``helpdesk migrate`` does it by hand), so no alembic.ini is needed.
To write a new revision after changing ``helpdesk/handoffs/models.py``:

    .venv/py311/bin/python -m helpdesk.migrations revision -m "what changed"
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # ConfigParser interpolation would eat a "%" in a URL-encoded password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate to ``revision``. Processes that start together (``make run``'s web service and purge,
    replicas) migrate one after the other: on PostgreSQL an advisory lock (env.py), on SQLite a lock
    on a file beside the database, since SQLite runs DDL outside a transaction and two processes
    would both create the same tables."""
    with sqlite_migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


@contextmanager
def sqlite_migration_lock(database_url: str) -> Iterator[None]:
    """An exclusive lock on ``<database file>.migrate-lock`` for the block; nothing for other databases."""
    path = database_url.split(":///", 1)[-1] if database_url.startswith("sqlite") else ""
    if not path or path == ":memory:":
        yield
        return
    lock = Path(path + ".migrate-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def main(argv: list[str]) -> int:  # called by __main__.py
    import argparse

    from helpdesk.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m helpdesk.migrations")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision against DATABASE_URL")
    rev.add_argument("-m", "--message", required=True)
    sub.add_parser("upgrade", help="upgrade DATABASE_URL to head")
    args = parser.parse_args(argv)
    url = Settings.from_env().database_url
    if args.cmd == "upgrade":
        upgrade(url)
    else:
        command.revision(alembic_config(url), message=args.message, autogenerate=True)
    return 0
