"""'Draft an article from this ticket': a resolved ticket becomes a knowledge-base draft.

An agent who just solved something the knowledge base did not answer has the
solution in the resolution note and the customer's words in the ticket. The draft
is a markdown file in the KB's own format (search_api/kb/articles.py) under
``<drafts_dir>/<lang>/<slug>.md``: the title and numbered steps from the resolution
note, the customer's description as the lead, the customer's own messages as example
questions, the ticket's category and product. Every text is masked like unanswered
searches (helpdesk/privacy/masking.py: authors need the question, not the customer),
the ticket's own contact name, address and phone number wherever they stand (a
signature, a greeting), and a customer message that needed masking is left out of the
questions.
``helpdesk lint`` checks drafts, ``helpdesk gaps`` links them to the unanswered topic
they cover; drafts are never indexed: an author moves the file into
``kb/articles/<lang>/`` when it is right. Erasing a customer or purging their tickets
deletes the drafts written from those tickets (helpdesk/privacy/files.py).

Customer and agent text is written as inert markdown: HTML-special characters become
entities and markdown's link, image, code and emphasis characters are escaped, so
nothing typed into a chat can become markup on an article page later.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown.extensions.toc import slugify

from helpdesk.feedback.gaps import normalise_query
from helpdesk.feedback.store import clean_query
from helpdesk.handoffs.errors import StoreError
from helpdesk.i18n import msg, term
from helpdesk.privacy.masking import hid_something, mask
from search_api.kb.articles import Article, ArticleError, LoadResult, load_articles, parse_article

MAX_TITLE = 100
MAX_QUESTIONS = 6
MIN_QUESTION_WORDS = 3
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}!|~])")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9])")
# The first line of a draft's front matter names the ticket it was written from: erasing or purging
# that ticket's customer finds the draft by it (helpdesk/privacy/files.py).
FROM_TICKET = "# Draft from ticket "
_FROM_TICKET_LINE = re.compile(r"^" + re.escape(FROM_TICKET) + r"(\S+?):", re.MULTILINE)


class DraftError(StoreError):
    """The ticket cannot be drafted from (not resolved, no resolution note): a 409 for the agent."""


@dataclass(frozen=True)
class Draft:
    path: Path  # relative to the drafts directory: <lang>/<slug>.md
    article_id: str
    text: str


def inline_text(text: str) -> str:
    """One line of inert markdown: entities for & < >, backslashes before markdown's active characters."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # no numbered list at the start of a line
    return re.sub(r"^([#=+-])", r"\\\1", text)  # no heading, rule or list either


