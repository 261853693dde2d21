"""What a valid answer to a procedure's question is, and how a ticket shows it.

The bot sends each answer here before it asks the next question (``POST /procedures/{id}/inputs``)
and the run checks all of them again, so the rules live in one place: ``check`` returns the answer
as the system is sent it (a customer number in capitals, a postal code without spaces) or that it
is not valid. ``for_ticket`` is what a handoff after the procedure carries of the answers: each
input as its ``ticket`` setting says (shown, masked to its last two characters, or omitted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from helpdesk.handoffs.routing import EMAIL_RE
from search_api.kb.procedures import Input

MAX_ANSWER_CHARS = 200
POSTAL_CODE = r"\d{5}"
CUSTOMER_NUMBER = r"[A-Za-z0-9][A-Za-z0-9-]{2,29}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Checked:
    valid: bool
    value: str | None = None  # the answer as it is sent to the system


def check(spec: Input, answer: str) -> Checked:
    """Whether ``answer`` is a valid answer to ``spec``, and its normal form."""
    text = " ".join(_CONTROL.sub(" ", answer or "").split())
    if not text or len(text) > MAX_ANSWER_CHARS:
        return Checked(False)
    kind = spec.kind
    if kind == "choice":
        lowered = text.casefold()
        found = next((c.value for c in spec.choices if lowered in (c.value.casefold(), c.label.casefold())), None)
        return Checked(found is not None, found)
    if kind == "email":
        return Checked(bool(EMAIL_RE.match(text)), text)
    if kind in ("postal_code", "customer_number"):
        text = text.replace(" ", "")
        if kind == "customer_number":
            text = text.upper()
    pattern = spec.pattern or {"postal_code": POSTAL_CODE, "customer_number": CUSTOMER_NUMBER}.get(kind)
    if pattern is not None and re.fullmatch(pattern, text) is None:
        return Checked(False)
    return Checked(True, text)


def masked(value: str) -> str:
    """``•••34``: the last two characters, enough for an agent to match what the customer says."""
    return "•••" + value[-2:] if len(value) > 4 else "•••"


def for_ticket(inputs: list[Input], values: Mapping[str, str]) -> list[dict[str, str]]:
    """[{label, value}] of the answers a ticket may carry, in the procedure's order."""
    carried = []
    for spec in inputs:
        value = values.get(spec.name)
        if value is None or spec.ticket == "omitted":
            continue
        carried.append({"label": spec.label, "value": masked(value) if spec.ticket == "masked" else value})
    return carried
