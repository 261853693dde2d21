"""The reports' incident figures on PostgreSQL: the page's "Incidents" table and its incident
deflections against SQL written here, independently of helpdesk/reports/queries.py.

A hand-made history goes through the real app and its stores with a set clock: incidents declared
and resolved by agents, the bot telling conversations of them (``POST /api/incidents/{id}/told``),
subscriptions, tickets linked at creation. A supervisor reads the page and the CSV, with and
without the language and team filters; an agent gets 403.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from helpdesk.db import utcnow
from helpdesk.handoffs.schemas import HandoffIn
from tests.handoffs.conftest import SERVICE, handoff_payload
from tests.incidents.conftest import Desk, incident

pytestmark = pytest.mark.postgres
FIRST, LAST = date(2026, 11, 16), date(2026, 11, 18)  # the report's range, Berlin days
BEGIN = datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # 16.11. 00:00 Berlin
END = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)  # 19.11. 00:00 Berlin


def handoffs(desk: Desk) -> Any:
    app: Any = desk.client.app
    return app.state.handoffs


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def declare(desk: Desk, moment: datetime, **changes: Any) -> int:
    handoffs(desk).clock = lambda: moment
    made = desk.api("POST", "", "sue", json=incident(postal_prefixes=[], **changes))
    assert made.status_code == 201, made.text
    return made.json()["id"]


def resolve(desk: Desk, number: int, moment: datetime) -> None:
    handoffs(desk).clock = lambda: moment
    done = desk.api("POST", f"/{number}/updates", "sue", json={"status": "resolved"})
    assert done.status_code == 200, done.text


def told(desk: Desk, number: int, conversation: str, lang: str, moment: datetime, expected: int = 201) -> None:
    handoffs(desk).clock = lambda: moment
    body = {"conversation_id": conversation, "language": lang}
    done = desk.client.post(f"/api/incidents/{number}/told", json=body, headers=SERVICE)
    assert done.status_code == expected, done.text


def subscribe(desk: Desk, number: int, address: str, conversation: str, lang: str, moment: datetime) -> None:
    handoffs(desk).clock = lambda: moment
    body = {"email": address, "language": lang, "conversation_id": conversation}
    done = desk.client.post(f"/api/incidents/{number}/subscriptions", json=body, headers=SERVICE)
    assert done.status_code == 201, done.text


def ticket(desk: Desk, conversation: str, moment: datetime, incident_id: int | None, lang: str = "de") -> None:
    payload = handoff_payload(key=f"{conversation}-handoff-1")
    payload.update(conversation_id=conversation, language=lang, incident_id=incident_id)
    _, created = handoffs(desk).create(
        HandoffIn.model_validate(payload),
        team="network",
        priority="normal",
        on_call=False,
        expected_minutes=60,
        due_at=moment + timedelta(hours=1),
        now=moment,
    )
    assert created


@pytest.fixture
def history(desk) -> dict[str, int]:
    fibre = declare(desk, at(16, 8), title="Fibre outage", started_at="2026-11-16T08:00:00Z")
    portal = declare(desk, at(17, 12), title="Invoice portal down", category="billing", product=None, started_at=None)
    earlier = declare(desk, at(10, 8), title="Earlier outage", started_at="2026-11-10T08:00:00Z")
    resolve(desk, earlier, at(12, 8))  # resolved before the range: not in the report
    later = declare(desk, at(20, 8), title="Later outage", started_at="2026-11-20T08:00:00Z")

    told(desk, fibre, "c1", "de", at(16, 9))
    told(desk, fibre, "c1", "de", at(16, 9, 30), expected=200)  # once per conversation
    told(desk, fibre, "c2", "en", at(16, 10))
    told(desk, fibre, "c3", "de", at(17, 9))
    told(desk, fibre, "c4", "de", at(15, 22))  # 23:00 Berlin, the day before the range
    told(desk, portal, "c3", "de", at(17, 13))  # c3 was told of both
    told(desk, portal, "c5", "en", at(18, 8))
    told(desk, later, "c7", "de", at(20, 9))
    subscribe(desk, fibre, "erika@example.org", "c1", "de", at(16, 9, 5))
    subscribe(desk, fibre, "john@example.org", "c3", "en", at(17, 9, 10))
    subscribe(desk, portal, "zoe@example.org", "c5", "en", at(18, 8, 5))
    ticket(desk, "c2", at(16, 10, 30), fibre, "en")  # told, then a ticket: no deflection
    ticket(desk, "c6", at(17, 8), fibre)  # linked, never told
    ticket(desk, "c5", at(18, 9), None, "en")  # told of the portal, then a ticket of its own
    resolve(desk, fibre, at(17, 10, 30))
    return {"fibre": fibre, "portal": portal, "earlier": earlier, "later": later}


def sql(desk: Desk, query: str, **params: Any) -> list[tuple[Any, ...]]:
    with handoffs(desk).engine.connect() as db:
        return [tuple(row) for row in db.execute(text(query), params).all()]


def expected_incidents(desk: Desk, language: str | None = None, team: str | None = None) -> list[list[str]]:
    """The "Incidents" table as the page should show it, straight from the tables."""
    lang = "" if language is None else language
    rows = sql(
        desk,
        """
        SELECT i.id, i.title, i.team,
          to_char(i.started_at AT TIME ZONE 'Europe/Berlin', 'FMMM/FMDD/YYYY, HH24:MI'),
          coalesce(to_char(i.resolved_at AT TIME ZONE 'Europe/Berlin', 'FMMM/FMDD/YYYY, HH24:MI'), 'active'),
          (SELECT count(*) FROM incident_conversations t WHERE t.incident_id = i.id
             AND t.told_at >= :b AND t.told_at < :e AND (:lang = '' OR t.language = :lang)),
          (SELECT count(*) FROM incident_conversations t WHERE t.incident_id = i.id
             AND t.told_at >= :b AND t.told_at < :e AND (:lang = '' OR t.language = :lang)
             AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = t.conversation_id)),
          (SELECT count(*) FROM incident_subscriptions s WHERE s.incident_id = i.id
             AND s.created_at >= :b AND s.created_at < :e AND (:lang = '' OR s.language = :lang)),
          (SELECT count(*) FROM handoffs h WHERE h.incident_id = i.id
             AND h.created_at >= :b AND h.created_at < :e AND (:lang = '' OR h.language = :lang)),
          extract(epoch FROM i.resolved_at - i.started_at)
        FROM incidents i
        WHERE i.started_at < :e AND (i.resolved_at IS NULL OR i.resolved_at >= :b) AND (:team = '' OR i.team = :team)
        ORDER BY i.started_at, i.id
        """,
        b=BEGIN,
        e=END,
        lang=lang,
        team=team or "",
    )
    return [[*(str(c) for c in row[:-1]), minutes_text(row[-1])] for row in rows]


def minutes_text(seconds: Any) -> str:
    if seconds is None:
        return "-"
    minutes = round(float(seconds) / 60)
    if minutes < 60:
        return f"{minutes} min"
    return (
        f"{minutes // 60} h {minutes % 60:02d} min"
        if minutes < 2880
        else f"{minutes // 1440} d {minutes % 1440 // 60} h"
    )


def expected_deflections(desk: Desk, language: str | None = None, team: str | None = None) -> dict[str, int]:
    """Berlin day -> conversations first told (in the range) of a known incident, without a ticket."""
    rows = sql(
        desk,
        """
        SELECT to_char(first_told AT TIME ZONE 'Europe/Berlin', 'Mon FMDD, YYYY'), count(*) FROM (
          SELECT t.conversation_id, min(t.told_at) AS first_told
          FROM incident_conversations t JOIN incidents i ON i.id = t.incident_id
          WHERE t.told_at >= :b AND t.told_at < :e AND (:lang = '' OR t.language = :lang)
            AND (:team = '' OR i.team = :team)
            AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = t.conversation_id)
          GROUP BY t.conversation_id
        ) firsts GROUP BY 1
        """,
        b=BEGIN,
        e=END,
        lang=language or "",
        team=team or "",
    )
    days = {(FIRST + timedelta(days=i)).strftime("%b %-d, %Y"): 0 for i in range((LAST - FIRST).days + 1)}
    days.update({day: n for day, n in rows})
    days["total"] = sum(days.values())
    return days


def page_table(page: str, name: str) -> tuple[list[str], list[list[str]]]:
    found = re.search(rf'<table id="t-{name}">(.*?)</table>', page, re.S)
    assert found, f"no table {name} on the page"

    def cells(row: str) -> list[str]:
        return [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]

    head, body = found.group(1).split("</thead>")
    return cells(head), [cells(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def report(desk: Desk, **filters: str) -> str:
    handoffs(desk).clock = utcnow
    desk.login("sue")
    page = desk.client.get("/agent/reports", params={"start": FIRST.isoformat(), "end": LAST.isoformat(), **filters})
    assert page.status_code == 200, page.text
    return page.text


def deflections_on(page: str) -> dict[str, int]:
    headers, rows = page_table(page, "overview")
    column = headers.index("incident deflections")
    return {row[0]: int(row[column]) for row in rows}


HEADERS = [
    "incident",
    "title",
    "team",
    "started",
    "resolved",
    "told by the bot",
    "told, no ticket",
    "subscribers",
    "linked tickets",
    "time to resolve",
]


def test_the_incidents_table_and_deflections_match_the_tables(desk, history):
    page = report(desk)
    headers, rows = page_table(page, "incidents")
    assert headers == HEADERS
    assert rows == expected_incidents(desk)
    # Worked out by hand from the history, so that the SQL above is checked too.
    fibre, portal = str(history["fibre"]), str(history["portal"])
    assert rows == [
        [fibre, "Fibre outage", "network", "11/16/2026, 09:00", "11/17/2026, 11:30", "3", "2", "2", "2", "26 h 30 min"],
        [portal, "Invoice portal down", "billing", "11/17/2026, 13:00", "active", "2", "1", "1", "0", "-"],
    ]
    assert deflections_on(page) == expected_deflections(desk)
    assert deflections_on(page) == {"Nov 16, 2026": 1, "Nov 17, 2026": 1, "Nov 18, 2026": 0, "total": 2}
    assert '<span class="value" data-kpi="incident_deflections">2</span>' in page
    for term in HEADERS[5:] + ["incident deflections"]:  # each figure is defined on the page
        assert f"<dt>{term}" in page

    english = report(desk, language="en")
    assert page_table(english, "incidents")[1] == expected_incidents(desk, language="en")
    assert [r[5:9] for r in page_table(english, "incidents")[1]] == [["1", "0", "1", "1"], ["1", "0", "1", "0"]]
    assert deflections_on(english) == expected_deflections(desk, language="en")


def test_a_team_filter_shows_the_teams_incidents_and_the_csv_has_them(desk, history):
    billing = report(desk, team="billing")
    rows = page_table(billing, "incidents")[1]
    assert rows == expected_incidents(desk, team="billing") and [r[1] for r in rows] == ["Invoice portal down"]
    # c3 was told of both incidents; for billing it counts on the day it was told of the portal.
    assert deflections_on(billing) == expected_deflections(desk, team="billing")
    assert deflections_on(billing) == {"Nov 16, 2026": 0, "Nov 17, 2026": 1, "Nov 18, 2026": 0, "total": 1}
    assert "the incident figures are those of the team's incidents" in billing

    params = {"start": FIRST.isoformat(), "end": LAST.isoformat()}
    exported = desk.client.get("/agent/reports/incidents.csv", params=params)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == HEADERS[:-1] + ["time to resolve (s)"]
    assert [r[0] for r in table[1:]] == [str(history["fibre"]), str(history["portal"])]
    assert table[1][3:] == ["2026-11-16T08:00:00+00:00", "2026-11-17T10:30:00+00:00", "3", "2", "2", "2", "95400"]
    assert table[2][4] == "" and table[2][9] == ""
    overview = list(csv.reader(io.StringIO(desk.client.get("/agent/reports/overview.csv", params=params).text)))
    assert overview[0][-1] == "incident deflections" and [r[-1] for r in overview[1:]] == ["1", "1", "0", "2"]

    desk.login("nora")  # an agent: the reports are for supervisors and admins
    assert desk.client.get("/agent/reports", params=params).status_code == 403
    assert desk.client.get("/agent/reports/incidents.csv", params=params).status_code == 403


def test_telling_is_recorded_once_and_needs_the_service_token(desk):
    number = declare(desk, at(16, 8), started_at="2026-11-16T08:00:00Z")
    body = {"conversation_id": "c1", "language": "de"}
    assert desk.client.post(f"/api/incidents/{number}/told", json=body).status_code in (401, 403)
    assert desk.client.post(f"/api/incidents/{number}/told", json=body, headers=SERVICE).json() == {
        "incident_id": number,
        "created": True,
    }
    assert desk.client.post(f"/api/incidents/{number}/told", json=body, headers=SERVICE).status_code == 200
    assert desk.client.post("/api/incidents/999999/told", json=body, headers=SERVICE).status_code == 404
    bad = desk.client.post(f"/api/incidents/{number}/told", json={**body, "language": "fr"}, headers=SERVICE)
    assert bad.status_code == 422
    assert sql(desk, "SELECT conversation_id, language FROM incident_conversations") == [("c1", "de")]
