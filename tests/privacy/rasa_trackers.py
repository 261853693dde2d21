"""Runs under the bot's Python (.venv/py310): Rasa's own SQLTrackerStore writes and reads trackers.

The privacy tests use it so the tracker table is exactly what Rasa creates and fills,
on SQLite and on PostgreSQL (schema from POSTGRESQL_SCHEMA, as Rasa reads it):

    python rasa_trackers.py save URL '{"sender": [["text", unix_time], ...], ...}'
        (each text becomes the customer's message, the bot's echo and Rasa's action_listen)
    python rasa_trackers.py keys URL      # prints {"sender": number of events Rasa loads}
"""

from __future__ import annotations

import asyncio
import json
import sys

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


async def main(command: str, url: str, payload: str | None) -> None:
    store = SQLTrackerStore(Domain.empty(), host=url)
    if command == "save":
        for sender, messages in json.loads(payload or "{}").items():
            tracker = DialogueStateTracker(sender, [])
            for text, at in messages:
                tracker.update(UserUttered(text, timestamp=at))
                tracker.update(BotUttered(f"echo: {text}", timestamp=at + 1))
                tracker.update(ActionExecuted("action_listen", timestamp=at + 1))  # as Rasa does after a turn
            await store.save(tracker)
    keys = {}
    for sender in await store.keys():
        tracker = await store.retrieve_full_tracker(sender)
        keys[sender] = len(tracker.events) if tracker else 0
    print(json.dumps(keys))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
