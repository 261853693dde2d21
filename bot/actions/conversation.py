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
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import profile
from actions.answers import passage
from actions.backend import MAX_QUERY_CHARS, backend
from actions.texts import DEFAULT_LANGUAGE, LANGUAGES, normalise_language, render, say

log = logging.getLogger(__name__)

MAX_PROBLEM_TEXTS = 5  # customer messages kept for the handoff's description
SEARCH_TOP_K = 8
MAX_ARTICLES_SHOWN = 20
# A detection on fewer words than this does not switch the conversation's language:
# "ok", "danke", "Hallo" are too short to tell (mixed-language customers stay in one language).
MIN_WORDS_TO_SWITCH = 4
LANGUAGE_CONFIDENCE = 0.8
# Metadata key of the whole message where NLU got only its start (bot/channels.py sets it).
FULL_TEXT = "full_text"
_WORD = re.compile(r"\w", re.UNICODE)
_TAG = re.compile(r"<[^>]{0,200}>")


def clean_text(text: str | None, most: int | None = MAX_QUERY_CHARS) -> str:
    """The customer's message as plain text: markup tags removed, whitespace collapsed, cut at a
    word within ``most`` characters (a search query); whole with ``most=None`` (for the ticket)."""
    text = _TAG.sub(" ", text or "")
    text = " ".join(text.split())
    if most is not None and len(text) > most:
        text = text[:most].rsplit(" ", 1)[0] or text[:most]
    return text


def narrowed(problem: str, more: str) -> str:
    """The query for ``problem`` narrowed by ``more`` (the answer to the clarifying question, a
    topic): the problem's start in half the query's length, then ``more``."""
    return clean_text(f"{clean_text(problem, MAX_QUERY_CHARS // 2)} {more}")


def has_words(text: str) -> bool:
    """False for empty, emoji-only or punctuation-only messages: nothing to search for."""
    return bool(_WORD.search(text.replace("_", "")))


def said(message: dict[str, Any]) -> str:
    """What the customer wrote in ``message`` (the tracker's latest message or a user event): the
    whole text, which the channel puts in the metadata where NLU got only its start."""
    metadata = message.get("metadata")
    whole = metadata.get(FULL_TEXT) if isinstance(metadata, dict) else None
    return whole if isinstance(whole, str) else message.get("text") or ""


def latest_text(tracker: Tracker) -> str:
    return said(tracker.latest_message)


def latest_start(tracker: Tracker) -> str:
    """The start of the customer's last message that NLU got (the whole of a paragraph): what a
    search needs of a long paste, at a paragraph's cost (the search's time grows with its query)."""
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def choice(tracker: Tracker) -> str | None:
    """The value a button sent (``/inform{"choice": ...}``), if the last message was one."""
    values = list(tracker.get_latest_entity_values("choice"))
    return str(values[0]) if values else None


def topic_labels(lang: str | None) -> dict[str, str]:
    """Category -> button label in ``lang``, from the deployment profile (the KB's categories)."""
    try:
        return {t["id"]: t.get("title") or t["id"] for t in profile.topics(lang) if t.get("id")}
    except Exception:
        log.exception("profile topics unavailable")
        return {}


def metadata_language(tracker: Tracker) -> str | None:
    """The language the web chat page is set to (socket.io customData), as a hint only."""
    metadata = tracker.latest_message.get("metadata") or {}
    return normalise_language(metadata.get("language")) if isinstance(metadata, dict) else None


def conversation_language(tracker: Tracker) -> str | None:
    return normalise_language(tracker.get_slot("language"))


async def detect_language(tracker: Tracker, text: str, follow_choice: bool = True) -> str:
    """The conversation's language: the one the customer asked for (``follow_choice``), else a
    confident detection of ``text`` (search_api's /language) on a message long enough to tell,
    else the language already set, else the chat page's (socket.io customData), else English."""
    current = conversation_language(tracker)
    if follow_choice and current and tracker.get_slot("language_chosen"):
        return current
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


def switch_language(dispatcher: CollectingDispatcher, tracker: Tracker, target: str | None) -> list[EventType]:
    """The customer asked to go on in ``target``: confirmed in it, and kept whatever language
    their next messages are detected in; a language the bot does not speak is answered in the
    current one, and nothing changes ([])."""
    if target not in LANGUAGES:
        say(dispatcher, "language_unsupported", conversation_language(tracker) or metadata_language(tracker))
        return []
    say(dispatcher, "language_switched", target)
    return [SlotSet("language", target), SlotSet("language_chosen", True)]


