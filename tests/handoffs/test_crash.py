"""Item 7 in CI: a small stream through scripts/handoff_crash_check.py, SIGKILL mid-stream, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from search_api.settings import PROJECT_ROOT
from tests.handoffs.conftest import FIXTURE_KB, postgres_schema


@pytest.mark.services
@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_every_acknowledged_handoff_survives_sigkill_and_retries_make_no_duplicates(database, index_dir, tmp_path):
    def run(url: str | None) -> dict:
        args = [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "handoff_crash_check.py"),
            "--handoffs",
            "60",
            "--clients",
            "6",
            "--kill-after",
            "20",
            "--json",
        ]
        if url:
            args += ["--database-url", url]
        env = {**os.environ, "HELPDESK_INDEX_DIR": str(index_dir), "HELPDESK_ARTICLES_DIR": str(FIXTURE_KB)}
        done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)

    if database == "sqlite":
        report = run(None)
    else:
        with postgres_schema() as url:
            report = run(url)
    print(report)
    assert report["acknowledged_201_before_kill"] >= 20
    assert report["failed_or_unanswered_before_kill"] > 0  # the kill really happened mid-stream
    assert report["acknowledged_missing_from_store"] == 0
    assert report["replays_of_acknowledged_same_ticket"] == report["acknowledged_201_before_kill"]
    assert report["stored_for_this_run"] == report["distinct_tickets"] == 60
    assert report["duplicates"] == 0 and report["errors_after_restart"] == 0
    assert report["ok"]
