"""Probable duplicates: a draft whose text nearly matches an article (or draft) already there.

The comparison is lexical and cheap: rapidfuzz's ``token_set_ratio`` over the lowercased plain
text (title and body, markdown removed) of texts in the same language. A draft is reported as a
probable duplicate of the best-scoring text when that score is at least ``THRESHOLD`` (85 of 100)
and neither text is more than twice as long as the other (``MIN_LENGTH_RATIO``): token_set_ratio
scores a short text that is a subset of a long one 100, and a three-line note is no duplicate of
a long guide. On the starter KB, two different articles score at most 69; each article rendered to
HTML and converted back scores 99.5 or more.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, utils

from search_api.kb.articles import markdown_to_plain

THRESHOLD = 85.0
MIN_LENGTH_RATIO = 0.5


@dataclass(frozen=True)
class Duplicate:
    path: str
    score: float


def plain(title: str, markdown: str) -> str:
    return utils.default_process(f"{title} {markdown_to_plain(markdown)}")


class DuplicateFinder:
    def __init__(self) -> None:
        self._texts: dict[str, list[tuple[str, str, int]]] = {}  # lang -> (path, processed text, words)

    def add(self, lang: str, path: str, title: str, markdown: str) -> None:
        text = plain(title, markdown)
        self._texts.setdefault(lang, []).append((path, text, len(text.split())))

    def best(self, lang: str, title: str, markdown: str) -> Duplicate | None:
        text = plain(title, markdown)
        length = len(text.split())
        found: Duplicate | None = None
        for path, other, other_length in self._texts.get(lang, ()):
            if (
                not length
                or not other_length
                or min(length, other_length) / max(length, other_length) < MIN_LENGTH_RATIO
            ):
                continue
            score = fuzz.token_set_ratio(text, other, score_cutoff=THRESHOLD)
            if score and (found is None or score > found.score):
                found = Duplicate(path, round(score, 1))
        return found
