"""Which article a question is about, learned from the KB's own example questions.

Why: a hit's cosine says how close the query comes to one unit; it does not say
whether the query is closer to this article's way of being asked than to its
neighbours'. A classifier trained on the example questions (a logistic
regression over their embeddings, one class an article: what an intent
classifier such as Rasa's does with its training examples) learns exactly
that contrast. Its probability of a hit's article is a term of the ranking
(ranking.py, per embedding model) and the answer decision's ``intent`` feature
(decision.py): an in-domain question the KB does not answer spreads its
probability over neighbours, an answered one concentrates it.
On clinc150_idoos the classifier's probability of the first hit alone separates
unanswerable questions at AUROC 0.89, the best cosine at 0.83 (docs/search.md,
"The question classifier").

Only a KB whose decision is calibrated on example questions gets one (a KB of
titles has one example an article: nothing to learn a class's extent from),
and only from ``MIN_ARTICLES`` up to ``MAX_ARTICLES`` articles. It is fitted when the index is built,
from the question vectors already in it (nothing is encoded again), and stored
beside the index (``<lang>.intents.npz``).

The calibration needs the feature as a real question would see it: a question
the classifier was trained on would be recognised too easily. ``Folds`` fits
the classifier again without a fifth of the questions (for the simulated
answerable questions) and without a twentieth of the articles (for the simulated
unanswerable ones, whose article must be unknown to it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from search_api.search.index import LanguageIndex

# The calibration fits the classifier 26 times (intents.Folds): 11 s for clinc150_idoos'
# 112 articles of 20 questions; a fit's cost grows with articles x questions.
MAX_ARTICLES = 500
# A softmax over a few articles has no room for "none of them": in a KB of three articles an
# unrelated question still gets about half the probability for one, and the ranking's term
# (profiles.py) made the test fixture's "how do i cancel my contract" an answer
# with the password article. Every evaluated KB with example questions has 34 or more a language.
MIN_ARTICLES = 10
MIN_QUESTIONS = 2  # articles with example questions a KB needs at least
QUESTION_FOLDS = 5
ARTICLE_FOLDS = 20  # at most; a KB of fewer articles leaves each out on its own
# Inverse regularisation: 10 (chosen on clinc150_idoos and the customers set, docs/benchmarks.md): at
# scikit-learn's default of 1 a classifier of normalised vectors stays near uniform (the
# starter KB's German one put the right article first for 28 % of the customers set's German
# questions, 70 % at 10; clinc150_idoos R@1 0.904 -> 0.917, AUROC 0.901 -> 0.914).
C = 10.0


@dataclass
class IntentModel:
    article_ids: list[str]  # the classes
    weights: np.ndarray  # (classes, dim)
    bias: np.ndarray  # (classes,)
    _positions: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _positions_of: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        """P(article | query) for each of ``article_ids``."""
        logits = self.weights @ vector + self.bias
        logits = np.exp(logits - logits.max())
        probabilities: np.ndarray = logits / logits.sum()
        return probabilities

    def by_position(self, vector: np.ndarray, lindex: LanguageIndex) -> np.ndarray:
        """By article position of ``lindex`` (a LanguageIndex): the probability times the number of
        classes, how many times likelier than chance (0 for an article not a class). Times the
        number of classes, because the calibration's classifiers know fewer articles than the
        served one, and a classifier unsure between fewer articles gives each more."""
        positions = self._positions
        if positions is None or self._positions_of is not lindex.article_position:  # once per index
            positions = self._positions = np.array(
                [lindex.article_position.get(aid, -1) for aid in self.article_ids], dtype=np.int64
            )
            self._positions_of = lindex.article_position
        known = positions >= 0
        out = np.zeros(len(lindex.article_rows), dtype=np.float32)
        out[positions[known]] = (self.probabilities(vector) * len(self.article_ids))[known]
        return out

    def save(self, path: Path) -> None:
        np.savez(path, article_ids=np.array(self.article_ids, dtype=str), weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> IntentModel | None:
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(
                [str(a) for a in data["article_ids"]],
                data["weights"].astype(np.float32),
                data["bias"].astype(np.float32),
            )


def intent_scores(model: IntentModel | None, vector: np.ndarray, lindex: LanguageIndex) -> np.ndarray | None:
    """``model.by_position`` for the ranking's ``intents`` argument; None without a classifier."""
    return None if model is None else model.by_position(vector, lindex)


