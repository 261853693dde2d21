"""The one HTTP call of a procedure, to a configured company system, and what its answer means.

The request goes to the base URL of the system the procedure names (config/procedures.yml), its
path and query filled in with the customer's answers, each percent-encoded, so an answer can
never change the host or the path's shape; the URL is checked against the base URL once more
before it is sent, and a redirect is an answer the procedure does not describe, never followed.
The credentials come from the secrets at the moment of the call. The timeout is the
procedure's (at most 5 s); only an idempotent call (GET, PUT, DELETE, or one that sends an
idempotency key) is retried, on a connection error, a timeout or a 502/503/504. The idempotency
key is derived from the caller's key for the run, so a retried request carries the same one and
the system acts once.

Nothing of the customer is logged: not the answers and not the URL, which holds them; the
``httpx`` logger's request lines for a configured system are dropped (``QuietRequests``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from helpdesk.procedures import replies
from helpdesk.procedures.config import System, credentials
from search_api.kb.procedures import PLACEHOLDER, Procedure

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 256 * 1024
RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_DELAY_SECONDS = 0.2
# What a run came to: the three a reply may name, "failed" (no answer the procedure describes), and the
# two the limits give before any call (helpdesk/procedures/store.py).
Outcome = Literal["done", "handoff", "identity_failed", "failed", "locked", "limit"]


class UnsafeRequest(ValueError):
    """A request that would leave the system's base URL: never sent."""


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    text: str  # what the customer is told: the reply, or the procedure's failure message
    status: int | None  # the system's HTTP status; None when it did not answer
    duration_ms: int


def fill(template: str, values: Mapping[str, str], encode: bool) -> str:
    """A call's template with the answers; ``encode``: percent-encoded for a URL path."""
    return PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe="") if encode else values[m.group(1)], template)


def request_url(system: System, path_template: str, values: Mapping[str, str]) -> str:
    """The call's URL below the system's base URL; UnsafeRequest when it would be anywhere else."""
    url = system.base_url + fill(path_template, values, encode=True)
    base, target = urlsplit(system.base_url), urlsplit(url)
    base_path = base.path.rstrip("/") + "/"
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not (target.path + "/").startswith(base_path):
        raise UnsafeRequest(f"the request would leave {system.base_url}")
    if "/../" in target.path + "/" or "/./" in target.path + "/":
        raise UnsafeRequest("the request's path walks out of its folder")
    return url


def idempotency_header(run_key: str, procedure_id: str) -> str:
    """The Idempotency-Key sent to the system: the same for the same run, and nothing of the conversation."""
    return hashlib.sha256(f"{procedure_id}\x00{run_key}".encode()).hexdigest()[:40]


def _json(response: httpx.Response) -> Any:
    if len(response.content) > MAX_RESPONSE_BYTES:
        return None
    try:
        return response.json()
    except ValueError:
        return None


async def call(
    client: httpx.AsyncClient,
    procedure: Procedure,
    system: System | None,
    values: Mapping[str, str],
    run_key: str,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run ``procedure`` with the checked answers ``values``; every failure is a Result, never an exception."""
    spec, started = procedure.spec, time.monotonic()

    def result(outcome: Outcome, text: str, status: int | None) -> Result:
        return Result(outcome, text, status, int((time.monotonic() - started) * 1000))

    failure = replies.render(spec.failure, values, None, spec.lang)
    if system is None:
        log.error("procedure %s: the system %s is not configured (config/procedures.yml)", spec.id, spec.call.system)
        return result("failed", failure, None)
    try:
        url = request_url(system, spec.call.url, values)
        headers = {"Accept": "application/json", **credentials(system, env)}
    except UnsafeRequest as exc:
        log.error("procedure %s: %s; not sent", spec.id, exc)
        return result("failed", failure, None)
    except KeyError as exc:
        log.error("procedure %s: the secret %s of system %s is not set", spec.id, exc, spec.call.system)
        return result("failed", failure, None)
    if spec.call.idempotency_key:
        headers["Idempotency-Key"] = idempotency_header(run_key, spec.id)
    query = {name: fill(template, values, encode=False) for name, template in spec.call.query.items()}
    body = {name: fill(template, values, encode=False) for name, template in spec.call.body.items()}
    attempts = 1 + (spec.call.retries if spec.call.idempotent else 0)
    response = None
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(RETRY_DELAY_SECONDS)
        try:
            response = await client.request(
                spec.call.method,
                url,
                params=query or None,
                json=body if spec.call.method not in ("GET", "DELETE") else None,
                headers=headers,
                timeout=spec.call.timeout,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            log.warning("procedure %s: attempt %d: %s", spec.id, attempt + 1, type(exc).__name__)
            response = None
            continue
        if response.status_code not in RETRY_STATUSES:
            break
        log.warning("procedure %s: attempt %d: HTTP %d", spec.id, attempt + 1, response.status_code)
    if response is None:
        return result("failed", failure, None)
    answer = _json(response)
    reply = replies.reply_for(spec, response.status_code, answer)
    if reply is None:
        log.warning("procedure %s: HTTP %d is no answer the procedure describes", spec.id, response.status_code)
        return result("failed", failure, response.status_code)
    text = replies.render(reply.text, values, answer, spec.lang)
    return result(reply.outcome, text, response.status_code)


class QuietRequests(logging.Filter):
    """Drops httpx's "HTTP Request: GET <url>" lines for the configured systems: their URLs hold answers."""

    def __init__(self, base_urls: list[str]):
        super().__init__()
        self.base_urls = tuple(base_urls)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.base_urls:
            return True
        return not any(str(arg).startswith(self.base_urls) for arg in (record.args or ()))


def quiet_requests(base_urls: list[str]) -> None:
    """Install ``QuietRequests`` on the httpx logger (once per process; a later call replaces it)."""
    logger = logging.getLogger("httpx")
    for old in [f for f in logger.filters if isinstance(f, QuietRequests)]:
        logger.removeFilter(old)
    logger.addFilter(QuietRequests(base_urls))
