"""HTTP side of the feedback loop: ``POST /feedback``, ``GET /admin/gaps``, and the /search hook.

``POST /feedback`` takes the service token: only the bot's action server may
record a verdict, and it records one only for an article it showed in that
conversation (from its ``articles_shown`` slot, which no customer message can
set), so nobody outside can skew the "not solved" statistics; each verdict
follows a customer message, which the bot's channels rate-limit per
conversation. It accepts articles of the served index only, counts a verdict
once per conversation and article, and answers 204 once it is committed.
``record_unanswered`` runs as a background task of ``/search`` (after the
response is sent, in the thread pool), so recording a miss never slows an
answer down and a database hiccup never fails one.
``GET /admin/gaps`` (admin token) is the HTTP twin of ``helpdesk gaps``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field, StrictBool, field_validator

from helpdesk.auth import require_service
from helpdesk.feedback.cli import draft_arguments
from helpdesk.feedback.gaps import gaps_report
from helpdesk.feedback.store import MAX_QUERY_CHARS, FeedbackStore
from search_api.auth import require_admin

log = logging.getLogger(__name__)
router = APIRouter()


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain some text")
    return value


class FeedbackIn(BaseModel):
    article_id: Annotated[str, Field(min_length=1, max_length=200, description="id of the article shown")]
    conversation_id: Annotated[str, Field(min_length=1, max_length=200, description="Rasa sender id")]
    query: Annotated[
        str,
        Field(
            min_length=1, max_length=MAX_QUERY_CHARS, description="the customer's question the article was shown for"
        ),
    ]
    helpful: Annotated[StrictBool, Field(description='true = "solved", false = "not solved"')]

    _check_text = field_validator("article_id", "conversation_id", "query")(_not_blank)


def feedback_store(request: Request) -> FeedbackStore:
    # The desk's engine (helpdesk/db.py): one database and pool for the whole service.
    return FeedbackStore(request.app.state.engine)


@router.post(
    "/feedback",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["feedback"],
    summary="Record a customer's solved/not solved on a shown article (once per conversation and article)",
    dependencies=[Depends(require_service)],
    responses={404: {"description": "no such article in the served index"}, 422: {"description": "invalid input"}},
)
def post_feedback(body: FeedbackIn, request: Request, store: FeedbackStore = Depends(feedback_store)) -> Response:
    if body.article_id not in request.app.state.search.index.articles:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no article {body.article_id!r} in the knowledge base; feedback not recorded"
        )
    store.record_feedback(body.conversation_id, body.article_id, body.query, body.helpful)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/admin/gaps",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    summary="What customers asked that nothing answered, and articles by share of 'not solved'",
)
def get_gaps(
    request: Request,
    days: Annotated[int, Query(ge=1, le=365, description="look back this many days")] = 30,
    limit: Annotated[int, Query(ge=1, le=200, description="rows per list")] = 20,
    cluster: Annotated[bool, Query(description="also merge questions by meaning (embedding model)")] = True,
    store: FeedbackStore = Depends(feedback_store),
) -> dict[str, Any]:
    service = request.app.state.search
    titles = {aid: article.title for aid, article in service.index.articles.items()}
    return gaps_report(
        store,
        days,
        limit,
        embedders=service.embedders if cluster else None,
        titles=titles,
        **draft_arguments(request.app.state.settings),
    )


def record_unanswered(app: FastAPI, result, call=None) -> None:
    """Background task of /search: keep a search the service could not answer (a no-op otherwise),
    with the conversation it came from (``call``: search_api's SearchCall), so that erasing the
    customer's data finds it."""
    if result.answerable:
        return
    try:
        FeedbackStore(app.state.engine).record_unanswered(
            result.query,
            result.lang,
            result.confidence,
            result.threshold,
            result.hits[0].article.id if result.hits else None,
            conversation_id=getattr(call, "conversation_id", None),
        )
    except Exception:  # the customer already has the answer; losing one statistic must not surface
        log.exception("could not record an unanswered search")
