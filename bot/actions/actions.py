"""Actions of the conversation before a handoff: greeting, KB answers, feedback, offers, small talk.

Each action is a thin step: call the web service (``backend``), let ``answers``
decide what a search means for this conversation, send the texts in the
conversation's language (``texts``) and return slot events. The ``flow`` slot
tells the rules what the bot waits for next (see bot/domain.yml). No exception
escapes an action: ``HelpdeskAction.run`` turns one into an apology and an
offer of a human, so no customer input can break a turn.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet, UserUtteranceReverted

from actions import answers, incidents, profile, wishes
from actions.backend import SearchUnavailable, TicketClosed, backend
from actions.conversation import (
    MAX_PROBLEM_TEXTS,
    MIN_WORDS_TO_SWITCH,
    REJECTED,
    SEARCH_TOP_K,
    HelpdeskAction,
    answer_card,
    choice,
    clean_text,
    compact_search,
    conversation_language,
    detect_language,
    has_words,
    latest_intent,
    latest_start,
    latest_text,
    metadata_language,
    narrowed,
    record_shown,
    rejected_ids,
    send_card,
    switch_language,
    topic_labels,
)
from actions.handoff import SUMMARY_SLOTS, ActionPrepareHandoff, find_contact, prefill_events
from actions.texts import DEFAULT_LANGUAGE, normalise_language, render, say

log = logging.getLogger(__name__)


class ActionGreet(HelpdeskAction):
    def name(self) -> str:
        return "action_greet"

    async def act(self, dispatcher, tracker, domain):
        lang = await detect_language(tracker, latest_text(tracker))
        say(dispatcher, "greet", lang)
        return [SlotSet("language", lang)]


def _topic_events(topic: answers.Topic | None) -> list[EventType]:
    if topic is None:
        return []
    return [SlotSet("topic", {"category": topic.category, "product": topic.product, "label": topic.label})]


def _article_payload(article_id: str) -> str:
    return '/inform{"choice": "article:' + article_id.replace('"', "") + '"}'


class ActionSearch(HelpdeskAction):
    """A problem description, the answer to a clarifying question, or a button under a list
    of suggestions: search the KB (or use the last search) and show what ``answers.plan`` says."""

    def name(self) -> str:
        return "action_search"

    async def act(self, dispatcher, tracker, domain):
        waiting = tracker.get_slot("incident_waiting")  # a postal code or an address asked for
        if waiting:
            events = await self.incident_answer(dispatcher, tracker, waiting)
            if events is not None:
                return events
        if choice(tracker) == "incident_notify" and tracker.get_slot("incident"):
            lang = conversation_language(tracker) or DEFAULT_LANGUAGE
            say(dispatcher, "incident_ask_email", lang)
            return [SlotSet("incident_waiting", "email"), SlotSet("flow", None)]
        # Anything else is a new message: what was asked for is not asked again.
        events = [SlotSet("incident_waiting", None)] if waiting else []
        return events + await self.answer(dispatcher, tracker)

    async def answer(self, dispatcher, tracker) -> list[EventType]:
        picked = choice(tracker) or ""
        current = conversation_language(tracker)
        if picked.startswith("article:"):
            return self.show_picked(dispatcher, tracker, picked[len("article:") :], current)
        if picked == "none_of_these":
            return self.none_of_these(dispatcher, tracker, current)
        if picked == "next_problem" and tracker.get_slot("next_problem"):  # the second of two: a new problem
            text = tracker.get_slot("next_problem")
            return [SlotSet("next_problem", None)] + await self.search(
                dispatcher, tracker, text, [text], None, may_clarify=True, new_problem=True
            )

        text = clean_text(latest_text(tracker), most=None)  # whole: the ticket keeps it
        problems = list(tracker.get_slot("problem_texts") or [])
        topic = answers.topic_from_choice(picked, tracker.get_slot("clarify_topics") or [])
        if picked.startswith(("topic:", "product:")):
            lang = current or metadata_language(tracker) or DEFAULT_LANGUAGE
            if topic is None or not problems:  # "something else", or a stale button
                say(dispatcher, "clarify_details", lang)
                return [
                    SlotSet("clarify_pending", True),
                    SlotSet("clarify_topics", None),
                    SlotSet("clarified", True),
                    SlotSet("flow", None),
                ]
            return await self.search(
                dispatcher, tracker, narrowed(problems[-1], topic.label), problems, topic, may_clarify=False
            )

        if not has_words(text) or text.startswith("/"):
            lang = current or metadata_language(tracker) or DEFAULT_LANGUAGE
            say(dispatcher, "ask_rephrase", lang)
            return [SlotSet("language", lang)]
        # Not a question for the KB, whatever NLU made of it: a person asked for in so many words
        # (the form follows at once), another language, how to reach the company.
        if wishes.asks_for_person(text):
            return await ActionPrepareHandoff.prepare(dispatcher, tracker, asked=True) + [
                FollowupAction("handoff_form")
            ]
        asked = wishes.language_asked(text)
        if asked:
            return go_on_in(dispatcher, tracker, asked)
        if wishes.contact_asked(text):
            return tell_contact(dispatcher, await detect_language(tracker, text))
        query = clean_text(latest_start(tracker))
        refining = bool(tracker.get_slot("clarify_pending") and problems)
        if refining:  # the answer to the clarifying question refines the previous description
            query = narrowed(problems[-1], query)
        may_clarify = not refining and not tracker.get_slot("clarified") and latest_intent(tracker) != "out_of_scope"
        parts = [] if refining else wishes.problems_in(query)
        if len(parts) == 2:  # two problems: the first now, the second offered next
            query = text = parts[0]
        problems = (problems + [text])[-MAX_PROBLEM_TEXTS:]  # whole: the ticket keeps it
        events = await self.search(dispatcher, tracker, query, problems, None, may_clarify, refining)
        if len(parts) == 2:
            lang = next((e["value"] for e in events if e.get("name") == "language"), current)
            offer_next(dispatcher, parts[1], lang)
            events.append(SlotSet("next_problem", parts[1][:1000]))
        return events

    async def search(
        self,
        dispatcher,
        tracker,
        query: str,
        problems: list[str],
        topic: answers.Topic | None,
        may_clarify: bool,
        refining: bool = False,
        new_problem: bool = False,
        postal_code: str | None = None,
    ) -> list[EventType]:
        current = conversation_language(tracker)
        events: list[EventType] = [
            SlotSet("problem_texts", problems),
            SlotSet("clarify_pending", False),
            SlotSet("clarify_topics", None),
        ]
        if topic is not None or refining:
            events.append(SlotSet("clarified", True))
        if new_problem:  # what was asked, shown or chosen for the other problem does not count for this one
            events += [SlotSet("clarified", False), SlotSet("unresolved_count", 0), SlotSet("topic", None)]
        events += _topic_events(topic)
        # A short message in a conversation with a language is searched in that language; a longer
        # one in the language it is written in, this one preferred where the detector is unsure.
        # Until the customer's language is known, the chat page's stands in (codes, product names).
        known = current or metadata_language(tracker)
        search_lang = known if known and len(query.split()) < MIN_WORDS_TO_SWITCH else None
        try:
            result = await backend().search(
                query, lang=search_lang, top_k=SEARCH_TOP_K, conversation_id=tracker.sender_id, conversation_lang=known
            )
        except SearchUnavailable as exc:
            log.warning("search unavailable: %s", exc)
            lang = current or metadata_language(tracker) or DEFAULT_LANGUAGE
            say(dispatcher, "search_unavailable", lang)
            say(dispatcher, "offer_human", lang)
            return events + [
                SlotSet("language", lang),
                SlotSet("flow", "offer_human"),
                SlotSet("handoff_reason", "search_unavailable"),
                SlotSet("last_search", None),
            ]

        chosen = current if tracker.get_slot("language_chosen") else None  # the customer's choice wins
        lang = chosen or normalise_language(result.get("lang")) or current or DEFAULT_LANGUAGE
        events += [SlotSet("language", lang), SlotSet("last_search", compact_search(result, query))]
        if latest_intent(tracker) != "out_of_scope":  # a known outage comes first
            told = await self.tell_incident(dispatcher, tracker, result, query, lang, postal_code)
            if told is not None:
                return events + told
        step = answers.plan(
            result,
            query,
            rejected_ids(tracker),
            topic_labels(lang),
            may_clarify,
            topic,
            dismissed=rejected_ids(tracker, ("not_relevant",)),
        )
        out_of_scope = latest_intent(tracker) == "out_of_scope"

        if step.kind == "clarify":
            topics = step.topics
            clarify = render("clarify_topic", lang)
            dispatcher.utter_message(
                text=clarify["text"],
                buttons=[{"title": t.label, "payload": t.payload()} for t in topics] + clarify["buttons"],
            )
            offered = [{"category": t.category, "product": t.product, "label": t.label} for t in topics]
            return events + [
                SlotSet("clarify_topics", offered),
                SlotSet("clarify_pending", True),
                SlotSet("flow", None),
            ]
        if step.kind in (answers.ANSWER, "answer_again") and not (out_of_scope and step.skipped):
            best = step.hits[0]
            send_card(
                dispatcher,
                answer_card(best, lang, "answer_intro_again" if step.kind == "answer_again" else "answer_intro"),
            )
            shown = record_shown(list(tracker.get_slot("articles_shown") or []), best)
            return events + [SlotSet("flow", "feedback"), SlotSet("articles_shown", shown)]
        if step.kind == answers.SUGGEST and not out_of_scope:
            if step.skipped:
                say(dispatcher, "rejected_only", lang, title=step.skipped[0].get("title", ""))
            message = render("suggest", lang)
            buttons = [
                {"title": h.get("title") or h["article_id"], "payload": _article_payload(h["article_id"])}
                for h in step.hits
            ]
            dispatcher.utter_message(text=message["text"], buttons=buttons + message["buttons"])
            return events + [SlotSet("suggested", [h["article_id"] for h in step.hits]), SlotSet("flow", None)]

        if out_of_scope:
            say(dispatcher, "out_of_scope", lang)
        elif step.kind == "rejected_only":
            say(dispatcher, "rejected_only", lang, title=step.skipped[0].get("title", ""))
        else:
            # No bluffing: without a confident answer the customer gets a person, not a guess. A
            # customer who described it again instead of taking the offer is not told the same
            # sentence twice: the second says that a colleague gets both descriptions.
            again = tracker.get_slot("flow") == "offer_human" and tracker.get_slot("handoff_reason") == "no_answer"
            say(dispatcher, "no_answer_again" if again else "no_answer", lang)
        say(dispatcher, "offer_human", lang)
        return events + [
            SlotSet("flow", "offer_human"),
            SlotSet("handoff_reason", "unresolved" if step.kind == "rejected_only" else "no_answer"),
        ]

    @staticmethod
    async def tell_incident(
        dispatcher, tracker, result: dict[str, Any], query: str, lang: str, postal_code: str | None
    ) -> list[EventType] | None:
        """A known incident that concerns the message: said first, with what it means for the
        customer and the offer of an e-mail when it is fixed; or the postal code asked for once.
        None: no incident concerns it, the normal answer follows."""
        mentioned = None if postal_code else incidents.postal_code_mentioned(query)
        code = postal_code or mentioned or tracker.get_slot("postal_code")
        categories, products = incidents.hit_topics(result)
        found = await backend().active_incidents(categories, products, query, code, lang)
        told = list(tracker.get_slot("incidents_told") or [])
        asked = bool(code or tracker.get_slot("incident_asked_postal"))
        step = incidents.decide(found, told, asked)
        if step is None:
            return None
        if step.kind == incidents.ASK_POSTAL_CODE:
            say(dispatcher, "incident_ask_postal_code", lang)
            return [
                SlotSet("incident_waiting", "postal_code"),
                SlotSet("incident_asked_postal", True),
                SlotSet("flow", None),
            ]
        values = incidents.notice_values(step.incident)
        await backend().incident_told(step.incident["id"], tracker.sender_id, lang)
        say(dispatcher, "incident_known", lang, **values)
        end = "incident_expected" if values["expected"] else "incident_unknown_end"
        say(dispatcher, end, lang, **values)
        say(dispatcher, "incident_offer", lang)
        return [
            SlotSet("incident", incidents.remembered(step.incident)),
            SlotSet("incidents_told", told + [step.incident["id"]]),
            SlotSet("flow", None),
        ] + ([SlotSet("postal_code", mentioned)] if mentioned else [])

    async def incident_answer(self, dispatcher, tracker, waiting: str) -> list[EventType] | None:
        """The postal code or e-mail address the bot asked for; None when the message is neither
        (it is then a new message)."""
        text = clean_text(latest_text(tracker), most=None)
        lang = conversation_language(tracker) or DEFAULT_LANGUAGE
        if waiting == "postal_code":
            code = incidents.postal_code_in(text)
            if code is None:
                return None
            problems = list(tracker.get_slot("problem_texts") or [])
            query = (tracker.get_slot("last_search") or {}).get("query") or (problems or [text])[-1]
            events = [SlotSet("incident_waiting", None), SlotSet("postal_code", code)]
            return events + await self.search(
                dispatcher, tracker, query, problems, None, may_clarify=False, postal_code=code
            )
        address = (find_contact(text) or {}).get("email")
        incident = (tracker.get_slot("incident") or {}).get("id")
        if waiting != "email" or not incident or (address is None and "@" not in text):
            return None
        subscribed = False
        if address:
            subscribed = await backend().subscribe_incident(incident, address, lang, tracker.sender_id)
        if subscribed is False:  # asked again; anything without an "@" is a new message
            say(dispatcher, "incident_bad_email", lang)
            return []
        say(dispatcher, "incident_subscribed" if subscribed else "incident_subscribe_failed", lang, email=address)
        return [SlotSet("incident_waiting", None)]

    @staticmethod
    def show_picked(dispatcher, tracker, article_id: str, lang: str | None) -> list[EventType]:
        """The customer picked one of the suggestions: its answer card; its topic is accepted."""
        hits = (tracker.get_slot("last_search") or {}).get("hits") or []
        hit = next((h for h in hits if h.get("article_id") == article_id), None)
        lang = lang or DEFAULT_LANGUAGE
        if hit is None or article_id in rejected_ids(tracker, REJECTED):
            say(dispatcher, "clarify_details", lang)
            return [SlotSet("clarify_pending", True), SlotSet("suggested", None)]
        send_card(dispatcher, answer_card(hit, lang))
        shown = record_shown(list(tracker.get_slot("articles_shown") or []), hit)
        topic = answers.Topic(hit.get("category"), hit.get("product"), hit.get("product") or "")
        return [
            SlotSet("articles_shown", shown),
            SlotSet("flow", "feedback"),
            SlotSet("suggested", None),
        ] + _topic_events(topic if hit.get("category") else None)

    @staticmethod
    def none_of_these(dispatcher, tracker, lang: str | None) -> list[EventType]:
        """None of the suggestions fits: they count as rejected; one question for details, then a person."""
        lang = lang or DEFAULT_LANGUAGE
        hits = {h.get("article_id"): h for h in (tracker.get_slot("last_search") or {}).get("hits") or []}
        shown = list(tracker.get_slot("articles_shown") or [])
        for article_id in tracker.get_slot("suggested") or []:
            if article_id in hits:
                shown = record_shown(shown, hits[article_id], "not_relevant")
        events: list[EventType] = [SlotSet("articles_shown", shown), SlotSet("suggested", None)]
        if not tracker.get_slot("clarified"):
            say(dispatcher, "clarify_details", lang)
            return events + [SlotSet("clarify_pending", True), SlotSet("clarified", True), SlotSet("flow", None)]
        say(dispatcher, "no_answer", lang)
        say(dispatcher, "offer_human", lang)
        return events + [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "unresolved")]


def _mark_last_article(tracker: Tracker, feedback: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    shown = [dict(a) for a in tracker.get_slot("articles_shown") or []]
    pending = [a for a in shown if a.get("feedback") == "none"]
    if pending:
        pending[-1]["feedback"] = feedback
        return shown, pending[-1]
    return shown, None


async def _record_feedback(tracker: Tracker, article: dict[str, Any] | None, helpful: bool) -> None:
    if article:
        query = (tracker.get_slot("last_search") or {}).get("query") or ""
        await backend().feedback(article["article_id"], tracker.sender_id, query, helpful)


class ActionSolved(HelpdeskAction):
    def name(self) -> str:
        return "action_solved"

    async def act(self, dispatcher, tracker, domain):
        shown, article = _mark_last_article(tracker, "solved")
        await _record_feedback(tracker, article, True)
        lang = conversation_language(tracker)
        say(dispatcher, "solved", lang)
        if tracker.get_slot("next_problem"):
            offer_next(dispatcher, tracker.get_slot("next_problem"), lang)
        # The problem is over: the next one starts without its texts, topic or a paused handoff's summary.
        return [
            SlotSet("articles_shown", shown),
            SlotSet("flow", None),
            SlotSet("unresolved_count", 0),
            SlotSet("clarify_pending", False),
            SlotSet("problem_texts", []),
        ] + [SlotSet(slot, None) for slot in SUMMARY_SLOTS]


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
        events: list[EventType] = [SlotSet("unresolved_count", unresolved), SlotSet("articles_shown", shown)]

        if unresolved >= 2:
            say(dispatcher, "unresolved_handoff", lang)
            events.append(SlotSet("handoff_reason", "unresolved"))
            events += prefill_events(tracker, lang)
            return events + [SlotSet("flow", "handoff")]

        candidate = answers.next_after_rejection(
            tracker.get_slot("last_search") or {}, {a["article_id"] for a in shown}
        )
        if candidate:
            send_card(dispatcher, answer_card(candidate, lang, "answer_intro_next"))
            return events + [SlotSet("articles_shown", record_shown(shown, candidate)), SlotSet("flow", "feedback")]

        # flow stays "feedback": a second "no" instead of details is the second unresolved answer.
        say(dispatcher, "clarify_details", lang)
        return events + [SlotSet("clarify_pending", True), SlotSet("clarified", True), SlotSet("flow", "feedback")]


def offer_next(dispatcher, problem: str, lang: str | None) -> None:
    """The second problem of a message: named, with a button that searches it."""
    words = problem.split()
    excerpt = " ".join(words[:8]).rstrip(" ,.;:?!") + ("…" if len(words) > 8 else "")
    dispatcher.utter_message(
        text=render("next_problem", lang, excerpt=excerpt)["text"],
        buttons=[
            {
                "title": render("next_problem_button", lang, excerpt=excerpt)["text"],
                "payload": '/inform{"choice": "next_problem"}',
            }
        ],
    )


class ActionRequestHuman(HelpdeskAction):
    """NLU heard a wish for a person. When the words ask for one (a human, an agent, someone to
    talk to, a call back), the handoff starts (flow=handoff, the rules start the form); a question
    about cancelling, notice periods, an outage or a refund that names no person is searched."""

    def name(self) -> str:
        return "action_request_human"

    async def act(self, dispatcher, tracker, domain):
        if wishes.wants_person(clean_text(latest_text(tracker))):
            return await ActionPrepareHandoff().act(dispatcher, tracker, domain)
        events = await ActionSearch().act(dispatcher, tracker, domain)
        # The rules tell the two apart by the flow this action leaves: named in every case.
        flow = next(
            (e["value"] for e in reversed(events) if e.get("event") == "slot" and e.get("name") == "flow"),
            tracker.get_slot("flow"),
        )
        return events + [SlotSet("flow", flow)]


def go_on_in(dispatcher, tracker: Tracker, target: str | None) -> list[EventType]:
    """Switches the conversation to ``target`` and asks again what the bot is waiting for, in it."""
    events = switch_language(dispatcher, tracker, target)
    if events:
        flow = tracker.get_slot("flow")
        say(
            dispatcher,
            {"offer_human": "offer_human", "feedback": "answer_card"}.get(flow, "small_how_can_i_help"),
            target,
        )
    return events


class ActionSwitchLanguage(HelpdeskAction):
    """ "Können wir auf Deutsch weitermachen?", "English please": the conversation goes on in it."""

    def name(self) -> str:
        return "action_switch_language"

    async def act(self, dispatcher, tracker, domain):
        text = clean_text(latest_text(tracker))
        return go_on_in(
            dispatcher,
            tracker,
            wishes.language_asked(text) or await detect_language(tracker, text, follow_choice=False),
        )


# The parts of the answer to "how do I reach you?", each with the profile values it needs.
CONTACT_PARTS = (("contact_phone", ("hotline", "hours")), ("contact_email", ("support_email",)))


def tell_contact(dispatcher, lang: str) -> list[EventType]:
    """The deployment's ways to a person (GET /bot/profile), never an article."""
    values = profile.values(lang)
    parts = [key for key, needed in CONTACT_PARTS if all(values.get(n) for n in needed)]
    for key in parts or ["contact_unknown"]:
        say(dispatcher, key, lang)
    say(dispatcher, "contact_more", lang)
    return [SlotSet("language", lang)]


