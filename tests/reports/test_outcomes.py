"""The four resolution figures over one denominator: conversations made with known outcomes, the outcomes
computed again with SQL written here (not the report's queries), and the page, its CSV and /metrics held
to that SQL, on SQLite and PostgreSQL (the ``database_url`` fixture).

Each conversation is written through the stores the service writes with (the bot's searches, its
verdicts, tickets), its outcome chosen first: the generator's own count, the SQL below and the three
outputs must all agree. The conversations are two to six days old, or three hours old (too early to
tell), so none changes its outcome while the test runs.
"""

from __future__ import annotations

import csv
import html
import io
import math
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from helpdesk.db import as_utc, utcnow
from helpdesk.feedback.store import FeedbackStore
from helpdesk.handoffs.schemas import Message
from helpdesk.reports.activity import ActivityStore
from tests.conftest import csrf_token
from tests.reports.test_incident_figures import minutes_text
from tests.reports.test_queries import new_handoff

METRICS_TOKEN = "test-metrics-token-outcomes"
PASSWORD = "a long enough password"
OUTCOMES = ("confirmed", "assumed", "unresolved", "handed_off", "pending")
NAMES = {
    "confirmed": "confirmed solved",
    "assumed": "assumed solved",
    "unresolved": "unresolved without ticket",
    "handed_off": "handed off",
    "pending": "too early to tell",
}

# The outcomes with SQL of their own: the order of the definitions, a ticket first.
OUTCOME_SQL = """
SELECT c.language, c.started_at,
  CASE
    WHEN EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = c.conversation_id) THEN 'handed_off'
    WHEN EXISTS (SELECT 1 FROM article_feedback f WHERE f.conversation_id = c.conversation_id AND f.helpful)
      THEN 'confirmed'
    WHEN c.last_search_at >= :cutoff
      OR EXISTS (SELECT 1 FROM article_feedback f WHERE f.conversation_id = c.conversation_id
                 AND f.updated_at >= :cutoff) THEN 'pending'
    WHEN c.last_answered_at IS NOT NULL AND c.last_answered_at >= c.last_search_at
      AND NOT EXISTS (SELECT 1 FROM article_feedback f WHERE f.conversation_id = c.conversation_id
                      AND NOT f.helpful AND f.updated_at >= c.last_answered_at) THEN 'assumed'
    ELSE 'unresolved'
  END
FROM report_conversations c
WHERE c.started_at >= :begin AND c.started_at < :end
"""
# First response: the first agent message after the ticket was made (claims, notes, moves are none).
FIRST_RESPONSE_SQL = """
SELECT h.created_at,
  (SELECT MIN(m.sent_at) FROM handoff_messages m
   WHERE m.handoff_id = h.id AND m.sender = 'agent' AND m.sent_at >= h.created_at)
FROM handoffs h WHERE h.created_at >= :begin AND h.created_at < :end
"""


