"""The handoff to 2nd level: prefill, the form's validation, confirmation and submission.

``action_prepare_handoff`` (or ``action_not_solved``) prefills what the
conversation already says: the description from the customer's problem
messages (not a request for a person, not an insult), the topic from a topic
button or a picked article, else from the articles shown for this problem, and
what they tried from their own words ("router schon neu gestartet"); the
summary shows each for correction. The articles shown and their verdicts are
added to "tried" (once each) when the summary is shown and sent, so
correcting "tried" never loses them. ``handoff_form`` asks only for what is
missing; ``validate_handoff_form`` checks each answer, and searches a problem
typed at the first question: a clear answer is offered before the form goes
on (the form pauses; "not solved" resumes it), and the text is the
description either way. ``action_ask_handoff_confirmed`` shows the summary for
the customer to confirm or correct; a procedure the bot ran in the conversation is in
"tried" too, with its outcome and the answers the desk lets a ticket carry.
``action_submit_handoff`` POSTs it with an idempotency key derived from the
conversation and never claims success it did not get back from the web service.
"""

from __future__ import annotations

import hashlib
import logging
import re
from abc import abstractmethod
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import answers, procedures
from actions.answers import content_words
from actions.backend import MAX_MESSAGE_CHARS, HandoffFailed, HandoffRejected, SearchUnavailable, backend
from actions.conversation import (
    MAX_PROBLEM_TEXTS,
    REJECTED,
    SEARCH_TOP_K,
    HelpdeskAction,
    answer_card,
    choice,
    clean_text,
    compact_search,
    conversation_language,
    detect_language,
    latest_intent,
    latest_text,
    profile,
    record_shown,
    rejected_ids,
    said,
    send_card,
    switch_language,
)
from actions.texts import DEFAULT_LANGUAGE, LANGUAGES, render, say
from actions.wishes import describes_problem, language_asked, tried_in

log = logging.getLogger(__name__)

CATEGORIES = ("network", "email", "software", "shop-chat", "billing", "other")
URGENCIES = ("low", "normal", "high", "critical")
FIELDS = ("category", "description", "tried", "urgency", "contact")
MAX_TEXT = MAX_MESSAGE_CHARS  # a description, what was tried, a transcript message
MAX_TRANSCRIPT = 200
MAX_BUTTONS = 20  # the desk keeps at most 20 buttons of a bot message

