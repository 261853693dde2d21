"""Rank a language's articles for one query: dense and lexical scores fused.

An article's score is ``best unit + MEAN_WEIGHT x mean of its units`` (dense,
cosine) ``+ w x best lexical coverage`` (BM25 of its best unit divided by the
query's IDF mass, lexical.py); the article with the highest coverage gets
``+ v x (its coverage - the second article's) / its coverage`` on top, so a
query whose rare terms (a code, a name, a port) point to one article clearly
finds it, while a query whose words are spread over many articles is ranked by
meaning. Where the KB has a question classifier (intents.py), ``+ u x`` its
probability of the article: it knows how the article is asked, not just which
unit comes closest. ``w``, ``v``, ``u`` and the exact-key weight ``k`` are per
embedding model (profiles.py).

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
from search_api.search.profiles import profile

if TYPE_CHECKING:
    from search_api.search.index import LanguageIndex

CANDIDATE_UNITS = 64
LEXICAL_CANDIDATE_UNITS = 32
VOTE_UNITS = 10
MEAN_WEIGHT = 0.5
# An exact key of the query (a code, port, host: lexical.is_exact_key) that at most this many
# articles hold gives each of them ``+ k x`` the share of the query's keys it holds.
MAX_KEY_ARTICLES = 3


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
    weights = profile(lindex.model_id)
    k = weights.key_weight
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
    w, v = weights.lexical_weight, weights.lexical_margin_weight
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
    u = weights.intent_weight
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
