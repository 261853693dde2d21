"""The procedures' routes of the web service, as the bot's action server calls them, against the
reference company system over real HTTP: definitions, answers, runs, limits, the audit log, search."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from helpdesk.cli import main
from tests.procedures.conftest import REPO, SERVICE, write_config

LINE = "/procedures/en-line-check"
ANNA = {"customer_number": "nw-100234", "postal_code": "10115"}


def runs(settings) -> list[sqlite3.Row]:
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM procedure_runs ORDER BY id").fetchall()


def start(client: TestClient, inputs: dict, conversation: str = "conv-1", key: str = "conv-1-run-1", path=LINE):
    return client.post(f"{path}/runs", json={"conversation_id": conversation, "inputs": inputs, "idempotency_key": key})


def test_the_routes_need_the_service_token(client):
    assert client.get(LINE, headers={"Authorization": ""}).status_code == 401
    assert client.post(f"{LINE}/runs", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_definition_lists_what_the_bot_asks(client):
    body = client.get(LINE).json()
    assert body["title"].startswith("Line check") and body["lang"] == "en" and body["checks_identity"]
    assert [(i["name"], i["label"], i["kind"]) for i in body["inputs"]] == [
        ("customer_number", "customer number", "customer_number"),
        ("postal_code", "postal code", "postal_code"),
    ]
    assert "call" not in body and "nordwind" not in str(body)  # the system and its call stay on the server
    assert client.get("/procedures/en-nothing").status_code == 404


def test_an_answer_is_checked_and_normalised(client):
    good = client.post(f"{LINE}/inputs", json={"name": "customer_number", "value": " nw 100234 "}).json()
    assert good == {"valid": True, "value": "NW100234", "error": None}
    bad = client.post(f"{LINE}/inputs", json={"name": "postal_code", "value": "1011"}).json()
    assert bad == {"valid": False, "value": None, "error": "A postal code has five digits, for example 10115."}
    assert client.post(f"{LINE}/inputs", json={"name": "password", "value": "x"}).status_code == 422


def test_a_run_answers_from_the_system_and_leaves_an_audit_row_without_customer_data(client, app_settings):
    answer = start(client, ANNA)
    assert answer.status_code == 200
    body = answer.json()
    assert body["outcome"] == "done" and body["attempts_left"] == 3 and body["ask_again"] == []
    assert "I checked your line DSL-4471-0815: it is working, at 98.4 Mbit/s" in body["text"]
    assert body["ticket"] == {
        "procedure_id": "en-line-check",
        "title": "Line check: is your Nordwind line working?",
        "outcome": "done",
        "inputs": [
            {"label": "customer number", "value": "NW-100234"},
            {"label": "postal code", "value": "10115"},
        ],
        "status_code": 200,
        "answer": body["text"],
    }
    [row] = runs(app_settings)
    assert (row["procedure_id"], row["language"], row["outcome"], row["status_code"]) == (
        "en-line-check",
        "en",
        "done",
        200,
    )
    assert 0 <= row["duration_ms"] < 3000
    assert not any(v in str(tuple(row)) for v in ("100234", "10115", "conv-1"))


def test_a_line_with_a_fault_asks_for_a_person(client):
    body = start(client, {"customer_number": "NW-100571", "postal_code": "20095"}).json()
    assert body["outcome"] == "handoff" and "it has had a fault since 8 Dec 2026, 07:40" in body["text"]


def test_refused_identities_lock_the_conversation_out(client, app_settings):
    wrong = {"customer_number": "NW-100234", "postal_code": "20095"}
    left = []
    for n in range(3):
        body = start(client, wrong, key=f"conv-1-run-{n}").json()
        assert body["outcome"] == "identity_failed"
        assert body["text"] == "The customer number and postal code don't match our records."
        left.append((body["attempts_left"], body["ask_again"]))
    assert left == [(2, ["customer_number", "postal_code"]), (1, ["customer_number", "postal_code"]), (0, [])]
    # Now even the right identity is not tried: no call, the audit keeps the refusal.
    body = start(client, ANNA, key="conv-1-run-9").json()
    assert (body["outcome"], body["text"]) == ("locked", None)
    # Another conversation is not locked out.
    assert start(client, ANNA, conversation="conv-2", key="conv-2-run-1").json()["outcome"] == "done"
    assert [r["outcome"] for r in runs(app_settings)] == ["identity_failed"] * 3 + ["locked", "done"]
    assert runs(app_settings)[3]["status_code"] is None


def test_too_many_runs_in_one_conversation(client, app_settings, tmp_path, company):
    settings = app_settings.model_copy(
        update={"procedures_file": write_config(tmp_path / "p.yml", company.url, runs_per_conversation=2)}
    )
    with TestClient(create_app(settings), headers=SERVICE) as limited:
        outcomes = [start(limited, ANNA, key=f"conv-1-run-{n}").json()["outcome"] for n in range(3)]
    assert outcomes == ["done", "done", "limit"]


def test_a_system_that_is_down_gives_the_procedures_honest_message(app_settings, tmp_path, closed_url):
    settings = app_settings.model_copy(update={"procedures_file": write_config(tmp_path / "p.yml", closed_url)})
    with TestClient(create_app(settings), headers=SERVICE) as down:
        body = start(down, ANNA).json()
    assert body["outcome"] == "failed"
    assert body["text"] == "I'm sorry, I can't reach our line test system right now, so I can't check your line myself."
    assert body["ticket"]["outcome"] == "failed" and body["ticket"]["inputs"][1] == {
        "label": "postal code",
        "value": "10115",
    }
    assert (body["ticket"]["status_code"], body["ticket"]["answer"]) == (None, body["text"])
    assert runs(app_settings)[0]["status_code"] is None


def test_an_error_answer_of_the_system_is_a_failure_with_its_status(client, app_settings):
    """NW-100950's account makes the reference system answer HTTP 500, which no reply describes."""
    body = start(client, {"customer_number": "NW-100950", "postal_code": "70173"}).json()
    assert body["outcome"] == "failed" and body["text"].startswith("I'm sorry, I can't reach our line test system")
    assert (body["ticket"]["status_code"], body["ticket"]["answer"]) == (500, body["text"])
    assert [(r["outcome"], r["status_code"]) for r in runs(app_settings)] == [("failed", 500)]


