"""The texts the actions send, in the conversation's language (bot/actions/texts.yml).

Rasa renders ``utter_message(response=...)`` with the slots as they were before
the action ran, so a language detected in the same turn would come too late;
the actions therefore render their texts themselves: the entry for the
language, else English, with ``{name}`` placeholders filled in.

The deployment's values (``{company}``, ``{assistant}``, ``{hotline}``,
``{hours}``, ``{support_email}``, ``{scope_sentence}``) are filled in from the bot
profile (actions/profile.py) without the caller passing them; an entry whose text needs
one the profile does not have (the web service never answered, a deployment
without a hotline) is sent in its ``fallback`` variant. ``buttons: topics``
makes one button per handoff topic of the profile.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import profile

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "en"
TEXTS_FILE = Path(__file__).with_name("texts.yml")

_PLACEHOLDER = re.compile(r"{([a-z_]+)}")


@lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, Any]]:
    with TEXTS_FILE.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def fill(text: str, values: dict[str, Any]) -> str:
    """``{name}`` replaced by ``values[name]``; an unknown name stays as it is. The values
    are not interpreted again, so a customer's "{x}" in a value is harmless."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def _variant(entry: dict[str, Any], lang: str | None) -> dict[str, Any]:
    chosen = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return {"text": chosen} if isinstance(chosen, str) else chosen


def _topic_buttons(lang: str | None) -> list[dict[str, str]]:
    return [{"title": t["title"], "payload": "/inform" + json.dumps({"choice": t["id"]})} for t in profile.topics(lang)]


def render(name: str, lang: str | None, **values: Any) -> dict[str, Any]:
    """{"text", "buttons"} of the text ``name`` in ``lang`` (English when it has none)."""
    entry = texts()[name]
    values = {**profile.values(lang), **values}
    chosen = _variant(entry, lang)
    needed = set(_PLACEHOLDER.findall(chosen["text"])) & set(profile.VALUE_KEYS)
    if "fallback" in entry and any(not values.get(key) for key in needed):
        chosen = _variant(entry["fallback"], lang)
    buttons = chosen.get("buttons") or []
    if buttons == "topics":
        buttons = _topic_buttons(lang)
    return {
        "text": fill(chosen["text"], values),
        "buttons": [{"title": b["title"], "payload": b["payload"]} for b in buttons],
    }


def say(dispatcher: CollectingDispatcher, name: str, lang: str | None, **values: Any) -> None:
    message = render(name, lang, **values)
    if message["buttons"]:
        dispatcher.utter_message(text=message["text"], buttons=message["buttons"])
    else:
        dispatcher.utter_message(text=message["text"])


def normalise_language(value: Any) -> str | None:
    return value if value in LANGUAGES else None
