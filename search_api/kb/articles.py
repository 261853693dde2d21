"""Parse and validate knowledge-base articles.

One article per file, ``<lang>/<slug>.md``: YAML front matter, then markdown.
Headings split the body into sections; search indexes every section and every
example question and links to the best section. Every problem is reported as
an ``ArticleError`` with the file and the line, so ``helpdesk lint`` can name
it and ``helpdesk build`` can skip the article while the rest is indexed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from markdown.extensions.toc import slugify, unique

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
AUDIENCES = ("public", "internal")
# The fields ``helpdesk import`` may have guessed (front matter ``guessed: [category, product]``): an
# author confirms them and deletes the list; ``helpdesk lint`` accepts it in drafts, not in articles.
GUESSABLE_FIELDS = ("lang", "category", "product", "tags")
REQUIRED_FIELDS = ("id", "title", "lang", "tags", "updated")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
MAX_ARTICLE_BYTES = 512 * 1024


@dataclass(frozen=True)
class ArticleError(Exception):
    """A problem in one article file, with the 1-based line it is on."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Section:
    """A heading and the markdown below it, up to the next heading.

    The text before the first heading is the article's lead section; its
    ``heading`` is None and it links to the article itself.
    """

    heading: str | None
    anchor: str | None
    markdown: str

    @cached_property  # works on a frozen dataclass: it writes the instance __dict__ directly
    def plain_text(self) -> str:
        return markdown_to_plain(self.markdown)


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    lang: str
    tags: tuple[str, ...]
    updated: str
    body: str
    path: str
    content_hash: str
    audience: str = "public"
    product: str | None = None
    category: str | None = None
    questions: tuple[str, ...] = ()
    sections: tuple[Section, ...] = field(default_factory=tuple)
    guessed: tuple[str, ...] = ()  # an imported draft's guessed fields; never indexed (lint keeps it from articles)
    # "article", or "procedure": the search entry of a procedure (kb/procedures), found like an article
    # and run by the desk, never shown as a page.
    kind: str = "article"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "lang": self.lang,
            "tags": list(self.tags),
            "updated": self.updated,
            "audience": self.audience,
            "product": self.product,
            "category": self.category,
            "questions": list(self.questions),
            "body": self.body,
            "path": self.path,
            "content_hash": self.content_hash,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        return cls(
            id=data["id"],
            title=data["title"],
            lang=data["lang"],
            tags=tuple(data["tags"]),
            updated=data["updated"],
            body=data["body"],
            path=data["path"],
            content_hash=data["content_hash"],
            audience=data.get("audience", "public"),
            product=data.get("product"),
            category=data.get("category"),
            questions=tuple(data.get("questions", ())),
            sections=split_sections(data["body"]),
            kind=data.get("kind", "article"),
        )


# Inline markdown, for plain text. Emphasis and code markers are removed, never
# replaced by a space: "**Internet**-LED" is "Internet-LED", not "Internet -LED".
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|code|del|em|i|ins|kbd|mark|s|small|span|strong|sub|sup|u)\b[^>]{0,200}>", re.I
)
_HTML_TAG = re.compile(r"<!--.*?-->|<(script|style)\b.*?(?:</\1\s*>|$)|</?[A-Za-z][^>]{0,200}>", re.S | re.I)
_EMPHASIS = (
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(~~)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(?<![\w*\\])(\*)(?=[^\s*])(.+?)(?<=[^\s*\\])\1(?![\w*])"),
    re.compile(r"(?<![\w\\])(_)(?=[^\s_])(.+?)(?<=[^\s_])\1(?!\w)"),  # st_visitor stays whole
)
_CODE_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
# Block markdown, line by line.
_BLOCK_PREFIX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?)")
_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-+*])\s+")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_THEMATIC_BREAK = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_SPACES = re.compile(r"\s+")


# A character every inline markup above needs (code, link, image, tag, emphasis, escape, entity):
# prose without one is already plain, and is most of a KB.
_INLINE_MARKUP = re.compile(r"[`\[\]<>*_~\\&]")


def inline_plain(text: str) -> str:
    """Inline markdown (one line or a paragraph) to plain text: markup removed, words kept apart
    exactly as written, code spans kept verbatim (also inside bold: ``**before `</body>`**``)."""
    if _INLINE_MARKUP.search(text) is None:
        return text
    codes: list[str] = []

    def keep(match: re.Match[str]) -> str:
        codes.append(match.group(2).strip() or match.group(2))
        return f"\x00{len(codes) - 1}\x00"

    text = _inline_plain_prose(CODE_SPAN.sub(keep, text))
    return _CODE_PLACEHOLDER.sub(lambda m: codes[int(m.group(1))], text)


