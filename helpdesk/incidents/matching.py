"""Which active incidents concern what a customer just wrote: the decision behind the bot's
"this outage is known" answer, as plain functions.

An incident concerns a message when the search's top hits are of its category (and, for an
incident of one product, of that product or of no product), or when the message's own words
name its category (the words the bot's topic buttons use: ``helpdesk.profile.category_words``).
Its area decides the rest: everywhere, inside it by the customer's postal code, or not known
yet (the bot asks for the postal code once).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from helpdesk.incidents.store import covers

POSTAL_CODE_RE = re.compile(r"^[0-9]{4,5}$")
WORD_RE = re.compile(r"\w+", re.UNICODE)


def concerns(incident: dict[str, Any], categories: set[str], products: set[str], named: set[str]) -> bool:
    """Whether the hits' categories and products, or the categories the words name, meet it."""
    if incident["category"] in named:
        return True
    if incident["category"] not in categories:
        return False
    return incident["product"] is None or not products or incident["product"] in products


def named_categories(text: str, words: dict[str, list[str]]) -> set[str]:
    """The categories a message names in so many words ("internet", "rechnung", "fiber")."""
    said = {w.lower() for w in WORD_RE.findall(text or "")}
    return {category for category, names in words.items() if said & set(names)}


def in_area(incident: dict[str, Any], postal_code: str | None) -> bool | None:
    """True or False for an area-bound incident and a postal code; None when it is not known."""
    if incident["everywhere"]:
        return True
    if not postal_code:
        return None
    return covers(incident["postal_prefixes"], postal_code)


def relevant(
    incidents: Iterable[dict[str, Any]],
    categories: Iterable[str],
    products: Iterable[str],
    named: set[str],
    postal_code: str | None,
) -> list[dict[str, Any]]:
    """The active incidents that concern the message, each with ``in_area``; those whose area the
    postal code lies outside are left out (that customer gets the normal answer)."""
    categories, products = set(categories), {p for p in products if p}
    found = []
    for incident in incidents:
        if not incident["active"] or not concerns(incident, categories, products, named):
            continue
        inside = in_area(incident, postal_code)
        if inside is not False:
            found.append({**incident, "in_area": inside})
    return found
