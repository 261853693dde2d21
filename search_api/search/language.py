"""Which language a customer writes in.

Uses lingua (rule- and n-gram based, models bundled, accurate on the short
texts of a chat). Text without letters (empty, emoji, numbers) has no
language; callers then keep the conversation's language or the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder


@dataclass(frozen=True)
class DetectedLanguage:
    lang: str | None
    confidence: float


@lru_cache(maxsize=None)
def _detector(languages: tuple[str, ...]):
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


def has_language_signal(text: str, languages: tuple[str, ...]) -> bool:
    """False for a query without placeable words, or a word or two no detector can place:
    such a query is searched in every language instead of a guessed one."""
    words = placeable_words(text)
    if not words:
        return False
    if len(words) > 2:
        return True
    return detect_language(" ".join(words), languages).confidence >= MIN_SIGNAL_CONFIDENCE
