"""What a customer's file is, by its bytes: an image the desk re-encodes, a PDF, or a refusal.

Neither the file's name nor the type the browser declared decides anything. The first bytes
must be those of PNG, JPEG, WebP or PDF; an image must then decode with Pillow as that very
format, within ``max_pixels`` (Pillow's decompression-bomb guard is held to the same bound),
and is written anew from its pixels: EXIF (the camera, the place), ICC profiles, text chunks and
anything appended after the image stay behind, and a file that only looks like an image
never reaches an agent. A PDF keeps its bytes; it must start with ``%PDF-`` and end with
``%%EOF``, and agents get it only as a download. SVG, HTML and everything else are refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

THUMBNAIL_SIZE = (320, 320)
# magic bytes -> (Pillow's format, content type, file suffix)
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", ("PNG", "image/png", ".png")),
    (b"\xff\xd8\xff", ("JPEG", "image/jpeg", ".jpg")),
)
PDF_TYPE = "application/pdf"


class Refused(ValueError):
    """The file is not taken; ``reason`` names the customer's message (texts.yml) and ``status`` the HTTP status."""

    def __init__(self, reason: str, status: int, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Checked:
    kind: str  # image | pdf
    content_type: str
    suffix: str
    data: bytes  # what the desk stores: the re-encoded image, or the PDF as sent
    thumbnail: bytes | None  # a PNG of at most THUMBNAIL_SIZE, for images
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> tuple[str, str, str] | None:
    """(Pillow's format, content type, suffix) of an image by its first bytes, or None."""
    for magic, found in IMAGE_MAGIC:
        if data.startswith(magic):
            return found
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP", "image/webp", ".webp"
    return None


def check(data: bytes, max_bytes: int, max_pixels: int) -> Checked:
    if not data:
        raise Refused("empty", 422)
    if len(data) > max_bytes:
        raise Refused("too_large", 413)
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    image = sniff(data)
    if image is None:
        raise Refused("wrong_type", 415, f"not PNG, JPEG, WebP or PDF (starts {data[:8]!r})")
    return _image(data, *image, max_pixels=max_pixels)


def _pdf(data: bytes) -> Checked:
    if b"%%EOF" not in data[-1024:]:
        raise Refused("unreadable", 422, "a PDF without its end (%%EOF)")
    return Checked("pdf", PDF_TYPE, ".pdf", data, None)


def _image(data: bytes, pillow_format: str, content_type: str, suffix: str, max_pixels: int) -> Checked:
    # Pillow's own guard raises DecompressionBombError above twice Image.MAX_IMAGE_PIXELS while opening
    # (the header only); the desk's bound, never above Pillow's, is checked before any pixel is decoded.
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as opened:
            if opened.width * opened.height > limit:
                raise Refused("too_many_pixels", 422, f"{opened.width}x{opened.height} pixels")
            opened.seek(0)  # an animation: its first picture
            opened.load()
            upright = ImageOps.exif_transpose(opened)
    except Refused:
        raise
    except Image.DecompressionBombError as exc:
        raise Refused("too_many_pixels", 422, str(exc)) from None
    except Exception as exc:  # Pillow's errors for broken files are many (OSError, SyntaxError, ValueError…)
        raise Refused("unreadable", 422, f"{pillow_format} that does not decode: {exc}") from None
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") and pillow_format != "JPEG" else "RGB"
    pixels = upright.convert(mode)
    # A new image from the pixels alone: no info dictionary (EXIF, ICC, text) comes along.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    options: dict[str, Any] = {"optimize": True} if pillow_format == "PNG" else {"quality": 90}
    clean.save(out, format=pillow_format, **options)
    small = clean.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    thumb = io.BytesIO()
    small.save(thumb, format="PNG")
    return Checked("image", content_type, suffix, out.getvalue(), thumb.getvalue(), clean.width, clean.height)
