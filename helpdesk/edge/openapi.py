"""The OpenAPI document of the web service, completed where FastAPI cannot know.

- Request schemas written by hand (``POST /handoffs`` validates its raw body
  itself) carry their nested models under ``$defs``; those are moved into
  ``components/schemas`` so every ``$ref`` resolves.
- The edge's answers are documented on each operation they can come from:
  400 (malformed body), 401 (token endpoints), 404 (path parameters), 413
  (any request body, helpdesk/edge/body_limit.py) and 429 (rate-limited
  endpoints, helpdesk/edge/rate_limit.py), all as ``{"detail": ...}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from helpdesk.edge.rate_limit import RULES

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"title": "Detail", "description": "what went wrong, for a person"}},
}
TOKEN_PATHS = ("/handoffs", "/feedback", "/procedures", "/admin/", "/me", "/api/incidents", "/agent/api/incidents")


def _hoist_defs(node: Any, schemas: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            schemas.setdefault(name, schema)
            _hoist_defs(schema, schemas)
        for value in node.values():
            _hoist_defs(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, schemas)


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
    if retry_after:
        response["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return response


def _limited(path: str, method: str) -> bool:
    sample = path.replace("{session_id}", "x")
    return any(rule.path.match(sample) and method.upper() in rule.methods for rule in RULES)


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    _hoist_defs(schema["paths"], schemas)
    schemas.setdefault("Error", ERROR_SCHEMA)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", _error("the body is not valid JSON"))
                responses.setdefault("413", _error("the body is over HELPDESK_MAX_BODY_BYTES"))
            if path.startswith(TOKEN_PATHS):
                responses.setdefault("401", _error("missing or invalid bearer token"))
            if "{" in path:
                responses.setdefault("404", _error("no such resource"))
            if _limited(path, method):
                responses.setdefault("429", _error("over a rate limit (per address or conversation)", retry_after=True))
    return schema


def document(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
