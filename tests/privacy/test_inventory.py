"""Every table and column that can hold customer data is known, and erasure counts every such table.

The real schemas are read: the desk's database as its migrations make it, and Rasa's
tracker store as Rasa's own SQLTrackerStore creates it, on SQLite and PostgreSQL. A
table or column that helpdesk/privacy/inventory.py does not place fails here, and so
does a table of customer data whose rows an erasure does not count (the erasure's keys
are what tests/privacy/test_footprint.py checks, per table, after a real erasure).
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from helpdesk.privacy.erasure import CustomerStores, Selection, erase
from helpdesk.privacy.files import CustomerFiles
from helpdesk.privacy.inventory import CUSTOMER_TABLES, FILES, OTHER_COLUMNS, OTHER_TABLES, TRACKER_TABLES
from helpdesk.privacy.tracker import TrackerStore


def schema(engine: sa.engine.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {table: {c["name"] for c in inspector.get_columns(table)} for table in inspector.get_table_names()}


def test_every_table_and_column_of_both_stores_is_placed(store, trackers):
    desk = schema(store.engine)
    assert set(desk) == set(CUSTOMER_TABLES) | set(OTHER_TABLES), (
        "a table to place in helpdesk/privacy/inventory.py (or one placed there is gone)"
    )
    for table, (_, customer) in CUSTOMER_TABLES.items():
        placed = set(customer) | set(OTHER_COLUMNS[table])
        assert desk[table] == placed, f"{table}: place {desk[table] - placed or ''}, drop {placed - desk[table] or ''}"
        assert not set(customer) & set(OTHER_COLUMNS[table]), table
    assert set(OTHER_COLUMNS) == set(CUSTOMER_TABLES)

    trackers.rasa("save", {"conv-schema": [("hello", time.time())]})  # Rasa creates its tables
    tracker = TrackerStore(trackers.url)
    try:
        rasa = schema(tracker.engine)
    finally:
        tracker.close()
    assert set(rasa) == set(TRACKER_TABLES)
    for table, (_, customer, other) in TRACKER_TABLES.items():
        assert rasa[table] == set(customer) | set(other), table


def test_an_erasure_counts_every_table_of_customer_data_and_every_kind_of_file(store, trackers, tmp_path):
    tracker = TrackerStore(trackers.url)
    try:
        stores = CustomerStores(store, tracker, CustomerFiles(tmp_path / "files", tmp_path / "drafts"))
        for dry_run in (True, False):
            counts = erase(stores, Selection("email", addresses=["nobody@example.org"]), "test", dry_run).counts
            assert set(counts) == set(CUSTOMER_TABLES) | set(FILES) | {"tracker_events"}
    finally:
        tracker.close()
