"""``helpdesk gaps`` against a real database (SQLite and PostgreSQL) and the built fixture index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.cli import main
from search_api.settings import PROJECT_ROOT


@pytest.fixture
def cli_env(monkeypatch, database_url, built_kb) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "HELPDESK_INDEX_DIR": str(built_kb.index_dir),
        "HELPDESK_ARTICLES_DIR": str(built_kb.articles_dir),
        "HELPDESK_SECRETS_FILE": "/nonexistent",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def seeded(store):
    now = datetime.now(UTC)
    for i, query in enumerate(
        [
            "How do I cancel my contract?",
            "how do I cancel my contract",
            "cancel contract please",
            "Wie backe ich einen Apfelkuchen?",
        ]
    ):
        lang = "de" if "backe" in query else "en"
        store.record_unanswered(query, lang, 0.3, 0.5, "fx-en-reset-password", now=now - timedelta(minutes=i))
    store.record_unanswered("Where is my parcel?", "en", 0.2, 0.5, None, now=now - timedelta(days=10))
    store.record_feedback("c1", "fx-en-router-no-internet", "router light is blue", False)
    store.record_feedback("c2", "fx-en-router-no-internet", "router light is red", True)
    store.record_feedback("c3", "fx-en-reset-password", "I forgot my password", True)
    return store


def test_gaps_text_groups_by_meaning(cli_env, seeded, capsys):
    assert main(["gaps", "--days", "7"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("Unanswered questions, last 7 days: 4 searches in 2 groups (grouped by meaning), top 2")
    assert out[2].split(None, 5)[0:2] == ["1", "3"] and out[2].endswith("en     How do I cancel my contract?")
    assert '"how do I cancel my contract"' in out[3] and '"cancel contract please"' in out[3]
    assert out[4].strip() == "closest article: fx-en-reset-password (confidence 0.300)"
    assert out[5].split()[:2] == ["2", "1"] and out[5].endswith("de     Wie backe ich einen Apfelkuchen?")
    assert "Where is my parcel?" not in "\n".join(out)  # ten days ago
    tail = out[out.index('Articles by share of "not solved", last 7 days') :]
    assert tail[2] == (
        "         1       1    50%  fx-en-router-no-internet  No internet: the router's Internet light is red"
    )
    assert tail[3].strip() == '"router light is blue"'
    assert tail[4].split()[:3] == ["0", "1", "0%"]


def test_gaps_json_and_exact(cli_env, seeded, capsys):
    assert main(["gaps", "--days", "30", "--limit", "2", "--json", "--exact"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["grouped_by"] == "text" and report["unanswered_searches"] == 5 and report["groups"] == 4
    assert [(g["example"], g["count"]) for g in report["gaps"]] == [
        ("How do I cancel my contract?", 2),
        ("cancel contract please", 1),
    ]
    assert [a["article_id"] for a in report["articles"]] == ["fx-en-router-no-internet", "fx-en-reset-password"]


def test_gaps_on_an_empty_store_and_bad_arguments(cli_env, store, capsys):
    assert main(["gaps", "--exact"]) == 0
    assert capsys.readouterr().out == (
        "No unanswered searches in the last 30 days.\n\nNo article feedback in the last 30 days.\n"
    )
    assert main(["gaps", "--days", "0"]) == 2
    assert "--days and --limit must be at least 1" in capsys.readouterr().err


def test_helpdesk_gaps_as_a_command(cli_env, seeded):
    # The installed entry point's module, in its own process, as an author runs it.
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "gaps", "--exact", "--limit", "1"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **cli_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].endswith("How do I cancel my contract?")
