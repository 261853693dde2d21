"""The reports' figures as Prometheus gauges on ``/metrics`` (behind HELPDESK_METRICS_TOKEN).

A custom collector computes them at scrape time over the last ``WINDOW`` (a
rolling 7 days, every language and team as labels), with the same queries and
aggregates as the page (``queries``), and keeps the result ``CACHE_SECONDS``,
so a scrape every 15 s costs one computation a minute however many scrapers
there are. The unanswered topics are not exported: their labels would be
customer text. One collector serves the process (``/metrics`` exposes the
process-wide registry); it reads the newest app that is running.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import defaultdict
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from helpdesk.db import utcnow
from helpdesk.reports.queries import (
    OUTCOMES,
    PROCEDURE_OUTCOMES,
    PeriodFigures,
    aggregate_backlog,
    aggregate_csat,
    aggregate_procedures,
    aggregate_sla,
    fetch_articles,
    fetch_conversations,
    fetch_handoffs,
    fetch_open,
    fetch_procedure_runs,
    fetch_ratings,
    fetch_unanswered,
)

WINDOW = timedelta(days=7)
CACHE_SECONDS = 60.0
PREFIX = "helpdesk_report_"


def compute(engine, now=None) -> list[GaugeMetricFamily]:
    now = now or utcnow()
    begin = now - WINDOW
    window = " over the last 7 days"
    by_lang: dict[str, PeriodFigures] = defaultdict(lambda: PeriodFigures(""))
    for fact in fetch_conversations(engine, begin, now, now=now):
        by_lang[fact.language].add_conversation(fact)
    handoffs = fetch_handoffs(engine, begin, now)
    by_team: dict[str, PeriodFigures] = defaultdict(lambda: PeriodFigures(""))
    for handoff in handoffs:
        by_team[handoff.team].add_handoff(handoff)

    def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
        return GaugeMetricFamily(PREFIX + name, doc + window, labels=labels)

    conversations = gauge(
        "conversations",
        "Bot conversations with a customer question (a search) that started in the window, the denominator of "
        "every outcome,",
        ["language"],
    )
    outcomes = gauge(
        "conversation_outcome",
        "Conversations by outcome: confirmed (said solved), assumed (answered, nothing after it, no ticket "
        "within 24 h), unresolved (no answer or not solved, no ticket within 24 h), handed_off (a ticket was "
        "made), pending (less than 24 h, undecided)",
        ["language", "outcome"],
    )
    shares = gauge(
        "conversation_outcome_ratio", "Conversations of the outcome / conversations", ["language", "outcome"]
    )
    for lang, f in sorted(by_lang.items()):
        conversations.add_metric([lang], f.conversations)
        for name in OUTCOMES:
            outcomes.add_metric([lang, name], f.count(name))
            if (share := f.share(name)) is not None:
                shares.add_metric([lang, name], share)
    frt = gauge(
        "first_response_seconds",
        "Time to the first message the customer received from a person, of tickets created, by the team routed to",
        ["team", "quantile"],
    )
    res = gauge("resolution_seconds", "Resolution time of tickets created, by the team routed to", ["team", "quantile"])
    created = gauge("tickets_created", "Tickets created (every channel), by the team routed to", ["team"])
    for team, f in sorted(by_team.items()):
        created.add_metric([team], f.tickets)
        for q in (0.5, 0.9):
            if (first_response := f.first_response(q)) is not None:
                frt.add_metric([team, str(q)], first_response)
            if (resolution := f.resolution(q)) is not None:
                res.add_metric([team, str(q)], resolution)
    sla_rate = gauge(
        "sla_hit_ratio", "First responses within the time promised at creation / those due", ["team", "priority"]
    )
    sla_count = gauge(
        "sla_first_responses", "Tickets by SLA outcome (hit, missed, pending)", ["team", "priority", "outcome"]
    )
    for cell in aggregate_sla(handoffs, now):
        if cell.rate is not None:
            sla_rate.add_metric([cell.team, cell.priority], cell.rate)
        for outcome in ("hit", "missed", "pending"):
            sla_count.add_metric([cell.team, cell.priority, outcome], getattr(cell, outcome))
    backlog = GaugeMetricFamily(
        PREFIX + "open_tickets", "Tickets not resolved now, by current team and age", labels=["team", "age"]
    )
    per_team: dict[str, list] = defaultdict(list)
    for ticket in fetch_open(engine):
        per_team[ticket[1]].append(ticket)
    for team, tickets in sorted(per_team.items()):
        for label, prios in aggregate_backlog(tickets, now):
            backlog.add_metric([team, label], sum(prios.values()))
    articles = {
        name: gauge(name, doc, ["article"])
        for name, doc in (
            ("article_shown", "Conversations the service answered with the article"),
            ("article_solved", "'Solved' verdicts on the article in those conversations"),
            ("article_not_solved", "'Not solved' verdicts on the article in those conversations"),
        )
    }
    for article_id, (shown, solved, not_solved) in sorted(fetch_articles(engine, begin, now).items()):
        articles["article_shown"].add_metric([article_id], shown)
        articles["article_solved"].add_metric([article_id], solved)
        articles["article_not_solved"].add_metric([article_id], not_solved)
    unanswered = gauge("unanswered_searches", "Searches the service could not answer", ["language"])
    langs: dict[str, int] = defaultdict(int)
    for row in fetch_unanswered(engine, begin, now):
        langs[row.lang] += 1
    for lang, n in sorted(langs.items()):
        unanswered.add_metric([lang], n)
    csat_responses = GaugeMetricFamily(
        "helpdesk_csat_responses", "Satisfaction scores customers gave" + window + ", by team", labels=["team"]
    )
    csat_average = GaugeMetricFamily(
        "helpdesk_csat_average",
        "Mean satisfaction score (1-5)" + window + ", by team; only from 10 responses on",
        labels=["team"],
    )
    csat_ratio = GaugeMetricFamily(
        "helpdesk_csat_ratio",
        "Scores of 4 or 5 / scores" + window + ", by team; only from 10 responses on",
        labels=["team"],
    )
    for group in aggregate_csat(fetch_ratings(engine, begin, now)):
        if group.group != "team":
            continue
        csat_responses.add_metric([group.name], group.responses)
        if group.average is not None and group.share is not None:
            csat_average.add_metric([group.name], group.average)
            csat_ratio.add_metric([group.name], group.share)
    procedure_runs = gauge(
        "procedure_runs",
        "Runs of the procedures the bot did for customers, by outcome (done, handoff, identity_failed, failed, "
        "locked, limit)",
        ["procedure", "language", "outcome"],
    )
    procedure_median = gauge(
        "procedure_call_median_seconds",
        "Median duration of the runs that called the company's system",
        ["procedure", "language"],
    )
    for runs in aggregate_procedures(fetch_procedure_runs(engine, begin, now)):
        for outcome in PROCEDURE_OUTCOMES:
            procedure_runs.add_metric([runs.procedure_id, runs.language, outcome], runs.outcomes[outcome])
        if runs.median_ms is not None:
            procedure_median.add_metric([runs.procedure_id, runs.language], runs.median_ms / 1000)
    return [
        conversations,
        outcomes,
        shares,
        created,
        frt,
        res,
        sla_rate,
        sla_count,
        backlog,
        *articles.values(),
        unanswered,
        csat_responses,
        csat_average,
        csat_ratio,
        procedure_runs,
        procedure_median,
    ]


class ReportCollector:
    """Registered once per process; yields the figures of the newest running app, cached briefly."""

    def __init__(self):
        self.apps: list[weakref.ref] = []
        self.lock = threading.Lock()
        self.cached: tuple[float, int, list[GaugeMetricFamily]] | None = None

    def add(self, app: FastAPI) -> None:
        with self.lock:
            self.apps = [ref for ref in self.apps if ref() is not None] + [weakref.ref(app)]

    def describe(self):
        return []  # names are not claimed up front: nothing is computed at registration

    def collect(self):
        with self.lock:
            running = [
                app
                for app in (ref() for ref in reversed(self.apps))
                if app is not None and getattr(app.state, "engine", None) is not None
            ]
            if not running:
                return []
            app = running[0]
            if self.cached and self.cached[1] == id(app) and time.monotonic() - self.cached[0] < CACHE_SECONDS:
                return self.cached[2]
            families = compute(app.state.engine)
            self.cached = (time.monotonic(), id(app), families)
            return families


COLLECTOR = ReportCollector()
_registered = False


def install(app: FastAPI) -> None:
    global _registered
    if not _registered:
        REGISTRY.register(COLLECTOR)
        _registered = True
    COLLECTOR.add(app)
