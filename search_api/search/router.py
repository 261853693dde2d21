"""HTTP endpoints of knowledge search: ``/search``, ``/language``, ``/health``, ``/admin/reindex``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator

from search_api.auth import require_admin
from search_api.search.index import BuildReport
from search_api.search.language import detect_language
from search_api.search.passage import hit_passage
from search_api.search.service import SearchResult, SearchService, snippet

router = APIRouter()
MAX_QUERY_CHARS = 2000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain some text")
    return value


class SearchRequest(BaseModel):
    query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The customer's question")]
    lang: Annotated[str | None, Field(pattern=r"^[a-z]{2}$", description="de, en, ...; null = detect")] = None
    conversation_lang: Annotated[
        str | None,
        Field(
            pattern=r"^[a-z]{2}$",
            description="The language the conversation is in so far (the bot sends it with lang null): when the "
            "query does not say which language it is in (a bare code, words both languages share, an "
            "unsure detection), this one is searched first and wins between equal decisions",
        ),
    ] = None
    top_k: Annotated[int, Field(ge=1, le=20)] = 5
    kinds: Annotated[
        list[Literal["article", "procedure"]],
        Field(
            min_length=1,
            max_length=2,
            description="What may be a hit: articles, and for a caller that can run them (the bot) procedures "
            "(kb/procedures), ranked and decided like articles",
        ),
    ] = ["article"]
    conversation_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=200,
            description="The caller's conversation (the bot sends its sender id); search ignores it and hands it, "
            "with the caller's credentials, to the listeners of the app that composes it (the desk "
            "counts conversations with it and keeps it with an unanswered search, so erasing that "
            "customer's data erases it too)",
        ),
    ] = None

    _check_query = field_validator("query")(_not_blank)


@dataclass(frozen=True)
class SearchCall:
    """Who asked, handed to each search listener with the result; a listener decides whom it trusts."""

    conversation_id: str | None
    authorization: str | None  # the request's Authorization header


class AnswerOut(BaseModel):
    markdown: str = Field(description="The passage that answers: lists, bold, code and links; no HTML")
    text: str = Field(description="The same passage as plain text")
    section: str | None = Field(description="Heading of the section it comes from; null = the article's lead")
    url: str = Field(description="Link to that section")


class SearchHitOut(BaseModel):
    article_id: str = Field(description="The article's id, or the procedure's when kind is procedure")
    kind: Literal["article", "procedure"] = Field(
        "article", description="procedure: the bot can do this for the customer (POST /procedures/{id}/runs)"
    )
    title: str
    section: str | None
    snippet: str
    url: str
    score: float = Field(description="Ranking score (orders the hits; not comparable across KBs)")
    confidence: float = Field(description="Calibrated probability that this article answers the question")
    matched: str
    category: str | None
    product: str | None
    answer: AnswerOut


class SearchResponse(BaseModel):
    query: str
    lang: str
    decision: Literal["answer", "suggest", "none"] = Field(
        description="answer: show the first hit; suggest: offer the first (up to) three as options; "
        "none: no article answers, hand off"
    )
    answerable: bool = Field(description="decision == 'answer' (kept for older callers)")
    confidence: float = Field(description="The first hit's calibrated confidence")
    threshold: float = Field(description="The confidence from which this language answers")
    hits: list[SearchHitOut]


class LanguageRequest(BaseModel):
    text: Annotated[str, Field(max_length=MAX_QUERY_CHARS)]


class LanguageResponse(BaseModel):
    lang: str
    confidence: float
    detected: bool = Field(description="False when the text has no language (empty, emoji) and lang is the default")


def to_response(result: SearchResult, base_url: str, service: SearchService | None = None) -> SearchResponse:
    hits = []
    for hit in result.hits:
        page = hit.article.kind == "article"  # a procedure has no page: the bot offers to run it
        article_url = f"{base_url}/articles/{hit.article.id}" if page else ""
        url = article_url + (f"#{hit.section.anchor}" if hit.section.anchor and page else "")
        passage = hit_passage(service, result, hit)
        answer = AnswerOut(
            markdown=passage.markdown,
            text=passage.text,
            section=passage.section,
            url=article_url + (f"#{passage.anchor}" if passage.anchor and page else ""),
        )
        hits.append(
            SearchHitOut(
                article_id=hit.article.id,
                kind="procedure" if hit.article.kind == "procedure" else "article",
                title=hit.article.title,
                section=hit.section.heading,
                snippet=snippet(hit.section.plain_text or hit.article.title),
                url=url,
                score=round(hit.score, 4),
                confidence=round(hit.confidence, 4),
                matched=hit.matched,
                category=hit.article.category,
                product=hit.article.product,
                answer=answer,
            )
        )
    return SearchResponse(
        query=result.query,
        lang=result.lang,
        decision=result.decision,
        answerable=result.answerable,
        confidence=round(result.confidence, 4),
        threshold=round(result.threshold, 4),
        hits=hits,
    )


@router.post("/search", response_model=SearchResponse, tags=["search"])
async def search(body: SearchRequest, request: Request, background_tasks: BackgroundTasks) -> SearchResponse:
    service = request.app.state.search
    base_url = request.app.state.settings.public_base_url

    def answer() -> tuple[SearchResult, SearchResponse]:
        result = service.search(
            body.query,
            body.lang,
            body.top_k,
            conversation_lang=body.conversation_lang,
            kinds=tuple(body.kinds),
        )
        return result, to_response(result, base_url, service)

    result, response = await run_in_threadpool(answer)
    # After the response: whoever composed the app may record searches (the desk keeps
    # unanswered ones for the authors' gap list); search itself knows nothing of them.
    call = SearchCall(body.conversation_id, request.headers.get("authorization"))
    for listener in getattr(request.app.state, "search_listeners", ()):
        background_tasks.add_task(listener, request.app, result, call)
    return response


@router.post("/language", response_model=LanguageResponse, tags=["search"])
def language(body: LanguageRequest, request: Request) -> LanguageResponse:
    settings = request.app.state.settings
    detected = detect_language(body.text, settings.languages)
    if detected.lang is None:
        return LanguageResponse(lang=settings.default_language, confidence=0.0, detected=False)
    return LanguageResponse(lang=detected.lang, confidence=round(detected.confidence, 4), detected=True)


@router.get("/health", tags=["ops"])
def health(request: Request) -> dict[str, Any]:
    index = request.app.state.search.index
    return {
        "status": "ok",
        "index_version": index.version,
        "articles": len(index.articles) - len(index.procedures),
        "procedures": len(index.procedures),
        "languages": {lang: {"model": li.model_id, "units": len(li.units)} for lang, li in index.languages.items()},
    }


@router.post("/admin/reindex", tags=["admin"], dependencies=[Depends(require_admin)])
async def reindex(request: Request) -> dict[str, Any]:
    """Rebuild from the articles directory; broken articles are reported and skipped."""
    report: BuildReport = await run_in_threadpool(request.app.state.search.reindex)
    return report.as_dict()
