"""Which language a customer writes in.

Uses lingua (rule- and n-gram based, models bundled, accurate on the short
texts of a chat). Text without letters (empty, emoji, numbers) has no
language; callers then keep the conversation's language or the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder


@dataclass(frozen=True)
class DetectedLanguage:
    lang: str | None
    confidence: float


@cache
def _detector(languages: tuple[str, ...]) -> LanguageDetector:
    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    return LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()


def detect_language(text: str, languages: tuple[str, ...]) -> DetectedLanguage:
    if len(languages) == 1:
        return DetectedLanguage(languages[0], 1.0)
    if not any(ch.isalpha() for ch in text):
        return DetectedLanguage(None, 0.0)
    values = _detector(tuple(sorted(languages))).compute_language_confidence_values(text[:1000])
    if not values:
        return DetectedLanguage(None, 0.0)
    best = values[0]
    return DetectedLanguage(best.language.iso_code_639_1.name.lower(), float(best.value))


# Below this lingua confidence a query of one or two words is treated as having
# no language ("Router LED", "Outlook 0x800"): words shared by both languages.
MIN_SIGNAL_CONFIDENCE = 0.75


def placeable_words(text: str) -> list[str]:
    """The words of ``text`` a detector could place: not codes, numbers, host names and the like
    ("OFF-3022", "imap.example.net 993" have none)."""
    from search_api.search.lexical import is_code_like, word_tokens

    return [t for t in word_tokens(text) if not is_code_like(t) and any(ch.isalpha() for ch in t)]


@dataclass(frozen=True)
class QueryLanguage:
    """What a search query's words say about its language: ``lang`` as detected (None without
    placeable words), ``sure`` when that is enough to search that language only, ``bare`` when
    the query has no placeable words at all (a code, a host name)."""

    lang: str | None
    sure: bool
    bare: bool


def query_language(text: str, languages: tuple[str, ...]) -> QueryLanguage:
    """One detection per query. A query of one or two placeable words is judged by those words
    alone ("Outlook 0x800" by "Outlook"): codes and numbers tell nothing about the language, and
    a word or two shared by both languages ("Router LED") is rarely placed with
    ``MIN_SIGNAL_CONFIDENCE``; such a query is then searched in every language, not guessed."""
    words = placeable_words(text)
    if not words:
        return QueryLanguage(None, False, True)
    detected = detect_language(text if len(words) > 2 else " ".join(words), languages)
    return QueryLanguage(detected.lang, detected.confidence >= MIN_SIGNAL_CONFIDENCE, False)