# Words that say which category a typed answer means (the buttons send the code itself).
CATEGORY_WORDS = {
    "network": (
        "internet",
        "netz",
        "network",
        "wlan",
        "wifi",
        "wi-fi",
        "router",
        "dsl",
        "fiber",
        "glasfaser",
        "modem",
        "verbindung",
        "connection",
        "dns",
        "störung",
        "outage",
    ),
    "email": ("mail", "e-mail", "email", "imap", "smtp", "spam", "postfach", "mailbox"),
    "software": (
        "office",
        "software",
        "programm",
        "program",
        "app",
        "lizenz",
        "licence",
        "license",
        "update",
        "installation",
        "install",
        "sync",
    ),
    "shop-chat": ("shoptalk", "shop", "widget", "chat"),
    "billing": (
        "rechnung",
        "bill",
        "invoice",
        "zahlung",
        "payment",
        "vertrag",
        "contract",
        "kündig",
        "cancel",
        "abbuchung",
        "charge",
        "geld",
        "money",
        "konto",
        "account",
    ),
}
URGENCY_WORDS = {  # checked in this order: "not urgent" must not count as "urgent"
    "low": (
        "low",
        "niedrig",
        "not urgent",
        "nicht dringend",
        "kann warten",
        "can wait",
        "egal",
        "no rush",
        "nicht eilig",
    ),
    "critical": (
        "critical",
        "kritisch",
        "business is down",
        "steht still",
        "stillstand",
        "notfall",
        "emergency",
        "alle mitarbeiter",
        "everyone",
        "sofort",
        "immediately",
    ),
    "high": (
        "high",
        "hoch",
        "urgent",
        "dringend",
        "can't work",
        "cannot work",
        "kann nicht arbeiten",
        "eilig",
        "asap",
        "schnell",
    ),
    "normal": ("normal", "medium", "mittel", "work around", "behelfen"),
}
EMAIL_IN_TEXT = re.compile(
    r"[^@\s<>,;\"'()\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
PHONE_IN_TEXT = re.compile(r"\+?[0-9][0-9 ()./-]{4,24}[0-9]")


def find_contact(text: str) -> dict[str, str] | None:
    """{"email": ...} or {"phone": ...} found in the text; None when there is neither.
    A first check only: the web service's 422 has the last word on what it accepts."""
    text = text or ""
    email = EMAIL_IN_TEXT.search(text)
    if email:
        return {"email": email.group(0).rstrip(".")}
    for match in PHONE_IN_TEXT.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 6 <= len(digits) <= 15:
            return {"phone": match.group(0).strip()}
    return None


def contact_text(contact: str | None) -> str:
    return contact or ""


def words_match(text: str, table: dict[str, tuple]) -> str | None:
    lowered = f" {text.lower()} "
    for value, words in table.items():
        if any(w in lowered for w in words):
            return value
    return None


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    text = (text or "").replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def description(problems: list[str], limit: int = MAX_TEXT) -> str:
    """The problem texts joined with " / " as written; where they do not all fit in ``limit``, the
    longest (a long paste carries the problem) whole and the newest others that fit beside it.
    The transcript has every message."""
    kept = {max(range(len(problems)), key=lambda i: len(problems[i]))}
    for i in reversed(range(len(problems))):
        if len(" / ".join(problems[j] for j in sorted(kept | {i}))) <= limit:
            kept.add(i)
    return bounded(" / ".join(problems[i] for i in sorted(kept)), limit)


def categories() -> frozenset:
    """Every category the routing file knows (from the deployment profile), else the built-in ones."""
    if profile is not None:
        try:
            known = profile.topic_ids()
            if known:
                return frozenset(known)
        except Exception:
            log.exception("profile topic ids unavailable")
    return frozenset(CATEGORIES)


def category_words() -> dict[str, tuple]:
    if profile is not None:
        try:
            words = profile.topic_words()
            if words:
                return dict(words)
        except Exception:
            log.exception("profile topic words unavailable")
    return CATEGORY_WORDS


def articles_text(articles: list[dict[str, Any]], lang: str | None) -> str:
    """The articles the bot showed, each once with the customer's verdict on it."""
    latest: dict[str, dict[str, Any]] = {}
    for article in articles or []:
        latest.pop(article["article_id"], None)
        latest[article["article_id"]] = article
    if not latest:
        return ""
    quote = ("„", "“") if lang == "de" else ('"', '"')
    items = "; ".join(
        f"{quote[0]}{a.get('title') or a['article_id']}{quote[1]} "
        f"({render('verdict_' + (a.get('feedback') or 'none'), lang)['text']})"
        for a in latest.values()
    )
    return render("tried_articles", lang, items=items)["text"]


def tried_text(
    own_words: str | None, articles: list[dict[str, Any]], lang: str | None, procedure: dict[str, Any] | None = None
) -> str:
    """What the customer already tried: their own words, the articles shown with verdicts, and the
    procedure the bot ran for them with its outcome and the answers a ticket may carry."""
    parts = [
        p
        for p in ((own_words or "").strip(), articles_text(articles, lang), procedures.report_text(procedure, lang))
        if p
    ]
    return bounded(". ".join(p.rstrip(". ") for p in parts))


PERSON_WORDS = re.compile(
    r"\b(human|person|people|someone|somebody|agent|employee|staff|support|service|operator|call|ticket|talk|speak|"
    r"bot|chatbot|robot|machine|mensch\w*|mitarbeiter\w*|jemand\w*|person\w*|kollege\w*|kundenservice|"
    r"kundendienst|service\w*|hotline|anruf\w*|rueckruf|rückruf|zurueckrufen|zurückrufen|reden|sprechen|"
    r"chatbot\w*|roboter|maschine|ticket\w*)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[.!?;,:\n]+|\s+-\s+|\b(?:and|but|und|aber|weil|because|da)\b", re.IGNORECASE)
MIN_PROBLEM_WORDS = 2


def problem_part(text: str) -> str:
    """The problem inside a request for a person: "I want a human, the office app crashes on
    start" -> "the office app crashes on start"; "" when the message is only the request."""
    clauses = [c.strip() for c in _CLAUSE.split(text or "") if c and c.strip()]
    kept = [c for c in clauses if not PERSON_WORDS.search(c)]
    problem = ", ".join(kept)
    return problem if len(content_words(problem)) >= MIN_PROBLEM_WORDS else ""


def shown_category(articles: list[dict[str, Any]]) -> str | None:
    """The category of the latest article shown for the open problem: one the customer read or
    marked "not solved"; not one passed over in a list, nor one that solved an earlier problem."""
    return next(
        (
            a.get("category")
            for a in reversed(articles or [])
            if a.get("category") and a.get("feedback") in ("none", "not_solved")
        ),
        None,
    )


def prefill_events(tracker: Tracker, lang: str | None) -> list[EventType]:
    """Slots of the form the bot can fill from the conversation (only empty ones); the summary
    shows each for correction."""
    events: list[EventType] = [SlotSet("handoff_confirmed", None), SlotSet("handoff_fix_pending", False)]
    topic = tracker.get_slot("topic") or {}
    category = topic.get("category") or shown_category(tracker.get_slot("articles_shown") or [])
    if not tracker.get_slot("handoff_category") and category in categories():
        events.append(SlotSet("handoff_category", category))
    if not tracker.get_slot("handoff_product") and topic.get("product"):
        events.append(SlotSet("handoff_product", str(topic["product"])[:200]))
    problems = tracker.get_slot("problem_texts") or []
    if not tracker.get_slot("handoff_description") and problems:
        events.append(SlotSet("handoff_description", description(problems)))
    tried = tried_in(problems)
    if not tracker.get_slot("handoff_tried") and tried:
        events.append(SlotSet("handoff_tried", bounded(tried)))
    return events


class ActionPrepareHandoff(HelpdeskAction):
    """Start of a handoff the customer asked for or accepted: the reason, the intro text and the
    prefilled summary."""

    def name(self) -> str:
        return "action_prepare_handoff"

    async def act(self, dispatcher, tracker, domain):
        return await self.prepare(dispatcher, tracker, asked=latest_intent(tracker) == "request_human")

    @staticmethod
    async def prepare(dispatcher: CollectingDispatcher, tracker: Tracker, asked: bool) -> list[EventType]:
        """``asked``: the customer's message asked for a person (else it was a yes to the offer)."""
        lang = conversation_language(tracker)
        if lang is None or asked:
            lang = await detect_language(tracker, latest_text(tracker))
        events: list[EventType] = []
        if asked:
            reason = "customer_request"
            # "I want a human, <problem>": the problem is kept for the summary, the request is not.
            problem = problem_part(clean_text(latest_text(tracker), most=None))
            if problem:
                problems = (list(tracker.get_slot("problem_texts") or []) + [problem])[-MAX_PROBLEM_TEXTS:]
                events.append(SlotSet("problem_texts", problems))
                tracker.slots["problem_texts"] = problems  # prefill below sees it
        else:  # a yes to the bot's offer: the reason the offer was made
            reason = tracker.get_slot("handoff_reason") or "customer_request"
        say(dispatcher, "handoff_intro", lang)
        # flow "handoff": the form runs (the rules start it and submit it in this flow).
        return (
            events
            + [SlotSet("language", lang), SlotSet("handoff_reason", reason), SlotSet("flow", "handoff")]
            + prefill_events(tracker, lang)
        )


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    async def run(self, dispatcher, tracker, domain):
        if profile is not None:
            await profile.refresh()  # the categories a typed topic can mean come from it
        requested = tracker.get_slot("requested_slot")
        asked = language_asked(latest_text(tracker)) if requested else None
        if asked:  # "auf Deutsch bitte" is no answer to the question: the form asks it again in that language
            return [SlotSet(requested, None)] + switch_language(dispatcher, tracker, asked)
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _text(value: Any, tracker: Tracker) -> str:
        """The answer, whitespace collapsed; the whole message where the form took the start NLU got."""
        if value == tracker.latest_message.get("text"):
            value = latest_text(tracker)
        return " ".join(str(value or "").split())

    def _coded(self, value: Any, tracker: Tracker, allowed: tuple) -> tuple[str | None, str]:
        """(code, "") when a button (or a prefill) gave one of ``allowed``, else (None, typed text)."""
        picked = choice(tracker)
        if picked in allowed:
            return picked, ""
        if value in allowed:
            return value, ""
        text = self._text(value, tracker)
        return None, "" if text.startswith("/") else text

    async def validate_handoff_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code, text = self._coded(value, tracker, tuple(categories()))
        if code or not text:
            return {"handoff_category": code}
        named = words_match(text, category_words())
        if not describes_problem(text):  # a topic in a word or two: "meine Rechnung"
            return {"handoff_category": named or "other"}
        return await self._typed_problem(text, named, dispatcher, tracker)

    @staticmethod
    async def _typed_problem(
        text: str, named: str | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """A problem typed at "What is your request about?": it is the description, and it is
        searched. A clear answer is shown with "solved" / "on to a person" and the form pauses
        (flow feedback: "not solved" resumes it, the description comes from ``problem_texts``);
        otherwise the topic comes from the articles found and the form goes on."""
        lang = conversation_language(tracker)
        problems = (list(tracker.get_slot("problem_texts") or []) + [text])[-MAX_PROBLEM_TEXTS:]
        slots: dict[str, Any] = {"problem_texts": problems}
        tried = tried_in([text])
        if tried and not tracker.get_slot("handoff_tried"):
            slots["handoff_tried"] = bounded(tried)
        try:
            result = await backend().search(
                text, top_k=SEARCH_TOP_K, conversation_id=tracker.sender_id, conversation_lang=lang
            )
        except SearchUnavailable as exc:
            log.warning("search for the handoff's topic unavailable: %s", exc)
            result = {}
        step = answers.plan(result, text, rejected_ids(tracker, REJECTED), {}, may_clarify=False)
        if step.kind != answers.ANSWER:
            category = answers.likely_category(result)
            return {
                **slots,
                "handoff_category": category if category in categories() else named or "other",
                "handoff_description": bounded(text),
            }
        best = step.hits[0]
        send_card(dispatcher, answer_card(best, lang, "answer_intro_form", "answer_card_form"))
        # One "not solved" is the second unresolved answer: the customer asked for a person already.
        unresolved = max(1, int(tracker.get_slot("unresolved_count") or 0))
        return {
            **slots,
            "handoff_category": None,
            "requested_slot": None,
            "flow": "feedback",
            "unresolved_count": unresolved,
            "last_search": compact_search(result, text),
            "articles_shown": record_shown(list(tracker.get_slot("articles_shown") or []), best),
        }

    def validate_handoff_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"handoff_description": None}
        text = self._text(value, tracker)
        if len(re.findall(r"\w", text)) < 3 or text.startswith("/"):
            say(dispatcher, "invalid_description", conversation_language(tracker))
            return {"handoff_description": None}
        return {"handoff_description": bounded(text)}

    def validate_handoff_tried(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = self._text(value, tracker)
        if not text or text.startswith("/"):
            return {"handoff_tried": None}
        return {"handoff_tried": bounded(text)}

    def validate_handoff_urgency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code, text = self._coded(value, tracker, URGENCIES)
        if code or not text:
            return {"handoff_urgency": code}
        # In their own words: the words set the urgency, the text is kept as the impact.
        return {"handoff_urgency": words_match(text, URGENCY_WORDS) or "normal", "handoff_impact": bounded(text, 2000)}

    def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"handoff_contact": None}
        found = find_contact(self._text(value, tracker))
        if not found:
            say(dispatcher, "invalid_contact", conversation_language(tracker))
            return {"handoff_contact": None}
        return {"handoff_contact": next(iter(found.values()))}

    def validate_handoff_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"handoff_confirmed": None}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        picked = choice(tracker)
        if picked and picked.startswith("fix_") and picked[4:] in FIELDS:
            field = picked[4:]
            cleared = {f"handoff_{field}": None, "handoff_confirmed": None, "handoff_fix_pending": False}
            if field == "urgency":
                cleared["handoff_impact"] = None
            return cleared
        if tracker.get_slot("handoff_fix_pending"):
            field = self._field_named(self._text(value, tracker))
            if field:
                return {f"handoff_{field}": None, "handoff_confirmed": None, "handoff_fix_pending": False}
            return {"handoff_confirmed": None, "handoff_fix_pending": True}
        if intent == "affirm":
            return {"handoff_confirmed": True}
        found = find_contact(self._text(value, tracker))
        if found:  # "my e-mail is ..." as a correction: take it and show the summary again
            return {"handoff_contact": next(iter(found.values())), "handoff_confirmed": None}
        if intent == "deny":
            return {"handoff_confirmed": None, "handoff_fix_pending": True}
        return {"handoff_confirmed": None}

    @staticmethod
    def _field_named(text: str) -> str | None:
        table = {
            "contact": ("contact", "kontakt", "mail", "phone", "telefon", "nummer", "number"),
            "urgency": ("urgen", "dringend", "dringlich", "priorit"),
            "tried": ("tried", "versucht"),
            "category": ("topic", "thema", "category", "kategorie"),
            "description": ("description", "beschreibung", "problem"),
        }
        return words_match(text, table)


