"""The figures of the reports page, its CSV export and its Prometheus metrics, computed in one place.

Facts are read with a few SQL queries bounded by the date range (``fetch_*``:
one row per conversation, handoff, open ticket, article or unanswered search)
and aggregated here in Python, because periods are local days and ISO weeks of
the routing file's time zone, which SQLite and PostgreSQL cannot bucket alike.

Definitions (docs/operators.md, "Reports"):

- a *conversation* is a bot conversation with a customer question: one that searched the knowledge
  base (``report_conversations``), counted in the period it started. It is the one denominator of
  the four outcomes, which split it without overlap, each decided in this order:
  *handed off*: a ticket was made in the conversation (whenever it was made);
  *confirmed*: the customer said "solved" to an answer;
  *assumed*: the customer's last question got an answer, no "not solved" came after it, and
  24 hours passed after the conversation's last question or verdict without a ticket;
  *unresolved without a ticket*: 24 hours passed without a ticket, and the last question got no
  answer or the customer said "not solved" after the last answer;
  a conversation none of these fits yet (its last question or verdict less than 24 hours ago, no
  ticket, no "solved") is *too early to tell*;
- *tickets created*: tickets created in the period (every channel), for the team they were routed to;
- *first response*: the first message the customer received from a person (an agent's reply in
  the live chat or by e-mail; never a claim, a note, an escalation or a reassignment), minus the
  ticket's creation; *resolution*: its "resolved" event minus its creation; both as median and
  90th percentile (nearest rank), by the period the ticket was created in, for the team it was
  routed to;
- *SLA hit*: the first response came no later than the time promised to the customer when the
  ticket was created (``due_at``; a later time told after a move to another team does not move
  it); *missed*: later, or still none and past due; *pending*: none yet and not yet due (not
  counted in the rate);
- *open backlog*: tickets not resolved now, by age, for the team holding them now;
- per article: *shown* = conversations the service answered with it, *solved* / *not solved*
  = those conversations' verdicts on it;
- known incidents: an incident counts when it was active at some moment of the range (started
  before its end, not resolved before its start), for the team owning it; *told* = conversations
  the bot told of it in the range (``incident_conversations``), *told, no ticket* = those of them
  without a ticket in that conversation; *subscribers* = "e-mail me when it is fixed"
  subscriptions made in the range; *linked tickets* = tickets linked to it and created in the
  range; *time to resolve* = resolved minus started (none while it is active);
- *incident deflections*: conversations told of a known incident without a ticket in that
  conversation, counted once, in the period they were first told (in the range);
- *customer satisfaction* (CSAT): the scores (1-5) customers gave after a resolution, counted by
  the day they rated, for the agent who resolved the ticket and the team holding it then, and
  overall; *responses* = scores given; *CSAT* = responses of 4 or 5 / responses; *average* = the
  mean score. Both are shown only from ``MIN_RESPONSES`` responses on: fewer say nothing of
  anyone.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, exists, func, or_, select
from sqlalchemy.orm import Session

from helpdesk.db import as_utc, utcnow
from helpdesk.feedback.gaps import group_exact
from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.feedback.store import UnansweredRow
from helpdesk.handoffs.models import PRIORITIES, Handoff, HandoffEvent, TranscriptMessage
from helpdesk.handoffs.store import OPEN_STATUSES
from helpdesk.i18n import N_, DeskLanguage, Text, english, msg, term
from helpdesk.incidents.models import Incident, IncidentConversation, IncidentSubscription
from helpdesk.procedures.models import ProcedureRun
from helpdesk.ratings.models import Rating
from helpdesk.reports.activity import ReportArticleView, ReportConversation

PERIODS = ("day", "week")
MAX_DAYS = 366  # the longest range one report reads
MAX_UNANSWERED = 20_000  # unanswered searches read for the topics list (newest first)
TOP_ARTICLES = 25
TOP_GAPS = 10
MIN_RESPONSES = 10  # satisfaction scores a CSAT share or average is shown from
SATISFIED = 4  # a score this high or higher counts as satisfied
AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (  # label, upper bound (exclusive)
    ("under 1 h", timedelta(hours=1)),
    ("1-4 h", timedelta(hours=4)),
    ("4-24 h", timedelta(hours=24)),
    ("1-3 days", timedelta(days=3)),
    ("3-7 days", timedelta(days=7)),
    ("over 7 days", timedelta.max),
)


class ReportError(ValueError):
    """A filter the report cannot take (answered 400 with the message)."""


@dataclass(frozen=True)
class ReportFilter:
    start: date  # first local day, inclusive
    end: date  # last local day, inclusive
    period: str = "day"
    language: str | None = None
    team: str | None = None

    def __post_init__(self):
        if self.period not in PERIODS:
            raise ReportError(
                msg("period must be one of %(known)s, not %(period)r", known=", ".join(PERIODS), period=self.period)
            )
        if self.end < self.start:
            ends = msg("the range ends (%(end)s) before it starts (%(start)s)", end=self.end, start=self.start)
            raise ReportError(ends)
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ReportError(msg("a report covers at most %(days)s days", days=MAX_DAYS))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants [first local midnight, the midnight after the last day)."""
        begin = datetime.combine(self.start, time(0), tzinfo=tz)
        end = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz)
        return begin.astimezone(UTC), end.astimezone(UTC)

    def bucket_of(self, day: date) -> date:
        return day - timedelta(days=day.weekday()) if self.period == "week" else day

    def buckets(self) -> list[date]:
        seen = dict.fromkeys(
            self.bucket_of(self.start + timedelta(days=i)) for i in range((self.end - self.start).days + 1)
        )
        return list(seen)

    def label(self, bucket: date) -> str:
        if self.period == "week":
            year, week, _ = bucket.isocalendar()
            return f"{year}-W{week:02d}"  # ISO week: Monday to Sunday
        return bucket.isoformat()


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (the median of an even count is the lower middle value); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- facts ---------------------------------------------------------------------------------------
# The outcomes of a conversation, in the order they are decided (``outcome``); the first four are the
# report's resolution figures, the last is the share not decided yet.
OUTCOMES = ("handed_off", "confirmed", "assumed", "unresolved", "pending")
OUTCOME_NAMES = {  # English; the page translates them
    "confirmed": N_("confirmed solved"),
    "assumed": N_("assumed solved"),
    "unresolved": N_("unresolved without ticket"),
    "handed_off": N_("handed off"),
    "pending": N_("too early to tell"),
}
SHOWN_OUTCOMES = ("confirmed", "assumed", "unresolved", "handed_off", "pending")  # the order on the page
DECIDED_AFTER = timedelta(hours=24)  # no ticket this long after the last question or verdict: the customer left


