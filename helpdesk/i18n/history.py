"""The desk's own notes in a ticket's history, in the reader's language.

The desk writes some history entries itself (``handoff_events.note``): why the bot handed over,
how many messages came in, the incident a ticket was linked to, how the customer was told a new
response time or asked for a rating, what a mail did. They are stored in English, as the JSON
API answers them; a page recognises each of these forms and says it in its agent's language,
with the words in it (a reason, a priority) as the desk's terms. Any other note (an agent's, a
form the desk no longer writes) is shown as it was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from helpdesk.i18n.language import DeskLanguage
from helpdesk.i18n.messages import msg

_CREATED = re.compile(r"reason: (?P<reason>[\w-]+); priority (?P<priority>\w+)(?P<rest>(?:; .*)?)")
_DURING = re.compile(r"during incident (?P<incident>\d+)")
_MESSAGES = re.compile(r"(?P<num>\d+) message\(s\) added to the transcript")
_BY_MAIL = re.compile(r"by e-mail to (?P<address>\S+)")
_TOLD = re.compile(r"new response time (?P<expected>.+), (?P<how>in the chat|by e-mail to \S+)")
_NOT_TOLD = re.compile(
    r"the customer could not be told the new response time \((?P<expected>.+)\): "
    r"no live chat, no e-mail address or no SMTP server"
)
_ASKED = re.compile(r"the customer was asked to rate the solution (?P<how>in the chat|by e-mail to \S+)")
_INCIDENT = re.compile(r"incident (?P<incident>\d+): (?P<title>.+)", re.S)
_AUTOMATIC = re.compile(r"an automatic mail \((?P<machine>.+)\) came in; the ticket stays resolved")
FIXED = {
    "the customer answered by mail: not solved": msg("the customer answered by mail: not solved"),
    "the customer confirmed by mail that it is solved": msg("the customer confirmed by mail that it is solved"),
}
ON_CALL = msg("on-call")


def _how(language: DeskLanguage, how: str) -> str:
    if found := _BY_MAIL.fullmatch(how):
        return language.say(msg("by e-mail to %(address)s", address=found["address"]))
    return language.say(msg("in the chat"))


def _created(language: DeskLanguage, found: re.Match[str]) -> str:
    parts = [
        language.say(
            msg(
                "reason: %(reason)s; priority %(priority)s",
                reason=language.term("reason", found["reason"]),
                priority=language.term("priority", found["priority"]),
            )
        )
    ]
    for part in filter(None, (p.strip() for p in found["rest"].split(";"))):
        if during := _DURING.fullmatch(part):
            parts.append(language.say(msg("during incident %(incident)s", incident=during["incident"])))
        else:
            parts.append(language.say(ON_CALL) if part == "on-call" else part)
    return "; ".join(parts)


_FORMS: tuple[tuple[re.Pattern[str], Callable[[DeskLanguage, re.Match[str]], str]], ...] = (
    (_CREATED, _created),
    (
        _MESSAGES,
        lambda language, found: language.ngettext(
            "%(num)s message added to the transcript", "%(num)s messages added to the transcript", int(found["num"])
        ),
    ),
    (
        _TOLD,
        lambda language, found: language.say(
            msg("new response time %(expected)s, %(how)s", expected=found["expected"], how=_how(language, found["how"]))
        ),
    ),
    (
        _NOT_TOLD,
        lambda language, found: language.say(
            msg(
                "the customer could not be told the new response time (%(expected)s): no live chat, no e-mail "
                "address or no SMTP server",
                expected=found["expected"],
            )
        ),
    ),
    (
        _ASKED,
        lambda language, found: language.say(
            msg("the customer was asked to rate the solution %(how)s", how=_how(language, found["how"]))
        ),
    ),
    (
        _INCIDENT,
        lambda language, found: language.say(
            msg("incident %(incident)s: %(title)s", incident=found["incident"], title=found["title"])
        ),
    ),
    (
        _AUTOMATIC,
        lambda language, found: language.say(
            msg("an automatic mail (%(machine)s) came in; the ticket stays resolved", machine=found["machine"])
        ),
    ),
)


def history_note(language: DeskLanguage, note: Any) -> str:
    """A history entry's note in ``language`` when the desk wrote it, else as written ("" for none)."""
    if not note:
        return ""
    text = str(note)
    if text in FIXED:
        return language.say(FIXED[text])
    for pattern, say in _FORMS:
        if found := pattern.fullmatch(text):
            return say(language, found)
    return text
