"""Where the browser tests save the pictures the documentation shows.

A test run writes them under var/screenshots/ (ignored by git), never into the
repository's files. ``make screenshots`` sets ``DOCS_IMAGE_DIR=docs/img`` to refresh
the documentation's images; the tests that take extra steps only for a picture
(the workspace, the end-to-end chat) take them only then.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "var" / "screenshots"


def docs_image_requested() -> bool:
    """Whether this run refreshes the documentation's images (DOCS_IMAGE_DIR is set)."""
    return bool(os.environ.get("DOCS_IMAGE_DIR"))


def screenshot_dir() -> Path:
    """DOCS_IMAGE_DIR if set, else var/screenshots/; created when missing."""
    path = Path(os.environ.get("DOCS_IMAGE_DIR") or DEFAULT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_screenshot(page, name: str, **options) -> Path:
    """The page's screenshot as ``name`` in ``screenshot_dir()``, reduced to 256 colours without dithering
    (text stays crisp, the file a fraction of the size); ``options`` go to Playwright's ``screenshot``."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot(**options))).convert("RGB")
    path = screenshot_dir() / name
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path
