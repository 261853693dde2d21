"""``helpdesk eval``: retrieval quality on an evaluation set, through the real build and search path.

An evaluation set is ``articles.jsonl`` (id, title, lang, body, questions) and
``queries.jsonl`` (query, lang, gold article ids; ``gold: []`` = out of
scope). The articles are written as KB files in the project's own format, the
index is built by ``build_index`` and every query goes through
``SearchService.search``, language detection included (``given_lang`` uses
each query's ``lang`` instead). Printed: R@1, R@5, MRR over in-scope queries;
the decision bands (answered right / answered wrong / suggested with the right
article among the options / suggested without it / none) for in-scope and
out-of-scope queries; the asserted-wrong rates (``answer`` with a wrong first
hit); AUROC of the decision score (the first hit's calibrated confidence) and a
sweep of the answer threshold over it; and R@1 of the in-scope queries that name
an exact term (``exact_terms``: a code, port, address or host name,
``lexical.is_exact_key``), the issue's "exact-term set" inside any set.
``--json`` prints the same report; its keys are stable for CI.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from search_api.settings import SearchSettings, parse_model_map

if TYPE_CHECKING:
    from search_api.search.service import SearchService


def write_kb(set_dir: Path, articles_dir: Path) -> int:
    """Turn ``articles.jsonl`` into front matter + markdown files; return the count."""
    count = 0
    today = dt.date.today().isoformat()
    with open(set_dir / "articles.jsonl", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            meta = {
                "id": item["id"].lower(),
                "title": item["title"],
                "lang": item["lang"],
                "tags": ["eval"],
                "updated": today,
                "questions": item.get("questions") or [],
            }
            folder = articles_dir / item["lang"]
            folder.mkdir(parents=True, exist_ok=True)
            text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + item["body"] + "\n"
            (folder / f"{meta['id']}.md").write_text(text, encoding="utf-8")
            count += 1
    return count


def auroc(positive: list[float], negative: list[float]) -> float:
    """Probability that a random in-scope query scores above a random out-of-scope one."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.asarray(positive), np.asarray(negative)
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def evaluate_set(
    set_dir: Path,
    models: str | None = None,
    work_dir: Path | None = None,
    progress: bool = True,
    limit: int | None = None,
    given_lang: bool = False,
    kb_dir: Path | None = None,
    only: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Evaluate ``set_dir``; with ``kb_dir`` its queries run against that KB instead of ``articles.jsonl``;
    ``only``: the queries whose fields have these values (``{"split": "heldout"}``)."""
    from search_api.search.service import SearchService

    tmp = None
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="helpdesk-eval-")
        work_dir = Path(tmp.name)
    try:
        articles_dir, index_dir = work_dir / "articles", work_dir / "index"
        if articles_dir.exists():
            shutil.rmtree(articles_dir)
        if kb_dir is not None:
            shutil.copytree(kb_dir, articles_dir)
        else:
            write_kb(set_dir, articles_dir)
        settings = SearchSettings.from_env().model_copy(update={"articles_dir": articles_dir, "index_dir": index_dir})
        if models:
            settings = settings.model_copy(update={"models": parse_model_map(models)})
        build = SearchService.build(settings, progress=progress)
        service = SearchService.open(settings, build_if_missing=False)
        with open(set_dir / "queries.jsonl", encoding="utf-8") as fh:
            queries = [q for q in map(json.loads, fh) if matches(q, only or {})][:limit]
        report = summarise(queries, service, given_lang)
        report.update(
            {
                "set": set_dir.name,
                "models": {lang: li.model_id for lang, li in service.index.languages.items()},
                "articles": build.articles,
                "units": build.units,
                "build_seconds": round(build.seconds, 1),
                "thresholds": {lang: service.threshold(lang) for lang in service.index.languages},
                "given_lang": given_lang,
            }
        )
        langs = sorted({q["lang"] for q in queries})
        if len(langs) > 1:
            report["by_lang"] = {
                lang: summarise([q for q in queries if q["lang"] == lang], service, given_lang) for lang in langs
            }
        report["text"] = format_report(report)
        return report
    finally:
        if tmp is not None:
            tmp.cleanup()


def matches(query: dict[str, Any], only: dict[str, str]) -> bool:
    """Whether every field named in ``only`` has that value (as text) in ``query``."""
    return all(str(query.get(name)) == value for name, value in only.items())


def names_exact_term(query: str) -> bool:
    """Whether ``query`` names a code, port, address or host name (``lexical.is_exact_key``)."""
    from search_api.search.lexical import is_exact_key, word_tokens

    return any(is_exact_key(token) for token in word_tokens(query))


def section_accuracy(service: SearchService, queries: list[dict[str, Any]]) -> tuple[float | None, int, list[str]]:
    """Of the answerable ``queries`` with a gold ``section`` whose first hit is the right
    article: the share whose answer passage (as /search makes it, search/router.py) comes from
    that section, how many were counted, and a line for each miss. The conversation's language
    is given, as the bot gives it."""
    from search_api.search.passage import hit_passage

    right_article, right_section, misses = 0, 0, []
    for q in queries:
        if not q["gold"] or "section" not in q:
            continue
        result = service.search(q["query"], lang=q["lang"])
        if not result.hits or result.hits[0].article.id not in q["gold"] or result.query_vector is None:
            continue
        right_article += 1
        passage = hit_passage(service, result, result.hits[0])
        if passage.section == q["section"]:
            right_section += 1
        else:
            misses.append(f"{q['query']!r}: {passage.section!r}, expected {q['section']!r}")
    return (right_section / right_article if right_article else None), right_article, misses


def example_question_misses(service: SearchService, kinds: tuple[str, ...] = ("article",)) -> list[str]:
    """The authors' CI check: each example question of each entry of ``kinds`` (articles, and
    procedures where the caller runs them) must find its own entry first and be answered. The
    language is given, as the bot gives the conversation's once it knows it. One line per miss."""
    misses = []
    for entry in service.index.articles.values():
        if entry.kind not in kinds:
            continue
        for question in entry.questions:
            result = service.search(question, lang=entry.lang, audiences=("public", "internal"), kinds=kinds)
            if not result.hits or result.hits[0].article.id != entry.id or not result.answerable:
                got = result.hits[0].article.id if result.hits else None
                misses.append(f"{entry.path}: {question!r} -> {got} (answerable={result.answerable})")
    return misses