@pytest.mark.parametrize(
    "inputs", [{"customer_number": "NW-100234"}, {"customer_number": "NW-100234", "postal_code": "ten"}]
)
def test_a_missing_or_invalid_answer_is_refused_before_any_call(client, app_settings, inputs):
    answer = start(client, inputs)
    assert answer.status_code == 422 and "postal_code" in answer.json()["detail"]
    assert runs(app_settings) == []


def test_search_finds_a_procedure_only_for_a_caller_that_can_run_it(client):
    question = {"query": "Could you please check whether my line has a fault?", "lang": "en"}
    both = client.post("/search", json={**question, "kinds": ["article", "procedure"]}).json()
    assert both["hits"][0]["article_id"] == "en-line-check" and both["hits"][0]["kind"] == "procedure"
    assert both["decision"] in ("answer", "suggest") and both["hits"][0]["url"] == ""
    articles = client.post("/search", json=question).json()
    assert all(h["kind"] == "article" for h in articles["hits"])
    de = client.post("/search", json={"query": "Können Sie meine Leitung prüfen?", "kinds": ["article", "procedure"]})
    assert de.json()["hits"][0]["article_id"] == "de-leitung-pruefen"
    assert client.get("/articles/en-line-check").status_code == 404
    assert client.get("/health").json()["procedures"] == 6


def test_the_procedures_file_is_checked_at_start(app_settings, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("systems:\n  nordwind:\n    base_url: nowhere\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"{bad}:3: systems.nordwind.base_url"):
        create_app(app_settings.model_copy(update={"procedures_file": Path(bad)}))


def test_operators_read_the_audit_log_summed_up(client, app_settings, monkeypatch, capsys):
    start(client, ANNA)
    start(client, {"customer_number": "NW-100234", "postal_code": "20095"}, key="conv-1-run-2")
    start(client, ANNA, key="conv-1-run-3")
    monkeypatch.setenv("DATABASE_URL", app_settings.database_url)
    monkeypatch.setenv("HELPDESK_SECRETS_FILE", "/nonexistent")
    assert main(["procedure-runs", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [(r["procedure_id"], r["outcome"], r["runs"]) for r in summary] == [
        ("en-line-check", "done", 2),
        ("en-line-check", "identity_failed", 1),
    ]
    assert all(0 <= r["median_ms"] <= r["max_ms"] < 3000 for r in summary)
    assert main(["procedure-runs"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("procedure runs in the last 7 days: 3") and "10115" not in text


def test_a_procedure_saved_while_previewing_is_indexed(kb_copy):
    """``helpdesk serve --watch``: a new procedure file is found without a restart."""
    settings = kb_copy.model_copy(update={"watch_articles": True})
    folder = kb_copy.articles_dir.parent / "procedures" / "en"
    folder.mkdir(parents=True)
    with TestClient(create_app(settings), headers=SERVICE) as client:
        assert client.get("/health").json()["procedures"] == 0
        time.sleep(0.5)  # let the watcher start
        shutil.copy(REPO / "kb" / "procedures" / "en" / "line-check.md", folder / "line-check.md")
        deadline = time.time() + 90
        while time.time() < deadline and client.get("/health").json()["procedures"] == 0:
            time.sleep(0.3)
        assert client.get("/health").json()["procedures"] == 1
        assert client.get(LINE).json()["title"].startswith("Line check")