def _button_title(name: str, lang: str | None, value: str) -> str:
    """The label the customer saw on the button for ``value`` (texts stay in texts.yml)."""
    for button in render(name, lang)["buttons"]:
        if f'"{value}"' in button["payload"]:
            return button["title"]
    return value


class ActionAskHandoffSlot(HelpdeskAction):
    """The form's question for one slot (``action_ask_<slot>``), in the conversation's language."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for (a class attribute in the subclasses)."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def act(self, dispatcher, tracker, domain):
        say(dispatcher, f"ask_{self.slot}", conversation_language(tracker))
        return []


class ActionAskHandoffCategory(ActionAskHandoffSlot):
    slot = "handoff_category"


class ActionAskHandoffDescription(ActionAskHandoffSlot):
    slot = "handoff_description"


class ActionAskHandoffTried(ActionAskHandoffSlot):
    slot = "handoff_tried"


class ActionAskHandoffUrgency(ActionAskHandoffSlot):
    slot = "handoff_urgency"


class ActionAskHandoffContact(ActionAskHandoffSlot):
    """Before the first question for contact details of a conversation: what happens to them, with a
    link to the deployment's privacy policy (GET /bot/profile's ``urls.privacy_policy``)."""

    slot = "handoff_contact"

    async def act(self, dispatcher, tracker, domain):
        lang = conversation_language(tracker)
        notes = {render("privacy_note", language)["text"] for language in LANGUAGES}
        if not any(e.get("event") == "bot" and e.get("text") in notes for e in tracker.events):
            say(dispatcher, "privacy_note", lang)
        return await super().act(dispatcher, tracker, domain)


class ActionAskHandoffConfirmed(HelpdeskAction):
    """The form's last question: the whole summary, or which part to change."""

    def name(self) -> str:
        return "action_ask_handoff_confirmed"

    async def act(self, dispatcher, tracker, domain):
        lang = conversation_language(tracker)
        if tracker.get_slot("handoff_fix_pending"):
            say(dispatcher, "ask_fix_field", lang)
            return []
        product = tracker.get_slot("handoff_product")
        impact = tracker.get_slot("handoff_impact")
        say(
            dispatcher,
            "handoff_summary",
            lang,
            category=_button_title("ask_handoff_category", lang, tracker.get_slot("handoff_category") or "other"),
            product=f" ({product})" if product else "",
            description=tracker.get_slot("handoff_description") or "",
            tried=tried_text(
                tracker.get_slot("handoff_tried"),
                tracker.get_slot("articles_shown") or [],
                lang,
                tracker.get_slot("procedure_report"),
            ),
            urgency=_button_title("ask_handoff_urgency", lang, tracker.get_slot("handoff_urgency") or "normal"),
            impact=f" – {impact}" if impact else "",
            contact=contact_text(tracker.get_slot("handoff_contact")),
        )
        return []


