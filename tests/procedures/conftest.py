"""Fixtures of the procedure tests: the reference company system and the web service running procedures.

The reference system (examples/company_api) runs under uvicorn on a free port and the desk calls it
over real HTTP; the web service serves the fixture KB with the demo's procedures (kb/procedures),
indexed once per session with the real models, a SQLite database per test and a procedures
configuration that points the system ``nordwind`` at the running reference.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from examples.company_api.app import create_app as create_company_app
from helpdesk.app import create_app
from helpdesk.settings import Settings
from scripts.ports import free_port
from tests.conftest import FIXTURES, SERVICE_TOKEN, make_settings
from tests.handoffs.conftest import running

REPO = Path(__file__).resolve().parents[2]
COMPANY_TOKEN = "reference-system-token"
SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@dataclass
class Company:
    url: str
    state: Any  # examples.company_api.app.State: the outbox and the idempotency record


@pytest.fixture(scope="session")
def company() -> Iterator[Company]:
    """The reference company system over HTTP, for the whole session."""
    app = create_company_app(COMPANY_TOKEN)
    with running(app) as url:
        yield Company(url, app.state.company)


def write_config(path: Path, base_url: str, **limits: int) -> Path:
    lines = [
        "systems:",
        "  nordwind:",
        f"    base_url: {base_url}",
        "    auth: {type: bearer, secret: NORDWIND_API_TOKEN}",
        *(["limits:"] if limits else []),
        *(f"  {name}: {value}" for name, value in limits.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def procedure_kb(tmp_path_factory) -> Settings:
    """The fixture articles and the demo's procedures, indexed once per session (real models)."""
    from search_api.search.service import SearchService

    root = tmp_path_factory.mktemp("procedure-kb")
    shutil.copytree(FIXTURES / "kb", root / "articles")
    shutil.copytree(REPO / "kb" / "procedures", root / "procedures")
    settings = make_settings(root / "articles", root / "index")
    report = SearchService.build(settings)
    assert report.errors == [] and report.procedures >= 2
    return settings


@pytest.fixture
def config_file(tmp_path, company, monkeypatch) -> Path:
    monkeypatch.setenv("NORDWIND_API_TOKEN", COMPANY_TOKEN)
    return write_config(tmp_path / "procedures.yml", company.url)


@pytest.fixture
def app_settings(procedure_kb, tmp_path, config_file) -> Settings:
    return procedure_kb.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'desk.db'}", "procedures_file": config_file}
    )


@pytest.fixture
def client(app_settings) -> Iterator[TestClient]:
    """The web service as the bot's action server calls it (service token)."""
    with TestClient(create_app(app_settings), headers=SERVICE) as c:
        yield c


@pytest.fixture
def closed_url() -> str:
    """A base URL where nothing listens: the company's system is down."""
    return f"http://127.0.0.1:{free_port()}"
