"""The starter KB with the demo's procedures, as the bot searches it (articles and procedures).

The authors' CI check of tests/search/test_starter_kb.py, for the knowledge base the bot serves:
every example question, an article's or a procedure's, must find its own entry first and be
answered, so a procedure never takes an article's questions (nor an article a procedure's); and
the held-out questions of kb/eval/starter keep the bands the articles alone reach.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from search_api.search.service import SearchService

REPO = Path(__file__).resolve().parents[2]
EVAL_SET = REPO / "kb" / "eval" / "starter"


@pytest.fixture(scope="module")
def service(starter_kb, tmp_path_factory) -> SearchService:
    """The session's starter index, copied, with the demo's procedures added (only they are embedded)."""
    root = tmp_path_factory.mktemp("starter-procedures")
    shutil.copytree(starter_kb.articles_dir, root / "articles")
    shutil.copytree(starter_kb.index_dir, root / "index")
    shutil.copytree(REPO / "kb" / "procedures", root / "procedures")
    settings = starter_kb.model_copy(update={"articles_dir": root / "articles", "index_dir": root / "index"})
    report = SearchService.build(settings)
    assert report.errors == [] and report.procedures == 6
    return SearchService.open(settings)


def test_every_example_question_finds_its_own_article_or_procedure(service):
    from search_api.evaluation import example_question_misses

    misses = example_question_misses(service, kinds=("article", "procedure"))
    assert misses == [], "\n".join(misses)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_held_out_questions_keep_their_bands_beside_the_procedures(service, lang):
    from search_api.evaluation import summarise

    queries = [json.loads(line) for line in (EVAL_SET / "queries.jsonl").open(encoding="utf-8")]
    report = summarise([q for q in queries if q["lang"] == lang], service, given_lang=False)
    summary = {k: report[k] for k in ("r@1", "in_scope_right_article_shown", "in_scope_asserted_wrong")}
    assert report["r@1"] >= 0.9, summary
    assert report["in_scope_right_article_shown"] >= 0.85, summary
    assert report["in_scope_asserted_wrong"] <= 0.05, summary
    assert report["out_of_scope_refused"] >= 0.7, report["out_of_scope_refused"]
