"""Bearer token of the bot's action server, for the service-to-service endpoints (``POST /handoffs``).

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
