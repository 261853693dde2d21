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
* a table is two or more lines in a row at the body size, each in the same number (two or more)
  of cells: pieces of text on one line far enough apart (further than a space's width after the
  previous piece's estimated end) whose left edges line up with those of the other rows (the
  first row, a header, may be centred in its columns). A line whose pieces all line up with
  columns but leave some empty is a row with empty cells when it has text in the first column
  and another, else a cell's wrapped text that continues the row above. It becomes a markdown
  table, the first row its header.

Multi-column layouts are read as lines of text. The document's title is its metadata
title, else its first heading when that one occurs once before any text (documents.py), else the
file's name.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
# A piece's width: its glyphs' widths in its font (pypdf's font metrics), else estimated from its
# length (an average glyph is a little less than half the font size wide). A gap wider than a space
# (a quarter of the font size and a little) after a piece's end starts a new cell; wider when estimated.
_GLYPH_WIDTH = 0.45
_CELL_GAP = 0.3
_CELL_GAP_ESTIMATED = 0.8


@dataclass
class Line:
    text: str
    size: float
    bold: bool
    y: float
    page: int
    bold_chars: int = 0
    pieces: list[tuple[float | None, str, float, float | None]] = field(default_factory=list)  # x, text, size, width
    cells: list[tuple[float, str]] = field(default_factory=list)  # (left edge, text): the pieces far apart


def _glyph_widths(font: Any) -> dict[str, float] | None:
    """A font resource's glyph widths (thousandths of the font size) by character, from pypdf's font
    metrics; None where pypdf has none to give (the widths are then estimated)."""
    try:
        from pypdf.generic._font import Font

        metrics = Font.from_font_resource(font)
    except Exception:  # an older pypdf, a font it cannot read
        return None
    widths = dict(metrics.character_widths)
    if metrics.sub_type == "Type0":  # widths by glyph code: each code's character through the font's map
        for code, char in metrics.character_map.items():
            if isinstance(char, str) and len(char) == 1 and code in metrics.character_widths:
                widths[char] = metrics.character_widths[code]
    return widths


@dataclass
class _Collector:
    page: int
    lines: list[Line] = field(default_factory=list)
    fonts: dict[int, Any] = field(default_factory=dict)

    def width(self, font: dict | None, text: str, size: float) -> float | None:
        if font is None:
            return None
        if id(font) not in self.fonts:
            self.fonts[id(font)] = _glyph_widths(font)
        widths = self.fonts[id(font)]
        if widths is None:
            return None
        default = widths.get("default", 500)
        return sum(widths.get(char, default) for char in text) / 1000 * size

    def visit(self, text: str, cm: list[float], tm: list[float], font: dict | None, size: float) -> None:
        if not text:
            return
        scale = abs(tm[3] * cm[3]) or 1.0
        real = round(size * scale, 1)
        y = tm[5] * cm[3] + cm[5]
        x = tm[4] * cm[0] + cm[4]
        name = str((font or {}).get("/BaseFont", ""))
        bold = any(word in name for word in ("Bold", "Black", "Heavy", "Semibold"))
        for i, piece in enumerate(text.split("\n")):
            if i > 0 or not self.lines or (piece.strip() and abs(self.lines[-1].y - y) > 1 and tm[5] != 0):
                self.lines.append(Line("", real, True, y, self.page))
            line = self.lines[-1]
            if piece.strip():
                # Its width without the space pypdf may put before it (no glyph of the page).
                line.pieces.append((x if i == 0 else None, piece, real, self.width(font, piece.lstrip(), real)))
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
                line.cells = _cells(line)
                lines.append(line)
    return lines


def _cells(line: Line) -> list[tuple[float, str]]:
    """The line's pieces joined where one follows the other, split where a gap is wider than a space:
    the cells of a table's row (one cell for an ordinary line; none where a position is unknown)."""
    if any(x is None for x, _, _, _ in line.pieces):
        return []
    cells: list[tuple[float, str]] = []
    end, gap = 0.0, 0.0
    for x, text, size, width in sorted(line.pieces, key=lambda p: p[0] or 0.0):
        assert x is not None
        if cells and x - end <= gap:
            left, previous = cells[-1]
            cells[-1] = (left, previous + text)  # a space between them is in one of the pieces
        else:
            cells.append((x, text))
        if width is None:
            width, gap = len(text.strip()) * size * _GLYPH_WIDTH, _CELL_GAP_ESTIMATED * size
        else:
            gap = _CELL_GAP * size
        end = max(end, x + width)
    return [(left, " ".join(text.split())) for left, text in cells if text.strip()]


