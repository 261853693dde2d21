"""Rasa's tracker store database: which one it is, and that it exists.

Rasa keeps its conversations in SQL (bot/endpoints.yml reads the SQLAlchemy URL from
RASA_TRACKER_STORE_URL), and Rasa does not create a missing PostgreSQL database by
itself when given a URL. This prints the URL to use and creates that database first
(the choice is helpdesk/privacy/tracker.py's ``tracker_store_url``):

- RASA_TRACKER_STORE_URL when set;
- else, when DATABASE_URL (the handoff store) is PostgreSQL, a database ``rasa`` on the
  same server with the same login: the tracker store's own database;
- else the SQLite file var/rasa-trackers.db (one machine, ``make run``).

Runs in the bot's venv (.venv/py310: SQLAlchemy 1.4 and psycopg2, Rasa's driver):
``export RASA_TRACKER_STORE_URL=$(.venv/py310/bin/python scripts/tracker_db.py)``.

``scripts/tracker_db.py purge --days N`` deletes the events of every conversation whose
last event is older than N days (default 30). ``helpdesk purge`` does the same with the
retention period of config/privacy.yml (and ``make run`` runs it every hour); this stays
for hosts that run only the bot. Rasa never deletes events; a session's expiry
(bot/domain.yml) only limits what it loads. What agents need of a conversation is
copied into its handoff's transcript, so old trackers can go.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from helpdesk.privacy import tracker  # noqa: E402  (SQLAlchemy Core only: runs in this venv too)

DEFAULT_SQLITE = tracker.DEFAULT_SQLITE
tracker_store_url = tracker.tracker_store_url
ensure_database = tracker.ensure_database


def purge(url_text: str, days: float, now: float | None = None) -> int:
    """Deletes the events of conversations idle for more than ``days``; returns how many conversations."""
    return tracker.purge(url_text, days, now)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Rasa's tracker store: print its URL (creating the database), or purge idle conversations."
    )
    parser.add_argument("command", nargs="?", choices=["url", "purge"], default="url")
    parser.add_argument("--days", type=float, default=30.0, help="purge: idle for longer than this")
    args = parser.parse_args(argv)
    url = tracker_store_url()
    try:
        if args.command == "purge":
            print(
                f"tracker_db: purged {purge(url, args.days)} conversations idle for more than {args.days:g} days",
                file=sys.stderr,
            )
            return 0
        ensure_database(url)
    except sa.exc.SQLAlchemyError as exc:
        print(f"tracker_db: cannot use the tracker store {make_url(url)!r}: {exc}", file=sys.stderr)
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
