"""The starter KB indexed once per test session: several test files search it (real models)."""

import shutil
from pathlib import Path

import pytest

from search_api.search.service import SearchService
from tests.conftest import make_settings

STARTER_KB = Path(__file__).resolve().parents[2] / "kb" / "articles"


@pytest.fixture(scope="session")
def starter_service(tmp_path_factory) -> SearchService:
    root = tmp_path_factory.mktemp("starter")
    shutil.copytree(STARTER_KB, root / "articles")
    settings = make_settings(root / "articles", root / "index")
    report = SearchService.build(settings)
    assert report.errors == []
    return SearchService.open(settings)
