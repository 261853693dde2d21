"""The admin API of data protection: export or erase one customer, read the audit log.

The HTTP twin of ``helpdesk export`` (JSON, or with ``format=html`` the readable
page), ``erase`` and ``privacy-audit`` for an admin's bearer token (role admin only,
helpdesk/handoffs/access.py), so a data protection request can be answered from a
ticket tool without a shell on the server. The audit log names the admin
(``admin:<username>``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, model_validator

from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.api import require_admin_agent
from helpdesk.privacy import audit
from helpdesk.privacy.erasure import CustomerStores, SelectorError, erase, export, find
from helpdesk.privacy.files import CustomerFiles
from helpdesk.privacy.readable import readable_export
from helpdesk.privacy.tracker import TrackerStore

router = APIRouter(prefix="/agent/api/admin/privacy", tags=["agent API: admin"])


class CustomerIn(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)
    ticket: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def one_selector(self) -> CustomerIn:
        if sum(v is not None for v in (self.email, self.phone, self.ticket)) != 1:
            raise ValueError("give exactly one of email, phone, ticket")
        return self

    @property
    def selector(self) -> tuple[str, str]:
        return next(
            (k, v) for k, v in (("email", self.email), ("phone", self.phone), ("ticket", self.ticket)) if v is not None
        )


class EraseIn(CustomerIn):
    dry_run: bool = False


@contextmanager
def stores_of(request: Request) -> Iterator[CustomerStores]:
    """Where customer data is kept, as this app is configured; Rasa's tracker store opened for the request."""
    settings = request.app.state.settings
    url = settings.tracker_store_url
    tracker = TrackerStore(url) if url else None
    try:
        yield CustomerStores(
            request.app.state.handoffs, tracker, CustomerFiles.of(settings), request.app.state.privacy.postgresql_vacuum
        )
    finally:
        if tracker is not None:
            tracker.close()


def selected(request: Request, body: CustomerIn):
    try:
        return find(request.app.state.engine, *body.selector)
    except SelectorError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.post(
    "/export",
    summary="Everything stored about one customer (audited); format=html: the page the customer can read",
    response_model=None,
)
async def export_customer(
    body: CustomerIn,
    request: Request,
    format: Literal["json", "html"] = "json",
    admin: AgentInfo = Depends(require_admin_agent),
) -> dict[str, Any] | HTMLResponse:
    def run() -> dict[str, Any]:
        with stores_of(request) as stores:
            return export(stores, selected(request, body), f"admin:{admin.username}")

    document = await run_in_threadpool(run)
    if format == "json":
        return document
    state = request.app.state
    return HTMLResponse(readable_export(document, state.deployment, state.privacy, state.routing.tz))


class ErasureOut(BaseModel):
    dry_run: bool
    tickets: list[str]  # the customer's tickets that were erased (or would be)
    counts: dict[str, int]  # rows and files per table or store
    storage: list[str]  # what was done to the database files afterwards, in words
    tracker_store: Literal["included", "not configured"]


class AuditEntryOut(BaseModel):
    at: datetime
    actor: str
    action: str
    selector: str
    tickets: list[str]
    counts: dict[str, int]
    dry_run: bool


class AuditLogOut(BaseModel):
    entries: list[AuditEntryOut]


@router.post(
    "/erase",
    response_model=ErasureOut,
    summary="Erase one customer everywhere, Rasa's tracker store and the files included "
    "(audited); a dry run counts the same keys",
)
async def erase_customer(
    body: EraseIn, request: Request, admin: AgentInfo = Depends(require_admin_agent)
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        selection = selected(request, body)
        with stores_of(request) as stores:
            erased = erase(stores, selection, f"admin:{admin.username}", body.dry_run)
            tracker = "included" if stores.tracker is not None else "not configured"
        return {
            "dry_run": body.dry_run,
            "tickets": selection.tickets,
            "counts": erased.counts,
            "storage": erased.storage,
            "tracker_store": tracker,
        }

    return await run_in_threadpool(run)


@router.get("/audit", response_model=AuditLogOut, summary="The audit log of erasures, exports and purges, newest first")
def audit_log(
    request: Request, limit: int = Query(100, ge=1, le=1000), admin: AgentInfo = Depends(require_admin_agent)
) -> dict[str, Any]:
    return {"entries": audit.entries(request.app.state.engine, limit)}
