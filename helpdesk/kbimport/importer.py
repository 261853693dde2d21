"""From source articles to drafts: language, guesses, example questions, duplicates, slugs, files.

Everything is decided before anything is written: each source article becomes a planned draft
(its file, its text, checked by the KB's own parser) or a skip with the reason, and only then are
the files created, each with ``open("x")`` so that no article or draft is ever overwritten. A
failure while writing removes the files this run wrote, so an import is all or nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from markdown.extensions.toc import slugify

from helpdesk.kbimport.duplicates import DuplicateFinder
from helpdesk.kbimport.guess import Vocabulary, detect_language, guess_topic, lang_of_locale, tags_of
from helpdesk.kbimport.model import SourceArticle, Unread
from search_api.kb.articles import MAX_ARTICLE_BYTES, ArticleError, load_articles, parse_article

MAX_SLUG = 70
MAX_QUESTIONS = 10
# The first line of an imported draft's front matter: what the author has to do before publishing.
IMPORT_NOTE = "# Imported by helpdesk import from "


@dataclass
class Outcome:
    """One source article in the report: imported (with its draft) or skipped (with the reason)."""

    origin: str
    title: str
    status: str  # "imported" or "skipped"
    reason: str = ""
    draft: str | None = None
    lang: str | None = None
    category: str | None = None
    product: str | None = None
    guessed: list[str] = field(default_factory=list)
    questions: int = 0
    duplicate_of: str | None = None
    duplicate_score: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "title": self.title,
            "status": self.status,
            "reason": self.reason or None,
            "draft": self.draft,
            "lang": self.lang,
            "category": self.category,
            "product": self.product,
            "guessed": self.guessed,
            "questions": self.questions,
            "duplicate_of": self.duplicate_of,
            "duplicate_score": self.duplicate_score,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class ImportOptions:
    articles_dir: Path
    drafts_dir: Path
    languages: tuple[str, ...]
    vocabulary: Vocabulary
    lang: str | None = None  # the language of sources that do not say theirs (instead of detecting it)
    include_unpublished: bool = False
    skip_duplicates: bool = False
    dry_run: bool = False
    today: dt.date = field(default_factory=dt.date.today)


@dataclass
class ImportReport:
    outcomes: list[Outcome]
    drafts_dir: Path
    dry_run: bool

    @property
    def imported(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "imported"]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drafts_dir": str(self.drafts_dir),
            "dry_run": self.dry_run,
            "imported": len(self.imported),
            "skipped": len(self.skipped),
            "probable_duplicates": sum(1 for o in self.imported if o.duplicate_of),
            "articles": [o.to_dict() for o in self.outcomes],
        }

    def table(self) -> str:
        rows = [("STATUS", "DRAFT / REASON", "SOURCE", "NOTES")]
        for o in self.outcomes:
            notes = list(o.notes)
            if o.status == "imported":
                topic = "/".join(x for x in (o.category, o.product) if x) or "no category"
                notes.insert(0, f"{o.lang}, {topic}" + (f" (guessed: {', '.join(o.guessed)})" if o.guessed else ""))
                questions = f"{o.questions} example question" + ("s" if o.questions > 1 else "")
                notes.insert(1, questions if o.questions else "no example questions yet")
                if o.duplicate_of:
                    notes.append(f"probable duplicate of {_shown(o.duplicate_of)} ({o.duplicate_score:.0f})")
            rows.append((o.status, _shown(o.draft) if o.draft else o.reason, _shown(o.origin), "; ".join(notes)))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(r)).rstrip() for r in rows]
        verb = "would be imported" if self.dry_run else "imported"
        duplicates = sum(1 for o in self.imported if o.duplicate_of)
        lines.append(
            f"{len(self.imported)} {verb} to {_shown(str(self.drafts_dir))}, {len(self.skipped)} skipped, "
            f"{duplicates} probable duplicate{'' if duplicates == 1 else 's'}"
        )
        return "\n".join(lines)


def _shown(path: str) -> str:
    """A path in the report's table: relative to the current directory when it is below it."""
    prefix = f"{Path.cwd()}{os.sep}"
    return path[len(prefix) :] if path.startswith(prefix) else path