def steps_of(note: str) -> list[str]:
    """The resolution note as steps: its lines (list markers dropped), or its sentences if it is one line."""
    lines = [_LIST_MARKER.sub("", line).strip() for line in note.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1:
        lines = [s.strip() for s in _SENTENCE_END.split(lines[0]) if s.strip()]
    return lines


def title_of(note: str) -> str:
    first = steps_of(note)[0].rstrip(" .")
    if len(first) <= MAX_TITLE:
        return first
    return first[:MAX_TITLE].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def customer_questions(view: dict[str, Any]) -> list[str]:
    """The customer's own words before the handoff: the description and their messages, masked, one line
    each, without repeats; messages with contact details or fewer than 3 words are left out."""
    created = view.get("created_at")
    contact = view["summary"]["contact"]
    texts = [view["summary"]["description"]]
    texts += [
        m["text"]
        for m in view.get("transcript", ())
        if m["sender"] == "customer" and (m["timestamp"] is None or created is None or m["timestamp"] <= created)
    ]
    questions: list[str] = []
    seen: set[str] = set()
    for text in texts:
        line = " ".join(clean_query(mask(text or "", contact)).split())
        key = normalise_query(line)
        if len(key.split()) < MIN_QUESTION_WORDS or hid_something(line) or key in seen:
            continue
        seen.add(key)
        questions.append(line)
    return questions[:MAX_QUESTIONS]


def resolution_of(view: dict[str, Any]) -> str:
    """The resolution note as a draft uses it: masked, the customer's own name wherever it stands."""
    return mask((view.get("resolution") or "").strip(), view["summary"]["contact"])


def render_draft(view: dict[str, Any], article_id: str, today: dt.date) -> str:
    note = resolution_of(view)
    summary = view["summary"]
    meta: dict[str, Any] = {
        "id": article_id,
        "title": title_of(note),
        "lang": view["language"],
        "tags": [summary["category"]],
        "updated": today.isoformat(),
        "audience": "public",
    }
    if summary.get("product"):
        meta["product"] = summary["product"]
    meta["category"] = summary["category"]
    meta["questions"] = customer_questions(view)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    steps = "\n".join(f"{i}. {inline_text(step)}" for i, step in enumerate(steps_of(note), start=1))
    return (
        f"---\n{FROM_TICKET}{view['ticket_id']}: check every line, add example questions until lint is "
        f"content, then move this file to kb/articles/{view['language']}/.\n{front}---\n"
        f"{inline_text(mask(summary['description'], summary['contact']))}\n\n## Steps\n{steps}\n"
    )


def write_draft(
    view: dict[str, Any], drafts_dir: Path, articles_dir: Path, taken_ids: Iterable[str], today: dt.date | None = None
) -> Draft:
    """Write the draft of a resolved ticket; a new file each time (``-2``, ``-3``... when the slug is taken)."""
    if view["status"] != "resolved" or not (view.get("resolution") or "").strip():
        raise DraftError(
            msg(
                "%(ticket)s is %(status)s: only a resolved ticket with a resolution note can become an article draft",
                ticket=view["ticket_id"],
                status=term("status", view["status"]),
            )
        )
    drafts_dir, articles_dir = drafts_dir.resolve(), articles_dir.resolve()
    if drafts_dir == articles_dir or drafts_dir.is_relative_to(articles_dir):
        raise DraftError(
            msg(
                "the drafts directory %(folder)s is inside the articles directory: drafts would be indexed for "
                "customers; set HELPDESK_DRAFTS_DIR next to it",
                folder=str(drafts_dir),
            )
        )
    lang = view["language"]
    slug = slugify(title_of(resolution_of(view)), "-")[:70].strip("-") or "draft"
    taken = set(taken_ids) | {_front_id(p) for p in drafts_dir.glob("*/*.md")}
    folder = drafts_dir / lang
    candidates = (f"{lang}-{slug}" + ("" if n == 1 else f"-{n}") for n in range(1, 1000))
    article_id = next(
        candidate
        for candidate in candidates
        if candidate not in taken and not (folder / f"{candidate[len(lang) + 1 :]}.md").exists()
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article_id[len(lang) + 1 :]}.md"
    text = render_draft(view, article_id, today or dt.date.today())
    with path.open("x", encoding="utf-8") as f:  # never overwrite an author's edited draft
        f.write(text)
    try:
        parse_article(path, drafts_dir)
    except ArticleError as exc:  # the writer's own bug: no half-valid draft is left behind
        path.unlink()
        raise DraftError(msg("the draft would not be a valid article: %(problem)s", problem=str(exc))) from None
    return Draft(path.relative_to(drafts_dir), article_id, text)


def ticket_of(path: Path) -> str | None:
    """The ticket a draft was written from, as its first front-matter line names it; None for a file
    that does not name one (an author removed the line, or wrote the file by hand)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            head = f.read(400)
    except OSError:
        return None
    found = _FROM_TICKET_LINE.search(head)
    return found.group(1) if found else None


def _front_id(path: Path) -> str:
    try:
        return parse_article(path).id
    except (ArticleError, OSError):
        return path.stem


def load_drafts(drafts_dir: Path, languages: tuple[str, ...]) -> LoadResult:
    """Every draft (broken ones as errors, like articles); none when the folder does not exist yet."""
    if not drafts_dir.is_dir():
        return LoadResult([], [])
    return load_articles(drafts_dir, languages)


def draft_summary(article: Article, drafts_dir: Path) -> dict[str, str]:
    """How reports name a draft: its id, title and file (as the author finds it)."""
    return {"id": article.id, "title": article.title, "path": str(drafts_dir / article.path)}
