"""Which of a procedure's replies the system's answer calls for, and its text filled in.

A reply applies when the HTTP status is one it names and every field it names in ``equals`` has
that value (or one of those values) and every field in ``present`` is there; the first that
applies wins. Its text's ``{input}`` placeholders take the customer's answers and
``{response.a.b}`` the fields of the system's JSON answer, with ``|date`` and ``|datetime`` for
ISO times, in the procedure's language. A value from the system is plain text, cut to
``MAX_VALUE_CHARS``: the company's answer can never add markup or a link to the bot's message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from search_api.kb.procedures import PLACEHOLDER, RESPONSE, Condition, ProcedureSpec, Reply

MAX_VALUE_CHARS = 200
MISSING = object()
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>\[\]`*_|]")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def field(body: Any, path: str) -> Any:
    """The value at the dotted ``path`` of a JSON document (a list by its index); MISSING when absent."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _same(value: Any, expected: Any) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return value == expected or (not isinstance(value, dict | list) and str(value) == str(expected))


def applies(condition: Condition, status: int, body: Any) -> bool:
    if condition.statuses() and status not in condition.statuses():
        return False
    for path, expected in condition.equals.items():
        value = field(body, path)
        options = expected if isinstance(expected, list) else [expected]
        if value is MISSING or not any(_same(value, option) for option in options):
            return False
    return all(field(body, path) not in (MISSING, None) for path in condition.present)


def reply_for(spec: ProcedureSpec, status: int, body: Any) -> Reply | None:
    """The first reply that applies; None: the answer is none the procedure describes (a failure)."""
    return next((reply for reply in spec.replies if applies(reply.when, status, body)), None)


def _moment(value: Any, lang: str, with_time: bool) -> str | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(str(value)), datetime.min.time())
            with_time = False
        except ValueError:
            return None
    if lang == "de":
        day = f"{moment.day:02d}.{moment.month:02d}.{moment.year}"
        return f"{day}, {moment:%H:%M} Uhr" if with_time else day
    day = f"{moment.day} {MONTHS_EN[moment.month - 1]} {moment.year}"
    return f"{day}, {moment:%H:%M}" if with_time else day


def shown(value: Any, lang: str, function: str | None = None) -> str:
    """A value as the customer reads it: a time in their language's form, a German decimal comma,
    plain text without markup characters, at most MAX_VALUE_CHARS. A system's masking stars
    (``a***@example.org``) show as dots (``a•••@example.org``), not as emphasis or gaps."""
    if value is MISSING or value is None:
        return ""
    if function in ("date", "datetime"):
        formatted = _moment(value, lang, function == "datetime")
        if formatted is not None:
            return formatted
    if isinstance(value, float) and lang == "de":
        text = str(value).replace(".", ",")
    elif isinstance(value, bool):
        text = str(value).lower()
    else:
        text = str(value) if not isinstance(value, dict | list) else ""
    return " ".join(_UNSAFE.sub(" ", text.replace("*", "•")).split())[:MAX_VALUE_CHARS]


def render(text: str, inputs: Mapping[str, str], body: Any, lang: str) -> str:
    """``text`` with its placeholders filled in (the customer's answers, the system's fields)."""

    def value(match: re.Match[str]) -> str:
        name, function = match.group(1), match.group(2)
        if name.startswith(RESPONSE + "."):
            return shown(field(body, name[len(RESPONSE) + 1 :]), lang, function)
        return shown(inputs.get(name), lang, function)

    return PLACEHOLDER.sub(value, text)