@dataclass(frozen=True)
class ConversationFact:
    started_at: datetime
    language: str
    outcome: str  # one of OUTCOMES


def outcome(
    handed_off: bool,
    solved: bool,
    last_search_at: datetime,
    last_answered_at: datetime | None,
    last_verdict_at: datetime | None,
    last_not_solved_at: datetime | None,
    now: datetime,
) -> str:
    """The outcome of one conversation at ``now`` (the module's definitions, in their order)."""
    if handed_off:
        return "handed_off"
    if solved:
        return "confirmed"
    last = max(last_search_at, last_verdict_at) if last_verdict_at else last_search_at
    if now - last < DECIDED_AFTER:
        return "pending"
    if last_answered_at is None or last_answered_at < last_search_at:
        return "unresolved"  # the last question got no answer
    if last_not_solved_at is not None and last_not_solved_at >= last_answered_at:
        return "unresolved"  # "not solved" to the last answer
    return "assumed"


@dataclass(frozen=True)
class HandoffFact:
    created_at: datetime
    team: str  # the team it was routed to at creation
    priority: str
    language: str
    due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


def _session(engine: Engine) -> Session:
    return Session(engine)


def fetch_conversations(
    engine: Engine, begin: datetime, end: datetime, language: str | None = None, now: datetime | None = None
) -> list[ConversationFact]:
    now = now or utcnow()
    conv = ReportConversation
    feedback = ArticleFeedback
    mine = feedback.conversation_id == conv.conversation_id

    def latest(*where) -> Any:
        return select(func.max(feedback.updated_at)).where(mine, *where).correlate(conv).scalar_subquery()

    solved = exists().where(mine, feedback.helpful.is_(True))
    handed = exists().where(Handoff.conversation_id == conv.conversation_id)
    query = select(
        conv.started_at,
        conv.language,
        conv.last_search_at,
        conv.last_answered_at,
        solved,
        handed,
        latest(),
        latest(feedback.helpful.is_(False)),
    ).where(conv.started_at >= begin, conv.started_at < end)
    if language:
        query = query.where(conv.language == language)
    with _session(engine) as s:
        return [
            ConversationFact(
                as_utc(at),
                lang,
                outcome(bool(h), bool(ok), as_utc(last), as_utc(answered), as_utc(verdict), as_utc(not_solved), now),
            )
            for at, lang, last, answered, ok, h, verdict, not_solved in s.execute(query)
        ]


