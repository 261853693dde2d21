"""What the readers of documents share: the file's bytes checked, and one document as several drafts.

``read_document`` refuses, as a ``DocumentError`` the report names (the import goes on), a file
that is too large or is not what its suffix says (a ZIP archive given as a PDF, a text file given
as a Word document), before any parser sees it.

A Word document or a PDF manual is split at its top-level headings.

A manual covers many subjects, an article one. The readers of documents (word.py, pdf.py) give a
flat run of HTML nodes (headings, paragraphs, lists, tables); ``split_sections`` cuts it at its
top-level headings, the highest heading level in it, and each part becomes a draft titled by its
heading. Two things are not sections: a heading marked as the document's title (a Word paragraph
in the *Title* style), and a highest-level heading that occurs once, first, before any text (a
manual's title set as its biggest heading); they name the document, and the next level is then the
top level. Text before the first top-level heading (an introduction) opens the first draft. A
document with no headings is one draft titled by the document's title.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markdown.extensions.toc import slugify

from helpdesk.kbimport.common import MAX_SOURCE_BYTES
from helpdesk.kbimport.htmltext import Node, is_question, nodes_to_markdown
from helpdesk.kbimport.model import DocumentError, SourceArticle

DOCUMENT_TITLE_CLASS = "document-title"
_HEADING = re.compile(r"h([1-6])")


@dataclass(frozen=True)
class Section:
    title: str
    markdown: str
    questions: tuple[str, ...]
    anchor: str | None  # the section's slug when the document was split, else None


def _level(node: Node | str) -> int | None:
    if isinstance(node, Node) and (found := _HEADING.fullmatch(node.tag)) and node.text():
        return int(found.group(1))
    return None


def _has_text(nodes: list[Node | str]) -> bool:
    return any((n.strip() if isinstance(n, str) else n.text()) for n in nodes)


def split_sections(nodes: Sequence[Node | str], title: str) -> list[Section]:
    """The document's sections (the rule of this module's docstring); ``title`` names the document
    when it marks no title of its own."""
    nodes = [n for n in nodes if not (isinstance(n, str) and not n.strip())]
    for i, node in enumerate(nodes):
        if isinstance(node, Node) and DOCUMENT_TITLE_CLASS in node.attrs.get("class", "").split() and node.text():
            title = node.text()
            nodes = nodes[:i] + nodes[i + 1 :]
            break
    while True:
        levels = [level for n in nodes if (level := _level(n)) is not None]
        if not levels:
            converted = nodes_to_markdown(nodes)
            return [Section(title, converted.markdown, converted.questions, None)]
        top = min(levels)
        heads = [i for i, n in enumerate(nodes) if _level(n) == top]
        if len(heads) == 1 and not _has_text(nodes[: heads[0]]) and len(levels) > 1:
            head = nodes[heads[0]]
            assert isinstance(head, Node)
            title = head.text()
            nodes = nodes[: heads[0]] + nodes[heads[0] + 1 :]
            continue
        break
    intro = nodes[: heads[0]]
    parts = [nodes[start:end] for start, end in zip(heads, [*heads[1:], len(nodes)], strict=True)]
    parts[0] = [parts[0][0], *intro, *parts[0][1:]]
    sections: list[Section] = []
    anchors: set[str] = set()
    for part in parts:
        head = part[0]
        assert isinstance(head, Node)
        converted = nodes_to_markdown(part[1:])
        anchor = base = slugify(head.text(), "-") or "section"
        n = 1
        while anchor in anchors:
            n += 1
            anchor = f"{base}-{n}"
        anchors.add(anchor)
        split = anchor if len(parts) > 1 else None
        sections.append(Section(head.text(), converted.markdown, converted.questions, split))
    return sections


def _kind_of(head: bytes) -> str:
    if head.startswith(b"%PDF-"):
        return "a PDF"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "a ZIP archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old binary Office document (.doc)"
    if head.lstrip().startswith(b"<"):
        return "HTML or XML"
    return "an unknown file"


def read_document(path: Path, magic: bytes, expected: str) -> bytes:
    """The file's bytes when they start with ``magic`` (within the first KiB, as PDF allows), else a
    ``DocumentError`` saying what the file is instead."""
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise DocumentError(path, f"larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot be read: {exc.strerror or exc}") from None
    if magic not in raw[:1024]:
        raise DocumentError(path, f"not {expected}: the file is {_kind_of(raw[:8]) if raw else 'empty'}")
    return raw


def document_articles(path: Path, sections: list[Section], updated: dt.date | None) -> list[SourceArticle]:
    """One source article per section; a split document's parts are ``<file>#<anchor>``."""
    articles = []
    for section in sections:
        questions = section.questions
        if is_question(section.title):
            questions = (section.title, *[q for q in questions if q != section.title])
        suffix = f"#{section.anchor}" if section.anchor else ""
        articles.append(
            SourceArticle(
                title=section.title,
                markdown=section.markdown,
                source=f"{path}{suffix}",
                origin=f"{path.name}{suffix}",
                updated=updated,
                questions=questions,
            )
        )
    return articles