class History:
    """Conversations of chosen outcomes, written through the stores; ``expected`` counts them."""

    def __init__(self, app: Any, now: datetime, seed: int = 11):
        self.store = app.state.handoffs
        self.activity = ActivityStore(self.store.engine)
        self.feedback = FeedbackStore(self.store.engine)
        self.rng = random.Random(seed)
        self.now = now
        self.expected: Counter[str] = Counter()
        self.n = 0

    def conversation(self, outcome: str) -> None:
        rng = self.rng
        self.n += 1
        cid = f"outcome-{self.n}"
        lang = rng.choice(("de", "en"))
        if outcome == "pending":
            at = self.now - timedelta(hours=3, minutes=rng.randint(0, 50))
        else:
            at = self.now - timedelta(days=2, hours=rng.randint(1, 90), minutes=rng.randint(0, 59))
        at = at.replace(microsecond=rng.randint(1, 999_999))
        step = timedelta(minutes=1, seconds=rng.randint(1, 50))

        def search(answered: bool) -> None:
            nonlocal at
            at += step
            self.activity.record_search(cid, lang, f"art-{rng.randint(1, 4)}" if answered else None, now=at)

        verdicts = iter(range(10))

        def verdict(solved: bool) -> None:  # on an article of its own: a verdict per article is kept
            nonlocal at
            at += step
            self.feedback.record_feedback(cid, f"art-v{self.n}-{next(verdicts)}", "question", solved, now=at)

        shape = rng.randrange(3)
        if outcome == "confirmed":
            search(True)
            if shape == 1:
                verdict(False)  # an earlier article did not help ...
                search(True)
            verdict(True)  # ... this one did
            if shape == 2:
                search(False)  # a later question nothing answered does not undo the "solved"
        elif outcome == "assumed":
            if shape == 1:
                search(False)
            if shape == 2:
                search(True)
                verdict(False)  # "not solved", then a new answer the customer left with
            search(True)
        elif outcome == "unresolved":
            if shape == 0:
                search(False)
            elif shape == 1:
                search(True)
                search(False)  # the last question got no answer
            else:
                search(True)
                verdict(False)  # "not solved" after the last answer
        elif outcome == "handed_off":
            search(rng.random() < 0.5)
            if shape == 0:
                verdict(True)  # said solved, yet asked for a person: handed off comes first
            later = timedelta(hours=30) if shape == 1 else timedelta(minutes=3)  # a ticket the day after counts too
            self.ticket(cid, lang, at + later)
        elif outcome == "pending":
            if shape == 2:  # a question of yesterday, its "not solved" of today: the 24 h count from the verdict
                at -= timedelta(hours=23)
                search(True)
                at = self.now - timedelta(hours=2) - step
                verdict(False)
            else:
                search(rng.random() < 0.5)
        self.expected[outcome] += 1

    def ticket(self, cid: str, lang: str, at: datetime) -> None:
        ticket = new_handoff(self.store, cid, at, "network", "normal", 120, lang)
        # A claim, a note and a reassignment are no response; the agent's message to the customer is.
        self.at_clock(at + timedelta(minutes=5), lambda: self.store.claim(ticket, "anna"))
        self.at_clock(at + timedelta(minutes=9), lambda: self.store.add_note(ticket, "anna", "checking"))
        if self.rng.random() < 0.5:
            self.at_clock(
                at + timedelta(minutes=12),
                lambda: self.store.move(ticket, "sue", "software", "software", at + timedelta(hours=2), "reassigned"),
            )
        if self.rng.random() < 0.8:
            replied = at + timedelta(minutes=self.rng.randint(15, 200), seconds=self.rng.randint(1, 59))
            message = Message(sender="agent", text="Hello, support here.", timestamp=replied)
            self.at_clock(replied, lambda: self.store.append_messages(ticket, [message], actor="anna"))

    def at_clock(self, moment: datetime, action) -> None:
        self.store.clock = lambda: moment
        try:
            action()
        finally:
            self.store.clock = utcnow


@pytest.fixture
def desk(make_client, database_url):
    client = make_client(database_url=database_url, metrics_token=METRICS_TOKEN)
    app = client.app
    app.state.handoffs.create_agent("sue", "Sue", [], PASSWORD, "supervisor")
    now = utcnow()
    history = History(app, now)
    plan = ["confirmed"] * 7 + ["assumed"] * 9 + ["unresolved"] * 8 + ["handed_off"] * 6 + ["pending"] * 4
    history.rng.shuffle(plan)
    for outcome in plan:
        history.conversation(outcome)
    page = client.get("/agent/login")
    client.post(
        "/agent/login",
        data={"username": "sue", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    return client, history


def bound(engine, moment: datetime) -> datetime:
    """An instant as the database compares it: SQLite stores naive UTC text."""
    return moment.astimezone(UTC).replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment


def sql(engine, query: str, **params: datetime) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), {k: bound(engine, v) for k, v in params.items()})]


