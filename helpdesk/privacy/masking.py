"""Personal details masked: in texts the desk keeps for authors, and in every log line.

Authors need a customer's question, not the customer, and a log line is read by
operators and kept by log collectors, so what identifies a customer is replaced by a
placeholder: e-mail addresses (``<email>``), IBANs (``<iban>``), phone numbers and
other long numbers (``<number>``), a name the customer introduces as theirs ("mein
Name ist …", "my name is …", "ich heiße …": ``<name>``), and the company's own
identifiers, customer and contract numbers, by the patterns of ``config/privacy.yml``
(``masking.patterns``: ``<customer-number>``, …). ``Masker`` is the one definition;
``mask`` applies the configured one (the privacy file is read once per process).
Unanswered searches and feedback (helpdesk/feedback/store.py), article drafts
(helpdesk/inbox/drafts.py) and the gap report (helpdesk/feedback/gaps.py) are masked
with it, and ``install_log_masking`` masks every log record of the process (message,
arguments and the formatted traceback), whatever logger or handler it goes to, except an
argument marked ``NotPersonal`` (a mail's Message-ID in ``helpdesk mail``'s log).

A name is masked where it is introduced as one, and, where the customer is known (a
draft from their ticket), wherever their own name stands: any other name in a text
cannot be told from a product or a place without a model of names.
"""

from __future__ import annotations

import functools
import logging
import re
import traceback
from collections.abc import Mapping

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")
# Nine or more digits, optionally split by spaces, slashes, dashes or brackets: phone, customer or
# contract numbers. Dates, IP addresses (dots) and hex error codes (0x...) stay readable.
LONG_NUMBER = re.compile(r"(?<![\w.])(?:\+|00)?\d(?:[ /()-]{0,2}\d){8,}(?![\w])")
# A shorter number is a phone number where a word says so: "Tel. 030 12345", "Handy: 0171 23456".
PHONE = re.compile(
    r"(?i)\b(?:tel(?:efon)?|phone|telephone|mobil(?:e|nummer)?|handy|fax|rufnummer|"
    r"telefonnummer|phone\s+number)\b\.?[ \t]*(?:nr\.?|no\.?)?[ \t]*:?[ \t]*"
    r"((?:\+|00)?\d[\d /()-]{3,}\d)"
)
# A name introduced as the writer's own (a title before it stays), and the words that may follow as its parts.
TITLES = ("dr", "prof", "herr", "frau", "mr", "mrs", "ms")
_NAME_INTRO = (
    r"\b(?:mein[ \t]+name[ \t]+(?:ist|lautet)|my[ \t]+name[ \t]+is|my[ \t]+name's|ich[ \t]+hei(?:ß|ss)e|"
    r"i[ \t]+am[ \t]+called)[ \t]*:?[ \t]+(?:(?:" + "|".join(TITLES) + r")\.?[ \t]+)*"
)
_NAME_WORD = r"[^\W\d_](?:[\w'’-]|\.(?=\w))*"
NAME = re.compile(f"({_NAME_INTRO})({_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}})", re.IGNORECASE)
NAME_PARTICLES = {"von", "van", "de", "der", "den", "zu", "di", "da", "le", "la", "del", "ten", "ter"}
NOT_A_NAME = {
    "und",
    "and",
    "oder",
    "or",
    "aber",
    "but",
    "ich",
    "i",
    "bin",
    "am",
    "habe",
    "hab",
    "have",
    "has",
    "mit",
    "with",
    "aus",
    "from",
    "bei",
    "at",
    "in",
    "im",
    "the",
    "ein",
    "eine",
    "a",
    "an",
    "my",
    "mein",
    "meine",
    "is",
    "ist",
    "not",
    "nicht",
    "kein",
    "keine",
    "wie",
    "how",
    "was",
    "what",
    "kann",
    "can",
    "bitte",
    "please",
    "hier",
    "here",
    "also",
    "auch",
    "too",
    "to",
    "für",
    "for",
    "wegen",
    "because",
    "weil",
    "dass",
    "that",
    "egal",
    "unwichtig",
    "unimportant",
    "irrelevant",
    "schon",
    "already",
    "leider",
    "sorry",
}
BUILT_IN = ("email", "iban", "name", "number")


def _name_length(words: list[str]) -> int:
    """How many of ``words`` (after an introduction) are the name: up to the first word that is not.
    After a capitalised first word only capitalised words (and particles before one) continue it."""
    taken = 0
    capitalised = words[0][:1].isupper()
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in NAME_PARTICLES and 0 < i < len(words) - 1:
            continue  # "Erika von Probe": part of the name if a name word follows
        if lower in NOT_A_NAME or (i > 0 and capitalised and not word[:1].isupper()):
            break
        taken = i + 1
    return taken


def _mask_name(match: re.Match) -> str:
    words = list(re.finditer(r"\S+", match.group(2)))
    taken = _name_length([w.group(0) for w in words])
    if not taken:
        return match.group(0)
    return f"{match.group(1)}<name>{match.group(2)[words[taken - 1].end() :]}"


