"""The public edge of the web service: what protects it from large, many or forged requests.

``install(app, settings)`` adds, for every route: the body limit (413,
``body_limit``), the rate limits (429, ``rate_limit``), ``/metrics`` behind
``HELPDESK_METRICS_TOKEN``, and the completed OpenAPI document (``openapi``).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from prometheus_fastapi_instrumentator import Instrumentator

from helpdesk.auth import require_metrics
from helpdesk.edge.body_limit import BodyLimitMiddleware
from helpdesk.edge.openapi import document
from helpdesk.edge.rate_limit import RateLimiter, RateLimitMiddleware


def install(app: FastAPI, settings) -> None:
    app.state.rate_limiter = RateLimiter(
        settings.rate_limit_address, settings.rate_limit_conversation, settings.redis_url
    )
    # The chat's upload takes one file of up to its own limit, plus the form around it.
    larger = {"/chat/api/attachments": settings.attachments.max_bytes + 64 * 1024}
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, larger=larger)
    # Added last, so it runs first: a refused request costs no body reading.
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter, service_token=settings.service_token)
    Instrumentator().instrument(app).expose(app, include_in_schema=False, dependencies=[Depends(require_metrics)])
    document(app)
