"""The chat's upload (``POST /chat/api/attachments``) and the workspace's view of the files.

The chat page posts one file with its conversation's session id and language. The file is
checked in this order, and the first failure is the customer's answer, in their language, as
a 4xx (503 while a configured clamd cannot be reached), with nothing stored: the conversation's
count, the size, the content (``content.check``: cheap and bounded, so a decompression bomb
never reaches clamd, which would decode it for its image checks), then the virus scan of the
bytes as sent. A file that passes is stored (``store``) and the answer carries the
bot's acknowledgement, which the page shows as the assistant's message: Rasa is not asked,
since it cannot look at pictures, and an agent sees the file with the ticket.

Agents get a file through a ticket they may see: an image inline (re-encoded by the desk, so
it is the pixels and nothing else), its thumbnail for the workspace, a PDF only as a download;
another team's agent, or a token of another ticket, gets the 404 of a missing ticket.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Form, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from helpdesk.attachments.clamd import Clamd, ScannerUnavailable
from helpdesk.attachments.config import AttachmentSettings
from helpdesk.attachments.content import Refused, check
from helpdesk.attachments.store import AttachmentStore, TooMany, paths_of
from helpdesk.chat.live import SESSION_ID_RE
from helpdesk.handoffs.errors import TicketNotFound
from helpdesk.inbox.pages import no_such_ticket
from helpdesk.mail.attachments import download_headers
from helpdesk.web import AgentDep

log = logging.getLogger("helpdesk.attachments")
TEXTS: dict[str, dict[str, str]] = yaml.safe_load((Path(__file__).parent / "texts.yml").read_text(encoding="utf-8"))
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Cache-Control": "private, no-store",
}

router = APIRouter()


def store_of(request: Request) -> AttachmentStore:
    state = request.app.state
    return AttachmentStore(state.handoffs, state.settings.attachments.directory)


def megabytes(size: int, lang: str) -> str:
    value = f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
    return value.replace(".", ",") if lang == "de" else value


def millions(pixels: int, lang: str) -> str:
    return f"{pixels / 1_000_000:g} Millionen" if lang == "de" else f"{pixels / 1_000_000:g} million"


def refusal(lang: str, reason: str, code: int, settings: AttachmentSettings) -> JSONResponse:
    limit = {
        "too_large": megabytes(settings.max_bytes, lang),
        "too_many_pixels": millions(settings.max_pixels, lang),
        "too_many": str(settings.max_per_conversation),
    }.get(reason, "")
    text = TEXTS[lang][reason].format(limit=limit)
    return JSONResponse({"detail": text, "reason": reason}, code, headers={"Cache-Control": "no-store"})


def page_settings(request: Request) -> dict[str, Any] | None:
    """What the chat page needs to offer attachments (None: it offers none)."""
    settings = getattr(request.app.state, "settings", None)
    if settings is None or not settings.attachments.enabled:
        return None
    return {
        "url": request.url_for("upload_attachment").path,
        "maxBytes": settings.attachments.max_bytes,
        "types": ["image/png", "image/jpeg", "image/webp", "application/pdf"],
    }


def announce(settings: AttachmentSettings) -> None:
    """The start-up's log line on the virus scan."""
    if not settings.enabled:
        log.info("chat attachments are off (HELPDESK_CHAT_ATTACHMENTS_PER_CONVERSATION=0)")
    elif settings.clamd:
        log.info("chat attachments are scanned by clamd at %s; none is taken while it cannot answer", settings.clamd)
    else:
        log.warning(
            "chat attachments are NOT scanned for viruses: HELPDESK_CLAMD is not set "
            "(e.g. unix:/run/clamav/clamd.ctl or tcp:127.0.0.1:3310)"
        )