def training_rows(lindex: LanguageIndex) -> tuple[list[int], list[str]]:
    """The unit rows the classifier learns from and their articles: each article's example
    questions, else its title (as the decision's calibration does)."""
    rows, labels = [], []
    for aid, (start, end) in lindex.article_rows.items():
        own = [r for r in range(start, end) if lindex.units[r].kind == "question"]
        own = own or [r for r in range(start, end) if lindex.units[r].kind == "title"][:1]
        rows.extend(own)
        labels.extend([aid] * len(own))
    return rows, labels


def wanted(lindex: LanguageIndex) -> bool:
    """A KB with example questions in most articles, and neither too few articles nor too many."""
    if not MIN_ARTICLES <= len(lindex.article_rows) <= MAX_ARTICLES:
        return False
    with_questions = sum(
        any(lindex.units[r].kind == "question" for r in range(start, end))
        for start, end in lindex.article_rows.values()
    )
    return with_questions >= MIN_QUESTIONS and with_questions > len(lindex.article_rows) / 2


def fit(vectors: np.ndarray, labels: list[str]) -> IntentModel | None:
    """A logistic regression over the unit vectors as they are, regularised with ``C``.
    Standardised vectors made it sharper still and overconfident about questions it has no
    article for (clinc150's unrelated requests answered 1 -> 4 %, AUROC 0.953 -> 0.938; at
    C = 10 over the vectors as they are: 1 -> 3 %, 0.957 -> 0.951, the price of 6 more
    points of its answerable questions answered right). Vectors centred on their mean
    (multilingual-e5's fill a narrow cone) changed nothing measurable (clinc150_idoos
    AUROC 0.901 both). A fit that finds the feature useless drops it (decision.MUST_RAISE):
    the starter KB's, four to six questions an article, in both languages."""
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < 2:
        return None
    model = LogisticRegression(C=C, max_iter=2000).fit(vectors, labels)
    weights, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # scikit-learn fits one row for two classes: softmax over [0, its logit]
        weights, bias = np.vstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
    return IntentModel([str(c) for c in model.classes_], weights.astype(np.float32), bias.astype(np.float32))


def train(lindex: LanguageIndex) -> IntentModel | None:
    if not wanted(lindex):
        return None
    rows, labels = training_rows(lindex)
    return fit(lindex.vectors[rows], labels)


def _fold(key: str, folds: int) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % folds


class Folds:
    """Classifiers that have not seen a left-out question (``without_question``) or a
    left-out article (``without_article``), for the decision's calibration. A question's
    classifier has seen its siblings (a fifth of the questions are left out, not the closest
    sibling the ranking leaves out too): leaving those out as well made the simulated
    answerable questions too hard for it, and the fit weighted it down (clinc150_idoos
    AUROC 0.899 -> 0.869)."""

    def __init__(self, lindex: LanguageIndex) -> None:
        self.lindex = lindex
        self.rows, self.labels = training_rows(lindex)
        self.articles = sorted(set(self.labels))
        # Leaving a fifth of the articles out would leave the calibration's unanswerable
        # questions fewer neighbours to spread over than a real one has.
        self.article_fold = (
            {aid: i for i, aid in enumerate(self.articles)}
            if len(self.articles) <= ARTICLE_FOLDS
            else {aid: _fold(f"article:{aid}", ARTICLE_FOLDS) for aid in self.articles}
        )
        self._by_question: dict[int, IntentModel | None] = {}
        self._by_article: dict[int, IntentModel | None] = {}

    def _fit_without(self, keep: list[bool]) -> IntentModel | None:
        rows = [r for r, k in zip(self.rows, keep, strict=True) if k]
        labels = [lab for lab, k in zip(self.labels, keep, strict=True) if k]
        return fit(self.lindex.vectors[rows], labels) if rows else None

    def without_question(self, row: int) -> IntentModel | None:
        fold = _fold(f"row:{row}", QUESTION_FOLDS)
        if fold not in self._by_question:
            self._by_question[fold] = self._fit_without([_fold(f"row:{r}", QUESTION_FOLDS) != fold for r in self.rows])
        return self._by_question[fold]

    def without_article(self, article_id: str) -> IntentModel | None:
        fold = self.article_fold.get(article_id, -1)
        if fold not in self._by_article:
            self._by_article[fold] = self._fit_without([self.article_fold[a] != fold for a in self.labels])
        return self._by_article[fold]