def fetch_handoffs(engine: Engine, begin: datetime, end: datetime) -> list[HandoffFact]:
    first_response = (
        select(func.min(TranscriptMessage.sent_at))
        .where(
            TranscriptMessage.handoff_id == Handoff.id,
            TranscriptMessage.sender == "agent",
            TranscriptMessage.sent_at >= Handoff.created_at,
        )
        .correlate(Handoff)
        .scalar_subquery()
    )
    resolved = (
        select(func.min(HandoffEvent.at))
        .where(HandoffEvent.handoff_id == Handoff.id, HandoffEvent.action == "resolved")
        .correlate(Handoff)
        .scalar_subquery()
    )
    routed_to = (
        select(HandoffEvent.to_team)
        .where(HandoffEvent.handoff_id == Handoff.id, HandoffEvent.action == "created")
        .correlate(Handoff)
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        Handoff.created_at,
        func.coalesce(routed_to, Handoff.team),
        Handoff.priority,
        Handoff.language,
        Handoff.due_at,
        first_response,
        resolved,
    ).where(Handoff.created_at >= begin, Handoff.created_at < end)
    with _session(engine) as s:
        return [
            HandoffFact(as_utc(c), team, prio, lang, as_utc(due), as_utc(fr), as_utc(res))
            for c, team, prio, lang, due, fr, res in s.execute(query)
        ]


def fetch_open(engine: Engine) -> list[tuple[datetime, str, str, str]]:
    """(created_at, current team, priority, language) of every ticket not resolved."""
    query = select(Handoff.created_at, Handoff.team, Handoff.priority, Handoff.language).where(
        Handoff.status.in_(OPEN_STATUSES)
    )
    with _session(engine) as s:
        return [(as_utc(c), team, prio, lang) for c, team, prio, lang in s.execute(query)]


