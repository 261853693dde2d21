"""What the source readers share: reading JSON with the line of a mistake, and an HTML body as markdown."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from helpdesk.kbimport.htmltext import html_to_markdown, is_question, same_text
from helpdesk.kbimport.model import SourceError

MAX_SOURCE_BYTES = 64 * 1024 * 1024


_HTML_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I)


def meta_charset(raw: bytes) -> str | None:
    """The encoding an HTML page's ``<meta charset>`` (or ``http-equiv``) declares, if any."""
    declared = _HTML_CHARSET.search(raw[:4096])
    return declared.group(1).decode("ascii") if declared else None


def read_text(path: Path, html: bool = False) -> str:
    """The file as text: UTF-8; a saved page in the encoding its ``<meta charset>`` declares."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            raise SourceError(path, f"larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = meta_charset(raw) if html else None
        if declared:
            try:
                return raw.decode(declared)
            except (LookupError, UnicodeDecodeError):
                pass
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(path, f"not valid UTF-8 (byte {exc.start})", line) from None


def modified_date(path: Path) -> dt.date | None:
    """The file's modification date: the date of a source that does not say its own."""
    try:
        return dt.date.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def load_json(path: Path) -> Any:
    """The parsed JSON of ``path``; malformed JSON is a ``SourceError`` with the line and column."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None


def field(record: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` that ``record`` has with a value (exports differ in spelling)."""
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def text_field(record: dict[str, Any], *names: str) -> str:
    value = field(record, *names)
    return " ".join(str(value).split()) if isinstance(value, str | int | float) else ""


def labels_of(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(" ".join(str(v).split()) for v in value if isinstance(v, str | int) and str(v).strip()))


def body_markdown(title: str, html: str, base_url: str | None) -> tuple[str, tuple[str, ...]]:
    """An exported article body (HTML) as markdown and its question headings (the title first when it
    is a question); a first heading that repeats the title is left out."""
    converted = html_to_markdown(html, base_url, title)
    questions = tuple(q for q in converted.questions if not same_text(q, title))
    if is_question(title):
        questions = (title, *questions)
    return converted.markdown, questions
