"""Pydantic models of the handoff API: the contract with the bot's action server.

Everything a handoff carries is checked here, before the store sees it, so a
bad request is a clear 422 that names the field and nothing is half-written.
Texts are bounded (a 10 MB "description" is refused, not stored) and must be
storable as they are: no NUL characters, no lone UTF-16 surrogates (both are
valid JSON but PostgreSQL cannot store them).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.handoffs.routing import EMAIL_RE
from helpdesk.i18n import msg

# E.164-ish: optional +, digits with the usual separators, 6 to 15 digits in all.
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,24}$")
KEY_RE = re.compile(r"^[\x21-\x7e]+$")


def storable_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError(msg("text must not contain NUL characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(msg("text must be valid Unicode (no lone surrogates)")) from None
    return value


def non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(msg("must not be blank"))
    return value


Text = Annotated[str, AfterValidator(storable_text)]
# A customer's message, kept whole in a ticket (description, transcript, live chat): the most
# the chat channels accept. HELPDESK_BOT_MAX_MESSAGE_CHARS may lower their limit, not raise it.
MAX_MESSAGE_CHARS = 8000


class Strict(BaseModel):
    # Unknown fields are refused: a misspelt field in the bot must fail its tests loudly,
    # not silently drop what the customer said.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contact(Strict):
    name: Annotated[Text, Field(max_length=200)] | None = None
    email: Annotated[Text, Field(max_length=254)] | None = None
    phone: Annotated[Text, Field(max_length=32)] | None = None

    @field_validator("email")
    @classmethod
    def valid_email(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not EMAIL_RE.match(value):
            raise ValueError("not a valid e-mail address")
        return value

    @field_validator("phone")
    @classmethod
    def valid_phone(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        digits = re.sub(r"\D", "", value)
        if not PHONE_RE.match(value) or not 6 <= len(digits) <= 15:
            raise ValueError("not a valid phone number (E.164, e.g. +49 30 1234567)")
        return value

    @model_validator(mode="after")
    def reachable(self) -> Contact:
        if not self.email and not self.phone:
            raise ValueError("give at least one of email or phone, so the agent can reach the customer")
        return self


class Summary(Strict):
    # One of the routing file's categories (checked against it by the API, which knows the file).
    category: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    product: Annotated[Text, Field(max_length=200)] | None = None
    description: Annotated[Text, Field(min_length=1, max_length=MAX_MESSAGE_CHARS), AfterValidator(non_blank)]
    tried: Annotated[Text, Field(max_length=MAX_MESSAGE_CHARS)] = ""
    urgency: Literal["low", "normal", "high", "critical"]
    impact: Annotated[Text, Field(max_length=2000)] | None = None
    contact: Contact


class Button(Strict):
    """A button the bot offered with its message: what the customer saw (``title``) and what a
    click sends (``payload``, e.g. ``/deny`` or ``/inform{"choice": "high"}``)."""

    title: Annotated[Text, Field(max_length=200)]
    payload: Annotated[Text, Field(max_length=1000)]


class Message(Strict):
    sender: Literal["customer", "bot", "agent"]
    text: Annotated[Text, Field(max_length=MAX_MESSAGE_CHARS)]
    timestamp: datetime
    # A bot message's buttons: the workspace shows a later click by its title, not its payload.
    buttons: list[Button] | None = Field(default=None, max_length=20)

    @field_validator("timestamp")
    @classmethod
    def utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ArticleShown(Strict):
    article_id: Annotated[Text, Field(min_length=1, max_length=200)]
    title: Annotated[Text, Field(max_length=300)] = ""
    score: float | None = Field(default=None, allow_inf_nan=False)
    feedback: Literal["solved", "not_solved", "none"] = "none"


class ProcedureAnswer(Strict):
    label: Annotated[Text, Field(min_length=1, max_length=80)]
    value: Annotated[Text, Field(max_length=200)]


class ProcedureRunIn(Strict):
    """The last procedure the bot ran in the conversation (helpdesk/procedures): what it was, how it ended,
    the answers as the procedure lets a ticket carry them (masked or left out where it says so) and what
    the company's system answered: its HTTP status and what the customer was told."""

    procedure_id: Annotated[Text, Field(min_length=1, max_length=100)]
    title: Annotated[Text, Field(max_length=200)] = ""
    outcome: Literal["done", "handoff", "identity_failed", "failed", "locked", "limit"]
    inputs: list[ProcedureAnswer] = Field(default_factory=list, max_length=20)
    status_code: int | None = Field(default=None, ge=100, le=599)
    answer: Annotated[Text, Field(max_length=2000)] | None = None


class HandoffIn(Strict):
    idempotency_key: Annotated[str, Field(min_length=8, max_length=200, pattern=KEY_RE.pattern)]
    conversation_id: Annotated[Text, Field(min_length=1, max_length=200)]
    channel: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    language: Literal["de", "en"]
    reason: Literal["customer_request", "unresolved", "frustration", "no_answer", "search_unavailable"]
    summary: Summary
    transcript: list[Message] = Field(default_factory=list, max_length=500)
    articles_shown: list[ArticleShown] = Field(default_factory=list, max_length=50)
    # The known incident the bot told the customer of (helpdesk/incidents): the ticket is linked to it.
    incident_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    # The procedure the bot ran before the handoff: the workspace shows it as a panel of its own.
    procedure_run: ProcedureRunIn | None = None

    def payload_hash(self) -> str:
        """Hash of the canonical payload: the same handoff sent twice hashes the same."""
        # Fields left out hash as before they existed: a replay from an older bot still matches.
        unset: dict[str, Any] = {"incident_id": True} if self.incident_id is None else {}
        if self.procedure_run is None:
            unset["procedure_run"] = True
        no_buttons = {i: {"buttons"} for i, m in enumerate(self.transcript) if m.buttons is None}
        if no_buttons:
            unset["transcript"] = no_buttons
        canonical = json.dumps(self.model_dump(mode="json", exclude=unset or None), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class NoteIn(Strict):
    text: Annotated[Text, Field(min_length=1, max_length=4000), AfterValidator(non_blank)]


class ResolveIn(Strict):
    note: Annotated[Text, Field(min_length=1, max_length=4000), AfterValidator(non_blank)]


class ReasonIn(Strict):
    """Why a ticket moves to another team (escalation, reassignment)."""

    reason: Annotated[Text, Field(min_length=1, max_length=4000), AfterValidator(non_blank)]


class EscalateIn(ReasonIn):
    team: str | None = None  # the escalation team of the routing file; no other


class ReassignIn(ReasonIn):
    team: Annotated[str, Field(min_length=1, max_length=64)]


class MessagesIn(Strict):
    messages: list[Message] = Field(min_length=1, max_length=500)


class TranscriptAppendIn(MessagesIn):
    """What the customer wrote to the bot after the handoff, for the ticket's transcript."""

    conversation_id: Annotated[Text, Field(min_length=1, max_length=200)]
    messages: list[Message] = Field(min_length=1, max_length=50)