def fetch_articles(engine: Engine, begin: datetime, end: datetime, language: str | None = None) -> dict[str, list[int]]:
    """article id -> [shown, solved, not solved] over the conversations started in the range."""
    conv = ReportConversation
    in_range = [conv.started_at >= begin, conv.started_at < end] + ([conv.language == language] if language else [])
    shown = (
        select(ReportArticleView.article_id, func.count())
        .join(conv, conv.conversation_id == ReportArticleView.conversation_id)
        .where(*in_range)
        .group_by(ReportArticleView.article_id)
    )
    verdicts = (
        select(ArticleFeedback.article_id, ArticleFeedback.helpful, func.count())
        .join(conv, conv.conversation_id == ArticleFeedback.conversation_id)
        .where(*in_range)
        .group_by(ArticleFeedback.article_id, ArticleFeedback.helpful)
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    with _session(engine) as s:
        for article_id, n in s.execute(shown):
            counts[article_id][0] = n
        for article_id, helpful, n in s.execute(verdicts):
            counts[article_id][1 if helpful else 2] = n
    return dict(counts)


def fetch_unanswered(
    engine: Engine, begin: datetime, end: datetime, language: str | None = None
) -> list[UnansweredRow]:
    query = select(UnansweredSearch).where(UnansweredSearch.asked_at >= begin, UnansweredSearch.asked_at < end)
    if language:
        query = query.where(UnansweredSearch.lang == language)
    query = query.order_by(UnansweredSearch.asked_at.desc(), UnansweredSearch.id.desc()).limit(MAX_UNANSWERED)
    with _session(engine) as s:
        return [
            UnansweredRow(r.query, r.lang, r.confidence, r.top_article_id, as_utc(r.asked_at)) for r in s.scalars(query)
        ]


@dataclass(frozen=True)
class IncidentFigures:
    id: int
    title: str
    team: str
    started_at: datetime
    resolved_at: datetime | None
    told: int = 0
    told_no_ticket: int = 0
    subscribers: int = 0
    linked_tickets: int = 0

    @property
    def time_to_resolve(self) -> float | None:
        return None if self.resolved_at is None else (self.resolved_at - self.started_at).total_seconds()


def without_ticket() -> Any:
    """No ticket was made in the told conversation."""
    return ~exists().where(Handoff.conversation_id == IncidentConversation.conversation_id)


def fetch_incidents(
    engine: Engine, begin: datetime, end: datetime, language: str | None = None, team: str | None = None
) -> list[IncidentFigures]:
    """The incidents active at some moment of the range, with what the range counted of each."""
    active = [Incident.started_at < end, or_(Incident.resolved_at.is_(None), Incident.resolved_at >= begin)]
    if team:
        active.append(Incident.team == team)

    def counted(model, moment, *where) -> Any:
        in_range = [moment >= begin, moment < end, *where]
        if language:
            in_range.append(model.language == language)
        return (
            select(func.count())
            .select_from(model)
            .where(model.incident_id == Incident.id, *in_range)
            .correlate(Incident)
            .scalar_subquery()
        )

    told = IncidentConversation
    query = (
        select(
            Incident.id,
            Incident.title,
            Incident.team,
            Incident.started_at,
            Incident.resolved_at,
            counted(told, told.told_at),
            counted(told, told.told_at, without_ticket()),
            counted(IncidentSubscription, IncidentSubscription.created_at),
            counted(Handoff, Handoff.created_at),
        )
        .where(*active)
        .order_by(Incident.started_at, Incident.id)
    )
    with _session(engine) as s:
        return [
            IncidentFigures(i, title, t, as_utc(started), as_utc(resolved), *counts)
            for i, title, t, started, resolved, *counts in s.execute(query)
        ]


def fetch_deflections(
    engine: Engine, begin: datetime, end: datetime, language: str | None = None, team: str | None = None
) -> list[datetime]:
    """When each conversation told of a known incident in the range, without a ticket, was first told."""
    told = IncidentConversation
    query = (
        select(func.min(told.told_at))
        .where(told.told_at >= begin, told.told_at < end, without_ticket())
        .group_by(told.conversation_id)
    )
    if language:
        query = query.where(told.language == language)
    if team:
        query = query.join(Incident, Incident.id == told.incident_id).where(Incident.team == team)
    with _session(engine) as s:
        return [as_utc(at) for at in s.scalars(query)]


@dataclass(frozen=True)
class RatingFact:
    rated_at: datetime
    agent: str  # who resolved the ticket
    team: str  # the team holding it then
    language: str
    score: int


def fetch_ratings(engine: Engine, begin: datetime, end: datetime) -> list[RatingFact]:
    """The satisfaction scores customers gave in the range."""
    query = select(Rating.rated_at, Rating.agent, Rating.team, Rating.language, Rating.score).where(
        Rating.score.is_not(None), Rating.rated_at >= begin, Rating.rated_at < end
    )
    with _session(engine) as s:
        return [
            RatingFact(as_utc(at), agent, team, lang, score)
            for at, agent, team, lang, score in s.execute(query)
            if at is not None and score is not None  # both set together; the query asks for them
        ]


@dataclass(frozen=True)
class ProcedureRunFact:
    procedure_id: str
    language: str
    outcome: str
    duration_ms: int


def fetch_procedure_runs(
    engine: Engine, begin: datetime, end: datetime, language: str | None = None
) -> list[ProcedureRunFact]:
    """The procedures' audit log in the range: one row per run, or per run a limit refused."""
    query = select(
        ProcedureRun.procedure_id, ProcedureRun.language, ProcedureRun.outcome, ProcedureRun.duration_ms
    ).where(ProcedureRun.started_at >= begin, ProcedureRun.started_at < end)
    if language:
        query = query.where(ProcedureRun.language == language)
    with _session(engine) as s:
        return [ProcedureRunFact(*row) for row in s.execute(query)]


# -- aggregates ----------------------------------------------------------------------------------
# How a procedure run can end (helpdesk.procedures.runner.Outcome), in the order the reports show them.
PROCEDURE_OUTCOMES = ("done", "handoff", "identity_failed", "failed", "locked", "limit")


@dataclass
class ProcedureFigures:
    """The runs of one procedure (one language's file) by outcome."""

    procedure_id: str
    language: str
    outcomes: Counter[str] = field(default_factory=Counter)
    durations: list[int] = field(default_factory=list, repr=False)  # ms, of the runs that called the system

    @property
    def runs(self) -> int:
        return sum(self.outcomes.values())

    @property
    def median_ms(self) -> float | None:
        return percentile([float(d) for d in self.durations], 0.5)


def aggregate_procedures(facts: Iterable[ProcedureRunFact]) -> list[ProcedureFigures]:
    """Per procedure, most runs first; a limit's refusal counts as a run without a duration."""
    cells: dict[str, ProcedureFigures] = {}
    for fact in facts:
        cell = cells.setdefault(fact.procedure_id, ProcedureFigures(fact.procedure_id, fact.language))
        cell.outcomes[fact.outcome] += 1
        if fact.outcome not in ("locked", "limit"):
            cell.durations.append(fact.duration_ms)
    return sorted(cells.values(), key=lambda c: (-c.runs, c.procedure_id))


@dataclass
class CsatFigures:
    """The satisfaction of one group: "overall", a "team" or an "agent"."""

    group: str
    name: str
    scores: list[int] = field(default_factory=list, repr=False)

    @property
    def responses(self) -> int:
        return len(self.scores)

    @property
    def satisfied(self) -> int:
        return sum(1 for s in self.scores if s >= SATISFIED)

    @property
    def enough(self) -> bool:
        return self.responses >= MIN_RESPONSES

    @property
    def share(self) -> float | None:
        """Responses of 4 or 5 / responses; None below MIN_RESPONSES."""
        return ratio(self.satisfied, self.responses) if self.enough else None

    @property
    def average(self) -> float | None:
        return sum(self.scores) / self.responses if self.enough else None


def aggregate_csat(facts: Iterable[RatingFact]) -> list[CsatFigures]:
    """Overall, then per team, then per agent (each by name)."""
    overall = CsatFigures("overall", "all")
    teams: dict[str, CsatFigures] = {}
    agents: dict[str, CsatFigures] = {}
    for fact in facts:
        overall.scores.append(fact.score)
        teams.setdefault(fact.team, CsatFigures("team", fact.team)).scores.append(fact.score)
        agents.setdefault(fact.agent, CsatFigures("agent", fact.agent)).scores.append(fact.score)
    return [overall, *(teams[k] for k in sorted(teams)), *(agents[k] for k in sorted(agents))]


@dataclass
class PeriodFigures:
    label: str
    conversations: int = 0  # the denominator of every outcome
    outcomes: Counter[str] = field(default_factory=Counter)  # outcome -> conversations
    tickets: int = 0  # tickets created in the period
    deflections: int = 0  # conversations told of a known incident without a ticket
    first_responses: list[float] = field(default_factory=list, repr=False)  # seconds
    resolutions: list[float] = field(default_factory=list, repr=False)

    def count(self, name: str) -> int:
        return self.outcomes[name]

    def share(self, name: str) -> float | None:
        """The outcome's conversations / the period's conversations."""
        return ratio(self.outcomes[name], self.conversations)

    def first_response(self, share: float) -> float | None:
        return percentile(self.first_responses, share)

    def resolution(self, share: float) -> float | None:
        return percentile(self.resolutions, share)

    def add_conversation(self, fact: ConversationFact) -> None:
        self.conversations += 1
        self.outcomes[fact.outcome] += 1

    def add_handoff(self, fact: HandoffFact) -> None:
        self.tickets += 1
        if fact.first_response_at is not None:
            self.first_responses.append((fact.first_response_at - fact.created_at).total_seconds())
        if fact.resolved_at is not None:
            self.resolutions.append((fact.resolved_at - fact.created_at).total_seconds())


@dataclass
class SlaFigures:
    team: str
    priority: str
    hit: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def rate(self) -> float | None:
        return ratio(self.hit, self.hit + self.missed)

    def add(self, fact: HandoffFact, now: datetime) -> None:
        if fact.first_response_at is not None:
            if fact.first_response_at <= fact.due_at:
                self.hit += 1
            else:
                self.missed += 1
        elif now > fact.due_at:
            self.missed += 1
        else:
            self.pending += 1


@dataclass
class Report:
    filter: ReportFilter
    generated_at: datetime
    periods: list[PeriodFigures]
    total: PeriodFigures
    sla: list[SlaFigures]
    backlog: list[tuple[str, Counter]]  # age label -> priority counts
    articles: list[dict[str, Any]]
    unanswered_searches: int
    gaps: list[dict[str, Any]]
    incidents: list[IncidentFigures] = field(default_factory=list)
    tz: ZoneInfo = ZoneInfo("UTC")
    csat: list[CsatFigures] = field(default_factory=list)
    procedures: list[ProcedureFigures] = field(default_factory=list)


def aggregate_sla(handoffs: Iterable[HandoffFact], now: datetime) -> list[SlaFigures]:
    cells: dict[tuple[str, str], SlaFigures] = {}
    for fact in handoffs:
        cells.setdefault((fact.team, fact.priority), SlaFigures(fact.team, fact.priority)).add(fact, now)
    order = {p: i for i, p in enumerate(reversed(PRIORITIES))}
    return sorted(cells.values(), key=lambda c: (c.team, order.get(c.priority, 9)))


def age_bucket(age: timedelta) -> str:
    for label, upper in AGE_BUCKETS:
        if age < upper:
            return label
    return AGE_BUCKETS[-1][0]


def aggregate_backlog(
    open_tickets: Iterable[tuple[datetime, str, str, str]], now: datetime
) -> list[tuple[str, Counter[str]]]:
    counts: dict[str, Counter[str]] = {label: Counter() for label, _ in AGE_BUCKETS}
    for created, _team, priority, _lang in open_tickets:
        counts[age_bucket(now - created)][priority] += 1
    return list(counts.items())


def article_rows(counts: dict[str, list[int]], titles: dict[str, str] | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "article_id": aid,
            "title": (titles or {}).get(aid, ""),
            "shown": shown,
            "solved": solved,
            "not_solved": not_solved,
            "solved_rate": ratio(solved, solved + not_solved),
        }
        for aid, (shown, solved, not_solved) in counts.items()
    ]
    rows.sort(key=lambda r: (-r["shown"], -r["not_solved"], r["article_id"]))
    return rows


