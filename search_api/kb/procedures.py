"""Procedures: what the bot can do for a customer in the company's systems, written as files.

A procedure lives beside the articles, ``kb/procedures/<lang>/<slug>.md`` (YAML front matter,
then the markdown that tells the customer what the bot will do) or ``<slug>.yml`` (the same
keys, the text under ``description``). It names the inputs to collect (each with its prompt
and validation), the inputs the company's system checks the customer's identity by, one HTTP
call to a configured company system and the reply for each outcome of that call, with
conditions on the response; ``failure`` is the honest message when the system does not answer
as described. Nothing here runs a call: the desk does (helpdesk/procedures), with the base URL
and credentials of the system from its own configuration, never from this file.

Its example questions are indexed with the articles (``search_entry``), so the same search
finds a procedure, calibrated the same way and without retraining the bot. Every problem is
a ``ProcedureError`` with the file and the line, like an article's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from search_api.kb.articles import ID_PATTERN, Article, ArticleError, duplicate_id, read_kb_file, split_sections
from search_api.patterns import checked_pattern
from search_api.yaml_lines import key_lines, line_of, problem_lines

SUFFIXES = (".md", ".yml", ".yaml")
MAX_INPUTS = 6
MAX_TIMEOUT_SECONDS = 5.0
MAX_PROCEDURE_BYTES = 64 * 1024
# Methods whose repetition changes nothing (RFC 9110): only these, or a call that sends an
# idempotency key, may be retried.
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})
FILTERS = ("date", "datetime")
# "{customer_number}", "{response.line.since|datetime}": an input, or a field of the system's JSON answer.
PLACEHOLDER = re.compile(r"{([a-z_][a-z0-9_]*(?:\.[A-Za-z0-9_]+)*)(?:\|([a-z]+))?}")
RESPONSE = "response"
NAME = r"^[a-z][a-z0-9_]{0,39}$"


class ProcedureError(ArticleError):
    """A problem in one procedure file, with the 1-based line it is on."""


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, populate_by_name=True)


Label = Annotated[str, Field(min_length=1, max_length=80)]
CustomerText = Annotated[str, Field(min_length=1, max_length=1500)]


class Choice(Spec):
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
    label: Label


class Input(Spec):
    """One thing the bot asks for; ``validate`` says what a valid answer is (helpdesk/procedures/inputs.py)."""

    name: Annotated[str, Field(pattern=NAME)]
    label: Label  # how the summary and the ticket name it: "customer number"
    prompt: CustomerText
    kind: Literal["text", "pattern", "email", "postal_code", "customer_number", "choice"] = Field(
        "text", alias="validate"
    )
    pattern: str | None = None  # a regular expression the whole answer must match (required by kind pattern)
    choices: list[Choice] = []
    error: CustomerText | None = None  # said when an answer is not valid; default: the bot's own text
    ticket: Literal["shown", "masked", "omitted"] = "shown"  # how a handoff's ticket carries the answer

    @field_validator("pattern")
    @classmethod
    def compiles(cls, value: str | None) -> str | None:
        return None if value is None else checked_pattern(value)

    @model_validator(mode="after")
    def complete(self) -> Input:
        if self.kind == "pattern" and not self.pattern:
            raise ValueError("'validate: pattern' needs a 'pattern'")
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError("'validate: choice' needs at least two 'choices'")
        if self.kind != "choice" and self.choices:
            raise ValueError("'choices' belong to 'validate: choice'")
        return self


Scalar = str | int | float | bool


class Condition(Spec):
    """When a reply applies: the response's HTTP status and fields of its JSON body (dotted paths)."""

    status: int | list[int] | None = None
    equals: dict[str, Scalar | list[Scalar]] = {}  # path -> the value, or one of the values
    present: list[str] = []  # paths that must be there (not null)

    def statuses(self) -> tuple[int, ...]:
        if self.status is None:
            return ()
        return (self.status,) if isinstance(self.status, int) else tuple(self.status)


class Reply(Spec):
    when: Condition
    outcome: Literal["done", "handoff", "identity_failed"]
    text: CustomerText