class ActionContact(HelpdeskAction):
    """The hotline, its hours and the support e-mail address, from the deployment's profile. A
    message NLU took for this question that does not speak of the company ("my landline phone
    has no dial tone") is searched."""

    def name(self) -> str:
        return "action_contact"

    async def act(self, dispatcher, tracker, domain):
        text = latest_text(tracker)
        if not wishes.addresses_company(text):
            return await ActionSearch().act(dispatcher, tracker, domain)
        return tell_contact(dispatcher, await detect_language(tracker, text))


class ActionFrustration(HelpdeskAction):
    """Anger or an insult: one empathetic sentence and the offer of a person. The message is not
    a problem description; a yes makes a handoff with reason ``frustration`` (priority raised)."""

    def name(self) -> str:
        return "action_frustration"

    async def act(self, dispatcher, tracker, domain):
        lang = await detect_language(tracker, latest_text(tracker))
        say(dispatcher, "frustration", lang)
        say(dispatcher, "offer_human", lang)
        return [SlotSet("language", lang), SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "frustration")]


SMALL_TALK = {
    "bot_challenge": "small_bot_challenge",
    "thank": "small_thank",
    "goodbye": "small_goodbye",
    "chitchat": "small_chitchat",
}


class ActionSmallTalk(HelpdeskAction):
    """Short fixed replies (are you a bot, thanks, goodbye, how are you, a yes/no to nothing), in
    the conversation's language, else the chat page's, else the one detected."""

    def name(self) -> str:
        return "action_small_talk"

    async def act(self, dispatcher, tracker, domain):
        lang = await detect_language(tracker, latest_text(tracker))
        say(dispatcher, SMALL_TALK.get(latest_intent(tracker) or "", "small_how_can_i_help"), lang)
        return [] if conversation_language(tracker) else [SlotSet("language", lang)]


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
    """After a stored handoff the conversation belongs to a person: what the customer writes is
    added to the ticket's transcript (every channel) and acknowledged; the bot answers nothing
    else. Clearing ``ticket_id`` (the web chat's hand-back) makes the bot answer again."""

    def name(self) -> str:
        return "action_handed_off"

    async def run(self, dispatcher, tracker, domain):
        ticket = tracker.get_slot("ticket_id")
        lang = conversation_language(tracker) or metadata_language(tracker) or DEFAULT_LANGUAGE
        text = clean_text(latest_text(tracker), most=None)
        if not has_words(text) or text.startswith("/"):
            return []
        try:
            await backend().append_message(ticket, tracker.sender_id, text)
        except TicketClosed:
            say(dispatcher, "after_ticket_closed", lang, ticket_id=ticket)
            return [SlotSet("ticket_id", None)]
        except Exception:
            log.exception("appending to %s failed", ticket)
            say(dispatcher, "action_failed", lang)
            return []
        say(dispatcher, "after_ticket", lang, ticket_id=ticket)
        return []
