"""The procedure file format: what parses, and every mistake named by file and line (``helpdesk lint``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from search_api.kb.lint import lint_procedures
from search_api.kb.procedures import ProcedureError, load_procedures, parse_procedure, search_entry

REPO = Path(__file__).resolve().parents[2]
GOOD = """---
id: en-check
title: Check something
lang: en
updated: 2026-12-01
questions: ["can you check it?", "please check my thing", "check it for me"]
inputs:
  - name: customer_number
    label: customer number
    prompt: What is your customer number?
    validate: customer_number
  - name: postal_code
    label: postal code
    prompt: And your postal code?
    validate: postal_code
identity: [customer_number, postal_code]
call:
  system: nordwind
  method: GET
  url: /v1/customers/{customer_number}/thing
  query: {postal_code: "{postal_code}"}
replies:
  - when: {status: 200, equals: {thing.state: ok}}
    outcome: done
    text: "It is fine since {response.thing.since|date}, {customer_number}."
  - when: {status: 404}
    outcome: identity_failed
    text: "That does not match."
failure: Sorry, the system does not answer.
---
I check your thing.
"""


def write(root: Path, text: str, name: str = "check.md", lang: str = "en") -> Path:
    path = root / "procedures" / lang / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problem(tmp_path: Path, text: str, name: str = "check.md") -> str:
    with pytest.raises(ProcedureError) as info:
        parse_procedure(write(tmp_path, text, name), tmp_path / "procedures", ("de", "en"))
    return str(info.value)


def test_a_procedure_parses_with_its_description_from_the_body(tmp_path):
    procedure = parse_procedure(write(tmp_path, GOOD), tmp_path / "procedures", ("de", "en"))
    spec = procedure.spec
    assert procedure.path == "procedures/en/check.md"
    assert [i.name for i in spec.inputs] == ["customer_number", "postal_code"]
    assert spec.description == "I check your thing." and spec.call.timeout == 3.0
    entry = search_entry(procedure)
    assert (entry.kind, entry.id, entry.questions[0]) == ("procedure", "en-check", "can you check it?")


def test_the_yaml_form_takes_the_text_from_description(tmp_path):
    body = GOOD.split("---\n")[1] + "description: I check your thing.\n"
    procedure = parse_procedure(write(tmp_path, body, "check.yml"), tmp_path / "procedures", ("de", "en"))
    assert procedure.spec.description == "I check your thing."


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("validate: postal_code", "validate: zip"), 15, "inputs.1.validate: Input should be"),
        (("method: GET", "method: POST\n  retries: 1"), 17, "call: 'retries' only for idempotent calls"),
        (("url: /v1/customers/{customer_number}/thing", "url: https://evil.example/{customer_number}"), 20, "a path"),
        (("/thing", "/{thing_id}"), 20, "call.url: '{thing_id}' is not an input"),
        (("{response.thing.since|date}", "{response.thing.since|upper}"), 25, "replies.0.text: '|upper' is unknown"),
        (('query: {postal_code: "{postal_code}"}', "query: {}"), 17, "identity: send postal_code"),
        (
            ("  - when: {status: 404}\n    outcome: identity_failed", "  - when: {status: 404}\n    outcome: done"),
            22,
            "replies: with 'identity', a reply 'outcome: identity_failed'",
        ),
        (("method: GET", "method: GET\n  timeout: 9"), 20, "call.timeout: Input should be less than or equal to 5"),
        (("lang: en", "lang: de"), 4, "'lang: de' but the file is in 'en'"),
        (("    prompt: And your postal code?\n", ""), 12, "inputs.1.prompt: Field required"),
    ],
)
def test_a_mistake_is_named_by_file_and_line(tmp_path, change, line, message):
    text = GOOD.replace(*change)
    assert text != GOOD
    found = problem(tmp_path, text)
    assert found.startswith(f"procedures/en/check.md:{line}: ") and message in found, found


def test_lint_asks_for_example_questions_and_unique_ids(tmp_path):
    write(tmp_path, GOOD.replace('questions: ["can you check it?", "please check my thing", "check it for me"]', ""))
    write(tmp_path, GOOD, "other.md")
    problems, count = lint_procedures(tmp_path / "procedures", ("de", "en"), article_ids={"en-router"})
    assert count == 2
    messages = [str(p) for p in problems]
    assert "procedures/en/check.md:1: no example questions yet; write at least 3" in messages
    assert any(m.startswith("procedures/en/other.md:2: duplicate id 'en-check'") for m in messages), messages


def test_a_procedure_may_not_take_an_articles_id(tmp_path):
    write(tmp_path, GOOD.replace("id: en-check", "id: en-router"))
    problems, _ = lint_procedures(tmp_path / "procedures", ("de", "en"), article_ids={"en-router"})
    assert [str(p) for p in problems] == ["procedures/en/check.md:2: 'en-router' is an article's id"]


def test_the_demo_procedures_pass_the_lint():
    problems, count = lint_procedures(REPO / "kb" / "procedures", ("de", "en"))
    assert problems == [] and count >= 2
    loaded = load_procedures(REPO / "kb" / "procedures", ("de", "en"))
    assert {"en-line-check", "de-leitung-pruefen"} <= {p.id for p in loaded.procedures}


def test_helpdesk_lint_names_the_file_and_line_and_fails(tmp_path):
    (tmp_path / "articles").mkdir()
    write(tmp_path, GOOD.replace("validate: postal_code", "validate: zip"))
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "lint", "--articles", str(tmp_path / "articles")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HELPDESK_SECRETS_FILE": "/nonexistent"},
    )
    assert done.returncode == 1
    assert f"{tmp_path}/procedures/en/check.md:15: inputs.1.validate:" in done.stderr
    assert "1 procedures checked" in done.stderr


def test_helpdesk_lint_fails_on_a_system_the_configuration_does_not_have(tmp_path):
    (tmp_path / "articles").mkdir()
    write(tmp_path, GOOD)
    config = tmp_path / "procedures.yml"
    config.write_text("systems:\n  billing:\n    base_url: https://billing.example\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HELPDESK_SECRETS_FILE": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "lint", "--articles", str(tmp_path / "articles")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**env, "HELPDESK_PROCEDURES_FILE": str(config)},
    )
    assert done.returncode == 1
    assert f"{tmp_path}/procedures/en/check.md:17: call.system: 'nordwind' is not a system of {config}" in done.stderr