def summarise(queries: list[dict[str, Any]], service: SearchService, given_lang: bool) -> dict[str, Any]:
    """R@k, MRR, decision bands, asserted-wrong rates, AUROC and threshold sweep of ``queries``."""
    ranks, in_scores, out_scores, exact_ranks = [], [], [], []
    bands_in = dict.fromkeys(IN_SCOPE_BANDS, 0)
    bands_out = dict.fromkeys(OUT_OF_SCOPE_BANDS, 0)
    for q in queries:
        result = service.search(q["query"], lang=q["lang"] if given_lang else None, top_k=10)
        ids = [h.article.id for h in result.hits]
        gold = {g.lower() for g in q["gold"]}
        if gold:
            rank = next((i + 1 for i, aid in enumerate(ids) if aid in gold), None)
            ranks.append(rank)
            in_scores.append(result.confidence)
            if names_exact_term(q["query"]):
                exact_ranks.append(rank)
            if result.decision == "answer":
                bands_in["answered_right" if rank == 1 else "answered_wrong"] += 1
            elif result.decision == "suggest":
                bands_in["suggested_right" if rank and rank <= SUGGESTED else "suggested_wrong"] += 1
            else:
                bands_in["none"] += 1
        else:
            out_scores.append(result.confidence)
            bands_out[{"answer": "answered", "suggest": "suggested"}.get(result.decision, "none")] += 1
    n_in, n_out = len(ranks), len(out_scores)

    def share(count: int, n: int) -> float | None:
        return count / n if n else None

    report: dict[str, Any] = {
        "queries_in_scope": n_in,
        "queries_out_of_scope": n_out,
        "r@1": share(sum(1 for r in ranks if r == 1), n_in),
        "r@5": share(sum(1 for r in ranks if r and r <= 5), n_in),
        "mrr": sum(1 / r for r in ranks if r) / n_in if n_in else None,
        "in_scope_answered": share(bands_in["answered_right"] + bands_in["answered_wrong"], n_in),
        "in_scope_answered_with_right_article": share(bands_in["answered_right"], n_in),
        "in_scope_right_article_shown": share(bands_in["answered_right"] + bands_in["suggested_right"], n_in),
        "in_scope_asserted_wrong": share(bands_in["answered_wrong"], n_in),
        "out_of_scope_refused": share(bands_out["none"], n_out),
        "out_of_scope_asserted_wrong": share(bands_out["answered"], n_out),
        "bands": {
            "in_scope": {k: share(v, n_in) for k, v in bands_in.items()},
            "out_of_scope": {k: share(v, n_out) for k, v in bands_out.items()},
        },
        "auroc": auroc(in_scores, out_scores) if n_out and n_in else None,
        "exact_terms": {
            "queries": len(exact_ranks),
            "r@1": share(sum(1 for r in exact_ranks if r == 1), len(exact_ranks)),
        },
    }
    if any("section" in q for q in queries):
        accuracy, counted, _ = section_accuracy(service, queries)
        report["section_accuracy"] = {"share": accuracy, "counted": counted}
    if n_out:
        sweep = []
        for t in np.arange(0.0, 1.0001, 0.02):
            sweep.append(
                {
                    "threshold": round(float(t), 3),
                    "in_scope_answered": float(np.mean(np.asarray(in_scores) >= t)) if n_in else None,
                    "out_of_scope_refused": float(np.mean(np.asarray(out_scores) < t)),
                }
            )
        report["sweep"] = sweep
    return report


