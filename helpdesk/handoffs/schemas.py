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
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.handoffs.routing import EMAIL_RE

# E.164-ish: optional +, digits with the usual separators, 6 to 15 digits in all.
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,24}$")
KEY_RE = re.compile(r"^[\x21-\x7e]+$")


def storable_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, AfterValidator(storable_text)]
# A customer's message, kept whole in a ticket (description, transcript, live chat): the most
# the chat channels accept. HELPDESK_BOT_MAX_MESSAGE_CHARS may lower their limit, not raise it.
MAX_MESSAGE_CHARS = 8000


def bounded(max_length: int, min_length: int = 0) -> object:
    return Annotated[Text, Field(min_length=min_length, max_length=max_length)]


class Strict(BaseModel):
    # Unknown fields are refused: a misspelt field in the bot must fail its tests loudly,
    # not silently drop what the customer said.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contact(Strict):
    name: bounded(200) | None = None  # type: ignore[valid-type]
    email: bounded(254) | None = None  # type: ignore[valid-type]
    phone: bounded(32) | None = None  # type: ignore[valid-type]

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
    def reachable(self) -> "Contact":
        if not self.email and not self.phone:
            raise ValueError("give at least one of email or phone, so the agent can reach the customer")
        return self


class Summary(Strict):
    # One of the routing file's categories (checked against it by the API, which knows the file).
    category: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    product: bounded(200) | None = None  # type: ignore[valid-type]
    description: Annotated[bounded(MAX_MESSAGE_CHARS, 1), AfterValidator(non_blank)]  # type: ignore[valid-type]
    tried: bounded(MAX_MESSAGE_CHARS) = ""  # type: ignore[valid-type]
    urgency: Literal["low", "normal", "high", "critical"]
    impact: bounded(2000) | None = None  # type: ignore[valid-type]
    contact: Contact


class Message(Strict):
    sender: Literal["customer", "bot", "agent"]
    text: bounded(MAX_MESSAGE_CHARS)  # type: ignore[valid-type]
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class ArticleShown(Strict):
    article_id: bounded(200, 1)  # type: ignore[valid-type]
    title: bounded(300) = ""  # type: ignore[valid-type]
    score: float | None = Field(default=None, allow_inf_nan=False)
    feedback: Literal["solved", "not_solved", "none"] = "none"


class HandoffIn(Strict):
    idempotency_key: Annotated[str, Field(min_length=8, max_length=200, pattern=KEY_RE.pattern)]
    conversation_id: bounded(200, 1)  # type: ignore[valid-type]
    channel: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    language: Literal["de", "en"]
    reason: Literal["customer_request", "unresolved", "frustration", "no_answer", "search_unavailable"]
    summary: Summary
    transcript: list[Message] = Field(default_factory=list, max_length=500)
    articles_shown: list[ArticleShown] = Field(default_factory=list, max_length=50)
    # The known incident the bot told the customer of (helpdesk/incidents): the ticket is linked to it.
    incident_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    def payload_hash(self) -> str:
        """Hash of the canonical payload: the same handoff sent twice hashes the same."""
        unset = {"incident_id"} if self.incident_id is None else None  # as before incidents existed
        canonical = json.dumps(self.model_dump(mode="json", exclude=unset), sort_keys=True,
                               ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class NoteIn(Strict):
    text: Annotated[bounded(4000, 1), AfterValidator(non_blank)]  # type: ignore[valid-type]


class ResolveIn(Strict):
    note: Annotated[bounded(4000, 1), AfterValidator(non_blank)]  # type: ignore[valid-type]


class EscalateIn(Strict):
    reason: Annotated[bounded(4000, 1), AfterValidator(non_blank)]  # type: ignore[valid-type]
    team: str | None = None  # default: the escalation team of the routing file


class MessagesIn(Strict):
    messages: list[Message] = Field(min_length=1, max_length=500)


class TranscriptAppendIn(MessagesIn):
    """What the customer wrote to the bot after the handoff, for the ticket's transcript."""
    conversation_id: bounded(200, 1)  # type: ignore[valid-type]
    messages: list[Message] = Field(min_length=1, max_length=50)
