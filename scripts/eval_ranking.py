"""Ranking experiments behind two choices in search_api/search/service.py.

1. Article score = best unit + MEAN_WEIGHT x mean of the article's units
   (sweeps the weight; 0 = best unit only).
2. Lexical fusion: dense unit score + w x BM25 score normalised by the query's
   best BM25 score (bm25s with Snowball stemming and stop words per language);
   sweeps w, 0 = dense only. It was not adopted because it lowered faq_de.

Articles of the set are written and indexed with the project's own build path
(the same as ``helpdesk eval``); scores are then recombined in memory, so a
sweep costs one build. Only in-scope queries count (R@1, MRR).

Usage: .venv/py311/bin/python scripts/eval_ranking.py ../shared/eval/data/faq_de [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_api.evaluation import write_kb
from search_api.search.index import load_index
from search_api.search.service import SearchService
from search_api.settings import SearchSettings

STEMMERS = {"de": "german", "en": "english"}


def ranks(
    scores: np.ndarray, unit_article: np.ndarray, n_articles: int, gold: list[set[int]], mean_weight: float
) -> tuple[float, float]:
    counts = np.bincount(unit_article, minlength=n_articles)
    r1 = mrr = 0.0
    for i, g in enumerate(gold):
        best = np.full(n_articles, -np.inf)
        np.maximum.at(best, unit_article, scores[i])
        total = np.zeros(n_articles)
        np.add.at(total, unit_article, scores[i])
        order = np.argsort(-(best + mean_weight * total / np.maximum(counts, 1)))
        rank = next((k + 1 for k, a in enumerate(order) if a in g), None)
        r1 += rank == 1
        mrr += 1 / rank if rank else 0
    return r1 / len(gold), mrr / len(gold)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set_dir")
    parser.add_argument("--work", help="keep the generated KB and index here")
    args = parser.parse_args()
    set_dir = Path(args.set_dir)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="helpdesk-ranking-"))
    write_kb(set_dir, work / "articles")
    settings = SearchSettings.from_env().model_copy(
        update={"articles_dir": work / "articles", "index_dir": work / "index"}
    )
    SearchService.build(settings)
    service = SearchService.open(settings, build_if_missing=False)
    index = load_index(settings.index_dir)
    queries = [json.loads(line) for line in open(set_dir / "queries.jsonl", encoding="utf-8")]
    queries = [q for q in queries if q["gold"]]
    for lang, lindex in index.languages.items():
        qs = [q for q in queries if q["lang"] == lang]
        if not qs:
            continue
        articles = sorted({u.article_id for u in lindex.units})
        position = {a: i for i, a in enumerate(articles)}
        unit_article = np.array([position[u.article_id] for u in lindex.units])
        gold = [{position[g.lower()] for g in q["gold"] if g.lower() in position} for q in qs]
        dense = service.embedders[lang].encode_queries([q["query"] for q in qs]) @ lindex.vectors.T
        stemmer = Stemmer.Stemmer(STEMMERS[lang])
        bm25 = bm25s.BM25()
        bm25.index(
            bm25s.tokenize([u.text for u in lindex.units], stopwords=lang, stemmer=stemmer, show_progress=False),
            show_progress=False,
        )
        lexical = np.zeros_like(dense)
        for i, q in enumerate(qs):
            tokens = bm25s.tokenize(q["query"], stopwords=lang, stemmer=stemmer, show_progress=False)
            words = [w for w, _ in sorted(tokens.vocab.items(), key=lambda kv: kv[1])]
            words = [words[t] for t in tokens.ids[0]] if tokens.ids and tokens.ids[0] else []
            if words:
                scores = bm25.get_scores(words)
                lexical[i] = scores / max(scores.max(), 1e-9)
        print(f"{set_dir.name} [{lang}] {len(qs)} in-scope queries, {len(articles)} articles, model {lindex.model_id}")
        for weight in (0.0, 0.25, 0.5, 1.0):
            r1, mrr = ranks(dense, unit_article, len(articles), gold, weight)
            print(f"  best unit + {weight:<4} x mean of units: R@1 {r1:.3f}  MRR {mrr:.3f}")
        for w in (0.0, 0.02, 0.05, 0.1, 0.2, 0.3):
            r1, mrr = ranks(dense + w * lexical, unit_article, len(articles), gold, 0.0)
            print(f"  dense + {w:<4} x BM25 (best unit): R@1 {r1:.3f}  MRR {mrr:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
