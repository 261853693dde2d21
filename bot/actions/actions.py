"""Actions of the conversation before a handoff: greeting, KB answers, feedback, offers.

Each action is a thin step: call the web service (``backend``), send the domain's
texts in the conversation's language (``texts``) and return slot events. The
``flow`` slot tells the rules what the bot waits for next (see bot/domain.yml).
No exception escapes an action: ``HelpdeskAction.run`` turns one into an
apology and an offer of a human, so no customer input can break a turn.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted

from actions.backend import SearchUnavailable, backend
from actions.conversation import (
    MAX_ARTICLES_SHOWN,
    MAX_PROBLEM_TEXTS,
    MIN_WORDS_TO_SWITCH,
    HelpdeskAction,
    article_values,
    clean_text,
    compact_search,
    conversation_language,
    detect_language,
    has_words,
    latest_text,
    metadata_language,
    shown_article,
)
from actions.handoff import prefill_events
from actions.texts import DEFAULT_LANGUAGE, normalise_language, say

log = logging.getLogger(__name__)


class ActionGreet(HelpdeskAction):
    def name(self) -> str:
        return "action_greet"

    async def act(self, dispatcher, tracker, domain):
        lang = await detect_language(tracker, latest_text(tracker))
        say(dispatcher, "greet", lang)
        return [SlotSet("language", lang)]


class ActionSearch(HelpdeskAction):
    """Every problem description or question: search the KB and show the best section."""

    def name(self) -> str:
        return "action_search"

    async def act(self, dispatcher, tracker, domain):
        text = clean_text(latest_text(tracker))
        current = conversation_language(tracker)
        if not has_words(text) or text.startswith("/"):
            lang = current or metadata_language(tracker) or DEFAULT_LANGUAGE
            say(dispatcher, "ask_rephrase", lang)
            return [SlotSet("language", lang)]

        problems = list(tracker.get_slot("problem_texts") or [])
        query = text
        if tracker.get_slot("clarify_pending") and problems:
            # The answer to the clarifying question refines the previous description.
            query = clean_text(f"{problems[-1]} {text}")
        problems = (problems + [text[:1000]])[-MAX_PROBLEM_TEXTS:]
        events: List[EventType] = [SlotSet("problem_texts", problems), SlotSet("clarify_pending", False)]

        # A short message in a conversation with a language is searched in that language.
        search_lang = current if current and len(text.split()) < MIN_WORDS_TO_SWITCH else None
        try:
            result = await backend().search(query, lang=search_lang, top_k=5)
        except SearchUnavailable as exc:
            log.warning("search unavailable: %s", exc)
            lang = current or metadata_language(tracker) or DEFAULT_LANGUAGE
            say(dispatcher, "search_unavailable", lang)
            say(dispatcher, "offer_human", lang)
            return events + [SlotSet("language", lang), SlotSet("flow", "offer_human"),
                             SlotSet("handoff_reason", "search_unavailable"), SlotSet("last_search", None)]

        lang = normalise_language(result.get("lang")) or current or DEFAULT_LANGUAGE
        events.append(SlotSet("language", lang))
        hits = result.get("hits") or []
        if not result.get("answerable") or not hits:
            # No bluffing: without a confident answer the customer gets a person, not a guess.
            say(dispatcher, "no_answer", lang)
            say(dispatcher, "offer_human", lang)
            return events + [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "no_answer"),
                             SlotSet("last_search", compact_search(result, query))]

        best = hits[0]
        say(dispatcher, "article", lang, **article_values(best))
        say(dispatcher, "ask_solved", lang)
        shown = (list(tracker.get_slot("articles_shown") or []) + [shown_article(best)])[-MAX_ARTICLES_SHOWN:]
        return events + [SlotSet("flow", "feedback"), SlotSet("articles_shown", shown),
                         SlotSet("last_search", compact_search(result, query))]


def _mark_last_article(tracker: Tracker, feedback: str) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    shown = [dict(a) for a in tracker.get_slot("articles_shown") or []]
    if shown:
        shown[-1]["feedback"] = feedback
        return shown, shown[-1]
    return shown, None


async def _record_feedback(tracker: Tracker, article: Optional[Dict[str, Any]], helpful: bool) -> None:
    if article:
        query = (tracker.get_slot("last_search") or {}).get("query") or ""
        await backend().feedback(article["article_id"], tracker.sender_id, query, helpful)


class ActionSolved(HelpdeskAction):
    def name(self) -> str:
        return "action_solved"

    async def act(self, dispatcher, tracker, domain):
        shown, article = _mark_last_article(tracker, "solved")
        await _record_feedback(tracker, article, True)
        say(dispatcher, "solved", conversation_language(tracker))
        return [SlotSet("articles_shown", shown), SlotSet("flow", None),
                SlotSet("unresolved_count", 0), SlotSet("clarify_pending", False)]


class ActionNotSolved(HelpdeskAction):
    """Not solved: the next good candidate, else one clarifying question; the second
    unresolved answer starts the handoff (flow=handoff, the rules start the form)."""

    def name(self) -> str:
        return "action_not_solved"

    async def act(self, dispatcher, tracker, domain):
        lang = conversation_language(tracker)
        shown, article = _mark_last_article(tracker, "not_solved")
        await _record_feedback(tracker, article, False)
        unresolved = int(tracker.get_slot("unresolved_count") or 0) + 1
        events: List[EventType] = [SlotSet("unresolved_count", unresolved), SlotSet("articles_shown", shown)]

        if unresolved >= 2:
            say(dispatcher, "unresolved_handoff", lang)
            events.append(SlotSet("handoff_reason", "unresolved"))
            events += prefill_events(tracker, lang, articles_shown=shown)
            return events + [SlotSet("flow", "handoff")]

        last = tracker.get_slot("last_search") or {}
        threshold = last.get("threshold") or 0.0
        seen = {a["article_id"] for a in shown}
        candidate = next((h for h in last.get("hits", [])
                          if h.get("article_id") not in seen and (h.get("score") or 0) >= threshold), None)
        if candidate:
            say(dispatcher, "next_article", lang, **article_values(candidate))
            say(dispatcher, "ask_solved", lang)
            shown = (shown + [shown_article(candidate)])[-MAX_ARTICLES_SHOWN:]
            return events + [SlotSet("articles_shown", shown), SlotSet("flow", "feedback")]

        say(dispatcher, "clarify", lang)
        return events + [SlotSet("clarify_pending", True), SlotSet("flow", None)]


class ActionOfferHuman(HelpdeskAction):
    """Out of scope: say what the bot covers and offer a person."""

    def name(self) -> str:
        return "action_offer_human"

    async def act(self, dispatcher, tracker, domain):
        lang = await detect_language(tracker, latest_text(tracker))
        say(dispatcher, "out_of_scope", lang)
        say(dispatcher, "offer_human", lang)
        return [SlotSet("language", lang), SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "no_answer")]


class ActionDeclineHuman(HelpdeskAction):
    def name(self) -> str:
        return "action_decline_human"

    async def act(self, dispatcher, tracker, domain):
        say(dispatcher, "declined_human", conversation_language(tracker))
        return [SlotSet("flow", None)]


class ActionFallback(HelpdeskAction):
    """Rasa's core fallback (config.yml): no rule knows what to do. Ask to rephrase and
    forget the message, so the conversation continues as before it."""

    def name(self) -> str:
        return "action_fallback"

    async def act(self, dispatcher, tracker, domain):
        say(dispatcher, "default", conversation_language(tracker))
        return [UserUtteranceReverted()]


class ActionHandedOff(Action):
    """After a stored handoff the conversation belongs to a person: the bot says nothing.
    Clearing ``ticket_id`` (the web chat's hand-back) makes the bot answer again."""

    def name(self) -> str:
        return "action_handed_off"

    async def run(self, dispatcher, tracker, domain):
        log.info("conversation %s is with ticket %s: bot stays silent",
                 tracker.sender_id, tracker.get_slot("ticket_id"))
        return []
