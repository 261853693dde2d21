"""Word documents (``.docx``): mammoth turns paragraph styles into HTML, htmltext.py into markdown.

The style map is mammoth's own (Heading 1–6 as ``h1``–``h6``, numbered and bulleted paragraphs as
lists, tables as tables, bold and italic) plus the *Title* style as the document's title; pictures
are left out (a draft links no embedded files). The document is split at its top-level headings
(documents.py). Before mammoth reads the archive, its members are checked: a ZIP without
``word/document.xml`` is no Word document, and members that would unpack to more than
``MAX_UNPACKED_BYTES`` are refused, so a small hostile file cannot fill the memory.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import mammoth  # type: ignore[import-untyped]  # mammoth ships no type information

from helpdesk.kbimport.common import modified_date
from helpdesk.kbimport.documents import DOCUMENT_TITLE_CLASS, document_articles, read_document, split_sections
from helpdesk.kbimport.htmltext import parse_html
from helpdesk.kbimport.model import DocumentError, SourceArticle

SUFFIXES = (".docx",)
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
STYLE_MAP = f"p[style-name='Title'] => h1.{DOCUMENT_TITLE_CLASS}:fresh"


def _no_images(image) -> dict[str, str]:
    return {}


def read_docx(path: Path) -> list[SourceArticle]:
    raw = read_document(path, b"PK\x03\x04", "a Word document (.docx)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "word/document.xml" not in names:
                raise DocumentError(path, "a ZIP archive, not a Word document (no word/document.xml in it)")
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise DocumentError(path, f"unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB")
            if any(m.flag_bits & 0x1 for m in members):
                raise DocumentError(path, "encrypted: save it without a password")
            archive.testzip()
    except zipfile.BadZipFile as exc:
        raise DocumentError(path, f"a damaged Word document: {exc}") from None
    try:
        result = mammoth.convert_to_html(
            io.BytesIO(raw), style_map=STYLE_MAP, convert_image=mammoth.images.img_element(_no_images)
        )
    except Exception as exc:  # any failure of the parser means a damaged file, never a crash
        raise DocumentError(path, f"a damaged Word document: {type(exc).__name__}: {exc}") from None
    nodes = parse_html(result.value).children
    title = path.stem.replace("-", " ").replace("_", " ")
    return document_articles(path, split_sections(nodes, title), modified_date(path))
