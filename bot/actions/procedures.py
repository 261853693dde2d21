"""Procedures in the conversation: offer one the search found, collect its inputs, run it, answer.

When the best hit of a search is a procedure (kb/procedures, found by the same search as the
articles), ``offer`` says what the bot will do and asks whether to start (flow
``procedure_offer``). On "yes" one generic form, ``procedure_form``, asks for the procedure's
inputs: its slots ``procedure_input_1`` .. ``procedure_input_6`` stand for the inputs in the
procedure's order, and ``validate_procedure_form`` requires as many of them as the procedure has
(``required_slots``), then ``procedure_confirmed``: the summary, where the customer confirms,
changes an answer or cancels; "abbrechen" / "cancel" or the cancel button stops the form at any
question. Each answer is checked by the desk (``POST /procedures/{id}/inputs``), and
``action_run_procedure`` has the desk run it (``POST /procedures/{id}/runs``): the company's
system, its secrets, the limits and the audit log stay on the server side. The customer hears the
procedure's reply; on "no", a cancel or a failure the bot offers a person (the existing handoff),
and the ticket carries what the run reported (``report_text``).
"""

from __future__ import annotations

import hashlib
import logging
from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import wishes
from actions.backend import SearchUnavailable, backend
from actions.conversation import HelpdeskAction, choice, conversation_language, latest_text
from actions.texts import DEFAULT_LANGUAGE, render, say

log = logging.getLogger(__name__)

MAX_INPUTS = 6  # the procedure_input_N slots of bot/domain.yml; the file format allows no more
INPUT_SLOTS = tuple(f"procedure_input_{n}" for n in range(1, MAX_INPUTS + 1))
CANCEL, FIX = "procedure_cancel", "procedure_fix:"
CONFIRMED, CANCELLED, UNAVAILABLE = "confirmed", "cancelled", "unavailable"  # values of procedure_confirmed
FORM_SLOTS = (*INPUT_SLOTS, "procedure_confirmed")


def definition(tracker: Tracker) -> dict[str, Any]:
    return tracker.get_slot("procedure") or {}


def input_slots(procedure: dict[str, Any]) -> list[str]:
    return list(INPUT_SLOTS[: len(procedure.get("inputs") or [])])


def language(tracker: Tracker) -> str:
    return conversation_language(tracker) or definition(tracker).get("lang") or DEFAULT_LANGUAGE


def run_key(sender_id: str, procedure_id: str, number: int) -> str:
    """The run's idempotency key: the same conversation, procedure and run number give the same key."""
    digest = hashlib.sha256(sender_id.encode("utf-8", "replace")).hexdigest()[:32]
    return f"conv-{digest}-procedure-{procedure_id[:60]}-{number}"


def cleared() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


async def offer(dispatcher: CollectingDispatcher, hit: dict[str, Any], lang: str) -> list[EventType] | None:
    """The best hit is a procedure: what the bot will do and the question whether to start it; its
    topic prefills a later handoff. None when the desk does not give its definition (the caller
    answers as without it)."""
    try:
        procedure = await backend().procedure(hit["article_id"])
    except SearchUnavailable as exc:
        log.warning("procedure %s not offered: %s", hit.get("article_id"), exc)
        return None
    say(
        dispatcher,
        "procedure_offer",
        lang,
        title=procedure["title"],
        description=procedure["description"],
        inputs=", ".join(i["label"] for i in procedure["inputs"]),
    )
    product = hit.get("product")
    topic = {"category": hit.get("category"), "product": product, "label": product or ""}
    topic_events = [SlotSet("topic", topic)] if topic["category"] else []
    return [SlotSet("procedure", procedure), SlotSet("flow", "procedure_offer")] + topic_events + cleared()


class ActionStartProcedure(HelpdeskAction):
    """A yes to the offer: the form asks for the inputs (flow ``procedure``)."""

    def name(self) -> str:
        return "action_start_procedure"

    async def act(self, dispatcher, tracker, domain):
        if not definition(tracker).get("inputs"):
            say(dispatcher, "procedure_unavailable", language(tracker))
            say(dispatcher, "offer_human", language(tracker))
            return [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "unresolved")]
        return cleared() + [SlotSet("flow", "procedure")]


