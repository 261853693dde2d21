"""Fixtures of the data-protection tests: the desk's database and Rasa's real tracker store.

The desk's database is the handoff tests' ``database_url`` (a SQLite file, then a
fresh PostgreSQL schema). Rasa's tracker store is of the same kind: a SQLite file,
or a PostgreSQL schema of its own, created and filled by Rasa's ``SQLTrackerStore``
itself (tests/privacy/rasa_trackers.py, run by the bot's Python 3.10), so the table
the desk deletes from is exactly Rasa's.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from helpdesk.handoffs.schemas import HandoffIn
from helpdesk.handoffs.store import HandoffStore, Notification
from helpdesk.incidents.store import IncidentStore
from search_api.settings import PROJECT_ROOT
from tests.handoffs.conftest import PG_URL, database_url, handoff_payload, postgres_schema  # noqa: F401

PY310 = PROJECT_ROOT / ".venv" / "py310" / "bin" / "python"
RASA_HELPER = Path(__file__).with_name("rasa_trackers.py")


@dataclass
class Trackers:
    """Rasa's tracker store for one test: ``url`` for the desk, ``rasa(...)`` runs Rasa on it."""

    url: str
    rasa_url: str
    rasa_env: dict[str, str]

    def rasa(self, command: str, conversations: dict[str, list[tuple[str, float]]] | None = None) -> dict[str, int]:
        args = [str(PY310), str(RASA_HELPER), command, self.rasa_url]
        if conversations is not None:
            args.append(json.dumps(conversations))
        done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=self.rasa_env, cwd=PROJECT_ROOT)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def tracker_store(database_url: str, directory: Path) -> Iterator[Trackers]:
    """Rasa's tracker store beside the desk's database: a SQLite file in ``directory``, or a PostgreSQL
    schema of its own when the desk is on PostgreSQL."""
    env = {k: v for k, v in os.environ.items() if k != "POSTGRESQL_SCHEMA"}
    env.update(SQLALCHEMY_SILENCE_UBER_WARNING="1", RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{directory / 'rasa-trackers.db'}"
        yield Trackers(url, url, env)
        return
    with postgres_schema() as url:  # Rasa's own schema, as it would have its own database
        schema = url.rsplit("%3D", 1)[1]
        rasa_url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        yield Trackers(url, rasa_url, {**env, "POSTGRESQL_SCHEMA": schema})


@pytest.fixture
def trackers(database_url, tmp_path) -> Iterator[Trackers]:
    with tracker_store(database_url, tmp_path) as found:
        yield found


@pytest.fixture
def store(database_url) -> Iterator[HandoffStore]:
    store = HandoffStore.open(database_url)
    yield store
    store.close()


def declare_outage(store: HandoffStore) -> int:
    """An active incident of the network team, declared now; its number."""
    outage = IncidentStore(store).declare(
        title="Outage",
        category="network",
        team="network",
        messages={"de": "Störung", "en": "Outage"},
        actor="sue",
    )
    return outage["id"]


def make_handoff(
    store: HandoffStore,
    conversation_id: str,
    at: datetime,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    description: str = "Kein Internet",
    customer_text: str = "Mein Internet geht nicht",
) -> str:
    """A handoff as POST /handoffs stores it (with a notification and a delivery attempt); its ticket id."""
    payload: dict[str, Any] = handoff_payload(
        description=description, contact={"name": name, "email": email, "phone": phone}
    )
    payload["conversation_id"] = conversation_id
    payload["transcript"][0]["text"] = customer_text
    view, _ = store.create(
        HandoffIn.model_validate(payload),
        team="network",
        priority="normal",
        on_call=False,
        expected_minutes=60,
        due_at=at + timedelta(hours=1),
        now=at,
        notifications=[Notification("email", "network@desk.example")],
    )
    job = store.claim_due_notifications(at + timedelta(seconds=1), timedelta(minutes=1))[0]
    store.record_attempt(job, True, "250 OK", 12, None)
    return view["ticket_id"]


def set_updated(store: HandoffStore, ticket: str, at: datetime) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE handoffs SET updated_at = :at WHERE ticket_id = :t"), {"at": at, "t": ticket})


def table_dump(store: HandoffStore) -> dict[str, str]:
    """Every row of every desk table, as text: what is left after an erasure."""
    import helpdesk.feedback.models
    import helpdesk.reports.activity  # noqa: F401  (the reports' tables, likewise)
    from helpdesk.handoffs.models import Base

    dump = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            dump[table.name] = "\n".join(repr(tuple(row)) for row in connection.execute(table.select()))
    return dump


def sqlite_files(path: Path) -> list[Path]:
    """A SQLite database's files on disk: the database (free pages included), its write-ahead log and index."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")) if p.exists()]


def raw_hits(paths: list[Path], needles: list[str], root: Path | None = None) -> dict[str, dict[str, int]]:
    """Per file (its name, or its path below ``root``), how often each needle occurs in its raw bytes, any case
    (ASCII); files without a hit are left out."""
    found: dict[str, dict[str, int]] = {}
    for path in paths:
        data = path.read_bytes().lower()
        hits = {n: data.count(n.lower().encode()) for n in needles if n.lower().encode() in data}
        if hits:
            found[str(path.relative_to(root)) if root else path.name] = hits
    return found
