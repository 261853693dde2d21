"""PDF manuals: pypdf's text with the size and font of each line, rebuilt as headings, steps and
paragraphs, then split at the top-level headings (documents.py).

A PDF holds positioned text, not structure, so the structure is recognised:

* the body size is the font size that sets the most characters; a line in a larger size is a
  heading, the largest size level 1, the next level 2 and so on; a short line set wholly in a bold
  font at the body size is a heading one level below those; a line at the body size numbered
  "2.3 " (two or more numbers) is a heading by its depth. A heading's own number ("1.", "2.3")
  is left out of its text.
* a line starting "1." or "1)" at the body size is a numbered step, one starting "•", "-", "–"
  or "*" a bullet; the lines after it that start no new item belong to it.
* other lines are joined into paragraphs: a line ends its paragraph when it ends a sentence
  (".", "!", "?", ":") or the next line is further below than one and a half lines; a word broken
  with a hyphen at the end of a line is joined.
* lines that are only a page number ("3", "Page 3 of 12") are dropped.

Tables and multi-column layouts are read as lines of text. The document's title is its metadata
title, else its first heading when that one occurs once before any text (documents.py), else the
file's name.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pypdf

from helpdesk.kbimport.common import modified_date
from helpdesk.kbimport.documents import document_articles, read_document, split_sections
from helpdesk.kbimport.htmltext import Node
from helpdesk.kbimport.model import DocumentError, SourceArticle

SUFFIXES = (".pdf",)
MAX_PAGES = 500
_STEP = re.compile(r"^(\d{1,3})[.)]\s+(\S.*)$")
_BULLET = re.compile(r"^[•\-–*▪●]\s+(\S.*)$")
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.?\s+")
_DEEP_NUMBER = re.compile(r"^(\d+(?:\.\d+)+)\.?\s+\S")
_PAGE_NUMBER = re.compile(r"^(?:(?:page|seite)\s+)?\d+(?:\s*(?:/|of|von)\s*\d+)?$", re.I)
_SENTENCE_END = (".", "!", "?", ":", "…")


@dataclass
class Line:
    text: str
    size: float
    bold: bool
    y: float
    page: int
    bold_chars: int = 0


@dataclass
class _Collector:
    page: int
    lines: list[Line] = field(default_factory=list)

    def visit(self, text: str, cm: list[float], tm: list[float], font: dict | None, size: float) -> None:
        if not text:
            return
        scale = abs(tm[3] * cm[3]) or 1.0
        real = round(size * scale, 1)
        y = tm[5] * cm[3] + cm[5]
        name = str((font or {}).get("/BaseFont", ""))
        bold = any(word in name for word in ("Bold", "Black", "Heavy", "Semibold"))
        for i, piece in enumerate(text.split("\n")):
            if i > 0 or not self.lines or (piece.strip() and abs(self.lines[-1].y - y) > 1 and tm[5] != 0):
                self.lines.append(Line("", real, True, y, self.page))
            line = self.lines[-1]
            if piece.strip():
                if not line.text.strip():
                    line.size, line.y = real, y
                line.size = max(line.size, real)
                line.text += piece
                if bold:
                    line.bold_chars += len(piece.strip())
                else:
                    line.bold = False


def _lines(reader: pypdf.PdfReader) -> list[Line]:
    lines: list[Line] = []
    for number, page in enumerate(reader.pages[:MAX_PAGES], start=1):
        collector = _Collector(number)
        page.extract_text(visitor_text=collector.visit)
        for line in collector.lines:
            line.text = " ".join(line.text.split())
            if line.text and not _PAGE_NUMBER.match(line.text):
                lines.append(line)
    return lines


def _heading_levels(lines: list[Line]) -> tuple[float, dict[float, int]]:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0]
    larger = sorted((s for s in sizes if s > body * 1.1), reverse=True)
    return body, {size: level for level, size in enumerate(larger[:5], start=1)}


def structure(lines: list[Line]) -> list[Node]:
    """The lines as HTML nodes: headings, numbered and bulleted lists, paragraphs."""
    if not lines:
        return []
    body, levels = _heading_levels(lines)
    bold_level = min(6, len(levels) + 1)
    nodes: list[Node] = []
    paragraph: list[str] = []
    current_list: Node | None = None
    previous: Line | None = None

    def flush() -> None:
        if paragraph:
            nodes.append(Node("p", children=[_join(paragraph)]))
            paragraph.clear()

    for line in lines:
        text = line.text
        level = levels.get(line.size)
        if level is None and line.bold and line.size >= body * 0.95 and len(text) <= 80 and not text.endswith("."):
            level = bold_level
        if level is None and (deep := _DEEP_NUMBER.match(text)) and len(text) <= 80:
            level = min(6, bold_level + deep.group(1).count(".") - 1)
        gap = previous is not None and (
            previous.page != line.page or previous.y - line.y > 2.2 * max(previous.size, line.size)
        )
        previous = line
        if level is not None:
            flush()
            current_list = None
            nodes.append(Node(f"h{level}", children=[_SECTION_NUMBER.sub("", text) or text]))
            continue
        step, bullet = _STEP.match(text), _BULLET.match(text)
        item_match = step or bullet
        if item_match:
            flush()
            tag = "ol" if step else "ul"
            if current_list is None or current_list.tag != tag:
                current_list = Node(tag, {"start": step.group(1)} if step else {})
                nodes.append(current_list)
            current_list.children.append(Node("li", children=[item_match.group(2)]))
            continue
        if current_list is not None and not gap:
            item = current_list.children[-1]
            assert isinstance(item, Node)
            item.children = [_join([str(item.children[0]), text])]
            continue
        current_list = None
        if paragraph and (gap or paragraph[-1].endswith(_SENTENCE_END)):
            flush()
        paragraph.append(text)
    flush()
    return nodes


def _join(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        if out.endswith("-") and line[:1].islower() and len(out) > 1 and out[-2].isalpha():
            out = out[:-1] + line
        else:
            out += " " + line
    return out


def read_pdf(path: Path) -> list[SourceArticle]:
    raw = read_document(path, b"%PDF-", "a PDF")
    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise DocumentError(path, "encrypted: save it without a password")
        lines = _lines(reader)
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except Exception as exc:  # any failure of the parser (PyPdfError and others) is a damaged file
        raise DocumentError(path, f"a damaged PDF: {type(exc).__name__}: {exc}") from None
    if not lines:
        raise DocumentError(path, "no text in it (a scanned PDF needs text recognition first)")
    title = " ".join(str(meta_title).split()) or path.stem.replace("-", " ").replace("_", " ")
    return document_articles(path, split_sections(structure(lines), title), modified_date(path))
