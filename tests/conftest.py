"""Shared fixtures: a small KB built once per session with the real models."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from helpdesk.attachments.config import AttachmentSettings
from helpdesk.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
STARTER_KB = Path(__file__).resolve().parents[1] / "kb" / "articles"
ADMIN_TOKEN = "test-admin-token"
SERVICE_TOKEN = "test-service-token"
# A test that uses one of these fixtures gets the marker (pyproject.toml declares them), so that
# make test-quick leaves it out without each module having to say so.
FIXTURE_MARKERS = {
    "starter_kb": "slow",
    "trackers": "rasa",
    "dovecot": "services",
    "balancer": "services",
    "clamd": "services",  # a private clamd (tests/attachments/clamd.py)
}


@pytest.hookimpl(tryfirst=True)  # before pytest's -m selection reads the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def make_settings(articles_dir: Path, index_dir: Path, **changes) -> Settings:
    base = Settings.from_env({"HELPDESK_SECRETS_FILE": "/nonexistent"})
    changes.setdefault("database_url", f"sqlite:///{index_dir.parent / 'handoffs.db'}")
    changes.setdefault("attachments", AttachmentSettings(directory=index_dir.parent / "chat-attachments"))
    # A test client fires far faster than a person types; tests/edge checks the limits themselves.
    changes.setdefault("rate_limit_conversation", "1000/second")
    changes.setdefault("rate_limit_address", "1000/second")
    return base.model_copy(
        update={
            "articles_dir": articles_dir,
            "index_dir": index_dir,
            "admin_token": ADMIN_TOKEN,
            "service_token": SERVICE_TOKEN,
            "public_base_url": "http://testserver",
            **changes,
        }
    )


def csrf_token(html: str) -> str:
    """The CSRF token of a page's form (the agent pages' hidden csrf_token field)."""
    found = _CSRF_FIELD.search(html)
    assert found is not None, "no csrf_token field on the page"
    return found.group(1)


@pytest.fixture(scope="session")
def built_kb(tmp_path_factory) -> Settings:
    """The fixture KB, copied and indexed once per test session (real embedding models)."""
    from search_api.search.service import SearchService

    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(FIXTURES / "kb", root / "articles")
    settings = make_settings(root / "articles", root / "index")
    SearchService.build(settings)
    return settings


@pytest.fixture
def kb_copy(tmp_path, built_kb) -> Settings:
    """A private, writable copy of the built fixture KB (articles and index) for tests that change it."""
    shutil.copytree(built_kb.articles_dir, tmp_path / "articles")
    shutil.copytree(built_kb.index_dir, tmp_path / "index")
    return make_settings(tmp_path / "articles", tmp_path / "index")


@pytest.fixture(scope="session")
def starter_kb(tmp_path_factory) -> Settings:
    """The starter KB (kb/articles), copied and indexed once per session: search and mail tests use it."""
    from search_api.search.service import SearchService

    root = tmp_path_factory.mktemp("starter")
    shutil.copytree(STARTER_KB, root / "articles")
    settings = make_settings(root / "articles", root / "index")
    report = SearchService.build(settings)
    assert report.errors == []
    return settings


@pytest.fixture(scope="session")
def starter_service(starter_kb):
    from search_api.search.service import SearchService

    return SearchService.open(starter_kb)
