"""The first-message table of docs/benchmarks.md: kb/eval/realistic per half, language and kind.

``helpdesk eval`` detects each message's language as /search does without a conversation;
the bot passes the conversation's language (``conversation_lang``) once it knows it, and so
does this script, like tests/search/test_realistic_set.py. Per group it prints the right
article in the first reply (answered with it, or among the three options), answered with
the right / a wrong article, the unanswerable messages' bands, R@1 and the share of answer
passages from the expected section (of the messages whose first hit is right).

The index is built once into ``--work`` (reused when it is there; a changed article is
re-embedded by the build). Tune on ``--split dev`` only; ``heldout`` is for reporting.

Usage: .venv/py311/bin/python scripts/eval_realistic.py [--split dev|heldout|all] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from search_api.evaluation import section_accuracy
from search_api.search.service import SearchService
from search_api.settings import SearchSettings

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "kb" / "eval" / "realistic" / "queries.jsonl"
SUGGESTED = 3


def open_service(work: Path) -> SearchService:
    """The starter KB, its articles and procedures, copied into ``work`` and indexed there (the
    build skips unchanged articles): a message may find a procedure first, as in the product."""
    for folder in ("articles", "procedures"):
        if (work / folder).exists():
            shutil.rmtree(work / folder)
        shutil.copytree(ROOT / "kb" / folder, work / folder)
    articles = work / "articles"
    settings = SearchSettings.from_env().model_copy(update={"articles_dir": articles, "index_dir": work / "index"})
    SearchService.build(settings)
    return SearchService.open(settings, build_if_missing=False)


def group_row(service: SearchService, queries: list[dict]) -> dict:
    """The numbers of one group of messages (one half, language and kind)."""
    answerable = [q for q in queries if q["gold"]]
    unanswerable = [q for q in queries if not q["gold"]]
    counts = dict.fromkeys(("shown", "right", "wrong", "r1", "answered", "suggested", "none"), 0)
    for q in queries:
        result = service.search(q["query"], conversation_lang=q["lang"])
        ids = [h.article.id for h in result.hits]
        if not q["gold"]:
            counts[{"answer": "answered", "suggest": "suggested"}.get(result.decision, "none")] += 1
            continue
        rank = ids.index(q["gold"][0]) + 1 if q["gold"][0] in ids else None
        counts["r1"] += rank == 1
        if result.decision == "answer":
            counts["right" if rank == 1 else "wrong"] += 1
        counts["shown"] += (
            (rank == 1)
            if result.decision == "answer"
            else (result.decision == "suggest" and rank is not None and rank <= SUGGESTED)
        )
    share, counted, _ = section_accuracy(service, answerable)
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        **counts,
        "section": share,
        "section_counted": counted,
    }


def pct(count: float, n: int) -> str:
    return f"{100 * count / n:.0f} %" if n else "–"


def print_table(rows: Iterable[tuple[str, dict]]) -> None:
    print(
        "| group | right article shown | answered right | answered wrong | R@1 "
        "| unanswerable answered / options / none | section |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        n, m = r["answerable"], r["unanswerable"]
        bands = f"{pct(r['answered'], m)} / {pct(r['suggested'], m)} / {pct(r['none'], m)}" if m else "–"
        section = f"{100 * r['section']:.0f} % ({r['section_counted']})" if r["section"] is not None else "–"
        print(
            f"| {name}, {n} + {m} | **{pct(r['shown'], n)}** | {pct(r['right'], n)} | {pct(r['wrong'], n)} "
            f"| {r['r1'] / n:.2f} | {bands} | {section} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="dev")
    parser.add_argument("--work", default=str(ROOT / "var" / "eval-realistic"))
    parser.add_argument("--json", action="store_true", help="the numbers as JSON instead of a table")
    args = parser.parse_args()
    service = open_service(Path(args.work))
    queries = [json.loads(line) for line in SET.open(encoding="utf-8")]
    splits = ("dev", "heldout") if args.split == "all" else (args.split,)
    rows = []
    for split in splits:
        for kind in ("clean", "typos"):
            for lang in ("de", "en"):
                group = [q for q in queries if (q["split"], q["kind"], q["lang"]) == (split, kind, lang)]
                rows.append(
                    (f"{split} {lang} {'typo variants' if kind == 'typos' else 'messages'}", group_row(service, group))
                )
    if args.json:
        print(json.dumps(dict(rows), indent=2))
    else:
        print_table(rows)


if __name__ == "__main__":
    main()
