"""The procedures' configuration: config/procedures.yml (HELPDESK_PROCEDURES_FILE).

Which company systems a procedure may call (``systems``: a name, its base URL and how the desk
authenticates, by the name of a secret) and the limits per conversation (``limits``). A
procedure file names a system, never a host or a credential: its request goes to that system's
base URL and nowhere else, with the secret read from the environment or the secrets file
(``HELPDESK_SECRETS_FILE``), so neither the knowledge base nor the bot ever holds one.

A mistake is reported as ``file:line: key: problem`` and stops the web service's start, like
the deployment configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from helpdesk.deployment import read_yaml_mapping
from search_api.settings import PROJECT_ROOT, read_env
from search_api.yaml_lines import key_lines, problem_lines

DEFAULT_FILE = PROJECT_ROOT / "config" / "procedures.yml"
SECRET_NAME = r"^[A-Z][A-Z0-9_]{0,63}$"


class ProceduresConfigError(ValueError):
    pass


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Auth(Strict):
    """``bearer``: ``Authorization: Bearer <secret>``; ``header``: ``<header>: <secret>``; ``none``."""

    type: Literal["bearer", "header", "none"]
    secret: Annotated[str, Field(pattern=SECRET_NAME)] | None = None  # the secret's name, never its value
    header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")] | None = None

    @model_validator(mode="after")
    def complete(self) -> Auth:
        if self.type != "none" and not self.secret:
            raise ValueError(f"auth type {self.type} needs 'secret': the name of the secret in the secrets file")
        if self.type == "header" and not self.header:
            raise ValueError("auth type header needs 'header': the header's name")
        return self


class System(Strict):
    base_url: str
    auth: Auth = Auth(type="none")

    @field_validator("base_url")
    @classmethod
    def absolute(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an absolute http(s) URL, e.g. https://api.example.com/v1")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("no query, fragment or credentials in the base URL (credentials: 'auth')")
        return value.rstrip("/")


class Limits(Strict):
    runs_per_conversation: int = Field(10, ge=1, le=1000)  # runs of any procedure in one window
    identity_failures: int = Field(3, ge=1, le=100)  # refused identities before the conversation is locked out
    window_hours: float = Field(24, gt=0, le=24 * 30)


class ProceduresConfig(Strict):
    systems: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], System] = {}
    limits: Limits = Limits()
    source: str = "(defaults)"


def procedures_file(env: Mapping[str, str] | None = None) -> Path:
    env = read_env(env)
    return Path(env["HELPDESK_PROCEDURES_FILE"]) if env.get("HELPDESK_PROCEDURES_FILE") else DEFAULT_FILE


def load_procedures_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> ProceduresConfig:
    """The configuration; a missing default file means no systems (no procedure can run)."""
    path = Path(path) if path else procedures_file(env)
    if path == DEFAULT_FILE and not path.exists():
        return ProceduresConfig()
    text, data = read_yaml_mapping(path, "the procedures configuration", ProceduresConfigError)
    try:
        return ProceduresConfig.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems = [
            f"{path}:{line}: {where}: {message}" for line, where, message in problem_lines(exc, key_lines(text))
        ]
        raise ProceduresConfigError("invalid procedures configuration:\n  " + "\n  ".join(problems)) from None


def credentials(system: System, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers that authenticate at ``system``, its secret read now (a rotated secret needs no
    restart); KeyError naming the secret (never its value) when it is not set."""
    auth = system.auth
    if auth.type == "none" or auth.secret is None:
        return {}
    value = read_env(env).get(auth.secret)
    if not value:
        raise KeyError(auth.secret)
    if auth.type == "bearer":
        return {"Authorization": f"Bearer {value}"}
    return {str(auth.header): value}