class DraftsDirError(ValueError):
    pass


def _sources_in(folder: Path) -> dict[str, str]:
    """source -> file of every article or draft below ``folder`` that names its source."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*/*.md")):
        try:
            meta = frontmatter.loads(path.read_text(encoding="utf-8")).metadata
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
            continue
        source = meta.get("source") if isinstance(meta, dict) else None
        if isinstance(source, str) and source.strip():
            found.setdefault(source.strip(), str(path))
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_draft(
    article_id: str, lang: str, source: SourceArticle, guess_fields: dict[str, Any], guessed: list[str], today: dt.date
) -> str:
    meta: dict[str, Any] = {
        "id": article_id,
        "title": _one_line(source.title),
        "lang": lang,
        "tags": guess_fields["tags"],
        "updated": source.updated or today,
        "audience": source.audience,
    }
    if guess_fields.get("product"):
        meta["product"] = guess_fields["product"]
    if guess_fields.get("category"):
        meta["category"] = guess_fields["category"]
    if guessed:
        meta["guessed"] = guessed
    meta["source"] = _one_line(source.source)
    meta["questions"] = list(source.questions[:MAX_QUESTIONS])
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    note = (
        f"{IMPORT_NOTE}{_one_line(source.origin)}: check the text, confirm the fields under `guessed` and "
        f"delete that line, write example questions, then move this file to kb/articles/{lang}/."
    )
    return f"---\n{note}\n{front}---\n{source.markdown.strip()}\n"


def plan_import(
    sources: list[SourceArticle], unread: list[Unread], options: ImportOptions
) -> tuple[ImportReport, dict[Path, str]]:
    """The report and the files to write (path -> text); nothing is written here."""
    drafts_dir, articles_dir = options.drafts_dir.resolve(), options.articles_dir.resolve()
    if drafts_dir == articles_dir or drafts_dir.is_relative_to(articles_dir):
        raise DraftsDirError(
            f"the drafts directory {drafts_dir} is inside the articles directory {articles_dir}: drafts would be "
            "indexed for customers; give --out next to it"
        )
    published = load_articles(articles_dir, options.languages).articles if articles_dir.is_dir() else []
    existing_drafts = load_articles(drafts_dir).articles if drafts_dir.is_dir() else []
    taken_ids = {a.id: str(articles_dir / a.path) for a in published}
    taken_ids.update({d.id: str(drafts_dir / d.path) for d in existing_drafts})
    known_sources = {**_sources_in(drafts_dir), **_sources_in(articles_dir)}
    finder = DuplicateFinder()
    for article in published:
        finder.add(article.lang, str(articles_dir / article.path), article.title, article.body)
    for article in existing_drafts:
        finder.add(article.lang, str(drafts_dir / article.path), article.title, article.body)

    outcomes: list[Outcome] = [Outcome(origin=u.path, title="", status="skipped", reason=u.reason) for u in unread]
    planned: dict[Path, str] = {}
    with tempfile.TemporaryDirectory(prefix="kbimport-") as scratch:
        for source in sources:
            outcome = _plan_one(source, options, drafts_dir, taken_ids, known_sources, finder, planned, Path(scratch))
            outcomes.append(outcome)
    return ImportReport(outcomes, drafts_dir, options.dry_run), planned


def _skip(source: SourceArticle, reason: str, lang: str | None = None) -> Outcome:
    return Outcome(origin=source.origin, title=source.title, status="skipped", reason=reason, lang=lang)


def _plan_one(
    source: SourceArticle,
    options: ImportOptions,
    drafts_dir: Path,
    taken_ids: dict[str, str],
    known_sources: dict[str, str],
    finder: DuplicateFinder,
    planned: dict[Path, str],
    scratch: Path,
) -> Outcome:
    if source.skip_reason and not options.include_unpublished:
        return _skip(source, f"{source.skip_reason} (--include-unpublished imports it)")
    if not source.title.strip():
        return _skip(source, "no title")
    if not source.markdown.strip():
        return _skip(source, "no body text")
    if source.source in known_sources:
        return _skip(source, f"already imported as {known_sources[source.source]}")
    guessed: list[str] = []
    lang = lang_of_locale(source.locale) or options.lang
    if lang is None:
        lang = detect_language(f"{source.title}\n{source.markdown}", options.languages)
        if lang is None:
            return _skip(source, "the language cannot be detected: give --lang")
        guessed.append("lang")
    if lang not in options.languages:
        how = "detected" if "lang" in guessed else "its locale is"
        return _skip(source, f"{how} {lang!r}, not a served language ({', '.join(options.languages)})", lang)
    context = " ".join([source.section or "", *source.labels])
    guess = guess_topic(options.vocabulary, source.title, context, source.markdown)
    tags, tags_guessed = tags_of(source.labels, guess.matched)
    guessed += [name for name, value in (("category", guess.category), ("product", guess.product)) if value]
    if tags_guessed:
        guessed.append("tags")
    notes: list[str] = []
    slug = slugify(source.title, "-")[:MAX_SLUG].strip("-") or "imported"
    folder = drafts_dir / lang
    article_id = f"{lang}-{slug}"
    n = 1
    while article_id in taken_ids or (folder / f"{article_id[len(lang) + 1 :]}.md").exists():
        if n == 1:
            notes.append(f"{lang}-{slug} is taken by {taken_ids.get(article_id, folder / (slug + '.md'))}")
        n += 1
        article_id = f"{lang}-{slug}-{n}"
    path = folder / f"{article_id[len(lang) + 1 :]}.md"
    text = render_draft(
        article_id,
        lang,
        source,
        {"tags": tags, "category": guess.category, "product": guess.product},
        guessed,
        options.today,
    )
    if len(text.encode("utf-8")) > MAX_ARTICLE_BYTES:
        return _skip(source, f"larger than an article may be ({MAX_ARTICLE_BYTES // 1024} KiB)", lang)
    check = scratch / lang / path.name
    check.parent.mkdir(parents=True, exist_ok=True)
    check.write_text(text, encoding="utf-8")
    try:
        parse_article(check, scratch, options.languages)
    except ArticleError as exc:
        return _skip(source, f"would not be a valid article: {exc.message}", lang)
    finally:
        check.unlink()
    duplicate = finder.best(lang, source.title, source.markdown)
    if duplicate and options.skip_duplicates:
        return _skip(source, f"probable duplicate of {duplicate.path} ({duplicate.score:.0f})", lang)
    taken_ids[article_id] = str(path)
    known_sources[source.source] = str(path)
    finder.add(lang, str(path), source.title, source.markdown)
    planned[path] = text
    return Outcome(
        origin=source.origin,
        title=source.title,
        status="imported",
        draft=str(path),
        lang=lang,
        category=guess.category,
        product=guess.product,
        guessed=guessed,
        questions=len(source.questions[:MAX_QUESTIONS]),
        duplicate_of=duplicate.path if duplicate else None,
        duplicate_score=duplicate.score if duplicate else None,
        notes=notes,
    )


def write_drafts(planned: dict[Path, str]) -> None:
    """Create every planned file, never replacing one; on any failure remove what this call wrote."""
    written: list[Path] = []
    try:
        for path, text in planned.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as f:
                written.append(path)
                f.write(text)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def run_import(sources: list[SourceArticle], unread: list[Unread], options: ImportOptions) -> ImportReport:
    report, planned = plan_import(sources, unread, options)
    if not options.dry_run:
        write_drafts(planned)
    return report
