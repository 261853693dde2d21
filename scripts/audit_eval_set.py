"""How much of an in-domain-unanswerable set's misses are the set's own duplicates.

The ``*_idoos`` sets (``shared/eval``) are built by removing a quarter of a set's
articles and marking their questions unanswerable. Where the base set holds
near-copies of one article (FAQ collections merged from several sources), a
removed article's copy stays in the KB: its questions are then answered by the
KB yet counted unanswerable, and an answerable question whose first hit is the
copy of its gold counts as a wrong first hit. Both lower the decision's AUROC
and "right article shown" for reasons no decision can fix. This script counts
them, with titles compared character-wise (difflib ratio of the normalised
titles, ``--similar``), so nothing in it is a judgement, splits the AUROC of
the decision score into right-first and wrong-first answerable questions, and
gives that AUROC's 95 % bootstrap interval (queries resampled within each class),
which says how far a goal may be from the measured value by chance alone.

Usage (index built by ``helpdesk eval <set> --work DIR``):
  .venv/py311/bin/python scripts/audit_eval_set.py ../shared/eval/data/faq_de_idoos --work /tmp/ev/faqde0
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.eval_decision import open_service
from search_api.evaluation import auroc


def normalised(title: str) -> str:
    return re.sub(r"\W+", " ", title.lower()).strip()


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalised(a), normalised(b)).ratio()


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def bootstrap_interval(positive: list[float], negative: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    pos, neg = np.asarray(positive), np.asarray(negative)
    values = [auroc(list(rng.choice(pos, len(pos))), list(rng.choice(neg, len(neg)))) for _ in range(rounds)]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set_dir", type=Path, help="an *_idoos set")
    parser.add_argument("--base", type=Path, help="the set it was made from (default: its name without _idoos)")
    parser.add_argument("--work", type=Path, required=True, help="the --work directory of `helpdesk eval` on it")
    parser.add_argument("--similar", type=float, default=0.9, help="title similarity that counts as a copy")
    args = parser.parse_args()
    base = args.base or args.set_dir.with_name(args.set_dir.name.removesuffix("_idoos"))

    titles = {a["id"].lower(): a["title"] for a in read_jsonl(base / "articles.jsonl")}
    kept = {a["id"].lower() for a in read_jsonl(args.set_dir / "articles.jsonl")}
    base_gold = {q["query"]: [g.lower() for g in q["gold"]] for q in read_jsonl(base / "queries.jsonl")}

    def copies(article: str, pool) -> list[str]:
        return [
            other for other in pool if other != article and similarity(titles[article], titles[other]) >= args.similar
        ]

    with_copy = sum(1 for a in titles if copies(a, titles))
    print(f"{base.name}: {with_copy} of {len(titles)} articles have a title >= {args.similar} similar to another's")

    service = open_service(args.work, None)
    right, wrong, wrong_copy, unanswerable, answered_by_copy = [], [], [], [], []
    for q in read_jsonl(args.set_dir / "queries.jsonl"):
        result = service.search(q["query"], top_k=3)
        first = result.hits[0].article.id if result.hits else None
        gold = [g.lower() for g in q["gold"]]
        if not gold:
            unanswerable.append(result.confidence)
            removed = base_gold.get(q["query"], [])
            kept_copies = [c for r in removed for c in copies(r, kept)]
            if kept_copies:
                answered_by_copy.append((q["query"], titles[removed[0]], titles[kept_copies[0]]))
        elif first in gold:
            right.append(result.confidence)
        else:
            wrong.append(result.confidence)
            if first and any(similarity(titles[g], titles[first]) >= args.similar for g in gold):
                wrong_copy.append(q["query"])
    n = len(right) + len(wrong)
    print(
        f"answerable {n}: first hit right {len(right)} (R@1 {len(right) / n:.3f}), wrong {len(wrong)}, "
        f"of which the first hit's title is a copy of the gold's: {len(wrong_copy)}"
    )
    print(f"unanswerable {len(unanswerable)}: the removed article has a copy in the KB: {len(answered_by_copy)}")
    for query, removed, copy in answered_by_copy:
        print(f"  {query!r}: removed {removed[:60]!r}, kept {copy[:60]!r}")
    low, high = bootstrap_interval(right + wrong, unanswerable)
    print(
        f"AUROC of the decision score: all {auroc(right + wrong, unanswerable):.3f} "
        f"(95 % bootstrap interval {low:.3f}-{high:.3f}); "
        f"right-first vs unanswerable {auroc(right, unanswerable):.3f}; "
        f"wrong-first vs unanswerable {auroc(wrong, unanswerable):.3f}"
    )


if __name__ == "__main__":
    main()
