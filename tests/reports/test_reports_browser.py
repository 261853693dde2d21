"""The reports page in Chromium on demo data: shown figures against SQL written here, independently.

The app runs under uvicorn with the fixture KB; ``helpdesk.reports.demo.generate``
fills its database with two weeks of traffic through the stores; a supervisor
opens the page per week and per day, and each checked figure is compared with
plain SQL in this file (not the report's queries). Then axe-core (no serious or
critical violation), the CSV export, /metrics, the bot's search hook, and the
screenshot of the documentation (tests/screenshots.py: var/screenshots/reports.png, or
docs/img/ under ``make screenshots``).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from helpdesk.app import create_app
from helpdesk.db import as_utc
from helpdesk.feedback.store import FeedbackStore
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.reports.demo import demo_articles, generate
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, running
from tests.handoffs.test_workspace_browser import PASSWORD, axe_violations, browser, new_page  # noqa: F401
from tests.reports.test_outcomes import OUTCOME_SQL, minutes_text, nearest_rank
from tests.screenshots import screenshot_dir

pytestmark = pytest.mark.browser
METRICS_TOKEN = "test-metrics-token"


@pytest.fixture
def server(make_settings, tmp_path):
    settings = make_settings().model_copy(
        update={"public_base_url": "http://127.0.0.1", "metrics_token": METRICS_TOKEN}
    )
    app = create_app(settings)
    with running(app) as base:
        store = app.state.handoffs
        store.create_agent("sue", "Sue Supervisor", [], PASSWORD, "supervisor")
        routing = RoutingConfig.load(settings.routing_file)
        generate(store, routing, demo_articles(settings), weeks=2, seed=7, per_day=30)
        yield app, base


def sql_rows(app, query: str, **params):
    """Plain SQL on the app's SQLite file: instants are bound and read as the naive UTC text it stores."""
    params = {k: v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in params.items()}
    with app.state.handoffs.engine.connect() as conn:
        return [tuple(moment(c) for c in row) for row in conn.execute(text(query), params).all()]


def moment(value):
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def row_cells(page, table: str, header: str) -> dict[str, str]:
    headers = page.locator(f"#t-{table} thead th").all_inner_texts()
    row = page.locator(f"#t-{table} tbody tr", has=page.locator(f"th:text-is('{header}')"))
    return dict(zip(headers, row.locator("th, td").all_inner_texts(), strict=False))


