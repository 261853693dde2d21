"""Routing of a handoff to a team, and the honest expected response time.

The rules live in a YAML file (``config/routing.yml``, or HELPDESK_ROUTING_FILE),
read and validated once at start-up: a typo there must stop the service with a
clear message, not misroute customers at 3 a.m. The file declares the teams,
which category goes to which team, office hours with a time zone, holidays,
the response times per priority, the on-call coverage that takes urgent
handoffs outside office hours, and the language of each team's notification
mails (``language``, English unless set).

The expected response time told to the customer is computed, never guessed:
inside office hours it is the team's response time for the priority, counted
in office minutes (a low-priority handoff at 17:50 is not promised "within 8
hours" when the office closes at 18:00); an urgent handoff the team cannot
answer in time (closed, or closing first) goes to the on-call team with its own
response time, and anything else is promised for the next opening plus the
response time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from helpdesk.handoffs.models import PRIORITIES
from helpdesk.i18n.catalogs import DEFAULT_LANGUAGE, LANGUAGES

# Categories are the deployment's own (its routing file names them); "other" must exist: it is
# the bot's "something else" topic and where a handoff goes when the customer names no topic.
OTHER_CATEGORY = "other"
URGENCIES = PRIORITIES  # the customer's urgency maps one to one onto a priority ...
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EMAIL_RE = re.compile(
    r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
TEAM_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TOP_LEVEL_KEYS = {
    "time_zone",
    "office_hours",
    "holidays",
    "response_minutes",
    "teams",
    "categories",
    "escalation_team",
    "on_call",
    "raise_priority_for_reasons",
    "language",
}


END_OF_DAY = time(23, 59, 59, 999999)  # a window that ends at 24:00


class RoutingConfigError(ValueError):
    """The routing file is invalid; the message lists every problem found."""


Window = tuple[time, time]


@dataclass(frozen=True)
class Hours:
    """Weekly opening windows in a time zone; ``always`` means 24/7."""

    always: bool
    windows: dict[int, tuple[Window, ...]]  # weekday (0 = Monday) -> windows
    holidays: frozenset[date] = frozenset()

    def windows_on(self, day: date) -> tuple[Window, ...]:
        if self.always:
            return ((time(0), END_OF_DAY),)
        if day in self.holidays:
            return ()
        return self.windows.get(day.weekday(), ())

    def is_open(self, local: datetime) -> bool:
        if self.always:
            return True
        return any(start <= local.time() < end for start, end in self.windows_on(local.date()))

    def add_open_minutes(self, start: datetime, minutes: int) -> datetime:
        """The instant when ``minutes`` of opening time have passed after ``start`` (local, aware)."""
        if self.always:
            return start + timedelta(minutes=minutes)
        tz = start.tzinfo
        left = timedelta(minutes=minutes)
        for offset in range(0, 400):  # a year of closed days would be a config error anyway
            day = start.date() + timedelta(days=offset)
            for w_start, w_end in self.windows_on(day):
                begin = datetime.combine(day, w_start, tzinfo=tz)
                # A window "until 24:00" (stored as the day's last instant) runs into the next day's
                # 00:00 without a gap: else a promise across midnight came out a minute longer.
                end = (
                    datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
                    if w_end == END_OF_DAY
                    else datetime.combine(day, w_end, tzinfo=tz)
                )
                begin = max(begin, start)
                if begin >= end:
                    continue
                if end - begin >= left:
                    return begin + left
                left -= end - begin
        raise RoutingConfigError("office hours never open in the coming year")


@dataclass(frozen=True)
class Team:
    name: str
    label: str
    email: str | None
    hours: Hours
    response_minutes: dict[str, int]
    language: str = DEFAULT_LANGUAGE  # of the team's notification mails (helpdesk.i18n.LANGUAGES)


@dataclass(frozen=True)
class OnCall:
    team: str
    priorities: frozenset[str]
    hours: Hours
    response_minutes: dict[str, int]


@dataclass(frozen=True)
class ExpectedResponse:
    minutes: int
    due_at: datetime  # UTC
    text: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "due_at": iso_utc(self.due_at), "text": self.text}


@dataclass(frozen=True)
class RouteDecision:
    team: str
    priority: str
    on_call: bool
    expected: ExpectedResponse


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class RoutingConfig:
    tz: ZoneInfo
    teams: dict[str, Team]
    categories: dict[str, str]
    escalation_team: str
    on_call: OnCall | None
    raise_priority_for_reasons: frozenset[str] = field(default_factory=frozenset)
    source: str = "<memory>"

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> RoutingConfig:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RoutingConfigError(f"{path}: cannot read the routing file: {exc}") from exc
        except yaml.YAMLError as exc:
            raise RoutingConfigError(f"{path}: not valid YAML: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<memory>") -> RoutingConfig:
        problems: list[str] = []
        if not isinstance(data, dict):
            raise RoutingConfigError(f"{source}: the routing file must be a mapping")
        for key in sorted(set(data) - TOP_LEVEL_KEYS):
            problems.append(f"unknown key {key!r} (known: {', '.join(sorted(TOP_LEVEL_KEYS))})")
        try:
            tz = ZoneInfo(str(data.get("time_zone", "")))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"time_zone: {data.get('time_zone')!r} is not an IANA time zone (e.g. Europe/Berlin)")
            tz = ZoneInfo("UTC")
        holidays = frozenset(_parse_holidays(data.get("holidays") or [], problems))
        office = _parse_hours(data.get("office_hours"), "office_hours", holidays, problems)
        default_minutes = _parse_minutes(data.get("response_minutes"), "response_minutes", PRIORITIES, problems)

        language = _parse_language(data.get("language", DEFAULT_LANGUAGE), "language", problems)
        teams: dict[str, Team] = {}
        raw_teams = data.get("teams")
        if not isinstance(raw_teams, dict) or not raw_teams:
            problems.append("teams: declare at least one team as a mapping name -> settings")
            raw_teams = {}
        for name, spec in raw_teams.items():
            where = f"teams.{name}"
            spec = spec or {}
            if not isinstance(name, str) or not TEAM_RE.match(name):
                problems.append(f"{where}: team names are lowercase letters, digits and '-'")
                continue
            if not isinstance(spec, dict):
                problems.append(f"{where}: expected a mapping")
                continue
            unknown = set(spec) - {"label", "email", "office_hours", "response_minutes", "language"}
            if unknown:
                problems.append(f"{where}: unknown keys {sorted(unknown)}")
            email = spec.get("email")
            if email is not None and (not isinstance(email, str) or not EMAIL_RE.match(email)):
                problems.append(f"{where}.email: {email!r} is not an e-mail address")
                email = None
            hours = (
                _parse_hours(spec["office_hours"], f"{where}.office_hours", holidays, problems)
                if "office_hours" in spec
                else office
            )
            minutes = dict(default_minutes)
            if "response_minutes" in spec:
                minutes.update(_parse_minutes(spec["response_minutes"], f"{where}.response_minutes", (), problems))
            own = _parse_language(spec.get("language", language), f"{where}.language", problems)
            teams[name] = Team(name, str(spec.get("label") or name), email, hours, minutes, own)

        categories: dict[str, str] = {}
        raw_categories = data.get("categories") or {}
        if not isinstance(raw_categories, dict):
            problems.append("categories: expected a mapping category -> team")
            raw_categories = {}
        for category, team in raw_categories.items():
            if not isinstance(category, str) or not TEAM_RE.match(category):
                problems.append(f"categories: {category!r}: category names are lowercase letters, digits and '-'")
            elif team not in teams:
                problems.append(f"categories.{category}: unknown team {team!r}")
            else:
                categories[category] = team
        if OTHER_CATEGORY not in raw_categories:
            problems.append(f"categories: no team for category {OTHER_CATEGORY!r} (handoffs without a topic go there)")

        escalation_team = data.get("escalation_team")
        if escalation_team not in teams:
            problems.append(f"escalation_team: unknown team {escalation_team!r}")

        on_call = None
        raw_on_call = data.get("on_call")
        if raw_on_call:
            if not isinstance(raw_on_call, dict):
                problems.append("on_call: expected a mapping")
            else:
                team = raw_on_call.get("team")
                if team not in teams:
                    problems.append(f"on_call.team: unknown team {team!r}")
                prios = raw_on_call.get("priorities") or ["high", "critical"]
                bad = [p for p in prios if p not in PRIORITIES]
                if bad:
                    problems.append(f"on_call.priorities: unknown priorities {bad} (known: {', '.join(PRIORITIES)})")
                hours = _parse_hours(raw_on_call.get("hours", "always"), "on_call.hours", frozenset(), problems)
                minutes = _parse_minutes(
                    raw_on_call.get("response_minutes"),
                    "on_call.response_minutes",
                    [p for p in prios if p in PRIORITIES],
                    problems,
                )
                on_call = OnCall(str(team), frozenset(prios), hours, minutes)

        reasons = data.get("raise_priority_for_reasons") or []
        if not isinstance(reasons, list):
            problems.append("raise_priority_for_reasons: expected a list of handoff reasons")
            reasons = []
        if problems:
            raise RoutingConfigError(f"{source}: invalid routing configuration:\n  - " + "\n  - ".join(problems))
        return cls(tz, teams, categories, str(escalation_team), on_call, frozenset(reasons), source)

    # -- decisions -----------------------------------------------------------------------------
    def has_team(self, name: str) -> bool:
        return name in self.teams

    def priority_for(self, urgency: str, reason: str) -> str:
        level = PRIORITIES.index(urgency)
        if reason in self.raise_priority_for_reasons and level < PRIORITIES.index("high"):
            level += 1
        return PRIORITIES[level]

    def route(self, category: str, urgency: str, reason: str, now: datetime | None = None) -> RouteDecision:
        now = (now or datetime.now(UTC)).astimezone(self.tz)
        priority = self.priority_for(urgency, reason)
        team = self.teams[self.categories[category]]
        office = self.expected_for_team(team.name, priority, now)
        if self.on_call is not None and priority in self.on_call.priorities and self.on_call.hours.is_open(now):
            # Urgent and the team cannot answer in time (closed, or closing before it could): on-call takes it.
            due = now + timedelta(minutes=self.on_call.response_minutes[priority])
            if office.due_at > due:
                return RouteDecision(self.on_call.team, priority, True, self.expected(now, due))
        return RouteDecision(team.name, priority, False, office)

    def expected_for_team(self, team: str, priority: str, now: datetime | None = None) -> ExpectedResponse:
        now = (now or datetime.now(UTC)).astimezone(self.tz)
        spec = self.teams[team]
        return self.expected(now, spec.hours.add_open_minutes(now, spec.response_minutes[priority]))

    def expected(self, now: datetime, due: datetime) -> ExpectedResponse:
        now, due = now.astimezone(self.tz), due.astimezone(self.tz)
        minutes = max(1, math.ceil((due - now).total_seconds() / 60))
        return ExpectedResponse(minutes, due.astimezone(UTC), response_text(now, due, minutes, self.tz))


EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DE_DAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def response_text(now: datetime, due: datetime, minutes: int, tz: ZoneInfo) -> dict[str, str]:
    """What the customer reads: a duration when it is short, the local time when it is not."""
    if minutes <= 90:
        return {
            "en": f"within {minutes} minute{'s' if minutes != 1 else ''}",
            "de": f"innerhalb von {minutes} Minute{'n' if minutes != 1 else ''}",
        }
    clock = due.strftime("%H:%M")
    if due.date() == now.date():
        return {"en": f"today by {clock} ({tz.key} time)", "de": f"heute bis {clock} Uhr ({tz.key})"}
    if due.date() == now.date() + timedelta(days=1):
        return {"en": f"tomorrow by {clock} ({tz.key} time)", "de": f"morgen bis {clock} Uhr ({tz.key})"}
    day = due.weekday()
    return {
        "en": f"by {EN_DAYS[day]} {due.day} {due.strftime('%b')}, {clock} ({tz.key} time)",
        "de": f"bis {DE_DAYS[day]}., {due.day:02d}.{due.month:02d}., {clock} Uhr ({tz.key})",
    }


def _parse_language(value: Any, where: str, problems: list[str]) -> str:
    if value not in LANGUAGES:
        problems.append(f"{where}: {value!r} is not a language of the desk ({', '.join(LANGUAGES)})")
        return DEFAULT_LANGUAGE
    return str(value)


def _parse_holidays(raw: Any, problems: list[str]) -> list[date]:
    days: list[date] = []
    if not isinstance(raw, list):
        problems.append("holidays: expected a list of dates (YYYY-MM-DD)")
        return days
    for item in raw:
        if isinstance(item, date):
            days.append(item)
            continue
        try:
            days.append(date.fromisoformat(str(item)))
        except ValueError:
            problems.append(f"holidays: {item!r} is not a date (YYYY-MM-DD)")
    return days


def _parse_minutes(raw: Any, where: str, required: Any, problems: list[str]) -> dict[str, int]:
    minutes: dict[str, int] = {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping priority -> minutes")
        return minutes
    for prio, value in raw.items():
        if prio not in PRIORITIES:
            problems.append(f"{where}: unknown priority {prio!r} (known: {', '.join(PRIORITIES)})")
        elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            problems.append(f"{where}.{prio}: expected a positive number of minutes, got {value!r}")
        else:
            minutes[prio] = value
    for prio in required:
        if prio not in raw:
            problems.append(f"{where}: missing priority {prio!r}")
    return minutes


def _parse_day_spec(spec: str) -> list[int] | None:
    days: list[int] = []
    for part in spec.lower().split(","):
        part = part.strip()
        if "-" in part:
            first, _, last = part.partition("-")
            if first not in DAYS or last not in DAYS:
                return None
            a, b = DAYS.index(first), DAYS.index(last)
            days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif part in DAYS:
            days.append(DAYS.index(part))
        else:
            return None
    return days


def _parse_window(text: str) -> Window | None:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        return None
    h1, m1, h2, m2 = map(int, match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        return None
    end = END_OF_DAY if h2 == 24 else time(h2, m2)
    start = time(h1, m1)
    return (start, end) if start < end else None


def _parse_hours(raw: Any, where: str, holidays: frozenset[date], problems: list[str]) -> Hours:
    if raw == "always":
        return Hours(True, {}, holidays)
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: expected 'always' or a mapping like {{mon-fri: '08:00-18:00'}}")
        return Hours(False, {}, holidays)
    windows: dict[int, list[Window]] = {}
    for day_spec, value in raw.items():
        days = _parse_day_spec(str(day_spec))
        if days is None:
            problems.append(f"{where}: {day_spec!r} is not a day or day range (mon, mon-fri, sat,sun)")
            continue
        for text in value if isinstance(value, list) else [value]:
            window = _parse_window(str(text))
            if window is None:
                problems.append(f"{where}.{day_spec}: {text!r} is not a window like '08:00-18:00'")
                continue
            for day in days:
                windows.setdefault(day, []).append(window)
    return Hours(False, {d: tuple(sorted(w)) for d, w in windows.items()}, holidays)
