"""Fixtures of the attachment tests: a private clamd (tests/attachments/clamd.py) for the module, and files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.attachments.clamd import private_clamd
from tests.handoffs.conftest import index_dir, make_client, make_settings, open_routing  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    with private_clamd(tmp_path_factory.mktemp("clamd")) as address:
        yield address


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (120, 80), color: str = "teal", **options) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, color).save(out, format=fmt, **options)
    return out.getvalue()


def count_rows(app) -> int:
    from sqlalchemy import func, select

    from helpdesk.attachments.models import ChatAttachment

    with app.state.handoffs.transaction() as s:
        return s.scalar(select(func.count()).select_from(ChatAttachment)) or 0
