"""The deployment configuration: the company, its assistant, hotline, links, branding and languages.

A company makes the helpdesk its own with three things: its articles
(``kb/articles``), its routing (``config/routing.yml``) and this configuration
(``config/deployment.yml``, or ``HELPDESK_DEPLOYMENT_FILE``). Nothing
company-specific is written in code or in the bot's training data; the bot gets
what it needs from ``GET /bot/profile`` (helpdesk/profile.py).

``load_deployment`` reads the file, applies the environment overrides of
``ENV_OVERRIDES`` and validates everything at once: a mistake stops the start
with one line per problem, ``file:line: key: message`` (or the environment
variable that set the value), because a typo here must not reach customers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from search_api.settings import PROJECT_ROOT, read_env
from search_api.yaml_lines import key_lines, line_of

DEFAULT_FILE = PROJECT_ROOT / "config" / "deployment.yml"
# The languages the bot has texts for (bot/actions/texts.yml); a deployment serves some of them.
BOT_LANGUAGES = ("de", "en")
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
MAX_LOGO_BYTES = 512 * 1024
CATEGORY_RE = r"^[a-z0-9][a-z0-9-]{0,63}$"

# Environment variable -> the key it replaces (the value applies to every language).
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "HELPDESK_COMPANY_NAME": ("company",),
    "HELPDESK_ASSISTANT_NAME": ("assistant",),
    "HELPDESK_SUPPORT_HOTLINE": ("support", "hotline"),
    "HELPDESK_SUPPORT_HOURS": ("support", "hours"),
    "HELPDESK_SUPPORT_EMAIL": ("support", "email"),
    "HELPDESK_PUBLIC_URL": ("urls", "public"),
    "HELPDESK_WEBSITE_URL": ("urls", "website"),
    "HELPDESK_CONTACT_URL": ("urls", "contact"),
    "HELPDESK_PRIVACY_URL": ("urls", "privacy_policy"),
    "HELPDESK_CHAT_TITLE": ("chat", "title"),
    "HELPDESK_CHAT_LOGO": ("chat", "logo"),
    "HELPDESK_CHAT_PRIMARY_COLOR": ("chat", "colors", "primary"),
    "HELPDESK_LANGUAGES": ("languages",),
}

_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=_NO_CONTROL)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_NO_CONTROL)]


def _localized(value: Any) -> Any:
    """One text for every language ("*"), or a mapping language -> text."""
    return {"*": str(value)} if isinstance(value, (str, int, float)) else value


Localized = Annotated[dict[Literal["de", "en", "*"], Line], BeforeValidator(_localized)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://[^\s<>\"']+$")]
Color = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^#[0-9a-fA-F]{6}$")]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
    ),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40, pattern=r"^\+?[0-9][0-9 ()./-]*[0-9]$")
]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two "#rrggbb" colours."""

    def luminance(color: str) -> float:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


class DeploymentError(ValueError):
    """The deployment configuration is invalid; the message has one line per problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Support(_Model):
    hotline: Phone | None = None
    hours: Localized | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def hours_with_hotline(self) -> Support:
        if self.hotline and not self.hours:
            raise ValueError("give `hours` with the hotline: customers must know when someone answers")
        return self


class Urls(_Model):
    public: Url = "http://127.0.0.1:8000"
    website: Url | None = None
    contact: Url | None = None
    privacy_policy: Url | None = None

    @field_validator("public")
    @classmethod
    def no_slash(cls, value: str) -> str:
        return value.rstrip("/")


class Colors(_Model):
    primary: Color = "#1f4e8c"
    on_primary: Color = "#ffffff"
    background: Color = "#eef1f6"

    @model_validator(mode="after")
    def readable(self) -> Colors:
        ratio = contrast(self.primary, self.on_primary)
        if ratio < 4.5:
            raise ValueError(
                f"on_primary {self.on_primary} on primary {self.primary} has a contrast of "
                f"{ratio:.1f}:1; text needs at least 4.5:1 (WCAG AA)"
            )
        return self


class Chat(_Model):
    title: Localized | None = None
    logo: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None = None
    colors: Colors = Colors()


class Deployment(_Model):
    company: Name
    assistant: Name
    languages: Annotated[list[Literal["de", "en"]], Field(min_length=1)] = ["de", "en"]
    support: Support = Support()
    urls: Urls = Urls()
    chat: Chat = Chat()
    topics: dict[Annotated[str, StringConstraints(pattern=CATEGORY_RE)], Localized] = {}
    # Where the values came from (set by load_deployment; not part of the file).
    source: str = Field(default="<memory>", exclude=True)
    base_dir: Path = Field(default=PROJECT_ROOT, exclude=True)

    @field_validator("languages")
    @classmethod
    def distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @model_validator(mode="after")
    def localized_languages(self) -> Deployment:
        values = {
            "support.hours": self.support.hours,
            "chat.title": self.chat.title,
            **{f"topics.{k}": v for k, v in self.topics.items()},
        }
        for key, value in values.items():
            if value and "*" not in value and self.languages[0] not in value:
                raise ValueError(f"{key}: no text for {self.languages[0]!r}, the first language (the fallback)")
        return self

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def text(self, value: Mapping[Any, str] | str | None, lang: str) -> str | None:
        """A localized value in ``lang``, else in the first language."""
        if value is None or isinstance(value, str):
            return value
        return value.get(lang) or value.get("*") or value.get(self.default_language)

    def chat_title(self, lang: str) -> str:
        return self.text(self.chat.title, lang) or self.company

    def logo_path(self) -> Path | None:
        if not self.chat.logo:
            return None
        path = Path(self.chat.logo)
        return path if path.is_absolute() else self.base_dir / path


def deployment_file(env: Mapping[str, str] | None = None) -> Path:
    env = read_env(env)
    return Path(env["HELPDESK_DEPLOYMENT_FILE"]) if env.get("HELPDESK_DEPLOYMENT_FILE") else DEFAULT_FILE


def _set(data: dict, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        data = data[key]
    data[path[-1]] = value


def read_yaml_mapping(path: Path, what: str, error: type[Exception]) -> tuple[str, dict]:
    """(text, mapping) of a YAML configuration file; ``error("file:line: ...")`` when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error(f"{path}:1: {what} must be a mapping of keys")
    return text, data


