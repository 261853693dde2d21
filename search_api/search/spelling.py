"""Correct a customer's misspelled words towards the knowledge base's own words.

Why: "mien routr leuchted rot bei internett" shares no term with the red-LED article
(BM25 matches whole stemmed words) and its embedding drifts too. A misspelled word is
corrected only where that is safe:

* a word the KB uses, or a word of the language's dictionary (pyspellchecker's word
  lists, shipped in its package), is never changed: "Kinderzimmer" and "Ausland" are
  right although no article uses them;
* an unknown word is replaced by the KB word closest to it by Damerau-Levenshtein
  distance (rapidfuzz), at most ``MAX_DISTANCE`` edits, and only where
  one KB word is closest (``MAX_DISTANCE``); umlauts written out ("kuendigen") match the KB's "kündigen"
  at distance 0 after folding.

A general spell checker alone corrects towards the language, not the KB ("routr" ->
"route", "wifi" -> "wife"); the KB's vocabulary is what retrieval can match.
Codes and numbers ("off-3022", "192.168.178.1") are never touched.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

_WORD = re.compile(r"[^\W\d_]+")
# A whole token as the lexical channel reads it: codes and host names stay one token.
_TOKEN = re.compile(r"\w+(?:[-.:/_]\w+)*")
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
MIN_LENGTH = 5  # shorter words have too many neighbours at one edit ("nix", "isnt" -> "int")
# One edit only: a hasty typist's slip ("routr", "leuchted", "sekudnen"). At two edits right
# words the dictionary lacks become other KB words ("ausstecken" -> "umstecken").
MAX_DISTANCE = 1
# pyspellchecker's dictionaries, by ISO code (it ships these; others: the KB vocabulary only).
DICTIONARY_LANGUAGES = ("de", "en", "es", "fr", "it", "nl", "pt")


def fold(word: str) -> str:
    return word.translate(_FOLD)


_dictionaries: dict[str, frozenset[str]] = {}
_dictionaries_lock = threading.Lock()


def dictionary(lang: str) -> frozenset[str]:
    """The language's dictionary words, lower-cased (empty for a language without one).

    Loaded once per process (the German one takes a second or more): under a lock, so that
    customers whose first questions arrive together wait for one load instead of each
    loading it at once and all of them running into the bot's timeout."""
    if lang not in DICTIONARY_LANGUAGES:
        return frozenset()
    if lang not in _dictionaries:
        with _dictionaries_lock:
            if lang not in _dictionaries:
                from spellchecker import SpellChecker

                words = SpellChecker(language=lang, distance=1).word_frequency.dictionary
                _dictionaries[lang] = frozenset(words)
    return _dictionaries[lang]


class Speller:
    """Corrections towards one language's KB vocabulary (module docstring)."""

    def __init__(self, lang: str, kb_texts: Iterable[str]):
        self.lang = lang
        counts: dict[str, int] = {}
        for text in kb_texts:
            for word in _WORD.findall(text.lower()):
                counts[word] = counts.get(word, 0) + 1
        self.kb_words = frozenset(counts)
        # Folded KB word -> the most frequent KB spelling of it.
        self._by_fold: dict[str, str] = {}
        for word, _ in sorted(counts.items(), key=lambda item: -item[1]):
            self._by_fold.setdefault(fold(word), word)
        self._choices = [w for w in self._by_fold if len(w) >= MIN_LENGTH - 1]
        self._cache: dict[str, str | None] = {}

    def correction(self, word: str) -> str | None:
        """The KB word ``word`` (lower-cased) stands for, or None to keep it."""
        if word in self._cache:
            return self._cache[word]
        found = self._correction(word)
        if len(self._cache) < 100_000:
            self._cache[word] = found
        return found

    def _correction(self, word: str) -> str | None:
        if len(word) < MIN_LENGTH or word in self.kb_words:
            return None
        folded = fold(word)
        if folded in self._by_fold:
            return self._by_fold[folded] if self._by_fold[folded] != word else None
        if word in dictionary(self.lang):
            return None
        limit = MAX_DISTANCE
        matches = process.extract(
            folded, self._choices, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=2
        )
        if not matches:
            return None
        if len(matches) > 1 and matches[1][1] == matches[0][1]:
            return None  # two KB words equally close: no guess
        return self._by_fold[matches[0][0]]

    def correct(self, text: str) -> str:
        """``text`` with each correctable word replaced by its KB spelling (case of the KB)."""

        def replace(match: re.Match[str]) -> str:
            token: str = match.group(0)
            if not token.isalpha():
                return token  # a code, number or host name
            found = self.correction(token.lower())
            return found if found is not None else token

        return _TOKEN.sub(replace, text)
