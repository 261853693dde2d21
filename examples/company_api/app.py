"""The reference company system: what the demo's procedures (kb/procedures) call.

It stands for the system a company already has behind its customer portal, with the habits
of a real one: a bearer token on every route under ``/v1``, the customer's identity checked
by customer number and postal code on every request that touches an account (an unknown
number and a wrong postal code get the same answer, so nobody can probe which numbers
exist), an ``Idempotency-Key`` honoured on the requests that send mail, and no customer
data in its answers beyond what the customer needs (e-mail addresses masked).

Routes:

- ``GET /v1/customers/{number}/line?postal_code=`` the line's status (``up`` / ``down``) and since when
- ``POST /v1/customers/{number}/invoice-copies`` ``{postal_code, month}``: mail a copy of that month's invoice
- ``POST /v1/customers/{number}/password-reset`` ``{postal_code}``: mail a new password reset link
- ``GET /v1/orders/{number}?email=`` an order of a shop: its status, the carrier and tracking number
- ``GET /v1/outbox`` the mails it "sent" (the demo has no mail server), newest last
- ``GET /health``

The customers and orders are read from a JSON file: ``customers.json`` (Nordwind's customers of
the starter KB) unless ``--customers`` names another (the test shop Brightcart's orders:
tests/fixtures/kb_shop/company_system.json). A record may carry ``simulate``, so the procedures'
failures can be shown and tested against a real system: ``{"delay_seconds": 8}`` answers that
much later, ``{"status": 500}`` answers with that status and ``{"error": "internal"}``; both only
once the identity is checked.
Run it with ``python -m examples.company_api`` (``make run`` starts it in the demo setup).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

CUSTOMERS_FILE = Path(__file__).with_name("customers.json")
MONTH = re.compile(r"^\s*(?:(?P<y1>20\d\d)[-/.](?P<m1>0?[1-9]|1[0-2])|(?P<m2>0?[1-9]|1[0-2])[-/.](?P<y2>20\d\d))\s*$")
bearer = HTTPBearer(auto_error=False)


def normalised(number: str) -> str:
    """A customer number as the system compares it: letters and digits, upper case ("nw 100234" = "NW-100234")."""
    return re.sub(r"[^A-Z0-9]", "", number.upper())


def masked_email(address: str) -> str:
    """``a***@example.org``: enough for the customer to recognise their address, nothing to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def month_of(text: str) -> str | None:
    """``2026-11`` from "2026-11", "11/2026", "11.2026"; None when it is no month."""
    found = MONTH.match(text)
    if not found:
        return None
    year = found.group("y1") or found.group("y2")
    month = int(found.group("m1") or found.group("m2"))
    return f"{year}-{month:02d}"


@dataclass
class Mail:
    to: str
    subject: str
    customer: str


@dataclass
class State:
    customers: dict[str, dict[str, Any]]
    token: str
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[Mail] = field(default_factory=list)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # by idempotency key


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    postal_code: Annotated[str, Field(min_length=1, max_length=20)]


class InvoiceCopyIn(IdentityIn):
    month: Annotated[str, Field(min_length=1, max_length=20)]


