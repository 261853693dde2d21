"""The reference company system (examples/company_api): what the demo's procedures rely on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from examples.company_api.app import create_app, month_of

TOKEN = {"Authorization": "Bearer t0ken"}


@pytest.fixture
def api() -> TestClient:
    return TestClient(create_app("t0ken"))


def test_every_route_under_v1_needs_the_token(api):
    assert api.get("/v1/customers/NW-100234/line", params={"postal_code": "10115"}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert api.get("/v1/outbox", headers=wrong).json() == {"error": "unauthorized"}
    assert api.get("/health").json()["status"] == "ok"


def test_the_line_of_a_customer_whose_postal_code_matches(api):
    answer = api.get("/v1/customers/nw 100234/line", params={"postal_code": "10115"}, headers=TOKEN)
    assert answer.status_code == 200
    assert answer.json()["line"]["status"] == "up" and answer.json()["line"]["id"] == "DSL-4471-0815"
    down = api.get("/v1/customers/NW-100571/line", params={"postal_code": "20095"}, headers=TOKEN).json()
    assert down["line"]["status"] == "down"


def test_a_wrong_postal_code_and_an_unknown_number_get_the_same_answer(api):
    wrong = api.get("/v1/customers/NW-100234/line", params={"postal_code": "20095"}, headers=TOKEN)
    unknown = api.get("/v1/customers/NW-999999/line", params={"postal_code": "10115"}, headers=TOKEN)
    assert (
        (wrong.status_code, wrong.json())
        == (unknown.status_code, unknown.json())
        == (
            404,
            {"error": "identity_mismatch"},
        )
    )


def test_an_invoice_copy_is_mailed_once_per_idempotency_key(api):
    body = {"postal_code": "10115", "month": "11/2026"}
    first = api.post("/v1/customers/NW-100234/invoice-copies", json=body, headers={**TOKEN, "Idempotency-Key": "k1"})
    again = api.post("/v1/customers/NW-100234/invoice-copies", json=body, headers={**TOKEN, "Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 202
    assert (
        first.json()
        == again.json()
        == {"invoice": "RE-2026-11-100234", "month": "2026-11", "sent_to": "a***@example.org"}
    )
    mails = api.get("/v1/outbox", headers=TOKEN).json()["mails"]
    assert [m["subject"] for m in mails] == ["Copy of your invoice RE-2026-11-100234"]
    missing = api.post("/v1/customers/NW-100234/invoice-copies", json={**body, "month": "2025-01"}, headers=TOKEN)
    assert missing.status_code == 404 and missing.json()["error"] == "no_invoice"


def test_a_password_reset_link_goes_to_the_address_on_file(api):
    answer = api.post("/v1/customers/NW-100812/password-reset", json={"postal_code": "80331"}, headers=TOKEN)
    assert answer.status_code == 202 and answer.json() == {"sent_to": "l***@example.com", "valid_hours": 24}
    assert api.get("/v1/outbox", headers=TOKEN).json()["mails"][0]["to"] == "lea.hoffmann@example.com"


@pytest.mark.parametrize(
    ("text", "month"), [("2026-11", "2026-11"), ("11/2026", "2026-11"), ("3.2026", "2026-03"), ("Nov", None)]
)
def test_months_in_the_forms_customers_type(text, month):
    assert month_of(text) == month
