"""Experiments behind the answer decision (search_api/search/decision.py), on built eval indexes.

The ranking is fixed; only the decision varies. For one ``helpdesk eval --work DIR``
directory (index already built) this script ranks every query of the set once
and simulates the KB's own calibration questions once per pseudo-query variant,
caches both, then fits decision models that differ in features, pseudo-queries
and regularisation, and prints for each: AUROC of the first hit's confidence,
the decision bands and the asserted-wrong rates, on the whole set and on two
halves split by a hash of the query (A/B) to see that a change moves both the
same way. Thresholds always come from the calibration, never from the set.
Variant names read pseudo-queries/features/C/fit: ``free`` an unconstrained fit,
``mono`` the MUST_RAISE features held non-negative, ``drop`` what the index build
does (those weighted negatively dropped and the model refitted; it reproduces
``helpdesk eval``'s numbers for a KB with example questions).

Usage: .venv/py311/bin/python scripts/eval_decision.py /work/shared/eval/data/<set> --work /tmp/evalwork/<set>
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pickle
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_api.evaluation import auroc
from search_api.search import decision as D
from search_api.search.intents import intent_scores
from search_api.search.ranking import rank_articles
from search_api.search.service import SearchService
from search_api.settings import SearchSettings


def open_service(work: Path, kb: Path | None) -> SearchService:
    articles = kb if kb else work / "articles"
    settings = SearchSettings.from_env().model_copy(update={"articles_dir": articles, "index_dir": work / "index"})
    return SearchService.open(settings, build_if_missing=False)


def rank_queries(service: SearchService, queries: list[dict], given_lang: bool) -> list[list]:
    """Per query: [(lang, Ranking)] for each language searched (as SearchService.search)."""
    out = []
    for q in queries:
        langs = service.search_languages(q["query"], q["lang"] if given_lang else None)
        per = []
        for lang in langs:
            lindex = service.index.languages[lang]
            vector = service.embedders[lang].encode_queries([q["query"]])[0]
            assert lindex.lexical is not None  # built by LanguageIndex.__post_init__
            ranking = rank_articles(
                lindex,
                vector,
                lindex.lexical.score(q["query"]),
                lambda aid: service.index.articles[aid].audience == "public",
                max_hits=11,
                intents=intent_scores(lindex.intents, vector, lindex),
            )
            per.append((lang, ranking))
        out.append(per)
    return out


class Stripped:
    """A view of a LanguageIndex whose section units of some articles lack the article title
    (dense re-embedded, lexical re-scored), so a left-out title is not found through them."""

    def __init__(self, lindex, embedder):
        from search_api.search.lexical import LexicalIndex

        self.base = lindex
        self.texts = []
        rows = []
        titles = {}
        for u in lindex.units:
            if u.kind == "title":
                titles[u.article_id] = u.text
        for r, u in enumerate(lindex.units):
            text = u.text
            if u.kind == "section":
                t = titles.get(u.article_id, "")
                if t and text.startswith(t):
                    text = text[len(t) :].lstrip(". ")
                rows.append(r)
            self.texts.append(text)
        self.vectors = lindex.vectors.copy()
        if rows:
            self.vectors[rows] = embedder.encode_passages([self.texts[r] for r in rows])
        self.lexical = LexicalIndex.build(lindex.lang, self.texts)

    def view(self, article_id: str):
        start, end = self.base.article_rows[article_id]
        vectors = self.base.vectors.copy()
        vectors[start:end] = self.vectors[start:end]
        return _View(self.base, vectors)


class _View:
    def __init__(self, base, vectors):
        self._base, self.vectors = base, vectors

    def __getattr__(self, name):
        return getattr(self._base, name)


def simulate(lindex, embedder, variant: str, stripped: Stripped | None) -> list[dict]:
    """Calibration searches: per pseudo query {aid, pos: Ranking, neg: Ranking}. "current": as the
    index build calibrates (decision.simulate_searches). "lno<N>": the answerable search leaves
    out the N example questions of the article closest to the pseudo query besides its own
    (lno0: its own only, the calibration before LEFT_OUT_SIBLINGS). "strip": a left-out title
    is searched in sections that do not repeat it."""
    queries = D.pseudo_queries(lindex)
    vectors = embedder.encode_queries([q.text for q in queries]) if queries else np.zeros((0, embedder.dim))
    siblings = int(variant[3:]) if variant.startswith("lno") else D.LEFT_OUT_SIBLINGS
    searches = D.simulate_searches(lindex, queries, vectors, siblings=siblings, hits=4)
    out = []
    for search, vector in zip(searches, vectors, strict=True):
        q, pos = search.query, search.without_question
        if variant == "strip" and lindex.units[q.own_row].kind == "title" and stripped is not None:
            view = stripped.view(q.article_id)
            lex = lindex.lexical.score(q.text, D._token_counts(lindex, [q.own_row]))
            own = lex.coverage.copy()
            start, end = lindex.article_rows[q.article_id]
            own[start:end] = stripped.lexical.score(q.text).coverage[start:end]
            lex = dataclasses.replace(lex, coverage=own)
            pos = rank_articles(view, vector, lex, lambda a: True, exclude_rows=frozenset([q.own_row]), max_hits=4)
        out.append({"aid": q.article_id, "pos": pos, "neg": search.without_article})
    return out


PSEUDO_QUERIES = ("current", "strip", "lno0", "lno1", "lno3")


# ---- features ---------------------------------------------------------------------------


def all_features(ranking, k):
    hits = ranking.hits
    hit = hits[k]
    nxt = hits[k + 1] if k + 1 < len(hits) else None
    f = dict(zip(D.FEATURES, D.hit_features(ranking, k), strict=True))
    f["dense_gap_next"] = hit.dense - (nxt.dense if nxt else hit.dense - 0.1)
    f["dense_gap_first"] = max(h.dense for h in hits[: k + 1]) - hit.dense
    f["votes"] = hit.votes
    return f


FEATURE_SETS = {
    "current": list(D.FEATURES),
    "without-intent": list(D.WITHOUT_INTENTS),
    "dense": ["dense"],
    "score": ["score"],
    "dense+score": ["dense", "score"],
    "dense+score+gap": ["dense", "score", "gap_to_first", "gap_to_next"],
    "dense+score+gapnext": ["dense", "score", "gap_to_next"],
    "dense+score+known": ["dense", "score", "known_share", "gap_to_first"],
    "dense+score+lex": ["dense", "score", "lexical", "gap_to_first"],
    "dense+score+knownonly": ["dense", "score", "known_share"],
    "dense+known": ["dense", "known_share"],
    "intent": ["intent"],
    "no-lexical-first": [n for n in D.FEATURES if n != "lexical_first"],
    "no-lexical": [n for n in D.FEATURES if n not in ("lexical", "lexical_first")],
    "no-rank-flags": [n for n in D.FEATURES if n not in ("lexical_first", "dense_first")],
    "dense+intent": ["dense", "intent"],
}


def matrix(rankings, names, n=D.SUGGEST_HITS):
    rows: list[list[float]] = []
    groups: list[tuple[int, int]] = []
    for ranking in rankings:
        m = min(n, len(ranking.hits))
        groups.append((len(rows), m))
        for k in range(m):
            f = all_features(ranking, k)
            rows.append([f[x] for x in names])
    return np.array(rows, dtype=np.float64).reshape(-1, len(names)), groups


def probs(model, x):
    """The model's probabilities over ``x`` that already holds only its features' columns."""
    z = ((x - np.asarray(model.mean)) / np.asarray(model.scale)) @ np.asarray(model.coef) + model.intercept
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def fit(x, y, c=1.0, monotone=None):
    """L2 logistic regression over standardised x; ``monotone``: signs (+1, -1, 0) the
    coefficients must keep (0 = free)."""
    from scipy.optimize import minimize

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    n, d = z.shape

    def loss(w):
        t = z @ w[:d] + w[d]
        p = 1 / (1 + np.exp(-np.clip(t, -50, 50)))
        ll = np.logaddexp(0, t) - y * t
        g = p - y
        return ll.sum() + 0.5 / c * (w[:d] ** 2).sum(), np.append(z.T @ g + w[:d] / c, g.sum())

    bounds = [(0, None) if s > 0 else (None, 0) if s < 0 else (None, None) for s in (monotone or [0] * d)]
    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds + [(None, None)])
    return D.DecisionModel(res.x[:d].tolist(), float(res.x[d]), mean.tolist(), scale.tolist(), 0.5, math.inf, True)


def calibrate_variant(
    sim,
    names,
    c,
    monotone,
    max_false_answer=D.MAX_FALSE_ANSWER,
    max_wrong=D.MAX_WRONG_ANSWER,
    max_false_suggest=D.MAX_FALSE_SUGGEST,
    balance=False,
):
    pos_x, pos_g = matrix([s["pos"] for s in sim], names)
    neg_x, neg_g = matrix([s["neg"] for s in sim], names)
    pos_y = np.zeros(len(pos_x))
    for s, (start, m) in zip(sim, pos_g, strict=True):
        for k in range(m):
            pos_y[start + k] = float(s["pos"].hits[k].article_id == s["aid"])
    x = np.vstack([pos_x, neg_x])
    y = np.concatenate([pos_y, np.zeros(len(neg_x))])
    if monotone == "drop":  # as decision.calibrate (decision.fit_raising)

        def fit_on(subset):
            model = fit(x[:, [names.index(n) for n in subset]], y, c)
            return model, model.coef

        subset, model = D.fit_raising(tuple(names), fit_on)
        kept = [names.index(n) for n in subset]
        full = np.zeros(len(names))
        full[kept] = model.coef
        mean, scale = np.zeros(len(names)), np.ones(len(names))
        mean[kept], scale[kept] = model.mean, model.scale
        model.coef, model.mean, model.scale = full.tolist(), mean.tolist(), scale.tolist()
    else:
        model = fit(x, y, c, [1 if n in D.MUST_RAISE else 0 for n in names] if monotone else None)
    p_pos, p_neg = probs(model, pos_x), probs(model, neg_x)
    first_neg = [float(p_neg[s]) for s, m in neg_g if m]
    sums_neg = [float(p_neg[s : s + m].sum()) for s, m in neg_g if m]
    first_pos_wrong = [float(p_pos[s]) for s, m in pos_g if m and pos_y[s] == 0]
    model.answer_threshold = max(
        D.MIN_ANSWER_CONFIDENCE,
        D._lowest_threshold(first_neg, max_false_answer * len(first_neg)),
        D._lowest_threshold(first_pos_wrong, max_wrong * len(sim)),
    )
    model.suggest_threshold = D._lowest_threshold(sums_neg, max_false_suggest * len(sums_neg))
    # the calibration's own AUROC (first hit, positives vs simulated unanswerable)
    first_pos = [float(p_pos[s]) for s, m in pos_g if m]
    model.samples = {"sim_auroc": auroc(first_pos, first_neg)}
    return model


def evaluate(models, names_of, queries, ranked, mask, score="top"):
    """Bands over the queries selected by ``mask`` (models: lang -> model). ``score``: what the AUROC
    ranks, the first hit's confidence (``top``, as ``helpdesk eval``) or the sum of the first three
    (``sum3``, what the decision compares with the suggest threshold)."""
    in_scores, out_scores = [], []
    b_in = dict(ar=0, aw=0, sr=0, sw=0, no=0)
    b_out = dict(a=0, s=0, no=0)
    for q, per, keep in zip(queries, ranked, mask, strict=True):
        if not keep:
            continue
        best = None
        for lang, ranking in per:
            model = models[lang]
            n = min(5, len(ranking.hits))
            if n == 0:
                conf = []
            else:
                x, _ = matrix([ranking], names_of[lang], n)
                conf = [float(p) for p in probs(model, x)]
                if "is_first" not in names_of[lang]:  # as DecisionModel.ordered
                    conf = list(np.minimum.accumulate(conf))
            top = conf[0] if conf else 0.0
            if best is None or top > best[0]:
                best = (top, model.decide(conf), [h.article_id for h in ranking.hits], sum(conf[: D.SUGGEST_HITS]))
        assert best is not None  # every query has at least one language
        top, decision, ids, first_three = best
        if score == "sum3":
            top = first_three
        gold = {g.lower() for g in q["gold"]}
        if gold:
            in_scores.append(top)
            rank = next((i + 1 for i, a in enumerate(ids) if a in gold), None)
            if decision == "answer":
                b_in["ar" if rank == 1 else "aw"] += 1
            elif decision == "suggest":
                b_in["sr" if rank and rank <= 3 else "sw"] += 1
            else:
                b_in["no"] += 1
        else:
            out_scores.append(top)
            b_out[{"answer": "a", "suggest": "s"}.get(decision, "no")] += 1
    n_in, n_out = max(len(in_scores), 1), max(len(out_scores), 1)
    return {
        "auroc": auroc(in_scores, out_scores),
        "shown": (b_in["ar"] + b_in["sr"]) / n_in,
        "ans_right": b_in["ar"] / n_in,
        "aw_in": b_in["aw"] / n_in,
        "none_out": b_out["no"] / n_out,
        "aw_out": b_out["a"] / n_out,
        "in": {k: v / n_in for k, v in b_in.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set_dir")
    parser.add_argument("--work", required=True)
    parser.add_argument("--kb", help="articles directory (starter KB sets)")
    parser.add_argument("--given-lang", action="store_true")
    parser.add_argument("--only", help="comma-separated variant names to print")
    parser.add_argument(
        "--variants",
        default=",".join(PSEUDO_QUERIES),
        help="comma-separated pseudo-query variants to simulate (default: all)",
    )
    parser.add_argument(
        "--score",
        choices=("top", "sum3"),
        default="top",
        help="AUROC of the first hit's confidence or of the sum of the first three",
    )
    args = parser.parse_args()
    set_dir, work = Path(args.set_dir), Path(args.work)
    cache = work / "decision-cache.pkl"
    queries = [json.loads(line) for line in open(set_dir / "queries.jsonl", encoding="utf-8")]
    if cache.is_file():
        data = pickle.loads(cache.read_bytes())
    else:
        service = open_service(work, Path(args.kb) if args.kb else None)
        data = {"ranked": rank_queries(service, queries, args.given_lang), "sim": {}}
        for lang, lindex in service.index.languages.items():
            embedder = service.embedders[lang]
            stripped = Stripped(lindex, embedder) if "strip" in args.variants.split(",") else None
            data["sim"][lang] = {v: simulate(lindex, embedder, v, stripped) for v in args.variants.split(",")}
        cache.write_bytes(pickle.dumps(data))
    missing = [v for v in args.variants.split(",") if any(v not in sims for sims in data["sim"].values())]
    if missing:  # a cache written before a variant was added
        service = open_service(work, Path(args.kb) if args.kb else None)
        for lang, lindex in service.index.languages.items():
            stripped = Stripped(lindex, service.embedders[lang]) if "strip" in missing else None
            for v in missing:
                data["sim"][lang][v] = simulate(lindex, service.embedders[lang], v, stripped)
        cache.write_bytes(pickle.dumps(data))
    ranked = data["ranked"]
    half = [zlib.crc32(q["query"].encode()) % 2 for q in queries]
    masks = {"all": [True] * len(queries), "A": [h == 0 for h in half], "B": [h == 1 for h in half]}
    # raw scores as decision score (AUROC only)
    for raw in ("dense", "score"):
        ins = [
            max(r.hits[0].dense if raw == "dense" else r.hits[0].score for _, r in per if r.hits)
            for q, per in zip(queries, ranked, strict=True)
            if q["gold"]
        ]
        outs = [
            max(r.hits[0].dense if raw == "dense" else r.hits[0].score for _, r in per if r.hits)
            for q, per in zip(queries, ranked, strict=True)
            if not q["gold"]
        ]
        print(f"raw top {raw}: AUROC {auroc(ins, outs):.3f}")
    variants = []
    for pq in args.variants.split(","):
        for fs in FEATURE_SETS:
            for c in (1.0, 0.05):
                for mono in (False, True, "drop"):
                    variants.append((pq, fs, c, mono))
    only = set(args.only.split(",")) if args.only else None
    for pq, fs, c, mono in variants:
        name = f"{pq}/{fs}/C={c}/{mono if mono == 'drop' else 'mono' if mono else 'free'}"
        if only and name not in only and fs not in only:
            continue
        names = FEATURE_SETS[fs]
        models = {lang: calibrate_variant(sims[pq], names, c, mono) for lang, sims in data["sim"].items()}
        names_of = {lang: names for lang in models}
        line = [f"{name:45s}"]
        for label, mask in masks.items():
            r = evaluate(models, names_of, queries, ranked, mask, args.score)
            line.append(
                f"{label}: auc {r['auroc']:.3f} shown {r['shown']:.3f} ans {r['ans_right']:.3f} "
                f"aw {r['aw_in']:.3f}/{r['aw_out']:.3f} none {r['none_out']:.3f}"
            )
        sims = " ".join(
            f"{lang}:{m.samples['sim_auroc']:.3f}/{m.answer_threshold:.2f}/{m.suggest_threshold:.2f}"
            for lang, m in models.items()
        )
        print(" | ".join(line), "| sim", sims, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
