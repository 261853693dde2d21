"""Answer, suggest or say "no article": the decision after ranking, calibrated per KB.

Why not a threshold on the top score: in-domain questions that no article
answers score almost like answered ones (German AUROC 0.61 on faq_de_idoos).
The decision uses more of the ranking: the fused score of a hit, its distance
to the first and to the next hit, its dense and lexical scores, whether the
dense and the lexical channel put it first, how much of the query's
vocabulary the KB uses at all ("TV receiver" in a KB that never mentions it),
its dense score relative to how close the article's own example questions come
to it (``question_levels``), and the share of the ten nearest units that are
its own (an answered question's neighbours are mostly one article's; an
unanswered one's are spread over its neighbours), and, in a KB with example
questions, the probability a classifier of those questions gives the hit's
article (``intent``, intents.py).

A logistic model turns those features into a per-hit ``confidence``: the
probability that this hit is the article that answers. It is fitted when the
index is built, per language, on the KB's own example questions (an article
without questions contributes its title), with nothing labelled by hand:

* *answerable*: the question is searched with its own unit and its closest
  sibling question left out (``LEFT_OUT_SIBLINGS``), so it has to be found
  through the rest of its article as a customer's paraphrase would;
* *unanswerable, in-domain*: the question is searched with its whole article
  left out, as if the KB lacked it (leave-one-article-out).

A KB calibrated mostly on titles is decided by its dense and fused scores and
the share of the query's words the KB knows (``TITLE_FEATURES``, each weighted
positively, strongly regularised): every section unit repeats its article's
title, so a left-out title is still found through them, and the margins and
lexical agreement such a simulation rewards do not carry over to real
paraphrases (stackfaq_idoos AUROC 0.90 with all features, 0.946 with these
three). The dense score level itself is simulated faithfully (there the mean
top dense score of simulated and of real answerable questions is 0.75 both).
Its confidences are made non-increasing down the ranking.

Two thresholds come from the same simulation, so none is tuned on the sets we
report: ``answer`` when the top hit's confidence is at least the lowest value
that answers at most ``MAX_FALSE_ANSWER`` of the simulated unanswerable
questions (and at most ``MAX_WRONG_ANSWER`` of the answerable ones with a wrong
first hit); ``suggest`` (up to three hits as options) when the confidences of
the first three sum to at least the value that at most ``MAX_FALSE_SUGGEST``
of the simulated unanswerable questions reach; otherwise ``none``.
A KB too small to calibrate (< ``MIN_SAMPLES`` questions) falls back to the
dense-score threshold of its model.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import numpy as np

from search_api.search.chat_style import chat_message
from search_api.search.intents import Folds, intent_scores
from search_api.search.lexical import tokenize
from search_api.search.message import searched_text
from search_api.search.profiles import profile
from search_api.search.ranking import Ranking, rank_articles

if TYPE_CHECKING:
    from search_api.search.index import LanguageIndex, Unit

Fit = TypeVar("Fit")

FEATURES = (
    "score",
    "gap_to_first",
    "gap_to_next",
    "dense",
    "lexical",
    "known_share",
    "dense_first",
    "lexical_first",
    "is_first",
    "relative_dense",
    "votes",
    "length",
    "intent",
)
# ``intent`` exists only where the KB has a question classifier (intents.py).
WITHOUT_INTENTS = FEATURES[:-1]
# The features of a model stored without its list (an index written before intents).
STORED_WITHOUT_LIST = (
    "score",
    "gap_to_first",
    "gap_to_next",
    "dense",
    "lexical",
    "known_share",
    "dense_first",
    "lexical_first",
    "is_first",
    "relative_dense",
    "votes",
)
# The features of a KB calibrated on titles (no example questions): a left-out title
# is still in every section unit of its article, so its simulated searches find the
# article too easily, and a model over all features learns "high margin, lexical
# agreement = safe", which real paraphrases do not bear out (docs/search.md,
# "The answer decision").
# Each must raise the confidence (a feature the fit weights negatively is dropped), and
# the fit is strongly regularised (TITLE_C), as the simulation is biased.
TITLE_FEATURES = ("dense", "score", "known_share")
TITLE_C = 0.05
# Features that can only make a hit more likely the answer: a fit that weights one of them
# negatively has learned the noise of a small calibration (the starter KB's 68 questions per
# language gave the dense score a negative weight), so it is dropped and the model refitted.
MUST_RAISE = ("dense", "score", "known_share", "relative_dense", "votes", "intent")
SUGGEST_HITS = 3
MAX_CALIBRATION_ARTICLES = 300
# Up to six example questions an article: a KB of 34 articles with 4-5 questions each gets
# 150 simulated searches instead of 68 (customers set: right article shown 82 % -> 85 %,
# clinc150_idoos unchanged; docs/benchmarks.md).
QUESTIONS_PER_ARTICLE = 6
MIN_SAMPLES = 8
# Calibrate on each question as a chat message too (chat_style.py): real first messages are 30
# words with a story around the problem, and a decision fitted on 8-word questions refused them.
CHAT_MESSAGES = True
# A simulated answerable question is searched without its own unit and the sibling question
# closest to it: an article's example questions are often near-copies of each other ("does
# redrobin take reservations" / "does cielo take reservations"), and with only its own unit
# left out a simulated question is found far more easily than a customer's paraphrase (mean
# top dense score 0.80 simulated vs 0.72 real on clinc150_idoos; 0.76 with one sibling left
# out). docs/benchmarks.md.
LEFT_OUT_SIBLINGS = 1
MAX_FALSE_ANSWER = 0.05
MAX_WRONG_ANSWER = 0.03
# Options may come up for this share of the simulated unanswerable questions: a customer who
# gets three options instead of "no article" loses a click, one refused an answerable question
# loses the answer (the measured trade-off is in docs/search.md, "The answer decision").
MAX_FALSE_SUGGEST = 0.65
MIN_ANSWER_CONFIDENCE = 0.5

# A KB too small to calibrate answers above its model's dense-score threshold (profiles.py).
FALLBACK_SLOPE = 30.0

Decision = Literal["answer", "suggest", "none"]
ANSWER: Final = "answer"
SUGGEST: Final = "suggest"
NONE: Final = "none"


def hit_features(ranking: Ranking, k: int) -> list[float]:
    """All of FEATURES for hit ``k``; a model uses its own subset (DecisionModel.features)."""
    hits = ranking.hits
    hit = hits[k]
    nxt = hits[k + 1].score if k + 1 < len(hits) else hit.score - 1.0
    return [
        hit.score,
        hits[0].score - hit.score,
        hit.score - nxt,
        hit.dense,
        hit.lexical,
        ranking.known_share,
        float(hit.article_id == ranking.dense_top),
        float(hit.article_id == ranking.lexical_top),
        float(k == 0),
        hit.dense - hit.level,
        hit.votes,
        math.log1p(ranking.terms),
        hit.intent,
    ]


def question_levels(units: Sequence[Unit], vectors: np.ndarray, article_rows: dict[str, tuple[int, int]]) -> np.ndarray:
    """Per article (in ``article_rows`` order): the mean, over its example questions, of each
    question's best cosine to the article's other units; the median of those for an article
    without questions (0 when no article has any).

    Why: articles differ in how close a question that they answer comes to them (an intent
    phrased a hundred ways vs. one narrow topic). "Dense 0.80" is a clear match for one and a
    neighbour's question for another; the decision's ``relative_dense`` (dense minus the
    level of the hit's article) tells them apart (clinc150_idoos AUROC 0.864 -> 0.882 with the
    share of nearest units; docs/benchmarks.md).
    """
    levels = np.full(len(article_rows), np.nan, dtype=np.float32)
    for position, (start, end) in enumerate(article_rows.values()):
        own = [r for r in range(start, end) if units[r].kind == "question"]
        if not own or end - start < 2:
            continue
        similarities = vectors[own] @ vectors[start:end].T
        similarities[np.arange(len(own)), np.asarray(own) - start] = -np.inf
        levels[position] = float(similarities.max(axis=1).mean())
    known = levels[~np.isnan(levels)]
    levels[np.isnan(levels)] = float(np.median(known)) if known.size else 0.0
    return levels


@dataclass
class DecisionModel:
    coef: list[float]
    intercept: float
    mean: list[float]
    scale: list[float]
    answer_threshold: float
    suggest_threshold: float
    calibrated: bool
    samples: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = FEATURES  # the columns of hit_features the model uses

    @classmethod
    def fallback(cls, model_id: str) -> DecisionModel:
        threshold = profile(model_id).fallback_threshold
        return cls(
            [FALLBACK_SLOPE],
            -FALLBACK_SLOPE * threshold,
            [0.0],
            [1.0],
            0.5,
            math.inf,
            False,
            {"reason": "too few example questions to calibrate"},
            ("dense",),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionModel:
        data = dict(data)
        data["suggest_threshold"] = math.inf if data["suggest_threshold"] is None else data["suggest_threshold"]
        data["features"] = tuple(data.get("features") or STORED_WITHOUT_LIST)
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["suggest_threshold"] = None if math.isinf(self.suggest_threshold) else self.suggest_threshold
        data["features"] = list(self.features)
        return data

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Per row of ``features`` (all of FEATURES), the model's probability."""
        features = features[:, [FEATURES.index(name) for name in self.features]]
        z = ((features - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef) + self.intercept
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        return probabilities

    def confidences(self, ranking: Ranking, n: int) -> list[float]:
        n = min(n, len(ranking.hits))
        if n == 0:
            return []
        return self.ordered(self.probabilities(np.array([hit_features(ranking, k) for k in range(n)])))

    def ordered(self, probabilities: np.ndarray) -> list[float]:
        """Per-hit confidences. A model without the rank features (a KB calibrated on titles,
        the fallback) can prefer a lower hit whose best unit is closer: there a hit is never
        more confident than the one the ranking put above it."""
        if "is_first" not in self.features and len(probabilities):
            probabilities = np.minimum.accumulate(probabilities)
        return [float(p) for p in probabilities]

    def decide(self, confidences: Sequence[float]) -> Decision:
        if not confidences:
            return NONE
        if confidences[0] >= self.answer_threshold:
            return ANSWER
        if sum(confidences[:SUGGEST_HITS]) >= self.suggest_threshold:
            return SUGGEST
        return NONE


@dataclass(frozen=True)
class PseudoQuery:
    article_id: str
    text: str
    own_row: int


def pseudo_queries(lindex: LanguageIndex, asked_of: Collection[str] | None = None) -> list[PseudoQuery]:
    """Up to QUESTIONS_PER_ARTICLE example questions (else the title) of up to
    MAX_CALIBRATION_ARTICLES articles, chosen by a stable hash of the id (incremental
    builds keep the same sample). ``asked_of``: the entries whose questions are simulated
    (all by default). The index passes its articles only: calibrated on the procedures'
    questions as well, the decision answers fewer customer messages outright
    (scripts/eval_realistic.py), and a procedure found is confirmed by its own form anyway."""
    candidates = lindex.article_rows if asked_of is None else [a for a in lindex.article_rows if a in asked_of]
    chosen = sorted(candidates, key=lambda a: hashlib.sha1(a.encode()).hexdigest())
    out: list[PseudoQuery] = []
    for aid in chosen[:MAX_CALIBRATION_ARTICLES]:
        start, end = lindex.article_rows[aid]
        questions = [r for r in range(start, end) if lindex.units[r].kind == "question"][:QUESTIONS_PER_ARTICLE]
        rows = questions or [r for r in range(start, end) if lindex.units[r].kind == "title"][:1]
        out.extend(PseudoQuery(aid, lindex.units[r].text, r) for r in rows)
    return out


def chat_queries(lindex: LanguageIndex, queries: list[PseudoQuery]) -> list[PseudoQuery]:
    """Each simulated question once more as a customer's chat message (chat_style.py), as
    search reads it (message.searched_text)."""
    return [
        PseudoQuery(q.article_id, searched_text(lindex, chat_message(q.text, lindex.lang)), q.own_row) for q in queries
    ]


def _token_counts(lindex: LanguageIndex, rows: range | list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        for token in set(tokenize(lindex.units[r].text, lindex.lang)):
            counts[token] = counts.get(token, 0) + 1
    return counts


def left_out_rows(lindex: LanguageIndex, own_row: int, siblings: int = LEFT_OUT_SIBLINGS) -> frozenset[int]:
    """The units a simulated answerable question is searched without: its own, and the
    ``siblings`` example questions of its article closest to it."""
    start, end = lindex.article_rows[lindex.units[own_row].article_id]
    others = [r for r in range(start, end) if lindex.units[r].kind == "question" and r != own_row]
    if not others or siblings <= 0:
        return frozenset([own_row])
    closest = np.argsort(-(lindex.vectors[others] @ lindex.vectors[own_row]), kind="stable")[:siblings]
    return frozenset([own_row, *(others[i] for i in closest)])


@dataclass
class SimulatedSearch:
    query: PseudoQuery
    without_question: Ranking  # searched without the question (and its closest siblings)
    without_article: Ranking  # searched without its whole article


def simulate_searches(
    lindex: LanguageIndex,
    queries: list[PseudoQuery],
    vectors: np.ndarray,
    allowed: Callable[[str], bool] = lambda _aid: True,
    siblings: int = LEFT_OUT_SIBLINGS,
    hits: int = SUGGEST_HITS + 1,
) -> list[SimulatedSearch]:
    """The calibration's searches (module docstring), also replayed by scripts/eval_decision.py."""
    folds = Folds(lindex) if lindex.intents is not None else None
    assert lindex.lexical is not None  # built by LanguageIndex.__post_init__
    out = []
    article_tokens: dict[str, dict[str, int]] = {}
    for q, vector in zip(queries, vectors, strict=True):
        if q.article_id not in article_tokens:
            article_tokens[q.article_id] = _token_counts(lindex, range(*lindex.article_rows[q.article_id]))
        left_out = left_out_rows(lindex, q.own_row, siblings)
        lexical = lindex.lexical.score(q.text, _token_counts(lindex, sorted(left_out)))
        answerable = rank_articles(
            lindex,
            vector,
            lexical,
            allowed,
            exclude_rows=left_out,
            max_hits=hits,
            intents=intent_scores(folds.without_question(q.own_row) if folds else None, vector, lindex),
        )
        unanswerable = rank_articles(
            lindex,
            vector,
            lindex.lexical.score(q.text, article_tokens[q.article_id]),
            allowed,
            exclude_article=q.article_id,
            max_hits=hits,
            intents=intent_scores(folds.without_article(q.article_id) if folds else None, vector, lindex),
        )
        out.append(SimulatedSearch(q, answerable, unanswerable))
    return out


def calibrate(
    lindex: LanguageIndex,
    encode_queries: Callable[[list[str]], np.ndarray],
    allowed: Callable[[str], bool] = lambda _aid: True,
    asked_of: Collection[str] | None = None,
) -> DecisionModel:
    """Fit the decision of one language's index on its own questions (module docstring);
    ``asked_of`` as in pseudo_queries."""
    queries = pseudo_queries(lindex, asked_of)
    if CHAT_MESSAGES:
        queries += chat_queries(lindex, queries)
    if len(queries) < MIN_SAMPLES or len(lindex.article_rows) < 3:
        return DecisionModel.fallback(lindex.model_id)
    vectors = encode_queries([q.text for q in queries])
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[tuple[int, int, bool]] = []  # (first row, rows, answerable) of each simulated search
    for search in simulate_searches(lindex, queries, vectors, allowed):
        for ranking, is_positive in ((search.without_question, True), (search.without_article, False)):
            n = min(SUGGEST_HITS, len(ranking.hits))
            groups.append((len(rows), n, is_positive))
            for k in range(n):
                rows.append(hit_features(ranking, k))
                labels.append(int(is_positive and ranking.hits[k].article_id == search.query.article_id))
    x, y = np.array(rows, dtype=np.float64), np.array(labels)
    if y.min() == y.max():
        return DecisionModel.fallback(lindex.model_id)
    from sklearn.linear_model import LogisticRegression

    # Titles as simulated questions leak (TITLE_FEATURES): such a KB is decided by its dense scores.
    titles = sum(lindex.units[q.own_row].kind == "title" for q in queries)
    features: tuple[str, ...]
    features, c = (
        (TITLE_FEATURES, TITLE_C)
        if titles > len(queries) / 2
        else (FEATURES if lindex.intents is not None else WITHOUT_INTENTS, 1.0)
    )
    offered = features

    def fit_on(names: tuple[str, ...]) -> tuple[tuple[Any, np.ndarray, np.ndarray], Sequence[float]]:
        columns = x[:, [FEATURES.index(name) for name in names]]
        mean, scale = columns.mean(axis=0), columns.std(axis=0)
        scale[scale < 1e-9] = 1.0
        fit = LogisticRegression(C=c, max_iter=2000).fit((columns - mean) / scale, y)
        return (fit, mean, scale), fit.coef_[0]

    features, (fit, mean, scale) = fit_raising(features, fit_on)
    model = DecisionModel(
        fit.coef_[0].tolist(),
        float(fit.intercept_[0]),
        mean.tolist(),
        scale.tolist(),
        0.5,
        math.inf,
        True,
        features=tuple(features),
    )
    # Thresholds from the same simulation (replayed through the fitted model, ordered as served).
    probabilities = model.probabilities(x)
    first_neg, sums_neg, first_pos_wrong = [], [], []
    for start, n, is_positive in groups:
        if n == 0:
            continue
        confidences = model.ordered(probabilities[start : start + n])
        if is_positive and labels[start] == 0:
            first_pos_wrong.append(confidences[0])
        elif not is_positive:
            first_neg.append(confidences[0])
            sums_neg.append(sum(confidences))
    n_pos = len(queries)
    model.answer_threshold = max(
        MIN_ANSWER_CONFIDENCE,
        _lowest_threshold(first_neg, MAX_FALSE_ANSWER * len(first_neg)),
        _lowest_threshold(first_pos_wrong, MAX_WRONG_ANSWER * n_pos),
    )
    model.suggest_threshold = _lowest_threshold(sums_neg, MAX_FALSE_SUGGEST * len(sums_neg))
    model.samples = {
        "questions": n_pos,
        "titles": titles,
        "rows": len(rows),
        "positives": int(y.sum()),
        "simulated_unanswerable": len(first_neg),
        "dropped": [name for name in offered if name not in features],
    }
    return model


def fit_raising(
    features: tuple[str, ...], fit_on: Callable[[tuple[str, ...]], tuple[Fit, Sequence[float]]]
) -> tuple[tuple[str, ...], Fit]:
    """``fit_on(features)`` -> (fitted, coefficients), refitted without the MUST_RAISE features
    it weighted negatively until it weights none so (or all); the features kept and the fit.
    Shared with scripts/eval_decision.py, whose ``drop`` variants fit as the index build does."""
    while True:
        fitted, coefficients = fit_on(features)
        negative = {
            name for name, weight in zip(features, coefficients, strict=True) if weight < 0 and name in MUST_RAISE
        }
        if not negative or len(negative) == len(features):
            return features, fitted
        features = tuple(name for name in features if name not in negative)


def _lowest_threshold(values: list[float], allowed: float) -> float:
    """The lowest t such that at most ``allowed`` of ``values`` are >= t."""
    ranked = sorted(values, reverse=True)
    k = int(math.floor(allowed))
    if k >= len(ranked):
        return 0.0
    return float(np.nextafter(ranked[k], np.inf))