class Call(Spec):
    """The one HTTP request of a procedure, relative to a configured system's base URL."""

    system: Annotated[str, Field(pattern=NAME)]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    url: Annotated[str, Field(min_length=1, max_length=500)]  # a path: "/v1/customers/{customer_number}/line"
    query: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")], str] = {}
    body: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$")], str] = {}  # sent as a JSON object
    timeout: float = Field(3.0, gt=0, le=MAX_TIMEOUT_SECONDS)
    retries: int = Field(0, ge=0, le=2)
    idempotency_key: bool = False  # send an Idempotency-Key header, the same for a retried request

    @field_validator("url")
    @classmethod
    def relative(cls, value: str) -> str:
        if not value.startswith("/") or value.startswith("//") or "://" in value or "?" in value or "#" in value:
            raise ValueError("a path of the system, starting with '/' (no host, query or fragment: use 'query')")
        return value

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS or self.idempotency_key

    @model_validator(mode="after")
    def safe_retries(self) -> Call:
        if self.retries and not self.idempotent:
            raise ValueError(
                f"'retries' only for idempotent calls: {self.method} repeated could act twice; "
                "send an idempotency key ('idempotency_key: true') or set 'retries: 0'"
            )
        if self.body and self.method in ("GET", "DELETE"):
            raise ValueError(f"a {self.method} request has no 'body'; use 'query'")
        return self

    def templates(self) -> list[str]:
        return [self.url, *self.query.values(), *self.body.values()]


class ProcedureSpec(Spec):
    id: Annotated[str, Field(pattern=ID_PATTERN.pattern)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    lang: Annotated[str, Field(pattern=r"^[a-z]{2}$")]
    tags: list[Annotated[str, Field(min_length=1)]] = []
    updated: dt.date
    category: str | None = None
    product: str | None = None
    questions: list[Annotated[str, Field(min_length=1, max_length=300)]] = []
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    inputs: Annotated[list[Input], Field(min_length=1, max_length=MAX_INPUTS)]
    identity: list[str] = []  # the inputs the company's system verifies the customer by
    call: Call
    replies: Annotated[list[Reply], Field(min_length=1)]
    failure: CustomerText  # the honest message when the system does not answer as a reply describes

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)


def cross_problems(spec: ProcedureSpec) -> list[tuple[tuple[str, ...], str]]:
    """(key path, message) of what does not fit together: inputs, identity, call, replies."""
    problems: list[tuple[tuple[str, ...], str]] = []
    names = [i.name for i in spec.inputs]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append((("inputs", str(i), "name"), f"a second input named '{name}'"))
    unknown = [n for n in spec.identity if n not in names]
    if unknown:
        problems.append((("identity",), f"names {', '.join(unknown)}, which is not an input"))
    call = spec.call
    templates: list[tuple[tuple[str, ...], str]] = [(("call", "url"), call.url)]
    templates += [(("call", "query", k), v) for k, v in call.query.items()]
    templates += [(("call", "body", k), v) for k, v in call.body.items()]
    sent = {m.group(1) for _, text in templates for m in PLACEHOLDER.finditer(text)}
    missing = [n for n in spec.identity if n in names and n not in sent]
    if missing:
        problems.append((("call",), f"the company's system checks the identity: send {', '.join(missing)}"))
    if spec.identity and not any(r.outcome == "identity_failed" for r in spec.replies):
        problems.append((("replies",), "with 'identity', a reply 'outcome: identity_failed' says when it is refused"))
    texts: list[tuple[tuple[str, ...], str]] = [
        (("replies", str(i), "text"), r.text) for i, r in enumerate(spec.replies)
    ]
    texts.append((("failure",), spec.failure))
    for where, text in templates + texts:
        for match in PLACEHOLDER.finditer(text):
            name, function = match.group(1), match.group(2)
            from_response = name.startswith(RESPONSE + ".")
            if where[0] == "call" and (from_response or function or name not in names):
                problems.append((where, f"'{match.group(0)}' is not an input (a call sends only the answers)"))
            elif where[0] != "call" and not from_response and name not in names:
                problems.append((where, f"'{{{name}}}' is neither an input nor 'response.<field>'"))
            elif function is not None and function not in FILTERS:
                problems.append((where, f"'|{function}' is unknown; use one of: {', '.join(FILTERS)}"))
    return problems


@dataclass(frozen=True)
class Procedure:
    """A parsed procedure file: its definition and where it came from."""

    spec: ProcedureSpec
    path: str
    content_hash: str

    @property
    def id(self) -> str:
        return self.spec.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "content_hash": self.content_hash,
            "spec": self.spec.model_dump(mode="json", by_alias=True),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Procedure:
        return cls(ProcedureSpec.model_validate(data["spec"]), data["path"], data["content_hash"])