def load_records(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(customers, orders) of the data file, each by its normalised number."""
    data = json.loads(path.read_text(encoding="utf-8"))
    customers = {normalised(c["number"]): c for c in data.get("customers", [])}
    return customers, {normalised(o["number"]): o for o in data.get("orders", [])}


async def simulated(record: dict[str, Any]) -> None:
    """What the record's ``simulate`` asks for: a slow answer, or a failing one."""
    simulate = record.get("simulate") or {}
    if simulate.get("delay_seconds"):
        await asyncio.sleep(float(simulate["delay_seconds"]))
    if simulate.get("status"):
        raise HTTPException(int(simulate["status"]), {"error": "internal"})


def create_app(token: str, customers_file: Path = CUSTOMERS_FILE) -> FastAPI:
    if not token:
        raise ValueError("the reference company system needs a token (NORDWIND_API_TOKEN)")
    app = FastAPI(title="Customer system (reference)", version="1")
    customers, orders = load_records(customers_file)
    state = State(customers, token, orders)
    app.state.company = state

    def authorised(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), state.token.encode()):
            raise HTTPException(401, {"error": "unauthorized"}, headers={"WWW-Authenticate": "Bearer"})

    async def customer(number: str, postal_code: str) -> dict[str, Any]:
        found = state.customers.get(normalised(number))
        if found is None or not hmac.compare_digest(found["postal_code"], postal_code.strip()):
            raise HTTPException(404, {"error": "identity_mismatch"})
        await simulated(found)
        return found

    def once(key: str | None, answer: Callable[[], tuple[int, dict[str, Any]]]) -> JSONResponse:
        """The answer for ``key``: the first request's again when the key was seen (nothing is sent twice)."""
        if key and key in state.replies:
            status, body = state.replies[key]
            return JSONResponse(body, status_code=status)
        status, body = answer()
        if key:
            state.replies[key] = (status, body)
        return JSONResponse(body, status_code=status)

    @app.exception_handler(HTTPException)
    async def error_body(request: Request, exc: HTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "customers": len(state.customers)}

    @app.get("/v1/customers/{number}/line", dependencies=[Depends(authorised)])
    async def line(number: str, postal_code: Annotated[str, Query(max_length=20)]) -> dict[str, Any]:
        found = await customer(number, postal_code)
        return {"customer": {"number": found["number"]}, "line": found["line"]}

    @app.post("/v1/customers/{number}/invoice-copies", status_code=202, dependencies=[Depends(authorised)])
    async def invoice_copy(
        number: str, body: InvoiceCopyIn, idempotency_key: Annotated[str | None, Header(max_length=200)] = None
    ) -> JSONResponse:
        found = await customer(number, body.postal_code)

        def send() -> tuple[int, dict[str, Any]]:
            month = month_of(body.month)
            invoice = next((i for i in found["invoices"] if i["month"] == month), None)
            if invoice is None:
                return 404, {"error": "no_invoice", "months": [i["month"] for i in found["invoices"]]}
            state.outbox.append(Mail(found["email"], f"Copy of your invoice {invoice['number']}", found["number"]))
            return 202, {"invoice": invoice["number"], "month": month, "sent_to": masked_email(found["email"])}

        return once(idempotency_key, send)

    @app.post("/v1/customers/{number}/password-reset", status_code=202, dependencies=[Depends(authorised)])
    async def password_reset(
        number: str, body: IdentityIn, idempotency_key: Annotated[str | None, Header(max_length=200)] = None
    ) -> JSONResponse:
        found = await customer(number, body.postal_code)

        def send() -> tuple[int, dict[str, Any]]:
            state.outbox.append(Mail(found["email"], "Your password reset link", found["number"]))
            return 202, {"sent_to": masked_email(found["email"]), "valid_hours": 24}

        return once(idempotency_key, send)

    @app.get("/v1/orders/{number}", dependencies=[Depends(authorised)])
    async def order(number: str, email: Annotated[str, Query(max_length=254)]) -> dict[str, Any]:
        """An order by its number and the e-mail address it was placed with (a shop's identity check)."""
        found = state.orders.get(normalised(number))
        given = email.strip().casefold().encode()
        if found is None or not hmac.compare_digest(found["email"].casefold().encode(), given):
            raise HTTPException(404, {"error": "identity_mismatch"})
        await simulated(found)
        shown = ("number", "status", "placed_at", "items", "carrier", "tracking_number", "expected_delivery")
        return {"order": {key: found.get(key) for key in shown}}

    @app.get("/v1/outbox", dependencies=[Depends(authorised)])
    def outbox() -> dict[str, Any]:
        return {"mails": [{"to": m.to, "subject": m.subject, "customer": m.customer} for m in state.outbox]}

    return app
