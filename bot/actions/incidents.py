"""What a known incident means for the conversation, as plain functions (no Rasa, no HTTP).

The desk decides which active incidents concern a message (GET /api/incidents/active,
helpdesk/incidents/matching.py); this module decides what the bot does with its answer: tell the
customer of the outage (once per incident and conversation), ask for the postal code when every
incident found is bound to an area the desk cannot place the customer in yet (once per
conversation), or go on with the normal answer. It also finds a postal code in what
the customer typed (an e-mail address: ``handoff.find_contact``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

TOP_HITS = 3  # the hits of a search whose categories and products count
POSTAL_CODE = re.compile(r"(?<!\d)(\d{5}|\d{4})(?!\d)")
# A postal code in a message that was not asked for one: named as such ("PLZ 10115", "postal
# code 10409"), or five digits before a place name ("10178 Berlin"). A bare number may be a
# year, a speed or a customer number, and is not taken for one.
MENTIONED_POSTAL_CODE = re.compile(
    r"(?:\b(?:plz|postleitzahl|postal ?code|post ?code|zip(?: ?code)?)\b"
    r"(?:\s+(?:is|ist|lautet))?[\s:.]*(\d{4,5})(?!\d))"
    r"|(?:(?<![\d.,])(\d{5})\s+(?!(?:euro|eur|mbit|kbit|gbit|byte)\b)(?=(?-i:[A-ZÄÖÜ][a-zäöüß]{2,})))",
    re.I,
)
TELL, ASK_POSTAL_CODE = "tell", "ask_postal_code"


@dataclass(frozen=True)
class Step:
    kind: str  # TELL | ASK_POSTAL_CODE
    incident: dict[str, Any]


def hit_topics(result: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The categories and products of a search's top hits, each once, best first."""
    hits = (result or {}).get("hits") or []
    categories = list(dict.fromkeys(h["category"] for h in hits[:TOP_HITS] if h.get("category")))
    products = list(dict.fromkeys(h["product"] for h in hits[:TOP_HITS] if h.get("product")))
    return categories, products


def decide(incidents: Iterable[dict[str, Any]], told: Iterable[int], asked_postal_code: bool) -> Step | None:
    """Tell of the first incident the customer is in (and was not told of); else ask for the
    postal code once when an area-bound incident might concern them; else nothing."""
    fresh = [i for i in incidents if i.get("id") not in set(told)]
    inside = [i for i in fresh if i.get("in_area") is True]
    if inside:
        return Step(TELL, inside[0])
    unknown = [i for i in fresh if i.get("in_area") is None]
    if unknown and not asked_postal_code:
        return Step(ASK_POSTAL_CODE, unknown[0])
    return None


def postal_code_in(text: str) -> str | None:
    """The first four- or five-digit number of a message ("10115", "PLZ 10115 Berlin")."""
    found = POSTAL_CODE.search(text or "")
    return found.group(1) if found else None


def postal_code_mentioned(text: str) -> str | None:
    """A postal code the customer gave unasked in their message (``MENTIONED_POSTAL_CODE``)."""
    found = MENTIONED_POSTAL_CODE.search(text or "")
    return (found.group(1) or found.group(2)) if found else None


def remembered(incident: dict[str, Any]) -> dict[str, Any]:
    """What the conversation keeps of an incident it told of (the slot ``incident``)."""
    return {key: incident.get(key) for key in ("id", "title", "category", "product")}


def notice_values(incident: dict[str, Any]) -> dict[str, str]:
    """The placeholders of the texts ``incident_known`` and ``incident_expected``."""
    affected = incident.get("topic") or incident.get("category") or ""
    if incident.get("product"):
        affected = f"{affected} ({incident['product']})"
    return {
        "title": incident.get("title") or "",
        "affected": affected,
        "since": incident.get("since") or "",
        "expected": incident.get("expected") or "",
        "message": (incident.get("message") or "").strip(),
    }