def moment(value: Any) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return as_utc(value)


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def table_rows(page: str, name: str) -> tuple[list[str], dict[str, list[str]]]:
    """Headers and rows (by their first cell) of a data table of the page."""
    body = page[page.index(f'<table id="t-{name}">') :]
    body = body[: body.index("</table>")]
    headers = [html.unescape(h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', body)]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        if cells and 'scope="col"' not in row:
            rows[cells[0]] = cells
    return headers, rows


def test_the_four_outcomes_agree_on_the_page_in_the_csv_and_on_metrics(desk):
    client, history = desk
    engine = client.app.state.handoffs.engine
    tz = client.app.state.routing.tz
    now = utcnow()
    first_day = (now - timedelta(days=7)).astimezone(tz).date()
    last_day = now.astimezone(tz).date()
    begin = datetime.combine(first_day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    rows = sql(engine, OUTCOME_SQL, cutoff=now - timedelta(hours=24), begin=begin, end=end)
    counted = Counter(outcome for _, _, outcome in rows)
    # The SQL finds the outcomes the history was made with: it is a fair judge of the report.
    assert counted == history.expected and sum(counted.values()) == len(rows) == 34
    total = len(rows)

    params = {"period": "day", "start": first_day.isoformat(), "end": last_day.isoformat()}
    page = client.get("/agent/reports", params=params)
    assert page.status_code == 200, page.text
    kpi = dict(re.findall(r'data-kpi="(\w+)">([^<]*)<', page.text))
    counts = dict(re.findall(r'data-count="(\w+)">([^<]*)<', page.text))
    assert kpi["conversations"] == str(total)
    for outcome in OUTCOMES:
        assert counts[outcome] == f"{counted[outcome]} of {total}", outcome
        assert kpi[outcome] == f"{counted[outcome] / total * 100:.1f}%", outcome
    for name in NAMES.values():  # each defined on the page
        assert f"<dt>{name}</dt>" in page.text
    headers, by_period = table_rows(page.text, "overview")
    totals = dict(zip(headers, by_period["total"], strict=True))
    assert totals["conversations"] == str(total)
    for outcome, name in NAMES.items():
        assert totals[name] == str(counted[outcome])
        assert totals[f"{name} share"] == f"{counted[outcome] / total * 100:.1f}%"
    # Every day row: its outcomes add up to its conversations (one denominator), as SQL buckets them.
    per_day = Counter(as_utc(moment(started)).astimezone(tz).date().strftime("%b %-d, %Y") for _, started, _ in rows)
    for label, cells in by_period.items():
        if label == "total":
            continue
        row = dict(zip(headers, cells, strict=True))
        assert row["conversations"] == str(per_day.get(label, 0)), label
        assert sum(int(row[name]) for name in NAMES.values()) == int(row["conversations"]), label
    # Tickets created is its own figure (tickets by the day they were made), not the handed-off conversations.
    responses = sql(engine, FIRST_RESPONSE_SQL, begin=begin, end=end)
    assert totals["tickets created"] == str(len(responses))
    firsts = [(moment(f) - moment(c)).total_seconds() for c, f in responses if f is not None]
    assert firsts and totals["first response median"] == kpi["first_response"] == minutes_text(
        nearest_rank(firsts, 0.5)
    )
    assert totals["first response p90"] == minutes_text(nearest_rank(firsts, 0.9))

    csv_text = client.get("/agent/reports/overview.csv", params=params).text
    csv_rows = list(csv.reader(io.StringIO(csv_text)))
    csv_totals = dict(zip(csv_rows[0], csv_rows[-1], strict=True))
    assert csv_totals["period"] == "total" and csv_totals["conversations"] == str(total)
    for outcome, name in NAMES.items():
        assert csv_totals[name] == str(counted[outcome])
        assert float(csv_totals[f"{name} share"]) == round(counted[outcome] / total, 4)
    assert csv_totals["tickets created"] == str(len(responses))

    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    by_outcome: Counter[str] = Counter()
    conversations = 0
    for line in metrics.splitlines():
        found = re.fullmatch(r'helpdesk_report_conversation_outcome\{language="(\w+)",outcome="(\w+)"\} (\S+)', line)
        if found:
            by_outcome[found.group(2)] += int(float(found.group(3)))
        found = re.fullmatch(r'helpdesk_report_conversations\{language="(\w+)"\} (\S+)', line)
        if found:
            conversations += int(float(found.group(2)))
    assert conversations == total and by_outcome == counted
    for lang in ("de", "en"):
        of_lang = Counter(outcome for language, _, outcome in rows if language == lang)
        share = re.search(
            rf'helpdesk_report_conversation_outcome_ratio\{{language="{lang}",outcome="assumed"\}} (\S+)', metrics
        )
        assert share and float(share.group(1)) == pytest.approx(of_lang["assumed"] / sum(of_lang.values()))
