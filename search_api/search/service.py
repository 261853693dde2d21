"""Answer a customer's question from the index, or say honestly that it cannot.

``SearchService.search`` picks the language (given, detected, or both when the
query has no language signal, e.g. a bare error code), ranks the articles by
their dense and lexical scores (ranking.py), gives every hit a calibrated
``confidence`` and decides ``answer`` / ``suggest`` / ``none`` with the model
fitted for that language at build time (decision.py). ``answerable`` is
``decision == "answer"``. The bot trusts that decision, so it lives here and
nowhere else.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from search_api.kb.articles import Article, Section
from search_api.search.decision import ANSWER, NONE, SUGGEST, Decision
from search_api.search.embedding import Embedder, load_embedder
from search_api.search.index import (
    BuildReport,
    IndexNotBuilt,
    KnowledgeIndex,
    build_index,
    load_index,
)
from search_api.search.intents import intent_scores
from search_api.search.language import query_language
from search_api.search.message import searched_text
from search_api.search.ranking import rank_articles
from search_api.search.spelling import dictionary
from search_api.settings import SearchSettings

log = logging.getLogger(__name__)

SNIPPET_CHARS = 240


@dataclass(frozen=True)
class Hit:
    article: Article
    section: Section
    score: float  # fused ranking score (orders hits; not comparable across KBs or models)
    matched: str  # kind of the best unit: title, section or question
    confidence: float = 0.0  # calibrated probability that this article answers the question


@dataclass(frozen=True)
class SearchResult:
    query: str
    lang: str
    hits: list[Hit]
    answerable: bool  # decision == "answer", for callers written before `decision`
    confidence: float  # the first hit's confidence (0 without hits)
    threshold: float  # the confidence at which this language answers
    decision: Decision = NONE
    # The encoded query (None without hits): the answer passage reuses it to compare sections.
    query_vector: np.ndarray | None = field(default=None, repr=False, compare=False)
    # What was searched: the message's problem sentences, misspellings corrected (``searched_text``).
    searched: str = ""


# Two languages' results with the same decision: the more confident wins only by this much;
# closer, the first language searched (the detected one) keeps it ("imap port?": 0.980 in
# German against 0.979 in English is no reason to answer an English customer in German).
CONFIDENCE_MARGIN = 0.05


def _preference(result: SearchResult, conversation_lang: str | None, bare: bool) -> tuple[int, ...]:
    """Of one query searched in several languages: an answer before options before nothing; then
    the conversation's language, when the caller named it; then the clearly more confident
    (``best_result``). A ``bare`` query (no words: "OFF-3022") says nothing about its language,
    so there the conversation's language wins unless it has nothing at all. Results without
    anything are equal, so the first language searched keeps the customer's reply language
    ("Tell me a joke" is refused in English, not German)."""
    rank = {ANSWER: 2, SUGGEST: 1}.get(result.decision, 0)
    own = int(result.lang == conversation_lang)
    if bare:
        return int(rank > 0), own, rank
    return rank, own if rank else 0


def best_result(results: list[SearchResult], conversation_lang: str | None, bare: bool) -> SearchResult:
    """The result a customer gets of one query searched in ``results``' languages, in the
    order searched (``_preference``, then CONFIDENCE_MARGIN)."""
    best = results[0]
    for result in results[1:]:
        mine, theirs = _preference(result, conversation_lang, bare), _preference(best, conversation_lang, bare)
        if mine > theirs or (
            mine == theirs and mine[0] > 0 and result.confidence > best.confidence + CONFIDENCE_MARGIN
        ):
            best = result
    return best


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + " …"


def settle_heap() -> None:
    """Move every object alive now (mostly the loaded index: 750k objects at 100k sections)
    into the collector's permanent generation. A full collection walks every tracked object
    and runs whenever enough new objects have survived: 375 ms at 100k sections (measured),
    a stall for every request in flight. Unfrozen and collected first, so that after a
    reindex the previous index's cycles are freed (about 0.7 s once, in the reindex thread)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class SearchService:
    freeze_heap = False  # set by open(): settle the heap after each load (settle_heap)

    def __init__(self, settings: SearchSettings, index: KnowledgeIndex, embedders: Mapping[str, Embedder]):
        self.settings = settings
        self.index = index
        self.embedders = dict(embedders)
        self._reindex_lock = threading.Lock()
        index.check_models(self.embedders)

    @staticmethod
    def embedder_for(settings: SearchSettings, lang: str) -> Embedder:
        return load_embedder(settings.models.get(lang, settings.models["*"]))

    @classmethod
    def open(cls, settings: SearchSettings, build_if_missing: bool = True, freeze_heap: bool = False) -> SearchService:
        """Load the served index; on a fresh machine build it first. ``freeze_heap`` (the web
        service): keep the loaded index out of the garbage collector's walks (``settle_heap``)."""
        try:
            index = load_index(settings.index_dir)
        except IndexNotBuilt:
            if not build_if_missing:
                raise
            log.warning("no index in %s yet: building it from %s", settings.index_dir, settings.articles_dir)
            cls.build(settings)
            index = load_index(settings.index_dir)
        embedders = {lang: cls.embedder_for(settings, lang) for lang in index.languages}
        service = cls(settings, index, embedders)
        service.warm_up()
        service.freeze_heap = freeze_heap
        if freeze_heap:
            settle_heap()
        return service

    def warm_up(self) -> None:
        """One query per language at start-up, and its speller with the language's dictionary:
        the first encode of a model and the first load of a dictionary take seconds, which a
        customer's first question must not pay for."""
        for lang, language_index in self.index.languages.items():
            self.search("warm-up", lang=lang, top_k=1)
            speller = language_index.speller  # made now, not on a customer's first question
            dictionary(speller.lang)

    @classmethod
    def build(cls, settings: SearchSettings, progress: bool = False) -> BuildReport:
        return build_index(
            settings.articles_dir,
            settings.index_dir,
            lambda lang: cls.embedder_for(settings, lang),
            settings.languages,
            progress=progress,
        )

    def reindex(self) -> BuildReport:
        """Rebuild from the articles directory and swap the new index in atomically."""
        with self._reindex_lock:
            report = self.build(self.settings)
            index = load_index(self.settings.index_dir)
            embedders = {lang: self.embedder_for(self.settings, lang) for lang in index.languages}
            index.check_models(embedders)
            self.index, self.embedders = index, embedders
            if self.freeze_heap:
                settle_heap()
            return report

    def search_languages(self, query: str, lang: str | None, conversation_lang: str | None = None) -> list[str]:
        """The languages to search, best result wins (``search``)."""
        return self._languages(query, lang, conversation_lang)[0]

    def _languages(self, query: str, lang: str | None, conversation_lang: str | None) -> tuple[list[str], bool]:
        """The languages to search, and whether the query is bare (no words to place). The given
        language; else the detected one; a bare query (a code, a host name) in every indexed
        language, and so a query whose detection is unsure (below ``MIN_SIGNAL_CONFIDENCE``):
        "set up the shoptalk offline form" is German to the detector at 0.54, and an English
        customer got the German article. Of several, ``conversation_lang`` (the language the
        conversation is in so far) comes first, else the detected language, else the default."""
        available = list(self.index.languages)
        if lang in available:
            return [lang], False
        if lang is None and len(available) == 1:
            return available, False
        if lang is None and available:
            said = query_language(query, self.settings.languages)
            if said.sure and said.lang in available:
                return [said.lang], False
            first = next(
                (code for code in (conversation_lang, said.lang, self.settings.default_language) if code in available),
                available[0],
            )
            return sorted(available, key=lambda code: code != first), said.bare
        if self.settings.default_language in available:
            return [self.settings.default_language], False
        return [next(iter(available), self.settings.default_language)], False

    def threshold(self, lang: str) -> float:
        lindex = self.index.languages.get(lang)
        return lindex.decision.answer_threshold if lindex and lindex.decision else 1.0

    def search(
        self,
        query: str,
        lang: str | None = None,
        top_k: int = 5,
        audiences: tuple[str, ...] = ("public",),
        conversation_lang: str | None = None,
    ) -> SearchResult:
        """``lang`` searches that language only; ``conversation_lang`` only orders the languages
        searched when the query does not say which it is in, and wins between equal decisions
        ("Spam Filter Mails im Junk" in a German conversation: the German article, although the
        English one's confidence is higher)."""
        index = self.index  # one consistent snapshot, even if a reindex swaps it meanwhile
        languages, bare = self._languages(query, lang, conversation_lang)
        results = [self._search_in(index, query, code, top_k, audiences) for code in languages]
        return best_result(results, conversation_lang, bare)

    def _search_in(
        self, index: KnowledgeIndex, query: str, lang: str, top_k: int, audiences: tuple[str, ...]
    ) -> SearchResult:
        lindex = index.languages.get(lang)
        if lindex is None or not query.strip():
            return SearchResult(query, lang, [], False, 0.0, self.threshold(lang), NONE)
        # LanguageIndex.__post_init__ builds both when the stored index has none.
        assert lindex.lexical is not None and lindex.decision is not None
        text = searched_text(lindex, query)
        vector = self.embedders[lang].encode_queries([text])[0]
        ranking = rank_articles(
            lindex,
            vector,
            lindex.lexical.score(text),
            lambda aid: index.articles[aid].audience in audiences,
            max_hits=top_k + 1,
            intents=intent_scores(lindex.intents, vector, lindex),
        )
        model = lindex.decision
        confidences = model.confidences(ranking, top_k)
        decision = model.decide(confidences)
        hits = []
        for ranked, confidence in zip(ranking.hits[:top_k], confidences, strict=True):
            unit, article = lindex.units[ranked.row], index.articles[ranked.article_id]
            section = article.sections[min(unit.section, len(article.sections) - 1)]
            hits.append(Hit(article, section, ranked.score, unit.kind, confidence))
        top = confidences[0] if confidences else 0.0
        return SearchResult(query, lang, hits, decision == ANSWER, top, model.answer_threshold, decision, vector, text)