def load_deployment(path: Path | None = None, env: Mapping[str, str] | None = None) -> Deployment:
    """Read, override from the environment and validate; raise DeploymentError listing every problem."""
    env = read_env(env)
    path = Path(path) if path else deployment_file(env)
    text, data = read_yaml_mapping(path, "the deployment configuration", DeploymentError)

    from_env: dict[tuple[str, ...], str] = {}
    for name, key in ENV_OVERRIDES.items():
        value = env.get(name)
        if value is None or value == "":
            continue
        if key == ("languages",):
            _set(data, key, [part.strip() for part in value.split(",") if part.strip()])
        else:
            _set(data, key, value)
        from_env[key] = name

    lines = key_lines(text)
    try:
        return Deployment.model_validate({**data, "source": str(path), "base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(str(part) for part in error["loc"])
            loc = tuple(
                p for p in loc if p not in ("[key]", "constrained-str") and not p.startswith(("function-", "dict["))
            )
            where = ".".join(loc) or "(top level)"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "string_pattern_mismatch":
                message = f"{error.get('input')!r} is not valid here"
            env_name = next((name for k, name in from_env.items() if loc[: len(k)] == k), None)
            if env_name:
                problems.append(f"{env_name} (environment): {where}: {message}")
                continue
            problems.append(f"{path}:{line_of(lines, loc)}: {where}: {message}")
        raise DeploymentError("invalid deployment configuration:\n  " + "\n  ".join(dict.fromkeys(problems))) from None


def check_logo(deployment: Deployment) -> list[str]:
    """Problems with the logo file (it is served by the chat page)."""
    path = deployment.logo_path()
    if path is None:
        return []
    if path.suffix.lower() not in LOGO_TYPES:
        return [f"chat.logo: {path.name}: use an .svg or .png file"]
    try:
        size = path.stat().st_size
    except OSError:
        return [f"chat.logo: {path}: no such file"]
    if size > MAX_LOGO_BYTES:
        return [f"chat.logo: {path}: {size // 1024} KiB; at most {MAX_LOGO_BYTES // 1024} KiB"]
    return []


def load_checked(path: Path | None = None, env: Mapping[str, str] | None = None) -> Deployment:
    """``load_deployment`` plus the checks that look at other files (the logo)."""
    deployment = load_deployment(path, env)
    problems = check_logo(deployment)
    if problems:
        raise DeploymentError(f"{deployment.source}: invalid deployment configuration:\n  " + "\n  ".join(problems))
    return deployment


@contextmanager
def search_defaults(environ: MutableMapping[str, str] | None = None) -> Iterator[Deployment]:
    """While inside: the deployment's languages and public URL are the search settings' defaults
    (unless set), so ``helpdesk build``/``lint`` and the web service index and link the same
    languages. Restored afterwards: the CLI's commands also run inside tests."""
    if environ is None:
        environ = os.environ
    deployment = load_checked(env=environ)
    added = {
        key: value
        for key, value in (
            ("HELPDESK_LANGUAGES", ",".join(deployment.languages)),
            ("HELPDESK_PUBLIC_URL", deployment.urls.public),
        )
        if key not in environ
    }
    environ.update(added)
    try:
        yield deployment
    finally:
        for key in added:
            environ.pop(key, None)


def get_deployment(request: Request) -> Deployment:
    """FastAPI dependency: the app's deployment (create_app sets it; a bare test app loads it once)."""
    deployment = getattr(request.app.state, "deployment", None)
    if deployment is None:
        deployment = request.app.state.deployment = load_checked()
    return deployment
