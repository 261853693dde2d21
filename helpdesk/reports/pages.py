"""The reports page (``GET /agent/reports``) and its CSV export (``GET /agent/reports/{table}.csv``).

Supervisors and admins only (``helpdesk.handoffs.access.may_see_reports``): an
agent gets 403, nobody logged in goes to the login page, like every inbox page.
The filters are query parameters (period, start, end, language, team), so a
report is a link; a filter the report cannot take answers 400 with the reason.
Charts are inline SVG (``charts``), each with its data table; the tables and
the CSV files come from the same ``queries.table``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from helpdesk.db import utcnow
from helpdesk.handoffs.access import may_see_reports
from helpdesk.handoffs.models import PRIORITIES
from helpdesk.i18n import N_, DeskLanguage, desk_language, msg
from helpdesk.reports import charts
from helpdesk.reports.queries import (
    DECIDED_AFTER,
    MIN_RESPONSES,
    OUTCOME_NAMES,
    PERIODS,
    SHOWN_OUTCOMES,
    TABLES,
    TOP_ARTICLES,
    Report,
    ReportError,
    ReportFilter,
    compute_report,
    table,
)
from helpdesk.web import SECURITY_HEADERS, AgentDep, render

router = APIRouter(prefix="/agent/reports", include_in_schema=False)
DEFAULT_DAYS = 28
RATE_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)  # 0 %, 25 %, ... 100 %
# The tables' columns of words (wrapped, left-aligned); the others are figures (right-aligned, one line).
TEXT_COLUMNS = frozenset({"title", "question", "closest article", "team", "priority", "languages", "name"})
LONG_TEXT = 120  # characters of a cell shown; the whole text is its tooltip
# The outcomes' names in a chart's legend, short enough for one line of it.
CHART_NAMES = {
    "confirmed": N_("confirmed"),
    "assumed": N_("assumed"),
    "unresolved": N_("unresolved"),
    "handed_off": N_("handed off"),
    "pending": N_("too early"),
}


@dataclass
class ReportQuery:
    """The filters as the page and the CSV links give them (query parameters, "" for unset)."""

    period: str = "day"
    start: str = ""
    end: str = ""
    language: str = ""
    team: str = ""


QueryDep = Annotated[ReportQuery, Depends()]


def parse_filter(request: Request, query: ReportQuery) -> ReportFilter:
    tz = request.app.state.routing.tz
    today = utcnow().astimezone(tz).date()
    try:
        last = date.fromisoformat(query.end) if query.end else today
        first = date.fromisoformat(query.start) if query.start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise ReportError(msg("start and end are dates like 2026-11-02")) from None
    language, team = query.language, query.team
    if language and language not in request.app.state.settings.languages:
        known = ", ".join(request.app.state.settings.languages)
        raise ReportError(msg("unknown language %(language)r (languages: %(known)s)", language=language, known=known))
    if team and not request.app.state.routing.has_team(team):
        raise ReportError(msg("unknown team %(value)r", value=team))
    return ReportFilter(first, last, query.period, language or None, team or None)


async def computed(request: Request, flt: ReportFilter) -> Report:
    """The report of ``flt``, computed off the event loop."""
    return await run_in_threadpool(
        compute_report, request.app.state.engine, flt, request.app.state.routing.tz, article_titles(request)
    )


def article_titles(request: Request) -> dict[str, str]:
    search = getattr(request.app.state, "search", None)
    return {aid: a.title for aid, a in search.index.articles.items()} if search is not None else {}


def forbidden(request: Request, agent, session) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status.HTTP_403_FORBIDDEN,
        agent=agent,
        csrf_token=session.csrf,
        message=msg("The reports are for supervisors and admins."),
    )


def short_label(report: Report, index: int, lang: DeskLanguage) -> str:
    bucket = report.filter.buckets()[index]
    return lang.week(bucket, with_year=False) if report.filter.period == "week" else lang.short_day(bucket)


def build_charts(report: Report, lang: DeskLanguage) -> dict[str, Any]:
    labels = [short_label(report, i, lang) for i in range(len(report.periods))]
    ps = report.periods
    _ = lang.gettext
    period = lang.term("period", report.filter.period)
    names = {key: _(name) for key, name in CHART_NAMES.items()}

    def rate(v: float) -> str:
        return lang.percent(v, digits=0)

    def count(v: float) -> str:
        return lang.number(v)

    def minutes(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / 60

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / 3600

    teams = sorted({c.team for c in report.sla})
    sla = {(c.team, c.priority): c.rate for c in report.sla}
    shown_prios = [p for p in reversed(PRIORITIES) if any((t, p) in sla for t in teams)]
    return {
        "volume": charts.bar_chart(
            "c-volume",
            _("Conversations by outcome per %(period)s", period=period),
            labels,
            [(names[key], [p.count(key) for p in ps]) for key in SHOWN_OUTCOMES],
            value_text=count,
            lang=lang,
        ),
        "rates": charts.bar_chart(
            "c-rates",
            _("Outcomes per %(period)s, share of its conversations", period=period),
            labels,
            [(names[key], [p.share(key) for p in ps]) for key in SHOWN_OUTCOMES if key != "pending"],
            value_text=rate,
            top=1.0,
            ticks=RATE_TICKS,
            lang=lang,
        ),
        "first_response": charts.bar_chart(
            "c-frt",
            _("First response time (minutes)"),
            labels,
            [
                (_("median"), [minutes(p.first_response(0.5)) for p in ps]),
                (_("90th percentile"), [minutes(p.first_response(0.9)) for p in ps]),
            ],
            value_text=lambda v: _("%(minutes)s min", minutes=lang.number(round(v))),
            lang=lang,
        ),
        "resolution": charts.bar_chart(
            "c-res",
            _("Resolution time (hours)"),
            labels,
            [
                (_("median"), [hours(p.resolution(0.5)) for p in ps]),
                (_("90th percentile"), [hours(p.resolution(0.9)) for p in ps]),
            ],
            value_text=lambda v: _("%(hours)s h", hours=lang.number(round(v))),
            lang=lang,
        ),
        "sla": charts.bar_chart(
            "c-sla",
            _("SLA hit rate by team and priority"),
            teams,
            [(lang.term("priority", prio), [sla.get((t, prio)) for t in teams]) for prio in shown_prios],
            value_text=rate,
            top=1.0,
            ticks=RATE_TICKS,
            lang=lang,
        ),
        "backlog": charts.bar_chart(
            "c-backlog",
            _("Open tickets by age"),
            [lang.term("age", label) for label, _counts in report.backlog],
            [
                (lang.term("priority", prio), [counts[prio] for _label, counts in report.backlog])
                for prio in reversed(PRIORITIES)
            ],
            value_text=count,
            lang=lang,
        ),
    }


@router.get("")
async def reports_page(request: Request, who: AgentDep, query: QueryDep) -> HTMLResponse:
    agent, session = who
    if not may_see_reports(agent):
        return forbidden(request, agent, session)
    lang = desk_language(request, agent)
    filters = asdict(query)
    context = dict(
        lang=lang,
        agent=agent,
        csrf_token=session.csrf,
        periods=PERIODS,
        languages=request.app.state.settings.languages,
        teams=list(request.app.state.routing.teams),
        filters=filters,
    )
    try:
        flt = parse_filter(request, query)
    except ReportError as exc:
        problem = lang.problem(exc)
        return render(request, "reports.html", status.HTTP_400_BAD_REQUEST, error=problem, report=None, **context)
    report = await computed(request, flt)
    filters.update(start=flt.start.isoformat(), end=flt.end.isoformat())
    link_query = urlencode({k: v for k, v in filters.items() if v})
    tables = {name: table(report, name, lang=lang) for name in TABLES}
    tables["articles"] = (tables["articles"][0], tables["articles"][1][:TOP_ARTICLES])
    return render(
        request,
        "reports.html",
        report=report,
        tables=tables,
        charts=build_charts(report, lang),
        query=link_query,
        total=report.total,
        outcomes=[(key, lang.gettext(OUTCOME_NAMES[key])) for key in SHOWN_OUTCOMES],
        decided_hours=round(DECIDED_AFTER.total_seconds() / 3600),
        min_responses=MIN_RESPONSES,
        csat=report.csat[0],
        text_columns={lang.gettext(c) for c in TEXT_COLUMNS},
        long_text=LONG_TEXT,
        error=None,
        **context,
    )


@router.get("/{name}.csv")
async def reports_csv(request: Request, name: str, who: AgentDep, query: QueryDep) -> Response:
    agent, session = who
    if not may_see_reports(agent):
        return forbidden(request, agent, session)
    lang = desk_language(request, agent)
    if name not in TABLES:
        return Response(
            lang.gettext("unknown report %(name)r (reports: %(known)s)", name=name, known=", ".join(TABLES)) + "\n",
            status.HTTP_404_NOT_FOUND,
            media_type="text/plain",
            headers=SECURITY_HEADERS,
        )
    try:
        flt = parse_filter(request, query)
    except ReportError as exc:
        return Response(
            f"{lang.problem(exc)}\n", status.HTTP_400_BAD_REQUEST, media_type="text/plain", headers=SECURITY_HEADERS
        )
    report = await computed(request, flt)
    headers, rows = table(report, name, raw=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:  # a cell starting with = + - @ would be a formula in a spreadsheet: quoted as text
        writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row])
    filename = f"helpdesk-{name}-{flt.start}-{flt.end}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
