"""One reader's language: which it is, its translations, and the formats of the desk in it.

An agent's language is their profile setting (``agents.language``); without one it is
the best match of the browser's Accept-Language among the desk's languages, else
English. ``DeskLanguage`` translates (``gettext``, ``ngettext``, ``term``, ``say``,
``problem``) and formats with Babel in the desk's time zone (the routing file's, as
every time of the desk): ``moment`` (a time of this year's kind: "Mon, Nov 2, 15:05",
"Mo., 2. Nov., 15:05"), ``timestamp`` (with the year), ``day``, ``number``,
``percent`` and ``duration``. Times use a 24-hour clock in both languages, like the
rest of the desk.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from babel.core import Locale, negotiate_locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from fastapi import HTTPException
from pydantic import ValidationError

from helpdesk.i18n.catalogs import DEFAULT_LANGUAGE, LANGUAGES, translations
from helpdesk.i18n.messages import Text, msg

if TYPE_CHECKING:
    from fastapi import Request

    from helpdesk.handoffs.agents import AgentInfo

MAX_HEADER = 500  # characters of an Accept-Language header read
# The messages of pydantic's error types the desk's forms can cause, by type; any other keeps pydantic's words.
VALIDATION = {
    "missing": msg("required"),
    "string_too_short": msg("at least %(min_length)s characters"),
    "string_too_long": msg("at most %(max_length)s characters"),
    "literal_error": msg("must be one of %(expected)s"),
    "string_pattern_mismatch": msg("not in the expected form"),
    "int_parsing": msg("not a whole number"),
    "datetime_parsing": msg("not a date and time"),
}
NOT_EMPTY = msg("must not be empty")
ENTRIES = {  # the same error types on a list
    "too_short": msg("at least %(min_length)s entries"),
    "too_long": msg("at most %(max_length)s entries"),
}


def preferred(header: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (q=0 and ``*`` left out)."""
    ranked = []
    for position, part in enumerate((header or "")[:MAX_HEADER].split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        tag = tag.strip().lower()
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(header: str | None) -> str:
    """The desk's language that best matches an Accept-Language header; English when none does."""
    return negotiate_locale(preferred(header), LANGUAGES, sep="-") or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class DeskLanguage:
    code: str
    tz: tzinfo = UTC

    @property
    def translations(self) -> Translations:
        return translations(self.code)

    # -- words ------------------------------------------------------------------------------------
    def gettext(self, message: str, **params: Any) -> str:
        text = self.translations.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, num: int, **params: Any) -> str:
        return self.translations.ngettext(singular, plural, num) % {"num": num, **params}

    def term(self, context: str, word: str | None) -> str:
        """A word of the desk in its context (``helpdesk.i18n.terms``); an unknown word as it is."""
        return str(self.translations.pgettext(context, word)) if word else ""

    def say(self, text: Any) -> str:
        """A ``Text`` in this language (its parameters too); anything else as its string."""
        if not isinstance(text, Text):
            return str(text)
        if text.context is not None:
            return self.term(text.context, text.msgid)
        if not text.params:
            return self.translations.gettext(text.msgid)
        return self.translations.gettext(text.msgid) % {k: self.say(v) for k, v in text.params.items()}

    def problem(self, exc: BaseException) -> str:
        """What went wrong, for a page: a form's invalid fields, an HTTP error's detail, a store's refusal."""
        if isinstance(exc, ValidationError):
            return "; ".join(self._invalid(error) for error in exc.errors())
        if isinstance(exc, HTTPException):
            return self.say(exc.detail)
        return self.say(exc.args[0]) if len(exc.args) == 1 else str(exc)

    def _invalid(self, error: Any) -> str:
        field = ".".join(self.term("field", str(part)) for part in error.get("loc", ()))
        context = error.get("ctx") or {}
        kind = error.get("type", "")
        if kind in ENTRIES and isinstance(error.get("input"), str):  # a constraint checked after a str validator
            kind = f"string_{kind}"
        if kind == "value_error" and isinstance(context.get("error"), BaseException):
            text = self.problem(context["error"])
        elif kind == "string_too_short" and context.get("min_length") == 1:
            text = self.say(NOT_EMPTY)
        elif kind in VALIDATION or kind in ENTRIES:
            wording = VALIDATION.get(kind) or ENTRIES[kind]
            text = self.gettext(wording.msgid, **{k: v for k, v in context.items() if k != "error"})
        else:
            text = error.get("msg", "")
        return f"{field}: {text}" if field else text

    # -- formats ----------------------------------------------------------------------------------
    def _date_time(self, value: datetime, date_skeleton: str) -> str:
        local = value.astimezone(self.tz)
        pattern = str(_locale(self.code).datetime_formats["short"])  # "{1}, {0}": the date, then the time
        return pattern.replace("{1}", format_skeleton(date_skeleton, local, locale=self.code)).replace(
            "{0}", format_skeleton("Hm", local, locale=self.code)
        )

    def moment(self, value: datetime | None) -> str:
        """Weekday, day, month and time: "Mon, Nov 2, 15:05" / "Mo., 2. Nov., 15:05"; "-" for none."""
        return self._date_time(value, "MMMEd") if value else "-"

    def timestamp(self, value: datetime | None) -> str:
        """Date with the year and time: "11/2/2026, 15:05" / "02.11.2026, 15:05"; "" for none."""
        return self._date_time(value, "yMMdd") if value else ""

    def day(self, value: date) -> str:
        return format_skeleton("yMMMd", value, locale=self.code)

    def short_day(self, value: date) -> str:
        return format_skeleton("Md", value, locale=self.code)

    def week(self, value: date, with_year: bool = True) -> str:
        """The ISO week of a day: "2026-W45" / "KW 45/2026", or without the year "W45" / "KW 45"."""
        year, week, _ = value.isocalendar()
        if with_year:
            return self.gettext("%(year)s-W%(week)02d", year=year, week=week)
        return self.gettext("W%(week)02d", week=week)

    def number(self, value: float | int, digits: int | None = None) -> str:
        """A number as the language writes it ("12,345.5" / "12.345,5"); ``digits``: that many decimals."""
        return format_decimal(value, "#,##0." + "0" * digits if digits else None, locale=self.code)

    def percent(self, value: float | None, digits: int = 1) -> str:
        """A share as a percentage with ``digits`` decimals: "12.5%" / "12,5 %"; "-" for none."""
        if value is None:
            return "-"
        pattern = _locale(self.code).percent_formats[None].pattern  # "#,##0%", "#,##0\u00a0%": the locale's spacing
        if digits:
            pattern = pattern.replace("0", "0." + "0" * digits, 1)
        return format_percent(value, pattern, locale=self.code)

    def seconds(self, value: float | None) -> str:
        """A duration in seconds to the nearest minute, as ``duration`` writes it; "-" for none."""
        return "-" if value is None else self.duration(round(value / 60))

    def duration(self, minutes: float) -> str:
        """A duration to the minute: "59 min", "3 h 05 min", "2 d 4 h" (and the German units)."""
        minutes = int(abs(minutes))
        if minutes < 60:
            return self.gettext("%(minutes)s min", minutes=minutes)
        if minutes < 48 * 60:
            return self.gettext("%(hours)s h %(minutes)02d min", hours=minutes // 60, minutes=minutes % 60)
        return self.gettext("%(days)s d %(hours)s h", days=minutes // 1440, hours=minutes % 1440 // 60)


@functools.cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def english(tz: tzinfo = UTC) -> DeskLanguage:
    """The desk's source language: for tools, logs and whatever has no reader's language."""
    return DeskLanguage(DEFAULT_LANGUAGE, tz)


def desk_language(request: Request, agent: AgentInfo | None = None, chosen: str | None = None) -> DeskLanguage:
    """The language of a page: ``chosen`` (the login page's switch), the agent's profile setting,
    else the browser's Accept-Language; in the desk's time zone."""
    code = next(
        (c for c in (chosen, agent.language if agent is not None else None) if c in LANGUAGES),
        None,
    ) or negotiate(request.headers.get("accept-language"))
    return DeskLanguage(code, request.app.state.routing.tz)


__all__ = ["DeskLanguage", "desk_language", "english", "negotiate", "preferred"]
