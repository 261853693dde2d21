"""The reports' procedure figures: runs per procedure by outcome, from the audit log, against SQL written
here; the CSV table over HTTP, the /metrics gauges, the page in English and German, the language filter; SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

from sqlalchemy import text

from helpdesk.db import utcnow
from helpdesk.procedures import store as procedures
from helpdesk.reports.queries import PROCEDURE_OUTCOMES
from tests.conftest import csrf_token

PASSWORD = "a long enough password"
METRICS_TOKEN = "test-metrics-token"
PROCEDURES = {"en-line-check": "en", "de-leitung-pruefen": "de", "en-order-status": "en"}


def generate(engine, rng: random.Random) -> None:
    """Runs of every outcome, as the desk writes them; a few older than the report's range."""
    now = utcnow()
    for n in range(60):
        procedure_id = rng.choice(list(PROCEDURES))
        outcome = rng.choice(PROCEDURE_OUTCOMES)
        refused = outcome in ("locked", "limit")
        status = None if refused or outcome == "failed" else rng.choice((200, 202, 404))
        duration = 0 if refused else rng.randint(20, 4000)
        started = now - timedelta(hours=rng.randint(0, 20)) if n % 10 else now - timedelta(days=40)
        procedures.record(
            engine, procedure_id, PROCEDURES[procedure_id], outcome, status, duration, f"conv-{n}", started
        )


def test_procedure_runs_per_procedure_and_outcome_match_sql(make_client, database_url):
    client = make_client(database_url=database_url, metrics_token=METRICS_TOKEN)
    store = client.app.state.handoffs
    store.create_agent("sue", "Sue", (), PASSWORD, "supervisor")
    generate(store.engine, random.Random(7))
    since = utcnow() - timedelta(days=7)
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT procedure_id, outcome, COUNT(*) FROM procedure_runs WHERE started_at >= :since "
                "GROUP BY procedure_id, outcome"
            ),
            {"since": since},
        ).all()
    expected: dict[str, dict[str, int]] = {}
    for procedure_id, outcome, count in rows:
        expected.setdefault(procedure_id, {})[outcome] = count
    assert sum(sum(c.values()) for c in expected.values()) == 54  # the 6 older runs are outside the range

    page = client.get("/agent/login")
    client.post("/agent/login", data={"username": "sue", "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    start = (utcnow() - timedelta(days=6)).date().isoformat()
    response = client.get("/agent/reports/procedures.csv", params={"start": start})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["procedure", "language", "runs", *PROCEDURE_OUTCOMES, "median duration (ms)"]
    got = {r[0]: r for r in table[1:]}
    assert set(got) == set(expected)
    for procedure_id, counts in expected.items():
        row = got[procedure_id]
        assert row[1] == PROCEDURES[procedure_id] and int(row[2]) == sum(counts.values())
        assert [int(c) for c in row[3:9]] == [counts.get(o, 0) for o in PROCEDURE_OUTCOMES]
    # Most runs first.
    assert [int(r[2]) for r in table[1:]] == sorted((int(r[2]) for r in table[1:]), reverse=True)

    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    for procedure_id, counts in expected.items():
        for outcome in PROCEDURE_OUTCOMES:
            labels = f'language="{PROCEDURES[procedure_id]}",outcome="{outcome}",procedure="{procedure_id}"'
            assert f"helpdesk_report_procedure_runs{{{labels}}} {float(counts.get(outcome, 0))}" in metrics, labels

    only_german = list(
        csv.reader(
            io.StringIO(client.get("/agent/reports/procedures.csv", params={"start": start, "language": "de"}).text)
        )
    )
    assert [r[0] for r in only_german[1:]] == ["de-leitung-pruefen"]

    html = client.get("/agent/reports", params={"start": start}).text
    section = html.split('aria-labelledby="h-procedures"', 1)[1].split("</section>", 1)[0]
    assert (
        "Procedures the bot ran" in section and "system not reached" in section and "identity not confirmed" in section
    )
    assert 'href="/agent/reports/procedures.csv?' in section and "en-order-status" in section
    german = client.get("/agent/reports", params={"start": start}, headers={"Accept-Language": "de"}).text
    assert "Vom Bot ausgeführte Prozeduren" in german and "Identität nicht bestätigt" in german


def test_a_range_without_runs_says_so(make_client, database_url):
    client = make_client(database_url=database_url)
    client.app.state.handoffs.create_agent("sue", "Sue", (), PASSWORD, "supervisor")
    page = client.get("/agent/login")
    client.post("/agent/login", data={"username": "sue", "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    html = client.get("/agent/reports").text
    section = html.split('aria-labelledby="h-procedures"', 1)[1].split("</section>", 1)[0]
    assert "No data in this range." in section
    rows = list(csv.reader(io.StringIO(client.get("/agent/reports/procedures.csv").text)))
    assert len(rows) == 1