def idempotency_key(sender_id: str, handoff_number: int) -> str:
    """Same conversation and handoff number, same key: a retried POST never makes two tickets."""
    digest = hashlib.sha256(sender_id.encode("utf-8", "replace")).hexdigest()[:32]
    return f"conv-{digest}-handoff-{handoff_number}"


def channel_name(tracker: Tracker) -> str:
    return "web-chat" if tracker.get_latest_input_channel() == "socketio" else "rest"


def card_text(data: Any) -> str:
    """The plain markdown of an answer card (a bot event's ``custom`` payload), else ""."""
    custom = data.get("custom") if isinstance(data, dict) else None
    card = custom.get("data") if isinstance(custom, dict) else None
    return str(card.get("text") or "") if isinstance(card, dict) else ""


def offered_buttons(data: Any) -> list[dict[str, str]]:
    """The buttons of a bot event (``data``): a text's buttons, or those of an answer card
    (the solved / not-solved question), as {title, payload}."""
    if not isinstance(data, dict):
        return []
    buttons = data.get("buttons")
    if not buttons:
        custom = data.get("custom")
        card = custom.get("data") if isinstance(custom, dict) else None
        buttons = card.get("buttons") if isinstance(card, dict) else None
    return [
        {"title": bounded(str(b["title"]), 200), "payload": bounded(str(b["payload"]), 1000)}
        for b in (buttons if isinstance(buttons, list) else [])[:MAX_BUTTONS]
        if isinstance(b, dict) and b.get("payload") and b.get("title")
    ]


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation as the customer saw it: a button click is the button's title, not its
    payload (the title of the button with that payload in the last bot message that offered
    buttons: an answer card's too). Each bot message carries its buttons, so the desk can do
    the same for a click it gets some other way."""
    messages = []
    titles: dict[str, str] = {}  # payload -> title of the last buttons the bot offered
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = said(event) if kind == "user" else event.get("text") or ""
        buttons: list[dict[str, str]] = []
        if kind == "bot":
            buttons = offered_buttons(event.get("data"))
            if buttons:
                titles = {b["payload"]: b["title"] for b in buttons}
        elif text.strip() in titles:
            text = titles[text.strip()]
        if not text.strip():
            text = card_text(event.get("data"))
        if not text.strip():
            continue
        stamp = datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)
        message: dict[str, Any] = {
            "sender": "customer" if kind == "user" else "bot",
            "text": bounded(text),
            "timestamp": stamp.isoformat(),
        }
        if buttons:
            message["buttons"] = buttons
        messages.append(message)
    return messages[-MAX_TRANSCRIPT:]


API_FEEDBACK = ("solved", "not_solved", "none")  # "not_relevant" (none of the suggestions) is "none" there


def handoff_payload(tracker: Tracker, lang: str, handoff_number: int) -> dict[str, Any]:
    articles = list({a["article_id"]: a for a in tracker.get_slot("articles_shown") or []}.values())
    contact = find_contact(tracker.get_slot("handoff_contact") or "") or {}
    category = tracker.get_slot("handoff_category")
    urgency = tracker.get_slot("handoff_urgency")
    # A ticket made after the bot told of a known incident is linked to it.
    incident = (tracker.get_slot("incident") or {}).get("id")
    run = procedures.ticket_run(tracker.get_slot("procedure_report"))
    return {
        **({"incident_id": incident} if incident else {}),
        **({"procedure_run": run} if run else {}),
        "idempotency_key": idempotency_key(tracker.sender_id, handoff_number),
        "conversation_id": tracker.sender_id[:200],
        "channel": channel_name(tracker),
        "language": lang,
        "reason": tracker.get_slot("handoff_reason") or "customer_request",
        "summary": {
            "category": category if category in categories() else "other",
            "product": tracker.get_slot("handoff_product"),
            "description": bounded(tracker.get_slot("handoff_description") or ""),
            "tried": tried_text(
                tracker.get_slot("handoff_tried"), articles, lang, tracker.get_slot("procedure_report")
            ),
            "urgency": urgency if urgency in URGENCIES else "normal",
            "impact": tracker.get_slot("handoff_impact"),
            "contact": contact,
        },
        "transcript": transcript(tracker),
        "articles_shown": [
            {
                "article_id": a["article_id"],
                "title": bounded(a.get("title") or "", 300),
                "score": a.get("score"),
                "feedback": a.get("feedback") if a.get("feedback") in API_FEEDBACK else "none",
            }
            for a in articles[-50:]
        ],
    }


SUMMARY_SLOTS = (
    "handoff_category",
    "handoff_product",
    "handoff_description",
    "handoff_tried",
    "handoff_urgency",
    "handoff_impact",
    "handoff_confirmed",
    "handoff_fix_pending",
    "topic",
    "clarify_topics",
    "suggested",
    "clarified",
    "procedure_report",
)


class ActionSubmitHandoff(HelpdeskAction):
    def name(self) -> str:
        return "action_submit_handoff"

    async def act(self, dispatcher, tracker, domain):
        lang = conversation_language(tracker) or DEFAULT_LANGUAGE
        number = int(tracker.get_slot("handoff_count") or 0) + 1
        payload = handoff_payload(tracker, lang, number)
        try:
            ticket = await backend().create_handoff(payload)
        except HandoffRejected as exc:
            log.error("handoff of %s rejected: %s", tracker.sender_id, exc)
            if exc.status == 422 and "contact" in exc.fields():
                # Ask for the contact again; the rules restart the form (flow=handoff).
                say(dispatcher, "handoff_rejected_contact", lang)
                return [
                    SlotSet("handoff_contact", None),
                    SlotSet("handoff_confirmed", None),
                    SlotSet("flow", "handoff"),
                ]
            say(dispatcher, "handoff_failed", lang)
            return [SlotSet("handoff_confirmed", None), SlotSet("flow", None)]
        except HandoffFailed as exc:
            log.error("handoff of %s could not be stored: %s", tracker.sender_id, exc)
            say(dispatcher, "handoff_failed", lang)
            return [SlotSet("handoff_confirmed", None), SlotSet("flow", None)]

        expected = ticket.get("expected_response") or {}
        expected_text = (expected.get("text") or {}).get(lang) or (
            "so bald wie möglich" if lang == "de" else "as soon as possible"
        )
        say(dispatcher, "handoff_created", lang, ticket_id=ticket["ticket_id"], expected=expected_text)
        if ticket.get("chat_key") and channel_name(tracker) == "web-chat":
            # The chat page's key to this ticket's live chat (helpdesk/chat/live_api.py), not the sender id.
            dispatcher.utter_message(
                json_message={"data": {"helpdesk_chat": {"ticket_id": ticket["ticket_id"], "key": ticket["chat_key"]}}}
            )
        # The summary belongs to this ticket; the contact is kept for a later one.
        return [
            SlotSet("ticket_id", ticket["ticket_id"]),
            SlotSet("expected_response", expected_text),
            SlotSet("handoff_count", number),
            SlotSet("flow", None),
            SlotSet("unresolved_count", 0),
            SlotSet("problem_texts", []),
            SlotSet("articles_shown", []),
            SlotSet("last_search", None),
            SlotSet("clarify_pending", False),
        ] + [SlotSet(s, None) for s in SUMMARY_SLOTS]
