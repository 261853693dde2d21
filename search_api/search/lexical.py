"""The lexical channel of search: BM25 over the same units as the dense index.

Why: dense models blur exact terms. "OFF-5015", "SYNC-409", ``imap.example.net``,
port ``993`` or an LED name decide which article answers, and on factoid
questions BM25 beats both dense models (docs/search.md).

Tokens are lower-cased words, stemmed per language (Snowball through PyStemmer)
with that language's stop words removed. A *code-like* token, one joined by
``-`` ``.`` ``:`` ``/`` or ``_`` or containing a digit (``off-5015``,
``mail.example.com``, ``192.168.0.1:8080``, ``993``), is kept whole and unstemmed,
so it matches exactly; its parts are indexed too, so "OFF 5015" still finds it.

Scores are normalised per query by the sum of the query tokens' IDF (a token
the KB never uses counts with the IDF of an unseen term): ``coverage`` is then
roughly the share of the query's information an article matches, comparable
across queries and KBs, which both the fusion and the answer decision use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s import stopwords as bm25_stopwords

# ISO 639-1 code -> (Snowball algorithm, stop words); other languages: no stemming, no stop words.
_LANGUAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "de": ("german", tuple(bm25_stopwords.STOPWORDS_GERMAN)),
    "en": ("english", tuple(bm25_stopwords.STOPWORDS_EN)),
    "fr": ("french", tuple(bm25_stopwords.STOPWORDS_FRENCH)),
    "es": ("spanish", tuple(bm25_stopwords.STOPWORDS_SPANISH)),
    "it": ("italian", tuple(bm25_stopwords.STOPWORDS_ITALIAN)),
    "nl": ("dutch", tuple(bm25_stopwords.STOPWORDS_DUTCH)),
}
# A word, or words joined by - . : / _ without spaces (codes, host names, versions).
_TOKEN = re.compile(r"\w+(?:[-.:/_]\w+)*")
_PART = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    algorithm = _LANGUAGES.get(lang, (None, ()))[0]
    return Stemmer.Stemmer(algorithm) if algorithm else None


@cache
def _stopwords(lang: str) -> frozenset[str]:
    return frozenset(_LANGUAGES.get(lang, (None, ()))[1])


_CODE_MARK = re.compile(r"[\d\-.:/_]")


def is_code_like(token: str) -> bool:
    """``off-5015``, ``imap.example.net``, ``993``: a token to match exactly, never stem."""
    return _CODE_MARK.search(token) is not None


# An exact key: a token that names one thing ("off-3022", "sync-409", "lt-04", "993",
# "192.168.178.1", "imap.example.net"): letters and digits mixed, digits with separators, a
# number of three or more digits, or a dotted name. Not: plain words, hyphenated words
# ("wlan-passwort"), one- or two-digit numbers ("5 Minuten"), abbreviations ("z.b").
_WITH_DIGIT = re.compile(r"(?=.*\d)(?!\d{1,2}$)[\w\-.:/]+")


def is_exact_key(token: str) -> bool:
    """A lower-cased token that names one thing, as a code or host does (above): where the KB
    has it in only a few articles, those articles are what the query asks about (ranking.py)."""
    if _WITH_DIGIT.fullmatch(token):
        return True
    parts = token.split(".")
    return len(parts) > 1 and all(len(part) >= 2 for part in parts)


def word_tokens(text: str) -> list[str]:
    """Lower-cased words and code-like tokens of ``text``, unstemmed."""
    return _TOKEN.findall(text.lower())


def tokenize(text: str, lang: str) -> list[str]:
    """Index and query tokens of ``text`` (see the module docstring)."""
    tokens: list[str] = []
    for token in word_tokens(text):
        tokens.extend(_terms_of_word(token, lang))
    return tokens


@lru_cache(maxsize=262144)
def _terms_of_word(token: str, lang: str) -> tuple[str, ...]:
    """The index terms of one lower-cased word or code, cached: a KB repeats its words, and
    tokenizing every section of a hit's article for its answer passage was most of a cold
    search at 100k sections (3.7 ms a hit)."""
    stemmer, stop = _stemmer(lang), _stopwords(lang)
    terms: list[str] = []
    if is_code_like(token):
        terms.append(token)
        parts = _PART.findall(token)
        if len(parts) == 1 and parts[0] == token:
            return tuple(terms)
    else:
        parts = [token]
    for part in parts:
        if part in stop or (len(part) < 2 and not part.isdigit()):
            continue
        terms.append(part if (_DIGIT.search(part) or stemmer is None) else stemmer.stemWord(part))
    return tuple(terms)


@dataclass
class LexicalScores:
    """BM25 of every unit for one query, normalised (``coverage``), and the query's vocabulary overlap."""

    coverage: np.ndarray  # per unit: BM25 / sum of the query tokens' IDF
    known_share: float  # share of the query's IDF mass on tokens the KB uses at all
    tokens: int
    terms: tuple[str, ...] = ()  # the query's tokens (its exact keys: LexicalIndex.key_rows)