def _aligned(lefts: list[float], columns: list[float], tolerance: float) -> bool:
    return len(lefts) == len(columns) and all(abs(a - b) <= tolerance for a, b in zip(lefts, columns, strict=True))


def _within(lefts: list[float], columns: list[float], tolerance: float) -> bool:
    """Each left edge inside its own column (a centred header's cells)."""
    bounds = [*columns[1:], float("inf")]
    return len(lefts) == len(columns) and all(
        c - tolerance <= a < nxt - tolerance for a, c, nxt in zip(lefts, columns, bounds, strict=True)
    )


def _column(columns: list[float], left: float) -> int:
    return min(range(len(columns)), key=lambda n: abs(columns[n] - left))


def _tables(lines: list[Line], body: float) -> dict[int, tuple[int, Node]]:
    """The tables among ``lines``: the index of each one's first line -> (the index after its last, the table)."""
    found: dict[int, tuple[int, Node]] = {}

    def is_row(line: Line) -> bool:
        return len(line.cells) >= 2 and abs(line.size - body) <= body * 0.15 and not _STEP.match(line.text)

    def close(a: Line, b: Line) -> bool:
        return a.page == b.page and 0 < a.y - b.y <= 2.5 * max(a.size, b.size)

    i = 0
    while i < len(lines) - 1:
        first = lines[i]
        if not is_row(first):
            i += 1
            continue
        # The columns are those of the second row (the first may be a centred header).
        j, rows, columns = i + 1, [[text for _, text in first.cells]], None
        while j < len(lines) and close(lines[j - 1], lines[j]):
            line, tolerance = lines[j], max(3.0, 0.3 * body)
            lefts = [left for left, _ in line.cells]
            if columns is None:
                if not (is_row(line) and len(line.cells) == len(first.cells)):
                    break
                columns = lefts
                if not _within([left for left, _ in first.cells], columns, tolerance):
                    break
            elif is_row(line) and _aligned(lefts, columns, tolerance):
                pass
            elif line.cells and all(any(abs(a - c) <= tolerance for c in columns) for a in lefts):
                placed = {_column(columns, left): text for left, text in line.cells}
                if 0 in placed and len(placed) >= 2:  # a row with empty cells
                    rows.append([placed.get(n, "") for n in range(len(columns))])
                    j += 1
                    continue
                # No text in the first column: wrapped text of the row above. Text in it alone: that
                # too if another row follows, else the paragraph after the table, at the margin.
                k = j + 1
                while k < len(lines) and close(lines[k - 1], lines[k]) and not is_row(lines[k]):
                    k += 1
                follows = (
                    k < len(lines)
                    and close(lines[k - 1], lines[k])
                    and _aligned([left for left, _ in lines[k].cells], columns, tolerance)
                )
                if 0 in placed and not follows:
                    break
                for column, text in placed.items():
                    rows[-1][column] = f"{rows[-1][column]} {text}".strip()
                j += 1
                continue
            else:
                break
            rows.append([text for _, text in line.cells])
            j += 1
        if columns is not None and len(rows) >= 2:
            table = Node("table")
            for n, row in enumerate(rows):
                tr = Node("tr", parent=table)
                tr.children = [Node("th" if n == 0 else "td", children=[cell], parent=tr) for cell in row]
                table.children.append(tr)
            found[i] = (j, table)
            i = j
        else:
            i += 1
    return found


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

    tables = _tables(lines, body)
    index = 0
    while index < len(lines):
        if index in tables:
            flush()
            current_list, previous = None, lines[tables[index][0] - 1]
            index, table = tables[index]
            nodes.append(table)
            continue
        line = lines[index]
        index += 1
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
