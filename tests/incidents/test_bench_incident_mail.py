"""scripts/bench_incident_mail.py at a small scale, with the sending process killed partway: every
subscriber gets the resolution mail, and at most the one mail on its way at the kill twice."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from search_api.settings import PROJECT_ROOT
from tests.handoffs.conftest import PG_URL

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_a_killed_sender_loses_no_resolution_mail():
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "scripts" / "bench_incident_mail.py"),
            "--subscribers",
            "50",
            "--kill",
            "--timeout",
            "200",
            "--database-url",
            PG_URL,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(done.stdout)
    print(report)
    (run,) = report["runs"]
    assert run["killed_after"] is not None and 25 <= run["killed_after"] < 50  # killed partway
    assert run["sender_starts"] == 2
    assert run["missing"] == 0 and run["unknown_recipients"] == 0
    assert run["deliver_all_seconds"] is not None and report["median_deliver_all_seconds"] is not None
    # The outbox delivers at least once: a mail the receiver accepted but the killed process had not
    # recorded yet goes out again after its lease. One process sends one mail at a time.
    assert run["sent_twice"] <= 1
    assert run["mails_received"] == 50 + run["sent_twice"]
    assert report["ok"] == (run["sent_twice"] == 0) and done.returncode == (0 if report["ok"] else 1)
