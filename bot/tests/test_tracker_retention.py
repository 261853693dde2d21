"""Old conversations leave Rasa's tracker store: scripts/tracker_db.py purge.

Rasa's SQLTrackerStore (the real class, on a SQLite file) stores three conversations;
the purge deletes exactly those whose last event is older than the limit, and Rasa then
no longer finds them, while a recent one is untouched.
"""

from __future__ import annotations

import sys
import time

from conftest import REPO
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

sys.path.insert(0, str(REPO))
from scripts import tracker_db

DAY = 86400


async def test_purge_removes_only_idle_conversations(tmp_path):
    url = f"sqlite:///{tmp_path / 'trackers.db'}"
    store = SQLTrackerStore(Domain.empty(), host=url)
    now = time.time()
    for sender, age_days in (("old", 40), ("older", 400), ("recent", 2)):
        tracker = DialogueStateTracker(sender, [])
        tracker.update(UserUttered("hello", timestamp=now - age_days * DAY - 60))
        tracker.update(UserUttered("still there?", timestamp=now - age_days * DAY))
        await store.save(tracker)

    assert tracker_db.purge(url, days=30, now=now) == 2
    assert sorted(await store.keys()) == ["recent"]
    assert len((await store.retrieve("recent")).events) == 2
    assert tracker_db.purge(url, days=30, now=now) == 0
