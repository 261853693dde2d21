"""``GET /articles/{id}``: an article as a sanitized HTML page, or as JSON.

Pages are rendered from the index that is serving, not from the files on
disk, so an article being edited (or broken) never shows half-way.
Internal articles (``audience: internal``) and the search entries of procedures are not
served here. Pages run no
script at all and may not be framed by other sites (``PAGE_HEADERS``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from search_api.kb.render import render_markdown

router = APIRouter(tags=["articles"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# The page's only style is its inline <style>; article HTML is sanitized (nh3) and runs no script.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
LABELS = {"de": {"updated": "Aktualisiert am"}, "en": {"updated": "Updated"}}


@router.get(
    "/articles/{article_id}",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}, 404: {}},
    summary="Rendered article (HTML, or JSON with Accept: application/json)",
)
def get_article(article_id: str, request: Request) -> Response:
    article = request.app.state.search.index.articles.get(article_id)
    if article is None or article.audience != "public" or article.kind != "article":
        raise HTTPException(404, f"no article with id '{article_id[:100]}'")
    body_html = render_markdown(article.body)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        data = article.to_dict()
        data.pop("path")
        data["html"] = body_html
        data["url"] = f"{request.app.state.settings.public_base_url}/articles/{article.id}"
        data["sections"] = [{"heading": s.heading, "anchor": s.anchor} for s in article.sections]
        return JSONResponse(data)
    return templates.TemplateResponse(
        request,
        "article.html",
        {"article": article, "body_html": body_html, "labels": LABELS.get(article.lang, LABELS["en"])},
        headers=PAGE_HEADERS,
    )