def _yaml_part(path: Path, raw: str, shown: str) -> tuple[str, str, int]:
    """(YAML text, markdown body, lines of the file before the YAML): a ``.md`` procedure's front
    matter and body, or a ``.yml`` procedure whole."""
    if path.suffix != ".md":
        return raw, "", 0
    lines = raw.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ProcedureError(shown, 1, "missing YAML front matter: the file must start with '---'")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ProcedureError(shown, len(lines), "the front matter has no closing '---'")
    return "".join(lines[1:end]), "".join(lines[end + 1 :]).strip(), 1


def parse_procedure(path: Path, root: Path | None = None, languages: tuple[str, ...] | None = None) -> Procedure:
    """Parse one procedure file, or raise ``ProcedureError`` naming file and line."""
    shown = str(path.relative_to(root.parent)) if root and path.is_relative_to(root) else str(path)
    try:
        raw_bytes, raw = read_kb_file(path, shown, MAX_PROCEDURE_BYTES)
    except ArticleError as exc:
        raise ProcedureError(exc.path, exc.line, exc.message) from None
    text, body, offset = _yaml_part(path, raw, shown)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 + offset if mark is not None else 1
        raise ProcedureError(shown, line, f"malformed YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict) or not data:
        raise ProcedureError(shown, 1 + offset, "the procedure is empty or not a mapping")
    lines = key_lines(text, offset)
    if body:
        if "description" in data:
            raise ProcedureError(shown, lines[("description",)], "'description' is the text below the front matter")
        data["description"] = body
    try:
        spec = ProcedureSpec.model_validate(data)
    except ValidationError as exc:
        line, where, message = problem_lines(exc, lines, 1 + offset)[0]
        raise ProcedureError(shown, line, f"{where}: {message}") from None
    unfit = cross_problems(spec)
    if unfit:
        key, message = unfit[0]
        raise ProcedureError(shown, line_of(lines, key, 1 + offset), f"{'.'.join(key)}: {message}")
    if languages and spec.lang not in languages:
        raise ProcedureError(shown, lines.get(("lang",), 1), f"'lang' must be one of: {', '.join(languages)}")
    folder = path.parent.name
    if languages and folder in languages and folder != spec.lang:
        raise ProcedureError(shown, lines.get(("lang",), 1), f"'lang: {spec.lang}' but the file is in '{folder}'")
    return Procedure(spec, shown, hashlib.sha256(raw_bytes).hexdigest())


def key_line(path: Path, key: str) -> int:
    """The line of a top-level key of a procedure file that parsed (1 when it has none)."""
    try:
        text, _, offset = _yaml_part(path, path.read_text(encoding="utf-8"), str(path))
    except ProcedureError:
        return 1
    return key_lines(text, offset).get((key,), 1)


@dataclass
class LoadedProcedures:
    procedures: list[Procedure]
    errors: list[ArticleError]


def procedure_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix in SUFFIXES and p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def load_procedures(root: Path | None, languages: tuple[str, ...] | None = None) -> LoadedProcedures:
    """Every procedure below ``root`` (none when it does not exist); a broken file or a repeated id
    is an error, the first file (in path order) keeps the id."""
    result = LoadedProcedures([], [])
    if root is None or not root.is_dir():
        return result
    first_path: dict[str, str] = {}
    for path in procedure_files(root):
        try:
            procedure = parse_procedure(path, root, languages)
        except ProcedureError as exc:
            result.errors.append(exc)
            continue
        clash = duplicate_id(first_path, procedure.id, procedure.path)
        if clash is not None:
            result.errors.append(ProcedureError(procedure.path, key_line(path, "id"), clash))
            continue
        result.procedures.append(procedure)
    return result


def search_entry(procedure: Procedure) -> Article:
    """What search indexes of a procedure: its title, its description and its example questions, as
    an entry of kind ``procedure`` (never an article page; the desk runs it)."""
    spec = procedure.spec
    return Article(
        id=spec.id,
        title=spec.title,
        lang=spec.lang,
        tags=tuple(spec.tags),
        updated=spec.updated.isoformat(),
        body=spec.description,
        path=procedure.path,
        content_hash=procedure.content_hash,
        product=spec.product,
        category=spec.category,
        questions=tuple(spec.questions),
        sections=split_sections(spec.description),
        kind="procedure",
    )