def test_reports_page_matches_independent_sql(server, browser):
    app, base = server
    tz = app.state.routing.tz
    today = datetime.now(UTC).astimezone(tz).date()
    start = today - timedelta(days=13)
    begin = datetime.combine(start, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(f"{base}/agent/login")
    page.fill("input[name=username]", "sue")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent")
    page.click("header >> text=Reports")
    page.select_option("select[name=period]", "week")
    page.fill("input[name=start]", start.isoformat())
    page.fill("input[name=end]", today.isoformat())
    page.click("button:text('Show')")
    page.wait_for_url(lambda url: "period=week" in url)

    # Each conversation's outcome by the SQL of tests/reports/test_outcomes.py; one denominator for all.
    outcomes = Counter(
        o
        for _, _, o in sql_rows(app, OUTCOME_SQL, cutoff=datetime.now(UTC) - timedelta(hours=24), begin=begin, end=end)
    )
    total = sum(outcomes.values())
    assert total > 100 and all(outcomes[o] for o in ("confirmed", "assumed", "unresolved", "handed_off"))

    def kpi(name: str) -> str:
        return page.locator(f"[data-kpi={name}]").inner_text()

    assert kpi("conversations") == str(total)
    for outcome in ("confirmed", "assumed", "unresolved", "handed_off", "pending"):
        assert kpi(outcome) == f"{outcomes[outcome] / total * 100:.1f}%"
        assert page.locator(f"[data-count={outcome}]").inner_text() == f"{outcomes[outcome]} of {total}"
    assert page.locator("#outcome-definitions dt").all_inner_texts()[:6] == [
        "conversations with a question",
        "confirmed solved",
        "assumed solved",
        "unresolved without ticket",
        "handed off",
        "too early to tell",
    ]
    # First response: the first message of a person to the customer; resolution: the resolved event.
    times = sql_rows(
        app,
        """
        SELECT h.created_at,
               (SELECT MIN(m.sent_at) FROM handoff_messages m WHERE m.handoff_id = h.id AND m.sender = 'agent'
                                                               AND m.sent_at >= h.created_at),
               (SELECT MIN(e.at) FROM handoff_events e WHERE e.handoff_id = h.id AND e.action = 'resolved')
        FROM handoffs h WHERE h.created_at >= :b AND h.created_at < :e""",
        b=begin,
        e=end,
    )
    first = [(as_utc(f) - as_utc(c)).total_seconds() for c, f, _ in times if f is not None]
    resolved = [(as_utc(r) - as_utc(c)).total_seconds() for c, _, r in times if r is not None]
    totals = row_cells(page, "overview", "total")
    assert totals["tickets created"] == str(len(times)) == kpi("tickets")
    assert totals["handed off"] == str(outcomes["handed_off"])
    assert totals["first response median"] == kpi("first_response") == minutes_text(nearest_rank(first, 0.5))
    assert totals["first response p90"] == minutes_text(nearest_rank(first, 0.9))
    assert totals["resolution p90"] == minutes_text(nearest_rank(resolved, 0.9))
    # One week row against SQL bucketing of its own: this week's Monday in the desk's zone.
    monday = today - timedelta(days=today.weekday())
    week_begin = datetime.combine(monday, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    ((week_count,),) = sql_rows(
        app,
        "SELECT COUNT(*) FROM report_conversations WHERE started_at >= :b AND started_at < :e",
        b=max(week_begin, begin),
        e=end,
    )
    week = row_cells(page, "overview", f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}")
    assert week["conversations"] == str(week_count)
    # SLA of one team and priority: first response no later than the promise at creation (due_at).
    sla = sql_rows(
        app,
        """
        SELECT h.due_at, (SELECT MIN(m.sent_at) FROM handoff_messages m WHERE m.handoff_id = h.id
                                                     AND m.sender = 'agent' AND m.sent_at >= h.created_at)
        FROM handoffs h JOIN handoff_events c ON c.handoff_id = h.id AND c.action = 'created'
        WHERE h.created_at >= :b AND h.created_at < :e AND c.to_team = 'network' AND h.priority = 'normal'""",
        b=begin,
        e=end,
    )
    now = datetime.now(UTC)
    hit = sum(1 for due, f in sla if f is not None and as_utc(f) <= as_utc(due))
    missed = sum(
        1 for due, f in sla if (f is not None and as_utc(f) > as_utc(due)) or (f is None and now > as_utc(due))
    )
    cells = (
        page.locator("#t-sla tbody tr", has=page.locator("th:text-is('network')"))
        .filter(has=page.locator("td:text-is('normal')"))
        .locator("td")
        .all_inner_texts()
    )
    assert cells[1:3] == [str(hit), str(missed)], cells
    # Open backlog now, and one article's counts.
    ((open_count,),) = sql_rows(app, "SELECT COUNT(*) FROM handoffs WHERE status <> 'resolved'")
    backlog = page.locator("#t-backlog tbody tr td:last-child").all_inner_texts()
    assert sum(int(n) for n in backlog) == open_count
    top = page.locator("#t-articles tbody tr").first.locator("th, td").all_inner_texts()
    ((shown,),) = sql_rows(
        app,
        """SELECT COUNT(*) FROM report_article_views v JOIN report_conversations c
        ON c.conversation_id = v.conversation_id
        WHERE v.article_id = :a AND c.started_at >= :b AND c.started_at < :e""",
        a=top[0],
        b=begin,
        e=end,
    )
    assert top[2] == str(shown)

    assert axe_violations(page) == []
    assert errors == []
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.screenshot(path=str(screenshot_dir() / "reports.png"), full_page=False)

    # Per day, English only: the KPI follows the filter.
    page.select_option("select[name=period]", "day")
    page.select_option("select[name=language]", "en")
    page.click("button:text('Show')")
    page.wait_for_url(lambda url: "language=en" in url)
    ((english,),) = sql_rows(
        app,
        """SELECT COUNT(*) FROM report_conversations
        WHERE language = 'en' AND started_at >= :b AND started_at < :e""",
        b=begin,
        e=end,
    )
    assert kpi("conversations") == str(english)
    assert page.locator("#t-overview tbody tr").count() == 14 + 1
    assert axe_violations(page) == []


def test_the_page_fits_the_window_with_a_huge_question_and_its_charts_read_alike(server, browser):
    """A 2,000-character question without a space is cut in its cell with the whole of it on hover;
    no table, chart or text makes the page wider than the window, at a desktop's width or a
    small laptop's; every chart's text has the same size on screen; times are the desk's local
    time, as on the rest of the page."""
    app, base = server
    huge = "Routerblinktrotundnichtsgehtmehr" * 62 + "?"  # 1,985 characters, not one space
    asked = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=1)
    feedback = FeedbackStore(app.state.engine)
    for _ in range(40):  # the most asked question: the table's first row
        feedback.record_unanswered(huge, "de", 0.1, 0.5, None, now=asked)
    page = new_page(browser)
    page.goto(f"{base}/agent/login")
    page.fill("input[name=username]", "sue")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent")
    for width in (1400, 1024, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/agent/reports")
        fits = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert fits[0] <= fits[1], (width, fits)
        # Every chart is drawn at its own size, so its 11-unit texts are 11 px on screen in all of them.
        scales = page.evaluate(
            "() => [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().width / 560)"
        )
        assert scales == [1.0] * 6, (width, scales)
        # A table wider than its card scrolls inside the card.
        for box in page.locator(".data").all():
            assert box.evaluate("e => e.getBoundingClientRect().right") <= width
    row = page.locator("#t-gaps tbody tr").first
    question = row.locator("td").first
    assert question.locator("span").get_attribute("title") == huge
    assert len(question.inner_text()) <= 121 and question.inner_text().endswith("…")
    cells = row_cells(page, "gaps", "1")
    local = asked.astimezone(app.state.routing.tz)
    assert cells["last seen"] == f"{local.month}/{local.day}/{local.year}, {local:%H:%M}"  # not the ISO instant
    # The CSV keeps the exact instant in UTC.
    rows = list(csv.reader(io.StringIO(page.request.get(f"{base}/agent/reports/gaps.csv").text())))
    assert rows[0][4] == "last seen (UTC)" and rows[1][1] == huge and rows[1][4].endswith("Z")
    # Value axes: whole numbers in the unit shown, no label twice.
    for chart in page.locator("svg.chart").all():
        labels = chart.locator("text[text-anchor=end]").evaluate_all("ts => ts.map(t => t.textContent)")
        assert len(labels) == len(set(labels)), labels
        assert all(re.fullmatch(r"\d{1,3}(,\d{3})*( min| h|%)?", label) for label in labels), labels


def test_csv_metrics_bad_filters_and_the_search_hook(server):
    app, base = server
    with httpx.Client(base_url=base) as client:
        page = client.get("/agent/login")

        token = csrf_token(page.text)
        client.post("/agent/login", data={"username": "sue", "password": PASSWORD, "csrf_token": token})
        response = client.get("/agent/reports/overview.csv", params={"period": "week"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0][:2] == ["period", "conversations"] and rows[-1][0] == "total"
        ((count,),) = sql_rows(
            app,
            "SELECT COUNT(*) FROM report_conversations WHERE started_at >= :b",
            b=datetime.now(UTC) - timedelta(days=40),
        )
        assert int(rows[-1][1]) <= count and int(rows[-1][1]) > 0
        assert client.get("/agent/reports/nothing.csv").status_code == 404
        bad = client.get("/agent/reports", params={"start": "yesterday"})
        assert bad.status_code == 400 and "dates like" in bad.text
        assert client.get("/agent/reports", params={"team": "nope"}).status_code == 400
        assert client.get("/agent/reports", params={"start": "2020-01-01"}).status_code == 400
        metrics = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
        assert "helpdesk_report_conversations{language=" in metrics and "helpdesk_report_sla_hit_ratio{" in metrics
        # The bot's searches count (service token + conversation id); anyone else's do not.
        before = sql_rows(app, "SELECT COUNT(*) FROM report_conversations")[0][0]
        client.post("/search", json={"query": "I forgot my password", "conversation_id": "bot-conv-1"}, headers=SERVICE)
        client.post("/search", json={"query": "I forgot my password", "conversation_id": "forged-1"})
        rows = []
        for _ in range(50):
            rows = sql_rows(
                app,
                "SELECT conversation_id, searches, answered FROM report_conversations "
                "WHERE conversation_id IN ('bot-conv-1', 'forged-1')",
            )
            if rows:
                break
            import time

            time.sleep(0.1)
        assert [tuple(r) for r in rows] == [("bot-conv-1", 1, 1)]
        assert sql_rows(app, "SELECT COUNT(*) FROM report_conversations")[0][0] == before + 1


def test_the_reports_speak_the_supervisors_language(server, browser):
    """A supervisor whose browser asks for German reads the reports in German (words, charts, numbers);
    one who chose English in the profile reads them in English in the same German browser."""
    app, base = server
    app.state.handoffs.create_agent("gerd", "Gerd Leitung", [], PASSWORD, "supervisor")
    app.state.handoffs.set_language("sue", "en")
    errors: list[str] = []
    for username, language in (("gerd", "de"), ("sue", "en")):
        page = new_page(browser, errors, locale="de-DE")
        page.goto(f"{base}/agent/login")
        assert page.locator("html").get_attribute("lang") == "de"  # nobody logged in yet: the browser's
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/agent")
        page.goto(f"{base}/agent/reports?period=week")
        assert page.locator("html").get_attribute("lang") == language
        titles = page.locator("svg.chart title").all_text_contents()
        headers = page.locator("#t-overview thead th").all_inner_texts()
        confirmed = page.locator("[data-kpi=confirmed]").inner_text()
        if language == "de":
            assert page.locator("h1").inner_text() == "Berichte"
            assert "Gespräche nach Ergebnis pro Woche" in titles and "Offene Tickets nach Alter" in titles
            assert headers[:4] == ["Zeitraum", "Gespräche", "bestätigt gelöst", "Anteil bestätigt gelöst"]
            assert re.fullmatch(r"\d+,\d\u00a0%", confirmed), confirmed
            assert page.locator("#t-backlog tbody th").first.inner_text() == "unter 1 Std."
            assert "KW" in page.locator("#t-overview tbody th").first.inner_text()
            assert page.locator("#t-overview tbody th").last.inner_text() == "gesamt"
            assert page.get_by_role("button", name="Deutsch").get_attribute("aria-pressed") == "true"
        else:
            assert page.locator("h1").inner_text() == "Reports"
            assert "Conversations by outcome per week" in titles and "Open tickets by age" in titles
            assert headers[:4] == ["period", "conversations", "confirmed solved", "confirmed solved share"]
            assert re.fullmatch(r"\d+\.\d%", confirmed), confirmed
        assert axe_violations(page) == [], username
        page.context.close()
    assert errors == []
