"""A conversation driver for action tests: a tracker as Rasa would send it, turn by turn.

``Conversation.run(action, text, intent)`` builds a ``rasa_sdk.Tracker`` from the
slots and events so far plus the new user message, runs the real action with a
``CollectingDispatcher``, and applies the slot events it returns, so the next
action sees what Rasa would show it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN: dict[str, Any] = yaml.safe_load((Path(__file__).resolve().parents[1] / "domain.yml").read_text("utf-8"))


def initial_slots() -> dict[str, Any]:
    return {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}


class Conversation:
    def __init__(self, sender: str = "test-conversation", channel: str = "rest", slots: dict[str, Any] | None = None):
        self.sender = sender
        self.channel = channel
        self.slots = {**initial_slots(), **(slots or {})}
        self.events: list[dict[str, Any]] = []
        self.latest: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []  # of the last action
        self.returned: list[dict[str, Any]] = []  # events of the last action

    def user(
        self,
        text: str,
        intent: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Conversation:
        self.latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
            "metadata": metadata or {},
        }
        self.events.append(
            {
                "event": "user",
                "text": text,
                "timestamp": time.time(),
                "parse_data": self.latest,
                "input_channel": self.channel,
                "metadata": metadata or {},
            }
        )
        return self

    def tracker(self) -> Tracker:
        return Tracker(self.sender, dict(self.slots), self.latest, list(self.events), False, None, {}, "action_listen")

    async def run(self, action: Action) -> list[dict[str, Any]]:
        dispatcher = CollectingDispatcher()
        self.returned = await action.run(dispatcher, self.tracker(), DOMAIN)
        self.messages = dispatcher.messages
        for event in self.returned:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        self.events.extend(self.returned)
        for message in self.messages:
            self.events.append(
                {
                    "event": "bot",
                    "text": message.get("text"),
                    "timestamp": time.time(),
                    # as Rasa's BotUttered: a text's buttons, a card as ``custom``
                    "data": {"buttons": message.get("buttons"), "custom": message.get("custom")},
                }
            )
        return self.returned

    async def turn(
        self, action: Action, text: str, intent: str | None = None, entities: list[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        return await self.user(text, intent, entities).run(action)

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The answer cards the last action sent (custom payloads)."""
        return [
            m["custom"]["data"]
            for m in self.messages
            if isinstance(m.get("custom"), dict) and isinstance(m["custom"].get("data"), dict)
        ]

    @property
    def text(self) -> str:
        """All text the last action sent, joined (a card by its plain markdown)."""
        return "\n".join([m.get("text") or "" for m in self.messages] + [c.get("text", "") for c in self.cards])

    @property
    def payloads(self) -> list[str]:
        return [b["payload"] for m in self.messages for b in m.get("buttons") or []] + [
            b["payload"] for c in self.cards for b in c.get("buttons") or []
        ]


def choice(value: str) -> list[dict[str, Any]]:
    """The entities of a button payload /inform{"choice": value}."""
    return [{"entity": "choice", "value": value}]


def cards(messages):
    """The answer cards of a turn (custom payloads ``{"data": {...}}``)."""
    return [
        m["custom"]["data"]
        for m in messages
        if isinstance(m.get("custom"), dict) and isinstance(m["custom"].get("data"), dict)
    ]


def texts(messages):
    """Every text of a turn; an answer card by its plain markdown."""
    return "\n".join([m.get("text") or "" for m in messages] + [c.get("text", "") for c in cards(messages)])


def buttons(messages):
    """Every button payload of a turn, the cards' included."""
    return [b["payload"] for m in messages for b in m.get("buttons") or []] + [
        b["payload"] for c in cards(messages) for b in c.get("buttons") or []
    ]


TICKET = re.compile(r"HD-[A-Z0-9]{4,}")


def ticket_in(text: str) -> str:
    """The ticket number a bot text names (the test fails when there is none)."""
    match = TICKET.search(text)
    assert match, f"no ticket number in {text!r}"
    return match.group(0)
