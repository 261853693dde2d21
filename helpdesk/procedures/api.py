"""The procedures' routes for the bot's action server (service token): the definition, the check
of one answer, and the run.

The bot stays thin: it asks what ``GET /procedures/{id}`` lists, sends each answer to ``POST
/procedures/{id}/inputs`` and says what ``POST /procedures/{id}/runs`` answers. Everything else
happens here, on the server side: the answers are checked again, the conversation's limits
(``store``), the call with the system's secret (``runner``), the audit row, and what a ticket may
carry of the answers. The definitions come from the index being served, so a procedure and its
search entry change together (``helpdesk build`` or ``POST /admin/reindex``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.auth import require_service
from helpdesk.handoffs.schemas import KEY_RE, Text
from helpdesk.procedures import inputs, runner, store
from helpdesk.procedures.config import ProceduresConfig
from helpdesk.procedures.runner import Outcome
from search_api.kb.procedures import Procedure

router = APIRouter(prefix="/procedures", tags=["procedures"], dependencies=[Depends(require_service)])


class ChoiceOut(BaseModel):
    value: str
    label: str


class InputOut(BaseModel):
    name: str
    label: str
    prompt: str
    kind: str
    choices: list[ChoiceOut]


class ProcedureOut(BaseModel):
    id: str
    title: str
    lang: str
    description: str = Field(description="What the bot will do, as markdown (the procedure's text)")
    inputs: list[InputOut]
    checks_identity: bool = Field(description="The company's system verifies the customer by some of the inputs")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=40)]
    value: Annotated[Text, Field(max_length=1000)]


class AnswerOut(BaseModel):
    valid: bool
    value: str | None = Field(description="The answer as the system will be sent it")
    error: str | None = Field(description="The procedure's message for an invalid answer; null: the bot's own")


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: Annotated[Text, Field(min_length=1, max_length=200)]
    inputs: dict[Annotated[str, Field(max_length=40)], Annotated[Text, Field(max_length=1000)]] = Field(max_length=20)
    idempotency_key: Annotated[str, Field(min_length=8, max_length=200, pattern=KEY_RE.pattern)]


class TicketInput(BaseModel):
    label: str
    value: str


class TicketOut(BaseModel):
    """What a handoff after this run carries into the ticket: no secret, answers as configured, and what
    the company's system answered (its HTTP status and what the customer was told of it)."""

    procedure_id: str
    title: str
    outcome: Outcome
    inputs: list[TicketInput]
    status_code: int | None = Field(description="The system's HTTP status; null: no call, or no answer")
    answer: str | None = Field(description="What the customer was told; null for locked and limit")


class RunOut(BaseModel):
    outcome: Outcome = Field(
        description="done: answered; handoff: answered, a person has to go on; identity_failed: the system "
        "refused the customer's identity; failed: the system did not answer as described; locked: too many "
        "refused identities in this conversation; limit: too many runs in this conversation"
    )
    text: str | None = Field(description="What to tell the customer; null for locked and limit (the bot's texts)")
    ask_again: list[str] = Field(description="Inputs to ask for again (the identity, while attempts are left)")
    attempts_left: int | None = Field(description="Identities the conversation may still try; null: none checked")
    ticket: TicketOut


def procedure_of(request: Request, procedure_id: str) -> Procedure:
    found: Procedure | None = request.app.state.search.index.procedures.get(procedure_id)
    if found is None:
        raise HTTPException(404, f"no procedure with id '{procedure_id[:100]}'")
    return found


@router.get("/{procedure_id}", response_model=ProcedureOut, summary="What the bot says and asks for a procedure")
def get_procedure(procedure_id: str, request: Request) -> ProcedureOut:
    spec = procedure_of(request, procedure_id).spec
    return ProcedureOut(
        id=spec.id,
        title=spec.title,
        lang=spec.lang,
        description=spec.description,
        inputs=[
            InputOut(
                name=i.name,
                label=i.label,
                prompt=i.prompt,
                kind=i.kind,
                choices=[ChoiceOut(value=c.value, label=c.label) for c in i.choices],
            )
            for i in spec.inputs
        ],
        checks_identity=bool(spec.identity),
    )


@router.post("/{procedure_id}/inputs", response_model=AnswerOut, summary="Check one answer of the customer")
def check_answer(procedure_id: str, body: AnswerIn, request: Request) -> AnswerOut:
    spec = procedure_of(request, procedure_id).spec
    question = spec.input(body.name)
    if question is None:
        raise HTTPException(422, f"the procedure has no input '{body.name}'")
    checked = inputs.check(question, body.value)
    return AnswerOut(valid=checked.valid, value=checked.value, error=None if checked.valid else question.error)


@router.post(
    "/{procedure_id}/runs",
    response_model=RunOut,
    summary="Run a procedure with the customer's answers",
    responses={404: {"description": "no such procedure"}, 422: {"description": "an answer is missing or invalid"}},
)
async def run_procedure(procedure_id: str, body: RunIn, request: Request) -> RunOut:
    procedure = procedure_of(request, procedure_id)
    spec = procedure.spec
    values: dict[str, str] = {}
    for question in spec.inputs:
        checked = inputs.check(question, body.inputs.get(question.name, ""))
        if not checked.valid or checked.value is None:
            raise HTTPException(422, f"the answer to '{question.name}' is missing or not valid")
        values[question.name] = checked.value
    state = request.app.state
    config: ProceduresConfig = state.procedures_config
    engine, conversation = state.engine, body.conversation_id

    def answer(
        outcome: Outcome, text: str | None, attempts_left: int | None = None, status_code: int | None = None
    ) -> RunOut:
        ask_again = list(spec.identity) if outcome == "identity_failed" and attempts_left else []
        ticket = TicketOut(
            procedure_id=spec.id,
            title=spec.title,
            outcome=outcome,
            inputs=[TicketInput(**item) for item in inputs.for_ticket(spec.inputs, values)],
            status_code=status_code,
            answer=text,
        )
        return RunOut(outcome=outcome, text=text, ask_again=ask_again, attempts_left=attempts_left, ticket=ticket)

    refused = await run_in_threadpool(store.limit_reached, engine, config.limits, conversation, bool(spec.identity))
    if refused is not None:  # no call: the audit keeps the refusal, the limits do not count it
        await run_in_threadpool(store.record, engine, spec.id, spec.lang, refused, None, 0, None)
        return answer(refused, None)
    system = config.systems.get(spec.call.system)
    result = await runner.call(state.procedure_client, procedure, system, values, body.idempotency_key)
    await run_in_threadpool(
        store.record, engine, spec.id, spec.lang, result.outcome, result.status, result.duration_ms, conversation
    )
    attempts_left = None
    if spec.identity:
        attempts_left = await run_in_threadpool(store.identity_attempts_left, engine, config.limits, conversation)
    return answer(result.outcome, result.text, attempts_left, result.status)
