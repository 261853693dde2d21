"""Bearer-token checks: ``require_admin`` for /admin/*, ``check_token`` for the desk's own tokens.

Tokens are compared in constant time. An endpoint whose token is not
configured refuses every caller (403) instead of falling open.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False)


def check_token(expected: str | None, credentials: HTTPAuthorizationCredentials | None) -> None:
    if expected is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this endpoint is disabled: no token is configured")
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", headers={"WWW-Authenticate": "Bearer"})


def require_admin(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """Admin endpoints (reindex): HELPDESK_ADMIN_TOKEN."""
    check_token(request.app.state.settings.admin_token, credentials)
