"""How a transcript message looks in the agent's workspace: what the customer saw and clicked.

Bot and agent messages are markdown (bold, lists, links to articles); they are
rendered and then cleaned by nh3 with a small allow-list (no images, so no
remote content loads in the agent's browser; links open outside with
``noopener``). A customer's own text is never markup: it is shown escaped.
A button click that reached the store as its payload (``/deny``,
``/inform{"choice": "high"}``) is shown as the title of the button the customer
clicked: the bot sends each bot message with the buttons it offered, and the
click takes the title of the button with that payload in the last bot message
before it that offered buttons. A ticket from before the bot sent its buttons
gets a readable label instead (``Yes`` / ``No`` for the bot's yes-no buttons,
``high`` for ``/inform{"choice": "high"}``), never the raw intent syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import markdown
import nh3
from markupsafe import Markup, escape

TAGS = {"a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul", "del", "s"}
ATTRIBUTES = {"a": {"href", "title"}}
PAYLOAD_RE = re.compile(r"^/([A-Za-z_][\w-]{0,63})(\{.{0,500}\})?$", re.DOTALL)
# The bot's buttons without a value (bot/actions/texts.yml), for payloads stored without their buttons.
INTENT_LABELS = {
    "en": {"affirm": "Yes", "deny": "No", "request_human": "Talk to a person"},
    "de": {"affirm": "Ja", "deny": "Nein", "request_human": "Mit einer Person sprechen"},
}


def button_label(text: str, lang: str | None = None) -> str | None:
    """A readable label of a button payload without the buttons it came from:
    '/inform{"choice": "high"}' -> 'high', '/deny' -> 'No' ('Nein' in German), '/other_intent' ->
    'other intent'; None when the text is not a button payload."""
    match = PAYLOAD_RE.match(text.strip())
    if match is None:
        return None
    intent, entities = match.group(1), match.group(2)
    values: list[str] = []
    if entities:
        try:
            data = json.loads(entities)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        values = [str(v) for v in data.values() if isinstance(v, (str, int, float))]
    if values:
        return ", ".join(v.split(":", 1)[-1].replace("_", " ") for v in values)  # "topic:other" -> "other"
    known = INTENT_LABELS.get(lang or "en", INTENT_LABELS["en"])
    return known.get(intent) or intent.replace("_", " ")


def _same_payload(a: str, b: str) -> bool:
    """Payloads are equal, or the same intent with the same entities however the JSON is spaced."""
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    ma, mb = PAYLOAD_RE.match(a), PAYLOAD_RE.match(b)
    if ma is None or mb is None or ma.group(1) != mb.group(1):
        return False
    try:
        return json.loads(ma.group(2) or "{}") == json.loads(mb.group(2) or "{}")
    except ValueError:
        return False


def button_title(text: str, offered: Iterable[Mapping[str, Any]] | None) -> str | None:
    """The title of the offered button the customer's message is a click on, else None: the
    message is the button's payload, or its title (the bot sends a click as the title)."""
    for button in offered or ():
        payload, title = button.get("payload"), button.get("title")
        if not (isinstance(payload, str) and isinstance(title, str) and title.strip()):
            continue
        if text.strip() == title.strip() or _same_payload(text, payload):
            return title
    return None


def render_markdown(text: str) -> Markup:
    # Markdown, not HTML: "<now>" in an agent's message is text to show, not a tag for nh3
    # to drop, so "<" and "&" are escaped before rendering (">" stays: blockquotes).
    source = text.replace("&", "&amp;").replace("<", "&lt;")
    # nl2br: a single line break stays one, as on the customer's chat page (chat.js).
    html = markdown.markdown(source, extensions=["sane_lists", "nl2br"], output_format="html")
    return Markup(
        nh3.clean(
            html,
            tags=TAGS,
            attributes=ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )


def render_message(
    sender: str, text: str, offered: Iterable[Mapping[str, Any]] | None = None, lang: str | None = None
) -> Markup:
    """Safe HTML of one transcript message. ``offered``: the buttons of the bot message the
    customer answered (a click shows as the title of its button); ``lang``: the ticket's."""
    if sender == "customer":
        label = button_title(text, offered) or button_label(text, lang)
        if label is not None:
            return Markup('<span class="clicked" title="button the customer clicked">{}</span>').format(label)
        return Markup('<span class="plain">{}</span>').format(escape(text))
    return render_markdown(text)


def render_transcript(messages: Iterable[Mapping[str, Any]], lang: str | None = None) -> list[Markup]:
    """Safe HTML of each message of a transcript, in order: a customer's click shows as the title
    of the button with its payload in the last bot message before it that offered buttons."""
    offered: list[Mapping[str, Any]] = []
    rendered = []
    for message in messages:
        if message["sender"] == "bot" and message.get("buttons"):
            offered = list(message["buttons"])
        rendered.append(render_message(message["sender"], message["text"], offered, lang))
    return rendered
