"""HTTP endpoints of knowledge search: ``/search``, ``/language``, ``/health``, ``/admin/reindex``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator

from search_api.auth import require_admin
from search_api.search.language import detect_language
from search_api.search.service import SearchResult, snippet

router = APIRouter()
MAX_QUERY_CHARS = 2000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain some text")
    return value


class SearchRequest(BaseModel):
    query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The customer's question")]
    lang: Annotated[str | None, Field(pattern=r"^[a-z]{2}$", description="de, en, ...; null = detect")] = None
    top_k: Annotated[int, Field(ge=1, le=20)] = 5

    _check_query = field_validator("query")(_not_blank)


class SearchHitOut(BaseModel):
    article_id: str
    title: str
    section: str | None
    snippet: str
    url: str
    score: float
    matched: str
    category: str | None
    product: str | None


class SearchResponse(BaseModel):
    query: str
    lang: str
    answerable: bool = Field(description="True when the best hit is confident enough to show as an answer")
    confidence: float
    threshold: float
    hits: list[SearchHitOut]


class LanguageRequest(BaseModel):
    text: Annotated[str, Field(max_length=MAX_QUERY_CHARS)]


class LanguageResponse(BaseModel):
    lang: str
    confidence: float
    detected: bool = Field(description="False when the text has no language (empty, emoji) and lang is the default")


def to_response(result: SearchResult, base_url: str) -> SearchResponse:
    hits = []
    for hit in result.hits:
        url = f"{base_url}/articles/{hit.article.id}"
        if hit.section.anchor:
            url += f"#{hit.section.anchor}"
        hits.append(SearchHitOut(
            article_id=hit.article.id,
            title=hit.article.title,
            section=hit.section.heading,
            snippet=snippet(hit.section.plain_text or hit.article.title),
            url=url,
            score=round(hit.score, 4),
            matched=hit.matched,
            category=hit.article.category,
            product=hit.article.product,
        ))
    return SearchResponse(
        query=result.query, lang=result.lang, answerable=result.answerable,
        confidence=round(result.confidence, 4), threshold=result.threshold, hits=hits,
    )


@router.post("/search", response_model=SearchResponse, tags=["search"])
async def search(body: SearchRequest, request: Request, background_tasks: BackgroundTasks) -> SearchResponse:
    service = request.app.state.search
    result = await run_in_threadpool(service.search, body.query, body.lang, body.top_k)
    # After the response: whoever composed the app may record searches (the desk keeps
    # unanswered ones for the authors' gap list); search itself knows nothing of them.
    for listener in getattr(request.app.state, "search_listeners", ()):
        background_tasks.add_task(listener, request.app, result)
    return to_response(result, request.app.state.settings.public_base_url)


@router.post("/language", response_model=LanguageResponse, tags=["search"])
def language(body: LanguageRequest, request: Request) -> LanguageResponse:
    settings = request.app.state.settings
    detected = detect_language(body.text, settings.languages)
    if detected.lang is None:
        return LanguageResponse(lang=settings.default_language, confidence=0.0, detected=False)
    return LanguageResponse(lang=detected.lang, confidence=round(detected.confidence, 4), detected=True)


@router.get("/health", tags=["ops"])
def health(request: Request) -> dict:
    index = request.app.state.search.index
    return {
        "status": "ok",
        "index_version": index.version,
        "articles": len(index.articles),
        "languages": {lang: {"model": li.model_id, "units": len(li.units)} for lang, li in index.languages.items()},
    }


@router.post("/admin/reindex", tags=["admin"], dependencies=[Depends(require_admin)])
async def reindex(request: Request) -> dict:
    """Rebuild from the articles directory; broken articles are reported and skipped."""
    report = await run_in_threadpool(request.app.state.search.reindex)
    return report.as_dict()