IN_SCOPE_BANDS = ("answered_right", "answered_wrong", "suggested_right", "suggested_wrong", "none")
OUT_OF_SCOPE_BANDS = ("answered", "suggested", "none")
SUGGESTED = 3  # a suggestion shows the first three hits


def format_report(r: dict[str, Any]) -> str:
    lines = [
        f"set {r['set']}: {r['articles']} articles, {r['units']} units, models {r['models']}, "
        f"build {r['build_seconds']} s",
        f"thresholds {r['thresholds']}",
    ]
    lines += format_metrics(r)
    for lang, sub in r.get("by_lang", {}).items():
        lines.append(f"[{lang}]")
        lines += ["  " + line for line in format_metrics(sub)]
    return "\n".join(lines)


def format_metrics(r: dict[str, Any]) -> list[str]:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    b_in, b_out = r["bands"]["in_scope"], r["bands"]["out_of_scope"]
    lines = [
        f"in-scope queries {r['queries_in_scope']}: R@1 {pct(r['r@1'])}  R@5 {pct(r['r@5'])}  MRR {pct(r['mrr'])}",
        f"answerable: in-scope answered {pct(r['in_scope_answered'])} "
        f"(with the right top article {pct(r['in_scope_answered_with_right_article'])})",
        "  bands: "
        + "  ".join(f"{k} {pct(v)}" for k, v in b_in.items())
        + f"  | right article shown {pct(r['in_scope_right_article_shown'])}"
        + f"  asserted wrong {pct(r['in_scope_asserted_wrong'])}",
    ]
    if r.get("section_accuracy"):
        lines.append(
            f"answer passage from the expected section: {pct(r['section_accuracy']['share'])} "
            f"of {r['section_accuracy']['counted']} with the right first article"
        )
    if r["exact_terms"]["queries"]:
        lines.append(
            f"in-scope queries naming a code, port or host: {r['exact_terms']['queries']}, "
            f"R@1 {pct(r['exact_terms']['r@1'])}"
        )
    if r["queries_out_of_scope"]:
        lines.append(
            f"out-of-scope queries {r['queries_out_of_scope']}: refused {pct(r['out_of_scope_refused'])}  "
            f"AUROC(decision score) {pct(r['auroc'])}"
        )
        lines.append(
            "  bands: "
            + "  ".join(f"{k} {pct(v)}" for k, v in b_out.items())
            + f"  | asserted wrong {pct(r['out_of_scope_asserted_wrong'])}"
        )
    return lines
