"""``helpdesk import`` against the starter KB (read only): sample exports are written by each test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpdesk.cli import main
from tests.conftest import STARTER_KB


@pytest.fixture
def drafts(tmp_path) -> Path:
    return tmp_path / "drafts"


@pytest.fixture
def run_import(monkeypatch, capsys, drafts) -> Callable[..., tuple[int, Any, str]]:
    """``helpdesk import --json ... --out <drafts>`` against the starter KB: (exit status, report, stderr)."""
    monkeypatch.setenv("HELPDESK_SECRETS_FILE", "/nonexistent")
    monkeypatch.delenv("HELPDESK_DRAFTS_DIR", raising=False)

    def run(*args: str | Path, out: Path | None = None) -> tuple[int, Any, str]:
        status = main(["import", "--json", "--articles", str(STARTER_KB), "--out", str(out or drafts), *map(str, args)])
        captured = capsys.readouterr()
        return status, (json.loads(captured.out) if captured.out.strip() else None), captured.err

    return run


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def by_title(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in report["articles"]}
