"""Alembic migrations of the handoff store.

``upgrade(database_url)`` runs them programmatically (the app does it at
start-up, ``helpdesk migrate`` does it by hand), so no alembic.ini is needed.
To write a new revision after changing ``helpdesk/handoffs/models.py``:

    .venv/py311/bin/python -m helpdesk.migrations revision -m "what changed"
"""

from __future__ import annotations

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
    command.upgrade(alembic_config(database_url), revision)


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
