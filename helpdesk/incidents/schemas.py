"""Pydantic contract of the incidents API: what agents send and what every reader gets back.

Declaring and updating are checked here (bounded and storable text; aware datetimes; postal-code
prefixes as digits) before the store sees anything; what needs the routing file or the knowledge
base (category, product, the deployment's languages) is checked by ``api.check_subject``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, model_validator

from helpdesk.handoffs.schemas import Strict, Text, non_blank
from helpdesk.i18n import msg
from helpdesk.incidents.models import INCIDENT_STATUSES

POSTAL_PREFIX_RE = re.compile(r"^[0-9]{1,5}$")
MAX_MESSAGE_CHARS = 2000
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
ActiveStatus = Literal["investigating", "identified", "monitoring"]
assert set(IncidentStatus.__args__) == set(INCIDENT_STATUSES)  # type: ignore[attr-defined]


def postal_prefix(value: str) -> str:
    value = value.strip()
    if not POSTAL_PREFIX_RE.match(value):
        raise ValueError(msg("a postal-code prefix is 1 to 5 digits, e.g. 10 or 10115"))
    return value


PostalPrefix = Annotated[str, AfterValidator(postal_prefix)]
Title = Annotated[Text, Field(min_length=1, max_length=200), AfterValidator(non_blank)]


class Messages(Strict):
    """The public message per language, as customers read it on the status page and in the chat."""

    de: Annotated[Text, Field(max_length=MAX_MESSAGE_CHARS)] | None = None
    en: Annotated[Text, Field(max_length=MAX_MESSAGE_CHARS)] | None = None


def ordered_times(started: datetime | None, expected: datetime | None) -> None:
    if started is not None and expected is not None and expected <= started:
        raise ValueError(msg("expected_resolution_at must be after started_at"))


class IncidentIn(Strict):
    """Declaring an incident. No postal_prefixes: everywhere. started_at defaults to now."""

    title: Title
    category: str = Field(min_length=1, max_length=64)
    product: Annotated[Text, Field(max_length=200)] | None = None
    postal_prefixes: list[PostalPrefix] = Field(default_factory=list, max_length=50)
    status: ActiveStatus = "investigating"
    started_at: AwareDatetime | None = None
    expected_resolution_at: AwareDatetime | None = None
    messages: Messages
    note: Annotated[Text, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def times_in_order(self) -> IncidentIn:
        ordered_times(self.started_at, self.expected_resolution_at)
        return self


class IncidentUpdateIn(Strict):
    """An update: only the fields sent change (``null`` clears product or expected resolution).

    Every update is a timeline entry; one that changes nothing needs a message or a note.
    """

    status: IncidentStatus | None = None
    title: Title | None = None
    category: str | None = Field(default=None, min_length=1, max_length=64)
    product: Annotated[Text, Field(max_length=200)] | None = None
    postal_prefixes: list[PostalPrefix] | None = Field(default=None, max_length=50)
    expected_resolution_at: AwareDatetime | None = None
    messages: Messages | None = None
    note: Annotated[Text, Field(max_length=2000)] | None = None
    # With status resolved: resolve the open linked tickets too, the public message as their note.
    resolve_tickets: bool = False

    @model_validator(mode="after")
    def says_something(self) -> IncidentUpdateIn:
        if not self.model_fields_set - {"note", "resolve_tickets"} and not self.note:
            raise ValueError(msg("an update needs a change, a public message or a note"))
        if self.resolve_tickets and self.status != "resolved":
            raise ValueError(msg("resolve_tickets needs status resolved"))
        return self


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    status: str
    messages: Messages
    changes: str | None = None
    note: str | None = None


class IncidentOut(BaseModel):
    id: int
    title: str
    category: str
    team: str
    product: str | None
    postal_prefixes: list[str]
    everywhere: bool
    status: str
    active: bool
    started_at: datetime
    expected_resolution_at: datetime | None
    resolved_at: datetime | None
    messages: Messages
    created_at: datetime
    updated_at: datetime
    created_by: str
    events: list[EventOut] = []


class TicketLinkIn(Strict):
    """Linking a ticket to an incident."""

    ticket_id: str = Field(min_length=1, max_length=32)


class TicketLinkOut(BaseModel):
    incident_id: int
    ticket_id: str
    linked: bool


class LinkedTicketOut(BaseModel):
    ticket_id: str
    status: str
    team: str


class LinkedTicketsOut(BaseModel):
    """The incident's linked tickets the caller may see; ``hidden``: how many of other teams."""

    tickets: list[LinkedTicketOut]
    hidden: int


class IncidentListOut(BaseModel):
    incidents: list[IncidentOut]
