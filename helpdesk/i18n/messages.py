"""Messages that are English in the code and can be said in the reader's language.

A store, a schema or a route that produces a message an agent reads (an error, a
refusal) makes it with ``msg``: a ``Text``, which *is* the English string (what the
JSON API answers, a log line or a test reads) and also keeps its msgid and
parameters, so a page translates it with ``DeskLanguage.say``. A parameter that is
itself a word of the desk (a ticket's status, a priority) is a ``term`` and is
translated with it. ``N_`` marks a text for the catalogs where it is translated
later. The extraction (``helpdesk.i18n.extract``) knows ``msg`` and ``term``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Text(str):
    """An English message with what it was made of: ``msgid % params`` in English, translatable.

    ``context`` is the msgctxt of a ``term`` (the same English word may be a status or an action)."""

    msgid: str
    params: Mapping[str, Any]
    context: str | None

    def __new__(cls, msgid: str, params: Mapping[str, Any] | None = None, context: str | None = None) -> Text:
        params = dict(params or {})
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid, self.params, self.context = msgid, params, context
        return self


def msg(msgid: str, **params: Any) -> Text:
    """An English message with %-style parameters, e.g. ``msg("no incident %(id)s", id=7)``."""
    return Text(msgid, params)


def term(context: str, word: str) -> Text:
    """A word of the desk (a status, a priority, a role, an event) in its context, e.g. ``term("status", "new")``."""
    return Text(word, context=context)


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated where it is shown."""
    return message
