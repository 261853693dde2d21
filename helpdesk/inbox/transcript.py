"""How a transcript message looks in the agent's workspace: what the customer saw and clicked.

Bot and agent messages are markdown (bold, lists, links to articles); they are
rendered and then cleaned by nh3 with a small allow-list (no images, so no
remote content loads in the agent's browser; links open outside with
``noopener``). A customer's own text is never markup: it is shown escaped.
A button click that reached the store as its payload (``/deny``,
``/inform{"choice": "high"}``; tickets from before the bot sent button titles)
is shown as a readable button label instead of the raw intent syntax.
"""

from __future__ import annotations

import json
import re

import markdown
import nh3
from markupsafe import Markup, escape

TAGS = {"a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul", "del", "s"}
ATTRIBUTES = {"a": {"href", "title"}}
PAYLOAD_RE = re.compile(r"^/([A-Za-z_][\w-]{0,63})(\{.{0,500}\})?$", re.DOTALL)


def button_label(text: str) -> str | None:
    """'/inform{"choice": "high"}' -> 'inform: high'; None when the text is not a button payload."""
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
    label = intent.replace("_", " ")
    return f"{label}: {', '.join(values)}" if values else label


def render_markdown(text: str) -> Markup:
    # Markdown, not HTML: "<now>" in an agent's message is text to show, not a tag for nh3
    # to drop, so "<" and "&" are escaped before rendering (">" stays: blockquotes).
    source = text.replace("&", "&amp;").replace("<", "&lt;")
    html = markdown.markdown(source, extensions=["sane_lists"], output_format="html")
    return Markup(
        nh3.clean(
            html,
            tags=TAGS,
            attributes=ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )


def render_message(sender: str, text: str) -> Markup:
    """Safe HTML of one transcript message."""
    if sender == "customer":
        label = button_label(text)
        if label is not None:
            return Markup('<span class="clicked" title="button the customer clicked">{}</span>').format(label)
        return Markup('<span class="plain">{}</span>').format(escape(text))
    return render_markdown(text)
