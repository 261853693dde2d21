"""Files that are one article each: saved HTML pages, markdown files and plain-text files.

* A saved page (``.html``, ``.htm``; UTF-8, or the encoding its ``<meta charset>`` declares): its
  main content and title by the heuristic of ``htmltext.extract_page``; the language from
  ``<html lang>``; the source is the page's canonical URL (``<link rel="canonical">`` or
  ``og:url``) when it names one, else the file; the date from ``article:modified_time`` or the
  first ``<time datetime>``, else the file's modification time.
* Markdown (``.md``, ``.markdown``): kept as written; YAML front matter, when there is one, gives
  title, lang, tags, updated and questions; else the first ``#`` heading is the title. Headings are
  shifted so the body's highest is ``##``.
* Plain text (``.txt``): the first line is the title; a short line ending in "?" that opens a
  paragraph is an FAQ question and becomes a ``##`` heading (and an example question); lines that
  start with "1." or "-" stay list items; everything else is escaped, so it reads as written.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import frontmatter
import yaml

from helpdesk.kbimport.common import labels_of, modified_date, read_text
from helpdesk.kbimport.htmltext import escape_line_start, escape_text, extract_page, is_question, parse_html
from helpdesk.kbimport.model import SourceArticle, SourceError, parse_date

HTML_SUFFIXES = (".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown")
TEXT_SUFFIXES = (".txt",)
_HEADING = re.compile(r"^(#{1,6})(\s+.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^(\s*)(\d+[.)]|[-*•])\s+(.*)$")


def read_html(path: Path) -> list[SourceArticle]:
    text = read_text(path, html=True)
    title = path.stem.replace("-", " ").replace("_", " ")
    return [page_article(text, path.name, str(path), title, modified_date(path))]


def page_article(
    text: str, origin: str, source: str, fallback_title: str, fallback_date: dt.date | None, url: str | None = None
) -> SourceArticle:
    """A page's article: its main content, title, language, date and keywords. ``url`` is where the
    page was fetched from (then the source), else its canonical URL is the source when it names one,
    else ``source``."""
    root = parse_html(text)
    meta = {
        (n.attrs.get("property") or n.attrs.get("name") or "").lower(): n.attrs.get("content", "")
        for n in root.find_all(lambda n: n.tag == "meta")
    }
    canonical = [
        n.attrs.get("href", "")
        for n in root.find_all(lambda n: n.tag == "link" and n.attrs.get("rel", "").lower() == "canonical")
    ]
    if url is None:
        url = next((u for u in [*canonical, meta.get("og:url", "")] if u.startswith(("http://", "https://"))), None)
    times = root.find_all(lambda n: n.tag == "time" and bool(n.attrs.get("datetime")))
    updated = parse_date(meta.get("article:modified_time")) or (
        parse_date(times[0].attrs["datetime"]) if times else None
    )
    page = extract_page(text, url)
    title = page.title or fallback_title
    questions = page.questions
    if is_question(title):
        questions = (title, *[q for q in questions if q != title])
    return SourceArticle(
        title=title,
        markdown=page.markdown,
        source=url or source,
        origin=origin,
        locale=page.lang or meta.get("og:locale") or None,
        updated=updated or fallback_date,
        labels=labels_of(meta.get("keywords", "")),
        questions=questions,
    )


def _shift_headings(body: str) -> tuple[str, list[str]]:
    """Headings so that the highest is ``##``, outside code fences; and the headings that are questions."""
    lines = body.splitlines()
    in_fence = False
    levels = []
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (found := _HEADING.match(line)):
            levels.append(len(found.group(1)))
    shift = 2 - min(levels) if levels else 0
    out, questions = [], []
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (found := _HEADING.match(line)):
            level = min(6, max(2, len(found.group(1)) + shift))
            line = "#" * level + found.group(2)
            if is_question(found.group(2).strip()):
                questions.append(found.group(2).strip())
        out.append(line)
    return "\n".join(out), questions


def read_markdown(path: Path) -> list[SourceArticle]:
    text = read_text(path)
    meta: dict = {}
    body = text
    if text.startswith("---"):
        try:
            post = frontmatter.loads(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise SourceError(path, f"malformed front matter: {problem}", mark.line + 1 if mark else 1) from None
        meta = post.metadata if isinstance(post.metadata, dict) else {}
        body = post.content
    title = str(meta.get("title") or "").strip()
    if not title:
        first = re.search(r"^#\s+(.+?)\s*#*\s*$", body, re.MULTILINE)
        if first and not body[: first.start()].strip():
            title = first.group(1)
            body = body[first.end() :]
        else:
            title = path.stem.replace("-", " ").replace("_", " ")
    body, questions = _shift_headings(body.strip())
    own = meta.get("questions")
    if isinstance(own, list):
        questions = [str(q).strip() for q in own if isinstance(q, str) and q.strip()] + questions
    if is_question(title):
        questions.insert(0, title)
    updated = meta.get("updated") or meta.get("date")
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    elif not isinstance(updated, dt.date):
        updated = parse_date(updated)
    source = meta.get("source") or meta.get("url")
    return [
        SourceArticle(
            title=title,
            markdown=body,
            source=str(source) if isinstance(source, str) and source.strip() else str(path),
            origin=path.name,
            locale=str(meta.get("lang") or meta.get("language") or meta.get("locale") or "") or None,
            updated=updated or modified_date(path),
            labels=labels_of(meta.get("tags")),
            section=str(meta["category"]) if isinstance(meta.get("category"), str) else None,
            questions=tuple(dict.fromkeys(questions)),
        )
    ]


def read_text_file(path: Path) -> list[SourceArticle]:
    text = read_text(path).replace("\r\n", "\n")
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    if not paragraphs:
        return [SourceArticle("", "", str(path), path.name, updated=modified_date(path))]
    first, *rest_of_first = paragraphs[0].split("\n")
    title = " ".join(first.split())
    if rest_of_first:
        paragraphs[0] = "\n".join(rest_of_first)
    else:
        paragraphs = paragraphs[1:]
    blocks: list[str] = []
    questions: list[str] = [title] if is_question(title) else []
    for paragraph in paragraphs:
        lines = [line.rstrip() for line in paragraph.split("\n") if line.strip()]
        head = " ".join(lines[0].split())
        if is_question(head) and len(head) <= 150 and not _LIST_ITEM.match(lines[0]):
            questions.append(head)
            blocks.append("## " + escape_text(head))
            lines = lines[1:]
            if not lines:
                continue
        rendered = []
        for line in lines:
            item = _LIST_ITEM.match(line)
            if item:
                marker = "-" if item.group(2) in {"*", "•"} else item.group(2)
                rendered.append(f"{item.group(1)}{marker} {escape_text(' '.join(item.group(3).split()))}")
            else:
                rendered.append(escape_line_start(escape_text(" ".join(line.split()))))
        listed = all(_LIST_ITEM.match(line) for line in lines)
        blocks.append("\n".join(rendered) if listed else "  \n".join(rendered))
    return [
        SourceArticle(
            title=title,
            markdown="\n\n".join(blocks),
            source=str(path),
            origin=path.name,
            updated=modified_date(path),
            questions=tuple(dict.fromkeys(questions)),
        )
    ]