@router.post(
    "/chat/api/attachments",
    status_code=201,
    tags=["chat"],
    summary="A file the customer attaches in the chat: an image (PNG, JPEG, WebP) or a PDF",
    responses={
        413: {"description": "over the size limit"},
        415: {"description": "not an image or a PDF"},
        409: {"description": "the conversation has as many files as it may"},
        422: {"description": "damaged, too many pixels, malicious, or a bad session id"},
        503: {"description": "the configured virus scanner cannot be reached"},
    },
)
async def upload_attachment(
    request: Request, file: UploadFile, session: str = Form(""), lang: str = Form("")
) -> JSONResponse:
    settings = request.app.state.settings.attachments
    deployment = request.app.state.deployment
    lang = lang if lang in TEXTS and lang in deployment.languages else deployment.default_language
    lang = lang if lang in TEXTS else "en"
    if not settings.enabled:
        return refusal(lang, "disabled", status.HTTP_403_FORBIDDEN, settings)
    if not SESSION_ID_RE.match(session):
        return JSONResponse({"detail": "session: the chat's session id (32 hexadecimal digits)"}, 422)
    store = store_of(request)
    if await run_in_threadpool(store.count, session) >= settings.max_per_conversation:
        return refusal(lang, "too_many", status.HTTP_409_CONFLICT, settings)
    data = await file.read(settings.max_bytes + 1)
    if len(data) > settings.max_bytes:
        return refusal(lang, "too_large", status.HTTP_413_CONTENT_TOO_LARGE, settings)
    try:
        checked = await run_in_threadpool(check, data, settings.max_bytes, settings.max_pixels)
    except Refused as exc:
        log.info("chat attachment refused (%s): %s", exc.reason, exc)
        return refusal(lang, exc.reason, exc.status, settings)
    if settings.clamd:
        try:
            found = await run_in_threadpool(Clamd(settings.clamd, settings.clamd_timeout).scan, data)
        except ScannerUnavailable as exc:
            log.error("chat attachment refused: %s", exc)
            return refusal(lang, "scanner_unavailable", status.HTTP_503_SERVICE_UNAVAILABLE, settings)
        if found:
            log.warning("chat attachment refused: clamd found %s", found)
            return refusal(lang, "infected", status.HTTP_422_UNPROCESSABLE_CONTENT, settings)
    try:
        saved = await run_in_threadpool(
            store.save, session, file.filename, lang, checked, settings.max_per_conversation
        )
    except TooMany:
        return refusal(lang, "too_many", status.HTTP_409_CONFLICT, settings)
    if saved.ticket_id:
        text = TEXTS[lang]["received_ticket"].format(name=saved.filename, ticket=saved.ticket_id)
    else:
        text = TEXTS[lang]["received"].format(name=saved.filename)
    body = {
        "message": text,
        "attachment": {"filename": saved.filename, "kind": saved.kind, "size": saved.size},
        "ticket_id": saved.ticket_id,
    }
    return JSONResponse(body, status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


def _served(request: Request, who, ticket_id: str, token: str, thumbnail: bool) -> Response:
    agent, session = who
    try:
        found = store_of(request).one(ticket_id, token, teams=agent.scope)
        path, thumb = paths_of(request.app.state.settings.attachments.directory, found.token)
        path = thumb if thumbnail else path
        if not path.is_file() or (thumbnail and found.kind != "image"):
            raise FileNotFoundError(path)
    except (TicketNotFound, FileNotFoundError):
        return no_such_ticket(request, agent, session, ticket_id)
    if found.kind != "image":
        headers = download_headers(found.filename)
        return FileResponse(path, headers=headers, media_type=headers["Content-Type"])
    media_type = "image/png" if thumbnail else found.content_type
    name = quote(found.filename)
    headers = {**IMAGE_HEADERS, "Content-Disposition": f"inline; filename*=UTF-8''{name}"}
    return FileResponse(path, headers=headers, media_type=media_type)


@router.get("/agent/handoffs/{ticket_id}/chat-files/{token}", include_in_schema=False)
def chat_file(ticket_id: str, token: str, request: Request, who: AgentDep) -> Response:
    return _served(request, who, ticket_id, token, thumbnail=False)


@router.get("/agent/handoffs/{ticket_id}/chat-files/{token}/thumbnail", include_in_schema=False)
def chat_file_thumbnail(ticket_id: str, token: str, request: Request, who: AgentDep) -> Response:
    return _served(request, who, ticket_id, token, thumbnail=True)
