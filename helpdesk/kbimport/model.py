"""What every source reader gives the importer: one ``SourceArticle`` per article found, or a
``SourceError`` naming the file (and the line, where the format has one) when the input is unusable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


class SourceError(Exception):
    """An input the importer cannot read: malformed JSON, an unknown format, an unreadable file.
    ``helpdesk import`` prints it and exits 2 before writing anything."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class DocumentError(SourceError):
    """A document or web page that cannot be used (corrupt, encrypted, not what its suffix says, over
    a limit, refused by the site): reported as skipped with the reason, and the import goes on."""


@dataclass(frozen=True)
class Unread:
    """An input that gave no article (a file no reader knows, a document or page that cannot be
    used): reported as skipped with the reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class SourceArticle:
    """One article as a source has it, its body already converted to markdown."""

    title: str
    markdown: str
    source: str  # the article's URL when the export has one, else the file (and its id in the export)
    origin: str  # how the report names it: "<file>#<id>" or "<file>"
    locale: str | None = None  # the source's own locale ("en-us", "de"); None: detected from the text
    updated: dt.date | None = None
    labels: tuple[str, ...] = ()  # the source's tags or labels
    section: str | None = None  # the source's own category, section or folder name, when it has one
    questions: tuple[str, ...] = ()  # FAQ headings that are questions (the converter collects them)
    audience: str = "public"
    skip_reason: str | None = None  # a source article not to import (unpublished, archived), and why
    extra: dict[str, str] = field(default_factory=dict)


def parse_date(value: object) -> dt.date | None:
    """An ISO date or timestamp of an export ("2026-11-02T10:09:01Z"), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
