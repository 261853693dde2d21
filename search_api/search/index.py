"""Build, store and load the search index.

Layout of the index directory (replicas can share one, read-only)::

    CURRENT                 name of the version being served (replaced atomically)
    v-<timestamp>/
        manifest.json       format, per-language model id and dimension, per-article hash and rows
        articles.json       the indexed articles (pages are rendered from here) and the search
                            entries of the procedures (kind "procedure")
        procedures.json     the procedures' definitions (kb/procedures), which the desk runs
        <lang>.units.jsonl  one search unit per line: article, section, kind, text; a section's
                            also the stemmed words of its heading and body (passage.py)
        <lang>.vectors.npy  normalised unit vectors, row i = unit i
        <lang>.faiss        inner-product FAISS index over those vectors
        <lang>.bm25/        lexical (BM25) index over the same units, row i = unit i (lexical.py)
        <lang>.calibration.npz  query vectors of the KB's own questions used to calibrate
                            the answer decision (decision.py), reused by incremental builds
        <lang>.intents.npz  the classifier of the KB's example questions (intents.py), where
                            the KB has them

The fitted decision model of each language is in the manifest.

A search unit is an article's title, one of its sections, or one of its example
questions; articles are ranked from their units (service.py). A procedure is indexed as an
entry of kind "procedure" made of its title, description and example questions, so the same
ranking and calibration find it. A build re-embeds only the
articles whose file changed (by content hash) and whose language model is the
same; everything else is copied from the version being served. A new version
becomes visible only when complete, so a failed build never breaks the index
being served, and a broken article keeps its last good version in the index.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from search_api.kb.articles import Article, ArticleError, load_articles
from search_api.kb.procedures import Procedure, load_procedures, search_entry
from search_api.search.decision import DecisionModel, calibrate, question_levels
from search_api.search.embedding import Embedder
from search_api.search.intents import IntentModel
from search_api.search.intents import train as train_intents
from search_api.search.lexical import LexicalIndex
from search_api.search.passage import section_terms
from search_api.search.spelling import Speller

# 2: lexical index and decision model per language. A format-1 index is still
# loaded (its lexical index is built in memory, its decision falls back to the
# dense threshold) so an upgrade reuses its vectors; the next build writes format 2.
FORMAT = 2
READABLE_FORMATS = (1, 2)
# Bump when the way units are made or encoded changes: vectors of an older
# recipe are then re-embedded instead of reused.
UNIT_RECIPE = 3  # 3: article text without spacing artefacts (search/passage.py change)
# Above this many units an HNSW graph replaces exact search: flat search costs
# ~15 ms at 100k 384-d vectors on 2 cores, HNSW well under 1 ms (docs/benchmarks.md).
HNSW_MIN_UNITS = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
KEEP_VERSIONS = 2


class IndexError_(Exception):
    """Base class of index problems a user must act on."""


class IndexNotBuilt(IndexError_):
    pass


class IndexModelMismatch(IndexError_):
    pass


@dataclass(frozen=True)
class Unit:
    article_id: str
    section: int  # index into the article's sections
    kind: str  # "title" | "section" | "question"
    text: str
    # A section's stemmed words of heading and body, space-separated (passage.section_terms):
    # the answer passage of a hit reads them instead of tokenizing the article. None: an
    # index written before they were stored (the passage then tokenizes).
    heading_terms: str | None = None
    body_terms: str | None = None


def article_units(article: Article) -> list[Unit]:
    """The texts an article is found by: title, each section, each example question."""
    units = [Unit(article.id, 0, "title", article.title)]
    for i, section in enumerate(article.sections):
        parts = [article.title]
        if section.heading:
            parts.append(section.heading)
        parts.append(section.plain_text)
        units.append(
            Unit(article.id, i, "section", ". ".join(p for p in parts if p), *section_terms(section, article.lang))
        )
    # A matching title or example question is about the whole article: link its start.
    units.extend(Unit(article.id, 0, "question", q) for q in article.questions)
    return units


@dataclass
class LanguageIndex:
    lang: str
    model_id: str
    dim: int
    units: list[Unit]
    vectors: np.ndarray
    faiss_index: faiss.Index
    article_rows: dict[str, tuple[int, int]]
    lexical: LexicalIndex | None = None
    decision: DecisionModel | None = None
    intents: IntentModel | None = None  # the question classifier, where the KB has one (intents.py)
    # Mean unit vector of each article (row article_position[id]): the mean of an
    # article's unit scores is its mean vector's score (linearity), one matmul for
    # all candidates instead of one per candidate.
    article_position: dict[str, int] = field(init=False)
    article_means: np.ndarray = field(init=False)
    # How close an article's own example questions come to its other units (decision.py:
    # a hit is judged by its dense score relative to this level), by article_position.
    article_levels: np.ndarray = field(init=False)
    # By unit row: its article's position; by position: the article's id and first/end row
    # (the ranking gathers its candidates' rows with array operations, not per article).
    unit_article: np.ndarray = field(init=False)
    # Corrects a customer's misspellings towards this KB's words (spelling.py), made on first use,
    # once: concurrent first searches wait for it under the lock.
    _speller: Speller | None = field(init=False, default=None)
    _speller_lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False, compare=False)
    article_ids: list[str] = field(init=False)
    article_starts: np.ndarray = field(init=False)
    article_ends: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        if self.lexical is None:
            self.lexical = LexicalIndex.build(self.lang, [u.text for u in self.units])
        if self.decision is None:
            self.decision = DecisionModel.fallback(self.model_id)
        self.article_position = {aid: i for i, aid in enumerate(self.article_rows)}
        self.article_means = np.zeros((len(self.article_rows), self.dim), dtype=np.float32)
        for aid, (start, end) in self.article_rows.items():
            if end > start:
                self.article_means[self.article_position[aid]] = self.vectors[start:end].mean(axis=0)
        self.article_levels = question_levels(self.units, self.vectors, self.article_rows)
        self.article_ids = list(self.article_rows)
        spans = np.array(list(self.article_rows.values()), dtype=np.int64).reshape(-1, 2)
        self.article_starts, self.article_ends = spans[:, 0].copy(), spans[:, 1].copy()
        self.unit_article = np.full(len(self.units), -1, dtype=np.int64)
        for position, (start, end) in enumerate(spans):
            self.unit_article[start:end] = position

    @property
    def speller(self) -> Speller:
        if self._speller is None:
            with self._speller_lock:
                if self._speller is None:
                    self._speller = Speller(self.lang, (u.text for u in self.units))
        return self._speller

    def mean_scores(self, article_ids: list[str], query_vector: np.ndarray) -> np.ndarray:
        """Mean score of all units of each article, in the order given."""
        positions = [self.article_position[aid] for aid in article_ids]
        scores: np.ndarray = self.article_means[positions] @ query_vector
        return scores

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.units:
            return []
        k = min(k, len(self.units))
        scores, rows = self.faiss_index.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]


@dataclass
class KnowledgeIndex:
    version: str
    path: Path
    articles: dict[str, Article]
    languages: dict[str, LanguageIndex]
    manifest: dict[str, Any]
    procedures: dict[str, Procedure] = field(default_factory=dict)  # by id; their entries are in ``articles``

    def check_models(self, embedders: Mapping[str, Embedder]) -> None:
        """Refuse to serve a language whose index was built with another model."""
        for lang, lindex in self.languages.items():
            embedder = embedders[lang]
            if embedder.model_id != lindex.model_id or embedder.dim != lindex.dim:
                raise IndexModelMismatch(
                    f"the '{lang}' index in {self.path} was built with model {lindex.model_id} "
                    f"({lindex.dim}-d), but the service is configured with {embedder.model_id} "
                    f"({embedder.dim}-d); rebuild it with 'helpdesk build' or configure the same model"
                )


def make_faiss_index(vectors: np.ndarray, dim: int) -> faiss.Index:
    index: faiss.Index
    if len(vectors) >= HNSW_MIN_UNITS:
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def current_version_dir(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    path = index_dir / version
    return path if path.is_dir() else None


def load_index(index_dir: Path) -> KnowledgeIndex:
    path = current_version_dir(index_dir)
    if path is None:
        raise IndexNotBuilt(f"no index in {index_dir}: run 'helpdesk build' first")
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") not in READABLE_FORMATS:
        raise IndexNotBuilt(f"index in {path} has format {manifest.get('format')}, expected {FORMAT}: rebuild it")
    articles = {
        data["id"]: Article.from_dict(data) for data in json.loads((path / "articles.json").read_text(encoding="utf-8"))
    }
    languages = {}
    for lang, info in manifest["languages"].items():
        with open(path / f"{lang}.units.jsonl", encoding="utf-8") as fh:
            units = [Unit(**json.loads(line)) for line in fh]
        vectors = np.load(path / f"{lang}.vectors.npy")
        rows = {aid: tuple(entry["rows"]) for aid, entry in manifest["articles"].items() if entry["lang"] == lang}
        lexical = (
            LexicalIndex.load(lang, path / f"{lang}.bm25", len(units)) if (path / f"{lang}.bm25").is_dir() else None
        )
        decision = DecisionModel.from_dict(info["decision"]) if info.get("decision") else None
        faiss_index = faiss.read_index(str(path / f"{lang}.faiss"))
        if isinstance(faiss_index, faiss.IndexHNSWFlat):
            faiss_index.hnsw.efSearch = HNSW_EF_SEARCH
        languages[lang] = LanguageIndex(
            lang,
            info["model_id"],
            info["dim"],
            units,
            vectors,
            faiss_index,
            rows,
            lexical,
            decision,
            IntentModel.load(path / f"{lang}.intents.npz"),
        )
    procedures_file = path / "procedures.json"
    procedures = (
        {data["spec"]["id"]: Procedure.from_dict(data) for data in json.loads(procedures_file.read_text("utf-8"))}
        if procedures_file.is_file()
        else {}
    )
    return KnowledgeIndex(path.name, path, articles, languages, manifest, procedures)


@dataclass
class BuildReport:
    version: str
    articles: int = 0  # every entry: the articles and the procedures
    procedures: int = 0
    units: int = 0
    embedded_articles: int = 0
    reused_articles: int = 0
    kept_previous: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _previous(index_dir: Path) -> KnowledgeIndex | None:
    try:
        return load_index(index_dir)
    except (IndexNotBuilt, OSError, ValueError, KeyError):
        return None


def build_index(
    articles_dir: Path,
    index_dir: Path,
    embedder_for: Callable[[str], Embedder],
    languages: tuple[str, ...],
    progress: bool = False,
    articles: list[Article] | None = None,
    procedures_dir: Path | None = None,
) -> BuildReport:
    """Build a new index version from ``articles_dir`` (and the procedures in ``procedures_dir``)
    and make it current.

    ``embedder_for(lang)`` gives the model of a language. Pass ``articles`` to
    index already-parsed articles instead of reading the directory (used by
    the benchmark and evaluation with generated articles).
    """
    started = time.perf_counter()
    errors: list[ArticleError] = []
    previous = _previous(index_dir)
    if articles is None:
        known = {a.path: a for a in previous.articles.values() if a.kind == "article"} if previous else None
        loaded = load_articles(articles_dir, languages, known)
        articles, errors = loaded.articles, loaded.errors
    procedures = _procedures(procedures_dir, languages, {a.id for a in articles}, errors)
    articles = articles + [search_entry(p) for p in procedures.values()]
    report = BuildReport(version="", errors=[str(e) for e in errors])

    # A broken file that was indexed before keeps its last good version.
    if previous is not None:
        present = {a.id for a in articles}
        broken_paths = {e.path for e in errors}
        for old in previous.articles.values():
            if old.path in broken_paths and old.id not in present:
                if old.kind == "procedure":
                    if old.id not in previous.procedures:
                        continue
                    procedures[old.id] = previous.procedures[old.id]
                articles.append(old)
                report.kept_previous.append(old.path)
    report.procedures = len(procedures)

    version = time.strftime("v-%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
    report.version = version
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = index_dir / f".staging-{version}"
    staging.mkdir()
    try:
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "unit_recipe": UNIT_RECIPE,
            "created": created,
            "languages": {},
            "articles": {},
        }
        for lang in sorted({a.lang for a in articles}):
            embedder = embedder_for(lang)
            lang_articles = sorted((a for a in articles if a.lang == lang), key=lambda a: a.id)
            old_lindex = previous.languages.get(lang) if previous else None
            reusable = (
                previous is not None
                and old_lindex is not None
                and old_lindex.model_id == embedder.model_id
                and old_lindex.dim == embedder.dim
                and previous.manifest.get("unit_recipe") == UNIT_RECIPE
            )
            previous_rows = previous.manifest["articles"] if previous is not None and reusable else {}
            all_units: list[list[Unit]] = []
            blocks: list[np.ndarray] = []
            to_embed: list[tuple[int, list[Unit]]] = []  # (block position, units)
            for article in lang_articles:
                old_entry = previous_rows.get(article.id)
                if (
                    old_lindex is not None
                    and old_entry
                    and old_entry["hash"] == article.content_hash
                    and old_entry["lang"] == lang
                ):
                    start, end = old_entry["rows"]
                    blocks.append(old_lindex.vectors[start:end])
                    units = old_lindex.units[start:end]
                    if any(u.kind == "section" and u.heading_terms is None for u in units):
                        units = article_units(article)  # same texts (same hash), now with their terms
                    all_units.append(units)
                    report.reused_articles += 1
                else:
                    units = article_units(article)
                    to_embed.append((len(blocks), units))
                    blocks.append(np.empty((0, embedder.dim), dtype=np.float32))
                    all_units.append(units)
                    report.embedded_articles += 1
            if to_embed:
                texts = [u.text for _, units in to_embed for u in units]
                vectors = embedder.encode_passages(texts, progress=progress, label=lang)
                offset = 0
                for position, units in to_embed:
                    block = vectors[offset : offset + len(units)]
                    offset += len(units)
                    blocks[position] = block
            units_flat: list[Unit] = []
            row = 0
            for article, units in zip(lang_articles, all_units, strict=True):
                manifest["articles"][article.id] = {
                    "hash": article.content_hash,
                    "lang": lang,
                    "path": article.path,
                    "rows": [row, row + len(units)],
                }
                row += len(units)
                units_flat.extend(units)
            vectors = np.vstack(blocks) if blocks else np.zeros((0, embedder.dim), np.float32)
            faiss_index = make_faiss_index(vectors, embedder.dim)
            np.save(staging / f"{lang}.vectors.npy", vectors)
            faiss.write_index(faiss_index, str(staging / f"{lang}.faiss"))
            lindex = LanguageIndex(
                lang,
                embedder.model_id,
                embedder.dim,
                units_flat,
                vectors,
                faiss_index,
                {aid: tuple(e["rows"]) for aid, e in manifest["articles"].items() if e["lang"] == lang},
            )
            assert lindex.lexical is not None  # built by LanguageIndex.__post_init__
            lindex.lexical.save(staging / f"{lang}.bm25")
            lindex.intents = train_intents(lindex)
            if lindex.intents is not None:
                lindex.intents.save(staging / f"{lang}.intents.npz")
            cache = _CalibrationCache.load(previous, lang) if reusable else _CalibrationCache()
            lindex.decision = calibrate(
                lindex,
                functools.partial(cache.encode, embedder=embedder),
                asked_of={a.id for a in lang_articles if a.kind == "article"},
            )
            cache.save(staging / f"{lang}.calibration.npz")
            with open(staging / f"{lang}.units.jsonl", "w", encoding="utf-8") as fh:
                for unit in units_flat:
                    terms = (
                        {"heading_terms": unit.heading_terms, "body_terms": unit.body_terms}
                        if unit.heading_terms is not None
                        else {}
                    )
                    fh.write(
                        json.dumps(
                            {
                                "article_id": unit.article_id,
                                "section": unit.section,
                                "kind": unit.kind,
                                "text": unit.text,
                                **terms,
                            },
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
            manifest["languages"][lang] = {
                "model_id": embedder.model_id,
                "dim": embedder.dim,
                "units": len(units_flat),
                "index_type": type(faiss_index).__name__,
                "decision": lindex.decision.to_dict(),
            }
            report.units += len(units_flat)
        report.articles = len(articles)
        (staging / "articles.json").write_text(
            json.dumps([a.to_dict() for a in articles], ensure_ascii=False), encoding="utf-8"
        )
        (staging / "procedures.json").write_text(
            json.dumps([p.to_dict() for p in procedures.values()], ensure_ascii=False), encoding="utf-8"
        )
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        staging.rename(index_dir / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".CURRENT-{version}"
    pointer_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _prune(index_dir, keep=version)
    report.seconds = time.perf_counter() - started
    return report


def _procedures(
    root: Path | None, languages: tuple[str, ...], article_ids: set[str], errors: list[ArticleError]
) -> dict[str, Procedure]:
    """The procedures below ``root`` by id; broken ones, and one whose id is an article's, are added
    to ``errors``."""
    loaded = load_procedures(root, languages)
    errors.extend(loaded.errors)
    procedures = {}
    for procedure in loaded.procedures:
        if procedure.id in article_ids:
            errors.append(ArticleError(procedure.path, 1, f"duplicate id '{procedure.id}' (already an article's)"))
        else:
            procedures[procedure.id] = procedure
    return procedures


class _CalibrationCache:
    """Query vectors of calibration questions by text: an incremental build encodes only new ones."""

    def __init__(self, vectors: dict[str, np.ndarray] | None = None):
        self.vectors = vectors or {}
        self.used: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, previous: KnowledgeIndex | None, lang: str) -> _CalibrationCache:
        path = previous.path / f"{lang}.calibration.npz" if previous else None
        if path is None or not path.is_file():
            return cls()
        with np.load(path) as data:
            return cls(dict(zip(data["texts"].tolist(), data["vectors"], strict=True)))

    def encode(self, texts: list[str], embedder: Embedder) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            self.vectors.update(zip(missing, embedder.encode_queries(missing), strict=True))
        self.used = {t: self.vectors[t] for t in texts}
        if not texts:
            return np.zeros((0, embedder.dim), np.float32)
        return np.vstack([self.vectors[t] for t in texts])

    def save(self, path: Path) -> None:
        texts = list(self.used)
        vectors = np.vstack([self.used[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)
        np.savez(path, texts=np.array(texts, dtype=str), vectors=vectors)


def _prune(index_dir: Path, keep: str) -> None:
    """Delete old versions (a server may still read the previous one: keep it)."""
    versions = sorted(p for p in index_dir.glob("v-*") if p.is_dir() and p.name != keep)
    for old in versions[: max(0, len(versions) - (KEEP_VERSIONS - 1))]:
        shutil.rmtree(old, ignore_errors=True)
