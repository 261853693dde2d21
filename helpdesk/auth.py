"""Bearer tokens of the desk: the bot's action server (``POST /handoffs``, ``POST /feedback``) and ``/metrics``.

The constant-time check and the admin token live in ``search_api.auth``; an
endpoint whose token is not configured refuses every caller.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from search_api.auth import bearer, check_token


def require_service(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """Service-to-service endpoints called by the bot's action server: HELPDESK_SERVICE_TOKEN."""
    check_token(request.app.state.settings.service_token, credentials)


def require_metrics(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """The Prometheus scrape endpoint: HELPDESK_METRICS_TOKEN."""
    check_token(request.app.state.settings.metrics_token, credentials)
