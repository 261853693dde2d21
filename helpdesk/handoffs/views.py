"""What the agent and admin APIs answer: the shapes of a ticket, its history and deliveries, an agent.

The routes declare these as their ``response_model``: the OpenAPI page (/docs) shows each
response's fields, FastAPI checks every answer against them and writes datetimes as ISO-8601
UTC (``...Z``). The store hands out plain dicts of its rows (store.py ``_view``), which these
models validate as they are.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ContactView(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class SummaryView(BaseModel):
    category: str
    product: str | None
    description: str
    tried: str
    urgency: str
    impact: str | None
    contact: ContactView


class HandoffListItem(BaseModel):
    """A ticket as the list shows it."""

    ticket_id: str
    status: str
    team: str
    priority: str
    language: str
    channel: str
    reason: str
    created_at: datetime
    updated_at: datetime
    expected_minutes: int
    due_at: datetime
    sla_due_at: datetime
    told_due_at: datetime | None = Field(
        default=None, description="the response time last told to the customer after a move or a reopen"
    )
    on_call: bool
    assignee: str | None
    resolution: str | None
    incident_id: int | None
    summary: SummaryView


class HandoffList(BaseModel):
    handoffs: list[HandoffListItem]


class ButtonView(BaseModel):
    title: str
    payload: str


class TranscriptLine(BaseModel):
    sender: str
    text: str
    timestamp: datetime | None
    buttons: list[ButtonView] | None = Field(default=None, description="the buttons a bot message offered")


class ArticleShownView(BaseModel):
    article_id: str
    title: str
    score: float | None
    feedback: str


class ProcedureAnswerView(BaseModel):
    label: str
    value: str = Field(description="as the procedure lets a ticket carry it: shown, or masked (•••34)")


class ProcedureRunView(BaseModel):
    """The procedure the bot ran before the handoff, and what the company's system answered."""

    procedure_id: str
    title: str
    outcome: str = Field(description="done, handoff, identity_failed, failed, locked or limit")
    inputs: list[ProcedureAnswerView]
    status_code: int | None = Field(description="the system's HTTP status; null: no call, or no answer")
    answer: str | None = Field(description="what the customer was told of the system's answer")


class HandoffEvent(BaseModel):
    """One line of the ticket's history: who did what, and between which teams."""

    at: datetime
    actor: str
    action: str
    note: str | None
    from_team: str | None
    to_team: str | None


class DeliveryAttemptView(BaseModel):
    attempt: int
    at: datetime
    ok: bool
    detail: str
    duration_ms: int


class NotificationView(BaseModel):
    """An outbox row of the ticket (an e-mail or webhook) with each delivery attempt."""

    id: int
    event: str
    channel: str
    target: str
    state: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    attempt_log: list[DeliveryAttemptView]


class HandoffView(HandoffListItem):
    """A ticket whole: transcript, articles shown to the customer, history; the outbox rows
    where the route reads them (``GET /agent/api/handoffs/{ticket_id}``)."""

    transcript: list[TranscriptLine]
    articles_shown: list[ArticleShownView]
    procedure_run: ProcedureRunView | None = None
    events: list[HandoffEvent]
    notifications: list[NotificationView] | None = None


class SuggestedArticle(BaseModel):
    """Agent assist: an article (internal ones too) that matches the ticket."""

    article_id: str
    title: str
    section: str | None
    audience: str
    score: float
    url: str | None  # public articles only
    passage: str = Field(description="the answer passage the bot shows for this article (markdown)")
    passage_text: str = Field(description="the same passage as plain text")


class Suggestions(BaseModel):
    articles: list[SuggestedArticle]


class AgentView(BaseModel):
    username: str
    display_name: str
    teams: list[str]
    role: str
    active: bool
    language: str | None = Field(default=None, description="the desk's language for this agent; null: the browser's")


class AgentList(BaseModel):
    agents: list[AgentView]


class AgentDeactivated(BaseModel):
    username: str
    active: bool


class PasswordSet(BaseModel):
    username: str
    sessions_ended: bool


class TokenCreated(BaseModel):
    username: str
    name: str
    token: str  # shown once; only its hash is stored
