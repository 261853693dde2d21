"""The data protection configuration: config/privacy.yml (HELPDESK_PRIVACY_FILE).

How long each kind of customer data is kept (``retention_days``, ``batch_size``), the
patterns of the company's own identifiers that masking hides (``masking.patterns``,
helpdesk/privacy/masking.py) and how PostgreSQL tables are vacuumed after an erasure
or purge (``postgresql_vacuum``, helpdesk/privacy/vacuum.py).

A separate file from the deployment configuration because it answers a different
person (the data protection officer, not the branding) and because ``helpdesk purge``
runs without the web service. A mistake is reported as ``file:line: key: problem``
and stops the purge, never a purge with a wrong period.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from helpdesk.deployment import read_yaml_mapping
from helpdesk.privacy.vacuum import VacuumMode
from search_api.patterns import checked_pattern
from search_api.settings import PROJECT_ROOT, read_env
from search_api.yaml_lines import key_lines, line_of

DEFAULT_FILE = PROJECT_ROOT / "config" / "privacy.yml"
KINDS = ("handoffs", "trackers", "unanswered", "feedback", "reports", "audit")


class PrivacyConfigError(ValueError):
    pass


class RetentionDays(BaseModel):
    """Days each kind of data is kept; 0 keeps it for ever."""

    model_config = ConfigDict(extra="forbid")
    handoffs: int = Field(365, ge=0, le=36500)
    trackers: int = Field(30, ge=0, le=36500)
    unanswered: int = Field(90, ge=0, le=36500)
    feedback: int = Field(365, ge=0, le=36500)
    reports: int = Field(365, ge=0, le=36500)
    audit: int = Field(1095, ge=0, le=36500)
    incidents: int = Field(30, ge=0, le=36500)


LABEL = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def _label(label: str) -> str:
    if not LABEL.match(label):
        raise ValueError("a label is lower-case letters, digits and '-' (e.g. customer-number)")
    return label


class MaskingConfig(BaseModel):
    """The company's identifiers masked as ``<label>``: label -> regular expression (Python syntax)."""

    model_config = ConfigDict(extra="forbid")
    patterns: dict[Annotated[str, AfterValidator(_label)], Annotated[str, AfterValidator(checked_pattern)]] = {}


class PrivacyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: RetentionDays = RetentionDays()
    batch_size: int = Field(500, ge=1, le=100_000)
    masking: MaskingConfig = MaskingConfig()
    postgresql_vacuum: VacuumMode = "plain"
    source: str = "(defaults)"


def privacy_file(env: Mapping[str, str] | None = None) -> Path:
    env = read_env(env)
    return Path(env["HELPDESK_PRIVACY_FILE"]) if env.get("HELPDESK_PRIVACY_FILE") else DEFAULT_FILE


def load_privacy(path: Path | None = None, env: Mapping[str, str] | None = None) -> PrivacyConfig:
    path = Path(path) if path else privacy_file(env)
    text, data = read_yaml_mapping(path, "the privacy configuration", PrivacyConfigError)
    try:
        return PrivacyConfig.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        lines = key_lines(text)
        problems = []
        for error in exc.errors():
            loc = tuple(str(part) for part in error["loc"])
            line = line_of(lines, loc)
            message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{path}:{line}: {'.'.join(loc)}: {message}")
        raise PrivacyConfigError("invalid privacy configuration:\n  " + "\n  ".join(problems)) from None
