"""The tracker store of bot/endpoints.yml: trackers.PooledSQLTrackerStore.

Rasa falls back to an in-memory store, with only a warning, when the class an endpoints file
names cannot be imported: conversations would then vanish with every restart. So the class is
loaded here the way ``rasa run`` loads it, from the real endpoints file; then a conversation
written through it is read back by a second store on the same file (another Rasa process, or
the same one after a restart), and the file is in WAL mode.
"""

from __future__ import annotations

import sqlite3

from conftest import REPO
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from trackers import PooledSQLTrackerStore


def test_endpoints_file_loads_the_pooled_store(tmp_path, monkeypatch):
    monkeypatch.setenv("RASA_TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'trackers.db'}")
    for name, value in (
        ("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook"),
        ("RASA_LOCK_STORE", "in_memory"),
        ("RASA_REDIS_HOST", "127.0.0.1"),
    ):
        monkeypatch.setenv(name, value)  # the file's other variables must be set for it to load
    config = read_endpoint_config(str(REPO / "bot" / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, Domain.empty())
    assert isinstance(store, PooledSQLTrackerStore)


async def test_conversation_is_kept_in_a_write_ahead_log(tmp_path):
    path = tmp_path / "trackers.db"
    store = PooledSQLTrackerStore(Domain.empty(), host=f"sqlite:///{path}")
    tracker = DialogueStateTracker("customer-1", [])
    for turn in range(3):
        tracker.update(UserUttered(f"mein router blinkt rot, versuch {turn}"))
        tracker.update(ActionExecuted("action_search_kb"))
        tracker.update(BotUttered(f"Artikel {turn}"))
        await store.save(tracker)

    again = PooledSQLTrackerStore(Domain.empty(), host=f"sqlite:///{path}")
    events = (await again.retrieve("customer-1")).events
    assert [e.text for e in events if isinstance(e, UserUttered)] == [
        f"mein router blinkt rot, versuch {turn}" for turn in range(3)
    ]
    assert len(events) == len(tracker.events)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