# What the customer said about an article: solved / not_solved (its buttons), not_relevant
# ("none of these" under a list of suggestions) or none (no answer yet).
REJECTED = ("not_solved", "not_relevant")


def shown_article(article: dict[str, Any], feedback: str = "none") -> dict[str, Any]:
    return {
        "article_id": article["article_id"],
        "title": article.get("title", ""),
        "score": article.get("score"),
        "url": article.get("url", ""),
        "feedback": feedback,
        "category": article.get("category"),
        "product": article.get("product"),
    }


def record_shown(shown: list[dict[str, Any]], article: dict[str, Any], feedback: str = "none") -> list[dict[str, Any]]:
    """``shown`` with ``article`` added once: a repeat replaces the earlier entry (latest verdict wins)."""
    kept = [a for a in shown if a.get("article_id") != article["article_id"]]
    return (kept + [shown_article(article, feedback)])[-MAX_ARTICLES_SHOWN:]


def rejected_ids(tracker: Tracker, feedback: tuple = ("not_solved",)) -> list[str]:
    """Articles the customer marked "not solved" (or, with ``feedback``, passed over in a list)."""
    return [a["article_id"] for a in tracker.get_slot("articles_shown") or [] if a.get("feedback") in feedback]


def answer_card(
    hit: dict[str, Any], lang: str | None, intro: str = "answer_intro", question: str = "answer_card"
) -> dict[str, Any]:
    """One message with the whole answer: title, the passage (safe markdown from search), the
    link and the solved/not-solved buttons (``question``: the text with them). ``text`` is the
    same as plain markdown for channels that do not render cards (REST clients, the handoff
    transcript)."""
    found = passage(hit)
    title = hit.get("title") or hit.get("article_id", "")
    section = found["section"] if found["section"] and found["section"] != title else ""
    ask = render(question, lang)
    link = render("answer_link", lang)["text"]
    lead = render(intro, lang)["text"]
    heading = f"**{title}**" + (f" – {section}" if section else "")
    text = f"{lead} {heading}\n\n{found['markdown']}\n\n[{link}]({found['url']})\n\n{ask['text']}"
    return {
        "type": "answer",
        "lang": lang,
        "intro": lead,
        "article_id": hit.get("article_id"),
        "title": title,
        "section": section,
        "markdown": found["markdown"],
        "url": found["url"],
        "link_label": link,
        "question": ask["text"],
        "buttons": ask["buttons"],
        "text": text,
    }


def send_card(dispatcher: CollectingDispatcher, card: dict[str, Any]) -> None:
    # Rasa's socket.io channel emits ``data`` as the bot message itself; REST returns it as ``custom``.
    dispatcher.utter_message(json_message={"data": card})


def compact_search(result: dict[str, Any], query: str) -> dict[str, Any]:
    """What later turns need of a search: the query, decision, threshold and the hits."""
    keys = (
        "article_id",
        "kind",
        "title",
        "section",
        "snippet",
        "answer",
        "url",
        "score",
        "confidence",
        "category",
        "product",
    )
    return {
        "query": query,
        "lang": result.get("lang"),
        "threshold": result.get("threshold"),
        "decision": result.get("decision"),
        "answerable": result.get("answerable"),
        "hits": [{k: h.get(k) for k in keys if k in h} for h in result.get("hits", [])],
    }


class HelpdeskAction(Action, metaclass=ABCMeta):
    """Base of the actions: ``act`` does the work; any exception becomes an apology and an
    offer of a human instead of a broken turn. Abstract, so rasa_sdk does not register it."""

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        """The action's work; see ``run``."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            await profile.refresh()
            return await self.act(dispatcher, tracker, domain)
        except Exception:
            log.exception("action %s failed in conversation %s", self.name(), tracker.sender_id)
            lang = conversation_language(tracker) or DEFAULT_LANGUAGE
            dispatcher.messages.clear()
            say(dispatcher, "action_failed", lang)
            say(dispatcher, "offer_human", lang)
            return [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "no_answer")]
