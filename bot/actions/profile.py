"""The deployment's bot profile, fetched from the web service and kept for a minute.

Nothing company-specific is written in the bot: the company and assistant
names, the hotline with its hours, the support e-mail address, the scope sentence
and the handoff topics come from ``GET /bot/profile?lang=..`` (helpdesk/profile.py:
the deployment configuration, the routing file and the knowledge base as served). ``refresh()`` runs at the
start of every action (``HelpdeskAction.run``) and fetches a profile only when
it is older than ``HELPDESK_PROFILE_TTL`` seconds (default 60), so a changed KB
or configuration reaches the bot within a minute, without retraining.

The accessors are synchronous (``texts.render`` uses them). When the web service
has never answered, they return empty values and the texts use their variant
without them (bot/actions/texts.yml, ``fallback``); a failed refresh keeps the
last good profile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from actions.backend import SearchUnavailable, backend

log = logging.getLogger(__name__)

LANGUAGES = ("de", "en")
OTHER = "other"
RETRY_AFTER_FAILURE = 10.0  # seconds: a web service that is down is not asked on every turn
VALUE_KEYS = ("company", "assistant", "hotline", "hours", "support_email", "scope_sentence", "privacy_url")

_profiles: dict[str, dict[str, Any]] = {}
_fetched_at: dict[str, float] = {}
_locks: dict[int, asyncio.Lock] = {}  # one per event loop (the action server has one; tests make several)


def ttl() -> float:
    return float(os.environ.get("HELPDESK_PROFILE_TTL", "60"))


async def _fetch(lang: str) -> None:
    try:
        _profiles[lang] = await backend().profile(lang)
        _fetched_at[lang] = time.monotonic()
    except (SearchUnavailable, ValueError) as exc:
        log.warning("bot profile (%s) not refreshed: %s", lang, exc)
        # Keep what we had; ask again after a short pause, not on every turn.
        _fetched_at[lang] = time.monotonic() - max(ttl() - RETRY_AFTER_FAILURE, 0.0)


async def refresh() -> None:
    """Fetch the profiles that are missing or older than the TTL; never raises."""
    now = time.monotonic()
    stale = [lang for lang in LANGUAGES if now - _fetched_at.get(lang, -1e9) >= ttl()]
    if not stale:
        return
    lock = _locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    try:
        async with lock:  # concurrent actions wait for one fetch instead of each making one
            now = time.monotonic()
            stale = [lang for lang in LANGUAGES if now - _fetched_at.get(lang, -1e9) >= ttl()]
            await asyncio.gather(*(_fetch(lang) for lang in stale))
    except Exception:
        log.exception("bot profile refresh failed")


def clear() -> None:
    """Forget every profile (tests; a new backend URL)."""
    _profiles.clear()
    _fetched_at.clear()


def current(lang: str | None) -> dict[str, Any]:
    """The profile in ``lang``, else in any language fetched, else {}."""
    return _profiles.get(lang or "") or next(iter(_profiles.values()), {})


def values(lang: str | None) -> dict[str, str]:
    """The placeholders texts.yml may use: company, assistant, hotline, hours, support_email,
    scope_sentence and privacy_url (the deployment's ``urls.privacy_policy``); "" when unknown."""
    profile = current(lang)
    urls = profile.get("urls") or {}
    found = {**profile, "privacy_url": urls.get("privacy_policy") if isinstance(urls, dict) else None}
    return {key: str(found.get(key) or "") for key in VALUE_KEYS}


def topics(lang: str | None) -> list[dict[str, Any]]:
    """The handoff topics in ``lang``: [{"id", "title", "products"}], "other" last ([] before the
    first fetch)."""
    return [dict(t) for t in current(lang).get("topics") or []]


def topic_ids() -> set[str]:
    """Every category the routing file knows (also those without articles), and "other"."""
    ids: set[str] = {OTHER}
    for profile in _profiles.values():
        ids.update(profile.get("categories") or {})
        ids.update(t["id"] for t in profile.get("topics") or [])
    return ids


def topic_words() -> dict[str, tuple[str, ...]]:
    """{category: words that name it in a typed answer}, from the profile's ``categories``."""
    words: dict[str, set[str]] = {}
    for profile in _profiles.values():
        for category, names in (profile.get("categories") or {}).items():
            words.setdefault(category, set()).update(str(n).lower() for n in names)
    return {category: tuple(sorted(names)) for category, names in words.items()}