def compute_report(
    engine: Engine, flt: ReportFilter, tz: ZoneInfo, titles: dict[str, str] | None = None, now: datetime | None = None
) -> Report:
    now = now or utcnow()
    begin, end = flt.bounds(tz)

    def local_bucket(moment: datetime) -> date:
        return flt.bucket_of(moment.astimezone(tz).date())

    periods = {bucket: PeriodFigures(flt.label(bucket)) for bucket in flt.buckets()}
    total = PeriodFigures("total")
    for fact in fetch_conversations(engine, begin, end, flt.language, now):
        periods[local_bucket(fact.started_at)].add_conversation(fact)
        total.add_conversation(fact)
    handoffs = [
        h
        for h in fetch_handoffs(engine, begin, end)
        if (not flt.language or h.language == flt.language) and (not flt.team or h.team == flt.team)
    ]
    for handoff in handoffs:
        periods[local_bucket(handoff.created_at)].add_handoff(handoff)
        total.add_handoff(handoff)
    open_tickets = [
        t
        for t in fetch_open(engine)
        if (not flt.language or t[3] == flt.language) and (not flt.team or t[1] == flt.team)
    ]
    for told_at in fetch_deflections(engine, begin, end, flt.language, flt.team):
        periods[local_bucket(told_at)].deflections += 1
        total.deflections += 1
    unanswered = fetch_unanswered(engine, begin, end, flt.language)
    gaps = [g.as_dict(rank) for rank, g in enumerate(group_exact(unanswered, now)[:TOP_GAPS], start=1)]
    return Report(
        flt,
        now,
        list(periods.values()),
        total,
        aggregate_sla(handoffs, now),
        aggregate_backlog(open_tickets, now),
        article_rows(fetch_articles(engine, begin, end, flt.language), titles),
        len(unanswered),
        gaps,
        fetch_incidents(engine, begin, end, flt.language, flt.team),
        tz,
        aggregate_csat(
            r
            for r in fetch_ratings(engine, begin, end)
            if (not flt.language or r.language == flt.language) and (not flt.team or r.team == flt.team)
        ),
        aggregate_procedures(fetch_procedure_runs(engine, begin, end, flt.language)),
    )