def _replace(pattern: re.Pattern, placeholder: str, text: str) -> str:
    """Every match replaced by ``placeholder``; with a group in the pattern, only the first group."""
    if not pattern.groups:
        return pattern.sub(placeholder, text)

    def one(match: re.Match) -> str:
        start, end = match.span(1)
        if start < 0:
            return match.group(0)
        return match.group(0)[: start - match.start()] + placeholder + match.group(0)[end - match.start() :]

    return pattern.sub(one, text)


def _known(contact: Mapping[str, str | None]) -> list[tuple[re.Pattern, str]]:
    """Patterns of one customer's own contact details (a handoff's ``email``, ``name``, ``phone``): the
    address, the whole name and each part of it, the phone number however it is written (its last seven
    digits, with whatever country or area code before them)."""
    found: list[tuple[re.Pattern, str]] = []
    if email := contact.get("email"):
        found.append((re.compile(re.escape(email), re.IGNORECASE), "<email>"))
    name = " ".join((contact.get("name") or "").split())
    if name:
        parts = [
            p
            for p in re.split(r"[\s,]+", name)
            if len(p) >= 3 and p.lower().rstrip(".") not in NAME_PARTICLES.union(TITLES)
        ]
        words = sorted({name, *parts}, key=len, reverse=True)
        found.append(
            (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.IGNORECASE), "<name>")
        )
    digits = re.sub(r"\D", "", contact.get("phone") or "")
    if len(digits) >= 5:
        last = r"[ /()-]{0,2}".join(digits[-7:])
        found.append((re.compile(r"(?<!\w)\+?(?:\d[ /()-]{0,2})*" + last + r"(?!\d)"), "<number>"))
    return found


class Masker:
    """Masks the built-in kinds and the company's own ``patterns`` (label -> regular expression)."""

    def __init__(self, patterns: Mapping[str, str] | None = None):
        self.patterns = [(label, re.compile(pattern)) for label, pattern in (patterns or {}).items()]
        labels = sorted({*BUILT_IN, *(label for label, _ in self.patterns)})
        self._placeholder = re.compile("<(?:" + "|".join(map(re.escape, labels)) + ")>")

    def __call__(self, text: str, contact: Mapping[str, str | None] | None = None) -> str:
        """``text`` masked; with ``contact`` (a handoff's contact details) also that customer's name, address
        and phone number wherever they stand, introduced or not (a signature, a greeting)."""
        for pattern, placeholder in _known(contact or {}):
            text = pattern.sub(placeholder, text)
        text = EMAIL.sub("<email>", text)
        for label, pattern in self.patterns:  # before the generic numbers: the specific label wins
            text = _replace(pattern, f"<{label}>", text)
        text = IBAN.sub("<iban>", text)
        text = NAME.sub(_mask_name, text)
        text = _replace(PHONE, "<number>", text)
        return LONG_NUMBER.sub("<number>", text)

    def hid_something(self, text: str) -> bool:
        """Whether ``text`` (masked) holds a placeholder: a detail was masked in it."""
        return self._placeholder.search(text) is not None


@functools.cache
def configured() -> Masker:
    """The masker of this process's privacy configuration (HELPDESK_PRIVACY_FILE or config/privacy.yml),
    read once; a mistake in the file raises PrivacyConfigError."""
    from helpdesk.privacy.retention import load_privacy

    return Masker(load_privacy().masking.patterns)


def mask(text: str, contact: Mapping[str, str | None] | None = None) -> str:
    """``text`` with personal details replaced by placeholders (the configured masker); ``contact``: the
    customer's own details, masked wherever they stand."""
    return configured()(text, contact)


def hid_something(text: str) -> bool:
    return configured().hid_something(text)


_installed = False


class NotPersonal(str):
    """A log argument its caller vouches for as no personal detail, left as it is by the log masking: a
    mail's Message-ID (helpdesk/mail/intake.py), which looks like an address and often holds long
    numbers, but names a mail, not a person; the caller checks that it does not contain the sender."""


def _masked(value):
    # Strings and anything whose text may carry a detail (an exception, a URL object); numbers stay numbers.
    if isinstance(value, NotPersonal):
        return value
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    masked = mask(text)
    return value if masked == text else masked


def install_log_masking() -> None:
    """Mask every log record created from now on in this process (idempotent).

    The privacy configuration is read here, so a mistake in it stops the start instead of
    the first log line. A record factory rather than a handler filter: uvicorn, the app's
    loggers and a log collector's handler all see the masked record, and a handler added
    later is covered too. The message is rendered (``msg % args``) and masked once; a
    traceback is formatted and masked into ``exc_text``, which formatters print instead.
    The arguments are masked one by one and stay arguments: uvicorn's access formatter
    unpacks them.
    """
    global _installed
    if _installed:
        return
    configured()
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