class LexicalIndex:
    """bm25s over one language's units (row i = unit i, as in the dense index)."""

    def __init__(self, lang: str, retriever: bm25s.BM25, n_docs: int):
        self.lang = lang
        self.retriever = retriever
        self.n_docs = n_docs
        indptr = np.asarray(retriever.scores["indptr"])
        self.df = np.diff(indptr)  # documents per token id
        self.unseen_idf = self.idf(0)

    @classmethod
    def build(cls, lang: str, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        # Every unit gets at least one token so rows stay aligned with the dense index.
        corpus = [tokenize(t, lang) or [""] for t in texts]
        if corpus:
            retriever.index(corpus, show_progress=False)
        else:
            retriever.vocab_dict = {}
            retriever.scores = {
                "data": np.zeros(0),
                "indices": np.zeros(0, int),
                "indptr": np.zeros(1, int),
                "num_docs": 0,
            }
        return cls(lang, retriever, len(texts))

    def idf(self, df: int | np.ndarray) -> np.ndarray:
        n = max(self.n_docs, 1)
        return np.log(1 + (n - df + 0.5) / (df + 0.5))

    def save(self, directory: Path) -> None:
        if self.n_docs:
            self.retriever.save(str(directory))

    @classmethod
    def load(cls, lang: str, directory: Path, n_docs: int) -> LexicalIndex:
        if n_docs == 0 or not directory.is_dir():
            return cls.build(lang, [])
        retriever = bm25s.BM25.load(str(directory), mmap=False)
        return cls(lang, retriever, n_docs)

    def token_ids(self, tokens: list[str]) -> list[int]:
        vocab = self.retriever.vocab_dict
        return [vocab[t] for t in tokens if t in vocab and t != ""]

    def score(self, query: str, excluded_tokens: dict[str, int] | None = None) -> LexicalScores:
        """Normalised BM25 of every unit. ``excluded_tokens``: token -> units to discount
        from its document frequency (the calibration leaves an article out)."""
        tokens = tokenize(query, self.lang)
        coverage = np.zeros(self.n_docs, dtype=np.float32)
        if not tokens or not self.n_docs:
            return LexicalScores(coverage, 0.0, len(tokens))
        vocab = self.retriever.vocab_dict
        known, total = 0.0, 0.0
        for token in set(tokens):
            tid = vocab.get(token)
            df = int(self.df[tid]) if tid is not None and token != "" else 0
            if excluded_tokens:
                df -= excluded_tokens.get(token, 0)
            weight = float(self.idf(df) if df > 0 else self.unseen_idf)
            total += weight * tokens.count(token)
            known += weight * tokens.count(token) if df > 0 else 0.0
        ids = self.token_ids(tokens)
        if ids:
            coverage = self.retriever.get_scores_from_ids(ids).astype(np.float32) / max(total, 1e-6)
        return LexicalScores(coverage, known / total if total else 0.0, len(tokens), tuple(tokens))

    def key_rows(self, tokens: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """For each distinct exact key among ``tokens`` that the index has, the units holding it."""
        vocab, scores = self.retriever.vocab_dict, self.retriever.scores
        out = []
        for token in dict.fromkeys(t for t in tokens if is_exact_key(t)):
            tid = vocab.get(token)
            if tid is not None:
                out.append(np.asarray(scores["indices"][scores["indptr"][tid] : scores["indptr"][tid + 1]]))
        return tuple(out)
