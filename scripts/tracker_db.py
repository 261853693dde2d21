"""Rasa's tracker store database: which one it is, and that it exists.

Rasa keeps its conversations in SQL (bot/endpoints.yml reads the SQLAlchemy URL from
RASA_TRACKER_STORE_URL), and Rasa does not create a missing PostgreSQL database by
itself when given a URL. This prints the URL to use and creates that database first:

- RASA_TRACKER_STORE_URL when set;
- else, when DATABASE_URL (the handoff store) is PostgreSQL, a database ``rasa`` on the
  same server with the same login: the tracker store's own database;
- else the SQLite file var/rasa-trackers.db (one machine, ``make run``).

Runs in the bot's venv (.venv/py310: SQLAlchemy 1.4 and psycopg2, Rasa's driver):
``export RASA_TRACKER_STORE_URL=$(.venv/py310/bin/python scripts/tracker_db.py)``.

``scripts/tracker_db.py purge --days N`` deletes the events of every conversation whose
last event is older than N days (default 30). Rasa never deletes events; a session's
expiry (bot/domain.yml) only limits what it loads. What agents need of a conversation
is copied into its handoff's transcript, so old trackers can go.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
# Absolute: Rasa runs with bot/ as its working directory (credentials.yml names channels.*).
DEFAULT_SQLITE = f"sqlite:///{REPO / 'var' / 'rasa-trackers.db'}"
TRACKER_DATABASE = "rasa"


def tracker_store_url(environ=os.environ) -> str:
    if environ.get("RASA_TRACKER_STORE_URL"):
        return environ["RASA_TRACKER_STORE_URL"]
    handoffs = environ.get("DATABASE_URL", "")
    if handoffs.startswith("postgresql"):
        url = make_url(handoffs).set(drivername="postgresql", database=TRACKER_DATABASE)
        return url.render_as_string(hide_password=False)
    return DEFAULT_SQLITE


def ensure_database(url_text: str) -> None:
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
            exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": url.database}).scalar()
            if not exists:
                try:
                    connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
                    print(f"tracker_db: created database {url.database}", file=sys.stderr)
                except sa.exc.ProgrammingError as exc:  # created by a replica starting at the same time
                    if "already exists" not in str(exc):
                        raise
    finally:
        engine.dispose()


def purge(url_text: str, days: float, now: float | None = None) -> int:
    """Deletes the events of conversations idle for more than ``days``; returns how many conversations."""
    cutoff = (now if now is not None else time.time()) - days * 86400
    engine = sa.create_engine(url_text)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("events"):
                return 0
            idle = sa.text("SELECT sender_id FROM events GROUP BY sender_id HAVING max(timestamp) < :cutoff")
            senders = [row[0] for row in connection.execute(idle, {"cutoff": cutoff})]
            for start in range(0, len(senders), 500):
                connection.execute(sa.text("DELETE FROM events WHERE sender_id IN :senders")
                                   .bindparams(sa.bindparam("senders", expanding=True)),
                                   {"senders": senders[start:start + 500]})
            return len(senders)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rasa's tracker store: print its URL (creating the "
                                     "database), or purge idle conversations.")
    parser.add_argument("command", nargs="?", choices=["url", "purge"], default="url")
    parser.add_argument("--days", type=float, default=30.0, help="purge: idle for longer than this")
    args = parser.parse_args(argv)
    url = tracker_store_url()
    try:
        if args.command == "purge":
            print(f"tracker_db: purged {purge(url, args.days)} conversations idle for more than {args.days:g} days",
                  file=sys.stderr)
            return 0
        ensure_database(url)
    except sa.exc.SQLAlchemyError as exc:
        print(f"tracker_db: cannot use the tracker store {make_url(url)!r}: {exc}", file=sys.stderr)
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