class ActionDeclineProcedure(HelpdeskAction):
    """A no to the offer: a person instead."""

    def name(self) -> str:
        return "action_decline_procedure"

    async def act(self, dispatcher, tracker, domain):
        lang = language(tracker)
        say(dispatcher, "procedure_declined", lang)
        say(dispatcher, "offer_human", lang)
        return [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", "customer_request")]


class ValidateProcedureForm(FormValidationAction):
    """The procedure's inputs, then the confirmation; every answer is checked by the desk."""

    def name(self) -> str:
        return "validate_procedure_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        if tracker.get_slot("procedure_confirmed") in (CANCELLED, UNAVAILABLE):
            return []  # the form ends at once: action_run_procedure says why
        return input_slots(definition(tracker)) + ["procedure_confirmed"]

    async def answer(
        self, number: int, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The answer to input ``number`` (1-based): the desk's normal form, or asked again."""
        slot, text = INPUT_SLOTS[number - 1], " ".join(latest_text(tracker).split())
        if value is None:
            return {slot: None}
        if choice(tracker) == CANCEL or wishes.cancels(text):
            return {slot: None, "procedure_confirmed": CANCELLED}
        procedure = definition(tracker)
        question = (procedure.get("inputs") or [])[number - 1]
        picked = choice(tracker)
        try:
            checked = await backend().check_answer(procedure["id"], question["name"], picked or text)
        except SearchUnavailable as exc:
            log.warning("answer of procedure %s not checked: %s", procedure.get("id"), exc)
            return {slot: None, "procedure_confirmed": UNAVAILABLE}
        if checked.get("valid"):
            return {slot: checked["value"]}
        if checked.get("error"):
            dispatcher.utter_message(text=checked["error"])
        else:
            say(dispatcher, "procedure_invalid", language(tracker))
        return {slot: None}

    async def validate_procedure_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"procedure_confirmed": None}
        picked = choice(tracker) or ""
        if picked.startswith(FIX):  # change one answer: asked again, then the summary again
            names = [i["name"] for i in definition(tracker).get("inputs") or []]
            name = picked[len(FIX) :]
            if name in names:
                return {INPUT_SLOTS[names.index(name)]: None, "procedure_confirmed": None}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if picked == CANCEL or intent == "deny" or wishes.cancels(latest_text(tracker)):
            return {"procedure_confirmed": CANCELLED}
        if intent == "affirm":
            return {"procedure_confirmed": CONFIRMED}
        return {"procedure_confirmed": None}


def _input_validator(number: int):
    async def validate(self, value, dispatcher, tracker, domain):
        return await self.answer(number, value, dispatcher, tracker)

    validate.__name__ = f"validate_procedure_input_{number}"
    return validate


for _number in range(1, MAX_INPUTS + 1):
    setattr(ValidateProcedureForm, f"validate_procedure_input_{_number}", _input_validator(_number))


class ActionAskProcedureInput(HelpdeskAction):
    """The question for one input, as the procedure words it, with a cancel button (and its choices)."""

    @property
    @abstractmethod
    def number(self) -> int:
        """The input (1-based) this action asks for (a class attribute in the subclasses below)."""

    def name(self) -> str:
        return f"action_ask_procedure_input_{self.number}"

    async def act(self, dispatcher, tracker, domain):
        inputs = definition(tracker).get("inputs") or []
        if self.number > len(inputs):
            return []
        question = inputs[self.number - 1]
        buttons = [
            {"title": c["label"], "payload": '/inform{"choice": "' + c["value"] + '"}'} for c in question["choices"]
        ]
        buttons += render("procedure_cancel_button", language(tracker))["buttons"]
        dispatcher.utter_message(text=question["prompt"], buttons=buttons)
        return []


for _number in range(1, MAX_INPUTS + 1):
    globals()[f"ActionAskProcedureInput{_number}"] = type(
        f"ActionAskProcedureInput{_number}", (ActionAskProcedureInput,), {"number": _number}
    )


class ActionAskProcedureConfirmed(HelpdeskAction):
    """The answers for the customer to confirm, change or cancel before anything is done."""

    def name(self) -> str:
        return "action_ask_procedure_confirmed"

    async def act(self, dispatcher, tracker, domain):
        lang, procedure = language(tracker), definition(tracker)
        inputs = procedure.get("inputs") or []
        slots = input_slots(procedure)
        answers = "\n".join(f"- {i['label']}: {tracker.get_slot(s) or ''}" for i, s in zip(inputs, slots, strict=True))
        message = render("procedure_confirm", lang, title=procedure.get("title", ""), answers=answers)
        changes = [
            {
                "title": render("procedure_change_button", lang, label=i["label"])["text"],
                "payload": '/inform{"choice": "' + FIX + i["name"] + '"}',
            }
            for i in inputs
        ]
        # "Yes, go ahead" first, then one button per answer to change, then "Cancel".
        buttons = message["buttons"][:1] + changes + message["buttons"][1:]
        dispatcher.utter_message(text=message["text"], buttons=buttons)
        return []


class ActionRunProcedure(HelpdeskAction):
    """The form is done: run the procedure with the confirmed answers (or say why not) and answer."""

    def name(self) -> str:
        return "action_run_procedure"

    async def act(self, dispatcher, tracker, domain):
        lang, procedure = language(tracker), definition(tracker)
        state = tracker.get_slot("procedure_confirmed")
        if state != CONFIRMED or not procedure.get("id"):
            say(dispatcher, "procedure_cancelled" if state == CANCELLED else "procedure_unavailable", lang)
            return self.person(dispatcher, lang, "customer_request" if state == CANCELLED else "unresolved")
        slots = input_slots(procedure)
        values = {i["name"]: tracker.get_slot(slot) for i, slot in zip(procedure["inputs"], slots, strict=True)}
        number = int(tracker.get_slot("procedure_runs") or 0) + 1
        events: list[EventType] = [SlotSet("procedure_runs", number)]
        try:
            result = await backend().run_procedure(
                procedure["id"], tracker.sender_id, values, run_key(tracker.sender_id, procedure["id"], number)
            )
        except SearchUnavailable as exc:
            log.warning("procedure %s not run: %s", procedure["id"], exc)
            say(dispatcher, "procedure_unavailable", lang)
            return events + self.person(dispatcher, lang, "unresolved")
        outcome = result["outcome"]
        events.append(SlotSet("procedure_report", result["ticket"]))
        if result.get("text"):
            dispatcher.utter_message(text=result["text"])
        if outcome == "done":
            say(dispatcher, "procedure_done", lang)
            return events + cleared() + [SlotSet("flow", None)]
        if outcome == "identity_failed" and result.get("ask_again"):
            say(dispatcher, "procedure_identity_again", lang)
            again = {INPUT_SLOTS[[i["name"] for i in procedure["inputs"]].index(n)] for n in result["ask_again"]}
            return (
                events
                + [SlotSet(slot, None) for slot in again]
                + [
                    SlotSet("procedure_confirmed", None),
                    SlotSet("flow", "procedure"),
                ]
            )
        if outcome in ("identity_failed", "locked"):
            say(dispatcher, "procedure_locked", lang)
        elif outcome == "limit":
            say(dispatcher, "procedure_limit", lang)
        return events + self.person(dispatcher, lang, "unresolved")

    @staticmethod
    def person(dispatcher: CollectingDispatcher, lang: str, reason: str) -> list[EventType]:
        say(dispatcher, "offer_human", lang)
        return cleared() + [SlotSet("flow", "offer_human"), SlotSet("handoff_reason", reason)]


def ticket_run(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last run as the handoff carries it for the workspace's panel (``procedure_run``): what the
    desk reported of it, which holds the answers only as the procedure lets a ticket carry them."""
    if not report or not report.get("procedure_id") or not report.get("outcome"):
        return None
    keys = ("procedure_id", "title", "outcome", "inputs", "status_code", "answer")
    return {key: report[key] for key in keys if report.get(key) is not None}


def report_text(report: dict[str, Any] | None, lang: str | None) -> str:
    """What the ticket's "already tried" says of the last procedure run: which, how it ended, the
    answers the desk lets a ticket carry (masked where the procedure says so); "" without a run."""
    if not report:
        return ""
    answers = ", ".join(f"{i['label']}: {i['value']}" for i in report.get("inputs") or [])
    outcome = render(f"procedure_outcome_{report.get('outcome')}", lang)["text"]
    return render("tried_procedure", lang, title=report.get("title", ""), outcome=outcome, answers=answers)["text"]
