"""HTTP client of the web service (search_api + helpdesk) for the actions: search, language, feedback,
handoffs, procedures and the bot profile (the company's name, hotline, scope and topics; actions/profile.py
caches it).

One shared ``httpx.AsyncClient`` per process (connection reuse keeps a turn
fast). Every call has a short timeout, because a customer waiting on a silent
bot is worse than a quick apology: ``SearchUnavailable`` is raised when search
does not answer in ``HELPDESK_SEARCH_TIMEOUT`` seconds (default 2.0). Handoffs
are retried on connection errors and 5xx only (the same idempotency key every
time, so a retry never makes a second ticket); a 4xx is final.

Configuration, by environment:
- ``HELPDESK_SEARCH_URL``     base URL of the web service (default http://127.0.0.1:8000)
- ``HELPDESK_SEARCH_TIMEOUT`` seconds for /search and /language (default 2.0)
- ``HELPDESK_PROCEDURE_TIMEOUT`` seconds for a procedure's run (default 15: the company's system
  has up to 5 s per attempt, and an idempotent call is tried up to three times)
- ``HELPDESK_SERVICE_TOKEN``  bearer token sent with every call: required by POST /handoffs and
  POST /feedback (only the bot may record a verdict, for an article it showed), and it exempts
  the bot's /search and /language calls from the web service's per-address rate limit (the
  customers are limited at Rasa's input channels). Like the web service it may also come from
  ``HELPDESK_SECRETS_FILE`` (default var/secrets.env of the repository)
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_QUERY_CHARS = 2000  # the web service's limit on a query
# The web service's limit on a ticket's text (a customer's message, kept whole), and the
# channels' default HELPDESK_BOT_MAX_MESSAGE_CHARS (bot/channels.py).
MAX_MESSAGE_CHARS = 8000


class SearchUnavailable(Exception):
    """The web service did not answer (connection refused, timeout, 5xx)."""


class HandoffRejected(Exception):
    """The web service refused the handoff (4xx): retrying the same request cannot help."""

    def __init__(self, status: int, detail: Any):
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail

    def fields(self) -> list[str]:
        """Names of the fields a 422 complains about, e.g. ['summary', 'contact', 'email']."""
        names: list[str] = []
        if isinstance(self.detail, list):
            for error in self.detail:
                if isinstance(error, dict):
                    names.extend(str(part) for part in error.get("loc", []))
        return names


class HandoffFailed(Exception):
    """The handoff could not be stored after all retries."""


class TicketClosed(Exception):
    """The ticket is resolved (or unknown): nothing can be added to its transcript any more."""


def _secret(name: str) -> str | None:
    if os.environ.get(name):
        return os.environ[name]
    path = Path(os.environ.get("HELPDESK_SECRETS_FILE", REPO_ROOT / "var" / "secrets.env"))
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key.strip() == name and not line.lstrip().startswith("#"):
                return value.strip()
    except OSError:
        pass
    return None


@dataclass
class Backend:
    base_url: str
    timeout: float = 2.0
    handoff_timeout: float = 5.0
    handoff_attempts: int = 3
    procedure_timeout: float = 15.0
    retry_delays: tuple = (0.3, 1.0)
    service_token: str | None = None
    _client: httpx.AsyncClient | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Backend:
        return cls(
            base_url=os.environ.get("HELPDESK_SEARCH_URL", "http://127.0.0.1:8000").rstrip("/"),
            timeout=float(os.environ.get("HELPDESK_SEARCH_TIMEOUT", "2.0")),
            procedure_timeout=float(os.environ.get("HELPDESK_PROCEDURE_TIMEOUT", "15")),
            service_token=_secret("HELPDESK_SERVICE_TOKEN"),
        )

    @property
    def client(self) -> httpx.AsyncClient:
        # Created lazily inside the running event loop (the action server's).
        if self._client is None or self._client.is_closed:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
            headers = {"Authorization": f"Bearer {self.service_token}"} if self.service_token else {}
            self._client = httpx.AsyncClient(base_url=self.base_url, limits=limits, headers=headers)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def search(
        self,
        query: str,
        lang: str | None = None,
        top_k: int = 5,
        conversation_id: str | None = None,
        conversation_lang: str | None = None,
        kinds: tuple[str, ...] = ("article",),
    ) -> dict[str, Any]:
        """``conversation_id`` (the sender id) goes with the query: the operators' reports count
        conversations with it (helpdesk/reports/activity.py), and an unanswered one is kept for
        the authors with it, so erasing the customer's data (helpdesk erase) erases it too.
        ``conversation_lang``: the conversation's language so far, which search prefers when the
        query itself does not say which language it is in. ``kinds``: ("article", "procedure")
        where the bot can offer to run a procedure."""
        body: dict[str, Any] = {"query": query[:MAX_QUERY_CHARS], "lang": lang, "top_k": top_k}
        if kinds != ("article",):
            body["kinds"] = list(kinds)
        if conversation_lang and not lang:
            body["conversation_lang"] = conversation_lang
        if conversation_id:
            body["conversation_id"] = conversation_id[:200]
        # One more try when the replica that had the request went away (connection reset, a
        # proxy's 502/503/504): a search is a read, and another replica answers. A timeout is
        # not retried: the customer would wait twice as long.
        last_error = "no attempt"
        for attempt in range(2):
            if attempt:
                log.warning("POST /search failed (%s), trying again", last_error)
                await asyncio.sleep(self.retry_delays[0])
            try:
                response = await self.client.post("/search", json=body, timeout=self.timeout)
            except httpx.TimeoutException as exc:
                raise SearchUnavailable(f"POST /search: {type(exc).__name__}: {exc}") from None
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in (502, 503, 504):
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise SearchUnavailable(f"POST /search: HTTP {response.status_code}")
            return response.json()
        raise SearchUnavailable(f"POST /search: {last_error}")

    async def language(self, text: str) -> dict[str, Any] | None:
        """{"lang", "confidence", "detected"}, or None when the web service does not answer."""
        try:
            response = await self.client.post("/language", json={"text": text[:MAX_QUERY_CHARS]}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("POST /language failed: %s", exc)
            return None
        return response.json() if response.status_code == 200 else None

    async def profile(self, lang: str) -> dict[str, Any]:
        """GET /bot/profile?lang=...; raises SearchUnavailable when the web service does not answer."""
        try:
            response = await self.client.get("/bot/profile", params={"lang": lang}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise SearchUnavailable(f"GET /bot/profile: {type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise SearchUnavailable(f"GET /bot/profile: HTTP {response.status_code}")
        return response.json()

    async def _procedure_call(self, method: str, path: str, timeout: float, body: Any = None) -> dict[str, Any]:
        """A call to /procedures; SearchUnavailable (naming the route, never the answers) unless it is 200."""
        try:
            response = await self.client.request(method, path, json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise SearchUnavailable(f"{method} {path}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SearchUnavailable(f"{method} {path}: HTTP {response.status_code}")
        return response.json()

    async def procedure(self, procedure_id: str) -> dict[str, Any]:
        """GET /procedures/{id}: its title, description and inputs (name, label, prompt, kind, choices)."""
        return await self._procedure_call("GET", f"/procedures/{procedure_id}", self.timeout)

    async def check_answer(self, procedure_id: str, name: str, value: str) -> dict[str, Any]:
        """POST /procedures/{id}/inputs: {valid, value (as the system is sent it), error}."""
        body = {"name": name, "value": value[:1000]}
        return await self._procedure_call("POST", f"/procedures/{procedure_id}/inputs", self.timeout, body)

    async def run_procedure(
        self, procedure_id: str, conversation_id: str, inputs: dict[str, str], key: str
    ) -> dict[str, Any]:
        """POST /procedures/{id}/runs: {outcome, text, ask_again, attempts_left, ticket}. Never retried:
        the desk retries the company's system itself where that is safe."""
        body = {"conversation_id": conversation_id[:200], "inputs": inputs, "idempotency_key": key}
        return await self._procedure_call("POST", f"/procedures/{procedure_id}/runs", self.procedure_timeout, body)

    async def feedback(self, article_id: str, conversation_id: str, query: str, helpful: bool) -> bool:
        """Records solved / not solved on an article; losing one vote must not break the turn."""
        body = {
            "article_id": article_id,
            "conversation_id": conversation_id,
            "query": (query or article_id)[:MAX_QUERY_CHARS],
            "helpful": helpful,
        }
        try:
            response = await self.client.post("/feedback", json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("POST /feedback failed: %s", exc)
            return False
        if response.status_code >= 300:
            log.warning("POST /feedback: HTTP %s %s", response.status_code, response.text[:200])
            return False
        return True

    async def active_incidents(
        self, categories: list[str], products: list[str], text: str, postal_code: str | None, lang: str
    ) -> list[dict[str, Any]]:
        """GET /api/incidents/active: the known incidents that concern the customer's message.
        Telling of an outage is a bonus to the answer: [] when the desk does not answer."""
        params: list[Any] = [("category", c) for c in categories[:10]]
        params += [("product", p) for p in products[:10]]
        params += [("q", (text or "")[:1000]), ("lang", lang)]
        if postal_code:
            params.append(("postal_code", postal_code))
        try:
            response = await self.client.get("/api/incidents/active", params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("GET /api/incidents/active failed: %s", exc)
            return []
        if response.status_code != 200:
            log.warning("GET /api/incidents/active: HTTP %s", response.status_code)
            return []
        return response.json().get("incidents") or []

    async def incident_told(self, incident_id: int, conversation_id: str, lang: str) -> bool:
        """POST /api/incidents/{id}/told: the desk counts the customer as told of the incident (the
        reports); losing one count must not break the turn."""
        body = {"conversation_id": conversation_id[:200], "language": lang}
        try:
            response = await self.client.post(
                f"/api/incidents/{int(incident_id)}/told", json=body, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            log.warning("POST /api/incidents/%s/told failed: %s", incident_id, exc)
            return False
        if response.status_code not in (200, 201):
            log.warning("POST /api/incidents/%s/told: HTTP %s", incident_id, response.status_code)
            return False
        return True

    async def subscribe_incident(self, incident_id: int, email: str, lang: str, conversation_id: str) -> bool | None:
        """POST /api/incidents/{id}/subscriptions: True when the customer will be told, False
        when the desk refused the address (422), None when it failed otherwise (or the incident
        ended)."""
        body = {"email": email[:254], "language": lang, "conversation_id": conversation_id[:200]}
        try:
            response = await self.client.post(
                f"/api/incidents/{int(incident_id)}/subscriptions", json=body, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            log.warning("POST /api/incidents/%s/subscriptions failed: %s", incident_id, exc)
            return None
        if response.status_code in (200, 201):
            return True
        return False if response.status_code == 422 else None

    async def create_handoff(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /handoffs with retries on connection errors and 5xx; returns the 201/200 body."""
        headers = {"Authorization": f"Bearer {self.service_token or ''}"}
        last_error = "no attempt"
        for attempt in range(self.handoff_attempts):
            if attempt:
                delays = self.retry_delays
                await asyncio.sleep(delays[min(attempt - 1, len(delays) - 1)])
            try:
                response = await self.client.post(
                    "/handoffs", json=payload, headers=headers, timeout=self.handoff_timeout
                )
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning("POST /handoffs attempt %d failed: %s", attempt + 1, last_error)
                continue
            if response.status_code in (200, 201):
                return response.json()
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                log.warning("POST /handoffs attempt %d: %s", attempt + 1, last_error)
                continue
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text[:500]
            raise HandoffRejected(response.status_code, detail)
        raise HandoffFailed(last_error)

    async def append_message(self, ticket_id: str, conversation_id: str, text: str) -> dict[str, Any]:
        """Adds the customer's message to the ticket's transcript (POST /handoffs/{id}/messages)."""
        body = {
            "conversation_id": conversation_id[:200],
            "messages": [
                {
                    "sender": "customer",
                    "text": text[:MAX_MESSAGE_CHARS],
                    "timestamp": datetime.now(timezone.utc).isoformat(),
                }
            ],
        }
        headers = {"Authorization": f"Bearer {self.service_token or ''}"}
        response = await self.client.post(
            f"/handoffs/{ticket_id}/messages", json=body, headers=headers, timeout=self.handoff_timeout
        )
        if response.status_code in (404, 409):
            raise TicketClosed(f"{ticket_id}: HTTP {response.status_code}")
        response.raise_for_status()
        return response.json()


_backend: Backend | None = None


def backend() -> Backend:
    """The process's backend client, configured from the environment on first use."""
    global _backend
    if _backend is None:
        _backend = Backend.from_env()
    return _backend
