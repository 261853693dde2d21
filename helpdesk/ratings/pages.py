"""The customer's rating page: ``GET /rate/{token}`` (with ``?score=N``: records it) and the comment form
``POST /rate/{token}``.

Public: the token is the only credential (``store``), and the page shows nothing of the ticket, only
the question and the customer's own answer, in the ticket's language. Every outcome is a page, never
a 500: a malformed, unknown or replaced token is 404, an expired link 410, a score other than 1..5
400, a second score 409 ("already rated"), a comment that is empty or too long 422, each with its
message. No Referer leaves the page (the token is in its address).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from helpdesk.ratings.invitations import TEXTS, texts_for
from helpdesk.ratings.store import MAX_COMMENT, SCORES, Link, RatingStore
from helpdesk.web import SECURITY_HEADERS

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)
HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def page(
    request: Request,
    token: str,
    link: Link | None,
    code: int = 200,
    message: str | None = None,
    error: str | None = None,
    comment: str = "",
) -> HTMLResponse:
    lang = link.language if link is not None else preferred(request)
    lang = lang if lang in TEXTS else "en"
    texts = texts_for(lang)
    context: dict[str, Any] = {
        "lang": lang,
        "t": texts,
        "token": token,
        "link": link,
        "scores": SCORES,
        "message": message,
        "error": error,
        "comment": comment,
        "max_comment": MAX_COMMENT,
    }
    response = templates.TemplateResponse(request, "rate.html", context, status_code=code)
    response.headers.update(HEADERS)
    return response


def preferred(request: Request) -> str:
    """The page's language without a known link: the browser's first choice of German or English."""
    accepted = request.headers.get("accept-language", "").lower()
    return "de" if accepted.startswith("de") else "en"


@router.get("/rate/{token}")
async def rate_page(token: str, request: Request, score: str | None = None) -> HTMLResponse:
    ratings = RatingStore(request.app.state.handoffs)
    link = await run_in_threadpool(ratings.link, token)
    if link is None:
        return page(request, token, None, status.HTTP_404_NOT_FOUND, error=texts_for(preferred(request))["not_found"])
    t = texts_for(link.language)
    if score is None:
        if link.state == "expired":
            return page(request, token, link, status.HTTP_410_GONE, error=t["expired"])
        return page(request, token, link, message=t["already"] if link.state == "rated" else None)
    if not score.isdigit() or int(score) not in SCORES:
        return page(request, token, link, status.HTTP_400_BAD_REQUEST, error=t["bad_score"])
    outcome = await run_in_threadpool(ratings.rate, token, int(score))
    link = await run_in_threadpool(ratings.link, token)
    if outcome == "recorded":
        return page(request, token, link, message=t["thanks"])
    if outcome == "already":
        return page(request, token, link, status.HTTP_409_CONFLICT, error=t["already"])
    if outcome == "expired":
        return page(request, token, link, status.HTTP_410_GONE, error=t["expired"])
    return page(request, token, None, status.HTTP_404_NOT_FOUND, error=t["not_found"])


@router.post("/rate/{token}")
async def comment(token: str, request: Request, comment: str = Form("")) -> HTMLResponse:
    ratings = RatingStore(request.app.state.handoffs)
    link = await run_in_threadpool(ratings.link, token)
    if link is None:
        return page(request, token, None, status.HTTP_404_NOT_FOUND, error=texts_for(preferred(request))["not_found"])
    t = texts_for(link.language)
    text = comment.replace("\r\n", "\n").strip()
    if not text:
        return page(request, token, link, status.HTTP_422_UNPROCESSABLE_CONTENT, error=t["comment_empty"])
    if len(text) > MAX_COMMENT:
        error = t["comment_long"].format(most=MAX_COMMENT)
        return page(request, token, link, status.HTTP_422_UNPROCESSABLE_CONTENT, error=error, comment=text)
    outcome = await run_in_threadpool(ratings.comment, token, text)
    link = await run_in_threadpool(ratings.link, token)
    if outcome == "recorded":
        return page(request, token, link, message=t["comment_thanks"])
    if outcome == "not_rated":
        return page(request, token, link, status.HTTP_409_CONFLICT, error=t["not_rated"])
    if outcome == "already":
        return page(request, token, link, status.HTTP_409_CONFLICT, error=t["already"])
    return page(request, token, link, status.HTTP_410_GONE, error=t["expired"])
