"""The call of a procedure against real HTTP: the reference system, a system that is down, slow or flaky."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from helpdesk.procedures import inputs, replies, runner
from helpdesk.procedures.config import Auth, ProceduresConfigError, System, load_procedures_config
from search_api.kb.procedures import Procedure, load_procedures
from tests.handoffs.conftest import running
from tests.procedures.conftest import COMPANY_TOKEN, write_config

REPO = Path(__file__).resolve().parents[2]
PROCEDURES = {p.id: p for p in load_procedures(REPO / "kb" / "procedures", ("de", "en")).procedures}
ENV = {"NORDWIND_API_TOKEN": COMPANY_TOKEN, "HELPDESK_SECRETS_FILE": "/nonexistent"}


def system(url: str) -> System:
    return System(base_url=url, auth=Auth(type="bearer", secret="NORDWIND_API_TOKEN"))


def run(procedure: Procedure, base_url: str, values: dict[str, str], key: str = "run-key-0001") -> runner.Result:
    async def go() -> runner.Result:
        async with httpx.AsyncClient() as client:
            return await runner.call(client, procedure, system(base_url), values, key, ENV)

    return asyncio.run(go())


def answers(procedure: Procedure, **typed: str) -> dict[str, str]:
    """The answers as the run gets them: checked and normalised."""
    values = {}
    for spec in procedure.spec.inputs:
        checked = inputs.check(spec, typed[spec.name])
        assert checked.valid and checked.value is not None, spec.name
        values[spec.name] = checked.value
    return values


def test_a_working_line_is_answered_with_the_systems_fields_in_the_customers_language(company):
    de = PROCEDURES["de-leitung-pruefen"]
    result = run(de, company.url, answers(de, customer_number="nw 100234", postal_code="10115"))
    assert result.outcome == "done" and result.status == 200
    assert "Leitung DSL-4471-0815 geprüft: Sie funktioniert, mit 98,4 Mbit/s" in result.text
    assert "seit 30.11.2026, 06:12 Uhr ohne Störung" in result.text
    en = PROCEDURES["en-line-check"]
    result = run(en, company.url, answers(en, customer_number="NW-100571", postal_code="20095"))
    assert result.outcome == "handoff" and "it has had a fault since 8 Dec 2026, 07:40" in result.text


def test_the_system_refuses_an_identity_that_does_not_fit(company):
    en = PROCEDURES["en-line-check"]
    result = run(en, company.url, answers(en, customer_number="NW-100234", postal_code="20095"))
    assert (result.outcome, result.status) == ("identity_failed", 404)
    assert result.text == "The customer number and postal code don't match our records."


def test_a_system_that_is_down_is_an_honest_failure(closed_url):
    en = PROCEDURES["en-line-check"]
    started = time.monotonic()
    result = run(en, closed_url, answers(en, customer_number="NW-100234", postal_code="10115"))
    assert (result.outcome, result.status) == ("failed", None)
    assert result.text.startswith("I'm sorry, I can't reach our line test system")
    assert time.monotonic() - started < 3


def test_a_slow_system_is_given_up_after_the_procedures_timeout():
    app = FastAPI()

    @app.get("/v1/customers/{number}/line")
    async def slow(number: str) -> dict:
        await asyncio.sleep(5)
        return {}

    spec = PROCEDURES["en-line-check"].spec
    quick = dataclasses.replace(
        PROCEDURES["en-line-check"],
        spec=spec.model_copy(update={"call": spec.call.model_copy(update={"timeout": 0.5})}),
    )
    with running(app) as url:
        started = time.monotonic()
        result = run(quick, url, {"customer_number": "NW-100234", "postal_code": "10115"})
        took = time.monotonic() - started
    # Retried once (a GET is idempotent): two timeouts and the pause between them.
    assert result.outcome == "failed" and 1.0 <= took < 2.5


def flaky_system(status: int) -> tuple[FastAPI, list[dict]]:
    """A system that answers ``status`` to the first request of each path and 202/200 afterwards."""
    app, seen = FastAPI(), []

    @app.api_route("/v1/customers/{number}/{what}", methods=["GET", "POST"])
    async def answer(request: Request, number: str, what: str) -> JSONResponse:
        seen.append({"method": request.method, "key": request.headers.get("idempotency-key")})
        if len(seen) == 1:
            return JSONResponse({"error": "busy"}, status_code=status)
        return JSONResponse(
            {
                "sent_to": "a***@example.org",
                "invoice": "RE-1",
                "month": "2026-11",
                "valid_hours": 24,
                "line": {"status": "up", "id": "X", "sync_mbit": 1, "since": "2026-11-01"},
            },
            status_code=202 if request.method == "POST" else 200,
        )

    return app, seen


def test_an_idempotent_call_is_retried_with_the_same_idempotency_key():
    procedure = PROCEDURES["en-invoice-copy"]
    assert procedure.spec.call.method == "POST" and procedure.spec.call.idempotency_key
    app, seen = flaky_system(503)
    with running(app) as url:
        result = run(
            procedure, url, answers(procedure, customer_number="NW-100234", postal_code="10115", month="11/2026")
        )
    assert result.outcome == "done" and len(seen) == 2
    assert seen[0]["key"] == seen[1]["key"] == runner.idempotency_header("run-key-0001", procedure.id)
    assert "run-key" not in seen[0]["key"]  # the key names nothing of the conversation


def test_a_call_that_is_not_idempotent_is_never_retried():
    en = PROCEDURES["en-line-check"]
    spec = en.spec
    post = spec.call.model_copy(
        update={"method": "POST", "retries": 0, "query": {}, "body": {"postal_code": "{postal_code}"}}
    )
    single = dataclasses.replace(en, spec=spec.model_copy(update={"call": post.model_copy(update={"retries": 1})}))
    app, seen = flaky_system(503)
    with running(app) as url:
        result = run(single, url, {"customer_number": "NW-100234", "postal_code": "10115"})
    assert result.outcome == "failed" and len(seen) == 1


@pytest.mark.parametrize("number", ["../../admin", "x@evil.example", "a/b?c=d#e", "%2e%2e"])
def test_an_answer_never_leaves_the_systems_base_url(number):
    url = runner.request_url(
        system("https://api.example.com/v1"), "/customers/{customer_number}/line", {"customer_number": number}
    )
    assert url.startswith("https://api.example.com/v1/customers/") and url.endswith("/line")
    assert url.count("/") == 6  # the answer is one path segment, percent-encoded


def test_nothing_of_the_customer_is_logged(company, caplog):
    runner.quiet_requests([company.url])
    en = PROCEDURES["en-line-check"]
    with caplog.at_level(logging.DEBUG):
        run(en, company.url, answers(en, customer_number="NW-100234", postal_code="10115"))
        run(en, company.url, answers(en, customer_number="NW-100234", postal_code="99999"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "100234" not in logged and "10115" not in logged and "99999" not in logged


def test_a_missing_secret_is_a_failure_that_names_the_secret_not_a_value(company, caplog):
    en = PROCEDURES["en-line-check"]

    async def go() -> runner.Result:
        async with httpx.AsyncClient() as client:
            values = {"customer_number": "NW-100234", "postal_code": "10115"}
            return await runner.call(
                client, en, system(company.url), values, "run-key-0002", {"HELPDESK_SECRETS_FILE": "/x"}
            )

    with caplog.at_level(logging.ERROR):
        result = asyncio.run(go())
    assert result.outcome == "failed" and "NORDWIND_API_TOKEN" in caplog.text


def test_the_configuration_names_file_and_line_of_a_mistake(tmp_path):
    path = write_config(tmp_path / "procedures.yml", "ftp://files.example", identity_failures=0)
    with pytest.raises(ProceduresConfigError) as info:
        load_procedures_config(path)
    assert f"{path}:3: systems.nordwind.base_url: an absolute http(s) URL" in str(info.value)
    assert f"{path}:6: limits.identity_failures: Input should be greater than or equal to 1" in str(info.value)
    good = load_procedures_config(write_config(tmp_path / "ok.yml", "http://127.0.0.1:8010/", identity_failures=2))
    assert good.systems["nordwind"].base_url == "http://127.0.0.1:8010" and good.limits.identity_failures == 2


def test_a_masked_address_from_the_system_keeps_its_mask_and_no_markup_gets_through():
    assert replies.shown("a***@example.org", "de") == "a•••@example.org"
    assert replies.shown("**bold** [link](http://x) <b>`code`</b> |t|", "en") == "••bold•• link (http://x) b code /b t"
