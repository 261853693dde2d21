"""The reference company system (examples/company_api): what the demo's procedures rely on."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from examples.company_api.app import CUSTOMERS_FILE, create_app, month_of
from search_api.kb.procedures import MAX_TIMEOUT_SECONDS

TOKEN = {"Authorization": "Bearer t0ken"}
IDENTITY_MISMATCH = {"error": "identity_mismatch"}
SHOP_SYSTEM = Path(__file__).resolve().parents[1] / "fixtures" / "kb_shop" / "company_system.json"


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


def test_the_demo_customers_include_a_slow_and_a_failing_account():
    """The demo's switches for the procedures' failures: slower than any procedure may wait (5 s), and an HTTP 500."""
    customers = json.loads(CUSTOMERS_FILE.read_text(encoding="utf-8"))["customers"]
    simulated = {c["number"]: c["simulate"] for c in customers if "simulate" in c}
    assert simulated == {"NW-100900": {"delay_seconds": 8}, "NW-100950": {"status": 500}}
    assert simulated["NW-100900"]["delay_seconds"] > MAX_TIMEOUT_SECONDS


def test_a_simulated_slow_or_failing_record_answers_so_once_the_identity_is_checked(tmp_path):
    data = {
        "customers": [
            {"number": "NW-1", "postal_code": "10115", "simulate": {"delay_seconds": 0.4}, "line": {"status": "up"}},
            {"number": "NW-2", "postal_code": "10115", "simulate": {"status": 500}, "line": {"status": "up"}},
        ]
    }
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    api = TestClient(create_app("t0ken", tmp_path / "data.json"))
    started = time.monotonic()
    slow = api.get("/v1/customers/NW-1/line", params={"postal_code": "10115"}, headers=TOKEN)
    assert slow.status_code == 200 and time.monotonic() - started >= 0.4
    failing = api.get("/v1/customers/NW-2/line", params={"postal_code": "10115"}, headers=TOKEN)
    assert (failing.status_code, failing.json()) == (500, {"error": "internal"})
    # A wrong identity is refused at once, as for any account.
    started = time.monotonic()
    refused = api.get("/v1/customers/NW-1/line", params={"postal_code": "99999"}, headers=TOKEN)
    assert refused.status_code == 404 and time.monotonic() - started < 0.4


def test_the_shops_orders_by_number_and_the_email_they_were_placed_with():
    api = TestClient(create_app("t0ken", SHOP_SYSTEM))
    answer = api.get("/v1/orders/bc 482913", params={"email": "Lena.Park@example.org"}, headers=TOKEN)
    assert answer.status_code == 200
    assert answer.json()["order"] == {
        "number": "BC-482913",
        "status": "shipped",
        "placed_at": "2026-12-05T18:22:00+01:00",
        "items": 2,
        "carrier": "DHL",
        "tracking_number": "00340434161094042557",
        "expected_delivery": "2026-12-09",
    }
    wrong = api.get("/v1/orders/BC-482913", params={"email": "someone@example.org"}, headers=TOKEN)
    unknown = api.get("/v1/orders/BC-000000", params={"email": "lena.park@example.org"}, headers=TOKEN)
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (404, IDENTITY_MISMATCH)
    assert api.get("/v1/orders/BC-482913", params={"email": "lena.park@example.org"}).status_code == 401
    # The shop's system has no Nordwind customers, and Nordwind's has no orders.
    assert api.get("/v1/customers/NW-100234/line", params={"postal_code": "10115"}, headers=TOKEN).status_code == 404
    nordwind = TestClient(create_app("t0ken"))
    assert nordwind.get("/v1/orders/BC-482913", params={"email": "lena.park@example.org"}, headers=TOKEN).json() == (
        IDENTITY_MISMATCH
    )