# -- tables (the page's data tables and the CSV files share them) --------------------------------
TABLES = ("overview", "sla", "backlog", "articles", "gaps", "incidents", "csat", "procedures")
TOO_FEW = N_("too few responses")


def table(
    report: Report, name: str, raw: bool = False, lang: DeskLanguage | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of one table of the report; ``raw``: numbers as numbers, times in UTC and English
    headers (CSV), else as shown, in ``lang`` (English by default): its words, numbers, durations and times."""
    lang = lang or english(report.tz)
    headers, rows = _table(report, name, raw, lang)
    if raw:
        return [str(h) for h in headers], rows
    shown = [lang.say(h) if isinstance(h, Text) else lang.gettext(h) for h in headers]
    # Counts as the language writes numbers; the first column names the row (a period, a rank, an id).
    return shown, [
        [lang.number(c) if i and isinstance(c, int) and not isinstance(c, bool) else c for i, c in enumerate(row)]
        for row in rows
    ]


def _table(report: Report, name: str, raw: bool, lang: DeskLanguage) -> tuple[list[str], list[list[Any]]]:
    pct = (lambda v: "" if v is None else round(v, 4)) if raw else lang.percent
    secs = (lambda v: "" if v is None else round(v)) if raw else lang.seconds
    say = (lambda word: word) if raw else lang.say
    if name == "overview":
        unit = " (s)" if raw else ""
        headers: list[str] = [N_("period"), N_("conversations")]
        for key in SHOWN_OUTCOMES:
            outcome_name = msg(OUTCOME_NAMES[key])
            headers += [outcome_name, msg("%(outcome)s share", outcome=outcome_name)]
        headers += [
            N_("tickets created"),
            N_("first response median") + unit,
            N_("first response p90") + unit,
            N_("resolution median") + unit,
            N_("resolution p90") + unit,
            N_("incident deflections"),
        ]
        buckets = report.filter.buckets()
        labels = [p.label for p in report.periods] if raw else [period_label(report, b, lang) for b in buckets]
        rows = []
        for label, p in zip([*labels, say(msg("total"))], [*report.periods, report.total], strict=True):
            row: list[Any] = [label, p.conversations]
            for key in SHOWN_OUTCOMES:
                row += [p.count(key), pct(p.share(key))]
            row += [
                p.tickets,
                secs(p.first_response(0.5)),
                secs(p.first_response(0.9)),
                secs(p.resolution(0.5)),
                secs(p.resolution(0.9)),
                p.deflections,
            ]
            rows.append(row)
        return headers, rows
    if name == "sla":
        return (
            [N_("team"), N_("priority"), N_("hit"), N_("missed"), N_("pending"), N_("hit rate")],
            [[c.team, say(term("priority", c.priority)), c.hit, c.missed, c.pending, pct(c.rate)] for c in report.sla],
        )
    if name == "backlog":
        return (
            [N_("age"), *(term("priority", p) for p in PRIORITIES), N_("total")],
            [
                [say(term("age", label)), *(counts[p] for p in PRIORITIES), sum(counts.values())]
                for label, counts in report.backlog
            ],
        )
    if name == "articles":
        return (
            [N_("article"), N_("title"), N_("shown"), N_("solved"), N_("not solved"), N_("solved share")],
            [
                [a["article_id"], a["title"], a["shown"], a["solved"], a["not_solved"], pct(a["solved_rate"])]
                for a in report.articles
            ],
        )
    if name == "gaps":

        def seen(stamp: str | None) -> str:
            """The CSV keeps the ISO time in UTC; the page shows the desk's local time like its other tables."""
            if not stamp or raw:
                return stamp or ""
            return lang.timestamp(datetime.fromisoformat(stamp))

        return (
            [
                N_("rank"),
                N_("question"),
                N_("searches"),
                N_("languages"),
                N_("last seen (UTC)") if raw else N_("last seen"),
                N_("closest article"),
            ],
            [
                [
                    g["rank"],
                    g["example"],
                    g["count"],
                    ", ".join(g["languages"]) if not raw else ",".join(g["languages"]),
                    seen(g["last_seen"]),
                    g["closest_article_id"] or "",
                ]
                for g in report.gaps
            ],
        )
    if name == "incidents":
        unit = " (s)" if raw else ""

        def when(moment: datetime | None) -> str:
            if moment is None:
                return ""
            return moment.isoformat() if raw else lang.timestamp(moment)

        return (
            [
                N_("incident"),
                N_("title"),
                N_("team"),
                N_("started"),
                N_("resolved"),
                N_("told by the bot"),
                N_("told, no ticket"),
                N_("subscribers"),
                N_("linked tickets"),
                N_("time to resolve") + unit,
            ],
            [
                [
                    i.id,
                    i.title,
                    i.team,
                    when(i.started_at),
                    when(i.resolved_at) or ("" if raw else lang.gettext("active")),
                    i.told,
                    i.told_no_ticket,
                    i.subscribers,
                    i.linked_tickets,
                    secs(i.time_to_resolve),
                ]
                for i in report.incidents
            ],
        )
    if name == "csat":

        def shown(value: float | None, text: Callable[[float], Any]) -> Any:
            if value is not None:
                return text(value)
            return "" if raw else lang.gettext(TOO_FEW)

        return (
            [
                N_("group"),
                N_("name"),
                N_("responses"),
                msg("satisfied (%(low)s-5)", low=SATISFIED),
                N_("CSAT"),
                N_("average score"),
            ],
            [
                [
                    say(term("csat group", c.group)),
                    say(term("csat group", c.name)) if c.group == "overall" else c.name,
                    c.responses,
                    c.satisfied if c.enough else "",
                    shown(c.share, pct),
                    shown(c.average, (lambda v: round(v, 4)) if raw else (lambda v: lang.number(v, digits=2))),
                ]
                for c in report.csat
            ],
        )
    if name == "procedures":
        median = (
            (lambda v: "" if v is None else round(v)) if raw else (lambda v: "" if v is None else lang.number(round(v)))
        )
        return (
            [
                N_("procedure"),
                N_("language"),
                N_("runs"),
                *(term("procedure outcome", o) for o in PROCEDURE_OUTCOMES),
                N_("median duration (ms)"),
            ],
            [
                [p.procedure_id, p.language, p.runs, *(p.outcomes[o] for o in PROCEDURE_OUTCOMES), median(p.median_ms)]
                for p in report.procedures
            ],
        )
    raise ReportError(msg("unknown table %(name)r (tables: %(known)s)", name=name, known=", ".join(TABLES)))


def period_label(report: Report, bucket: date, lang: DeskLanguage) -> str:
    """A period as the page shows it: its day, or its ISO week ("2026-W45", "KW 45/2026")."""
    return lang.week(bucket) if report.filter.period == "week" else lang.day(bucket)
