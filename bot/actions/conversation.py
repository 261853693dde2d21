"""Conversation helpers shared by every action module: the customer's text, the
conversation's language, what was shown, and ``HelpdeskAction``, the base that
turns any failure into an apology and an offer of a human.

``actions.py`` (answers, feedback, offers) and ``handoff.py`` (the handoff form)
both import from here and never from each other in a circle.
"""

from __future__ import annotations

import logging
import re
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import MAX_QUERY_CHARS, backend
from actions.texts import DEFAULT_LANGUAGE, normalise_language, say

log = logging.getLogger(__name__)

MAX_PROBLEM_TEXTS = 5      # customer messages kept for the handoff's description
MAX_ARTICLES_SHOWN = 20
# A detection on fewer words than this does not switch the conversation's language:
# "ok", "danke", "Hallo" are too short to tell (mixed-language customers stay in one language).
MIN_WORDS_TO_SWITCH = 4
LANGUAGE_CONFIDENCE = 0.8
_WORD = re.compile(r"\w", re.UNICODE)
_TAG = re.compile(r"<[^>]{0,200}>")


def clean_text(text: Optional[str]) -> str:
    """The customer's message as a query: markup tags removed, whitespace collapsed, bounded."""
    text = _TAG.sub(" ", text or "")
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUERY_CHARS]
    return text


def has_words(text: str) -> bool:
    """False for empty, emoji-only or punctuation-only messages: nothing to search for."""
    return bool(_WORD.search(text.replace("_", "")))


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def metadata_language(tracker: Tracker) -> Optional[str]:
    """The language the web chat page is set to (socket.io customData), as a hint only."""
    metadata = tracker.latest_message.get("metadata") or {}
    return normalise_language(metadata.get("language")) if isinstance(metadata, dict) else None


def conversation_language(tracker: Tracker) -> Optional[str]:
    return normalise_language(tracker.get_slot("language"))


async def detect_language(tracker: Tracker, text: str) -> str:
    """The conversation's language: a confident detection of ``text`` (search_api's /language)
    on a message long enough to tell, else the language already set, else the chat page's
    (socket.io customData), else English."""
    current = conversation_language(tracker)
    hint = metadata_language(tracker)
    if hint and len(text.split()) < MIN_WORDS_TO_SWITCH:
        # "Hallo", "hi": too short to tell; the chat page's language (the customer's
        # browser or choice) is the better guess.
        return current or hint
    if has_words(text):
        result = await backend().language(text)
        if result and result.get("detected", True) and result.get("lang") in ("de", "en"):
            confident = float(result.get("confidence", 0)) >= LANGUAGE_CONFIDENCE
            if current is None and confident:
                return result["lang"]
            if len(text.split()) >= MIN_WORDS_TO_SWITCH and confident:
                return result["lang"]
    return current or hint or DEFAULT_LANGUAGE


def shown_article(article: Dict[str, Any], feedback: str = "none") -> Dict[str, Any]:
    return {"article_id": article["article_id"], "title": article.get("title", ""),
            "score": article.get("score"), "url": article.get("url", ""), "feedback": feedback}


def article_values(hit: Dict[str, Any]) -> Dict[str, Any]:
    section = hit.get("section")
    return {"title": hit.get("title", ""), "section": f" – {section}" if section else "",
            "snippet": hit.get("snippet", ""), "url": hit.get("url", "")}


def compact_search(result: Dict[str, Any], query: str) -> Dict[str, Any]:
    """What later turns need of a search: the query, threshold and the hits."""
    keys = ("article_id", "title", "section", "snippet", "url", "score", "category", "product")
    return {"query": query, "lang": result.get("lang"), "threshold": result.get("threshold"),
            "hits": [{k: h.get(k) for k in keys} for h in result.get("hits", [])]}


class HelpdeskAction(Action, metaclass=ABCMeta):
    """Base of the actions: ``act`` does the work; any exception becomes an apology and an
    offer of a human instead of a broken turn. Abstract, so rasa_sdk does not register it."""

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """The action's work; see ``run``."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001 - the customer must get an answer whatever broke
            log.exception("action %s failed in conversation %s", self.name(), tracker.sender_id)
            lang = conversation_language(tracker) or DEFAULT_LANGUAGE
            dispatcher.messages.clear()
            say(dispatcher, "action_failed", lang)
            say(dispatcher, "offer_human", lang)
            return [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "no_answer")]