def _inline_plain_prose(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = AUTOLINK.sub(r"\1", text)
    text = _INLINE_TAG.sub("", text)
    text = _HTML_TAG.sub(" ", text)
    for pattern in _EMPHASIS:
        previous = None
        while previous != text:  # nested emphasis: **bold with *italic***
            previous, text = text, pattern.sub(r"\2", text)
    return html.unescape(_ESCAPED.sub(r"\1", text))  # "&amp;" is "&" for a reader


def table_cells(line: str) -> list[str]:
    """The cells of one markdown table row (``| a | b |``), stripped; pipes in code spans kept."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells: list[str] = []
    current: list[str] = []
    in_code = False
    for i, char in enumerate(body):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code and (i == 0 or body[i - 1] != "\\"):
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip())
    return cells


def _strip_prefix(pattern: re.Pattern[str], line: str) -> str:
    """``line`` without what the anchored ``pattern`` matches at its start (a match, not a sub:
    this runs for every line of a KB)."""
    found = pattern.match(line)
    return line[found.end() :] if found else line


def markdown_to_plain(text: str) -> str:
    """Markdown to one line of plain text, for embedding, BM25 and snippets.

    Headings, quotes and list markers are dropped, table rows become their cells
    joined by " – " (the rule row disappears), fenced code keeps its content.
    """
    lines = []
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            lines.append(line.strip())
            continue
        if TABLE_RULE.match(line) or _THEMATIC_BREAK.match(line):
            continue
        line = _strip_prefix(_LIST_MARKER, _strip_prefix(_BLOCK_PREFIX, line))
        if line.lstrip().startswith("|"):
            line = " – ".join(inline_plain(cell) for cell in table_cells(line) if cell)
        else:
            line = inline_plain(line)
        lines.append(line)
    return _SPACES.sub(" ", " ".join(lines)).strip()


def split_sections(body: str) -> tuple[Section, ...]:
    """Split markdown at headings (outside code fences).

    Anchors are made exactly as the ``toc`` extension of ``markdown`` makes the
    heading ids of the rendered page, so ``/articles/<id>#<anchor>`` lands on
    the section.
    """
    sections: list[Section] = []
    used_ids: set[str] = set()
    heading: str | None = None
    anchor: str | None = None
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text or heading is not None:
            sections.append(Section(heading, anchor, text))

    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            flush()
            heading = match.group(2).strip()
            anchor = unique(slugify(heading, "-"), used_ids)
            lines = []
        else:
            lines.append(line)
    flush()
    return tuple(s for s in sections if s.markdown or s.heading)


def field_line(raw: str, key: str) -> int:
    """1-based file line of a front-matter key, or 1 when it is absent."""
    for number, line in enumerate(raw.splitlines()[1:], start=2):
        if line.strip() == "---":
            break
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
    return 1


def _as_str_list(value: object, path: str, line: int, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list):
        raise ArticleError(path, line, f"'{name}' must be a list of strings")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ArticleError(path, line, f"'{name}' must contain only non-empty strings")
    return tuple(item.strip() for item in value)


def read_kb_file(path: Path, shown: str, limit: int) -> tuple[bytes, str]:
    """The bytes and text of a knowledge-base file; ArticleError when it is larger than ``limit``
    or not UTF-8 (``shown``: how the error names the file)."""
    raw_bytes = path.read_bytes()
    if len(raw_bytes) > limit:
        raise ArticleError(shown, 1, f"file is larger than {limit // 1024} KiB")
    try:
        return raw_bytes, raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw_bytes[: exc.start].count(b"\n") + 1
        raise ArticleError(shown, line, f"not valid UTF-8 (byte {exc.start})") from None


def parse_article(path: Path, root: Path | None = None, languages: tuple[str, ...] | None = None) -> Article:
    """Parse one article file, or raise ``ArticleError`` naming file and line."""
    shown = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    raw_bytes, raw = read_kb_file(path, shown, MAX_ARTICLE_BYTES)
    if not raw.startswith("---"):
        raise ArticleError(shown, 1, "missing YAML front matter: the file must start with '---'")
    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as exc:
        # context_mark is where the broken construct began (an unclosed bracket or
        # quote); problem_mark is where the parser noticed, often a later line.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        # python-frontmatter hands YAML the text from the opening "---" line on,
        # so a 0-based mark line + 1 is the 1-based line in the file.
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ArticleError(shown, line, f"malformed front matter: {problem}") from None
    meta = post.metadata
    if not isinstance(meta, dict) or not meta:
        raise ArticleError(shown, 1, "front matter is empty or not a mapping")

    for name in REQUIRED_FIELDS:
        if name not in meta or meta[name] in (None, "", []):
            raise ArticleError(shown, field_line(raw, name), f"missing required field '{name}'")

    article_id = meta["id"]
    if not isinstance(article_id, str) or not ID_PATTERN.match(article_id):
        raise ArticleError(shown, field_line(raw, "id"), "'id' must be 2-100 characters of a-z, 0-9, '-' and '_'")
    title = meta["title"]
    if not isinstance(title, str) or not title.strip():
        raise ArticleError(shown, field_line(raw, "title"), "'title' must be a non-empty string")
    lang = meta["lang"]
    if not isinstance(lang, str) or (languages and lang not in languages):
        allowed = ", ".join(languages or ())
        raise ArticleError(shown, field_line(raw, "lang"), f"'lang' must be one of: {allowed}")
    folder = path.parent.name
    if languages and folder in languages and folder != lang:
        raise ArticleError(shown, field_line(raw, "lang"), f"'lang: {lang}' but the file is in the '{folder}' folder")
    tags = _as_str_list(meta["tags"], shown, field_line(raw, "tags"), "tags")
    updated = meta["updated"]
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    if isinstance(updated, str):
        try:
            updated = dt.date.fromisoformat(updated)
        except ValueError:
            pass
    if not isinstance(updated, dt.date):
        raise ArticleError(shown, field_line(raw, "updated"), "'updated' must be a date (YYYY-MM-DD)")
    audience = meta.get("audience", "public")
    if audience not in AUDIENCES:
        raise ArticleError(shown, field_line(raw, "audience"), f"'audience' must be one of: {', '.join(AUDIENCES)}")
    strings: dict[str, str | None] = {}
    for name in ("product", "category"):
        value = meta.get(name)
        if value is not None and not isinstance(value, str):
            raise ArticleError(shown, field_line(raw, name), f"'{name}' must be a string")
        strings[name] = value
    questions = _as_str_list(meta.get("questions"), shown, field_line(raw, "questions"), "questions")
    guessed = _as_str_list(meta.get("guessed"), shown, field_line(raw, "guessed"), "guessed")
    unknown = [name for name in guessed if name not in GUESSABLE_FIELDS]
    if unknown:
        raise ArticleError(
            shown,
            field_line(raw, "guessed"),
            f"'guessed' names {', '.join(unknown)}; it lists fields of: {', '.join(GUESSABLE_FIELDS)}",
        )
    body = post.content.strip()
    if not body:
        raise ArticleError(shown, raw.count("\n") + 1, "the article has no body text")

    return Article(
        id=article_id,
        title=title.strip(),
        lang=lang,
        tags=tags,
        updated=updated.isoformat(),
        body=body,
        path=shown,
        content_hash=hashlib.sha256(raw_bytes).hexdigest(),
        audience=audience,
        product=strings["product"],
        category=strings["category"],
        questions=questions,
        sections=split_sections(body),
        guessed=guessed,
    )


def duplicate_id(first_path: dict[str, str], item_id: str, item_path: str) -> str | None:
    """None when ``item_path`` is the first file with ``item_id`` (now recorded in ``first_path``);
    else the problem of the later file."""
    if item_id in first_path:
        return f"duplicate id '{item_id}' (already used by {first_path[item_id]})"
    first_path[item_id] = item_path
    return None


@dataclass
class LoadResult:
    articles: list[Article]
    errors: list[ArticleError]


def load_articles(
    root: Path, languages: tuple[str, ...] | None = None, known: Mapping[str, Article] | None = None
) -> LoadResult:
    """Parse every ``*.md`` below ``root``; broken or duplicate articles become errors.

    A duplicate id keeps the first file (in sorted path order) and reports the
    others, so adding a clashing article never silently replaces a good one.
    ``known`` maps paths to already-parsed articles (the index being served):
    a file whose bytes still have that article's hash is not parsed again,
    which keeps a one-article rebuild of a large KB fast.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"articles directory not found: {root}")
    articles: list[Article] = []
    errors: list[ArticleError] = []
    first_path: dict[str, str] = {}
    for path in sorted(root.rglob("*.md")):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        cached = known.get(str(path.relative_to(root))) if known else None
        try:
            if cached is not None and hashlib.sha256(path.read_bytes()).hexdigest() == cached.content_hash:
                article = cached
            else:
                article = parse_article(path, root, languages)
        except ArticleError as exc:
            errors.append(exc)
            continue
        clash = duplicate_id(first_path, article.id, article.path)
        if clash is not None:
            errors.append(ArticleError(article.path, field_line(path.read_text(encoding="utf-8"), "id"), clash))
            continue
        articles.append(article)
    return LoadResult(articles, errors)
