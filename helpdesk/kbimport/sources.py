"""Which reader reads which input: by ``--format``, else by the file's suffix and, for JSON, its shape.

A Word document or PDF that cannot be used (damaged, encrypted, not what its suffix says) is
reported as skipped and the other inputs are read; an export or text file that cannot be read
ends the import (``SourceError``).

A folder is read recursively (hidden files and folders left out), each file by its suffix
(``--format`` then only says which export its ``.json`` files are). In a folder, the files a saved
page brings along (styles, scripts, pictures, fonts) are passed over silently and other unknown
files are reported as skipped; a file named on the command line that no reader knows is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from helpdesk.kbimport import files, freshdesk, pdf, word, zammad, zendesk
from helpdesk.kbimport.common import load_json
from helpdesk.kbimport.model import DocumentError, SourceArticle, SourceError, Unread

JSON_READERS = {"zammad": zammad, "zendesk": zendesk, "freshdesk": freshdesk}  # detection order
FILE_READERS: dict[str, Callable[[Path], list[SourceArticle]]] = {
    "html": files.read_html,
    "markdown": files.read_markdown,
    "text": files.read_text_file,
    "docx": word.read_docx,
    "pdf": pdf.read_pdf,
}
FORMATS = ("auto", *JSON_READERS, *FILE_READERS)
SUFFIX_FORMAT = {
    **dict.fromkeys(files.HTML_SUFFIXES, "html"),
    **dict.fromkeys(files.MARKDOWN_SUFFIXES, "markdown"),
    **dict.fromkeys(files.TEXT_SUFFIXES, "text"),
    **dict.fromkeys(word.SUFFIXES, "docx"),
    **dict.fromkeys(pdf.SUFFIXES, "pdf"),
    ".json": "json",
}
ASSET_SUFFIXES = {
    ".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp",
    ".woff", ".woff2", ".ttf", ".otf", ".eot",
}  # fmt: skip


def _json_kind(path: Path, data: Any, wanted: str) -> str:
    if wanted != "auto":
        if not JSON_READERS[wanted].looks_like(data):
            raise SourceError(path, f"not a {wanted.capitalize()} export: {_shape(data)}")
        return wanted
    for kind, reader in JSON_READERS.items():
        if reader.looks_like(data):
            return kind
    raise SourceError(path, f"unknown JSON format, not a Zendesk, Freshdesk or Zammad export: {_shape(data)}")


def _shape(data: Any) -> str:
    if isinstance(data, dict):
        return "an object with the keys " + ", ".join(sorted(map(str, data))[:8]) if data else "an empty object"
    if isinstance(data, list):
        if not data:
            return "an empty list"
        first = data[0]
        keys = ", ".join(sorted(map(str, first))[:8]) if isinstance(first, dict) else type(first).__name__
        return f"a list whose first item has {keys}"
    return f"a JSON {type(data).__name__}"


def read_file(path: Path, wanted: str = "auto") -> list[SourceArticle]:
    kind = wanted if wanted != "auto" else SUFFIX_FORMAT.get(path.suffix.lower())
    if kind is None:
        raise SourceError(
            path,
            f"unknown format ({path.suffix or 'no suffix'}): give --format, or a .json export, "
            ".html/.htm pages, .md/.markdown or .txt files, .docx or .pdf documents",
        )
    if kind in FILE_READERS:
        return FILE_READERS[kind](path)
    data = load_json(path)
    return JSON_READERS[_json_kind(path, data, wanted if wanted in JSON_READERS else "auto")].read(path, data)


def _folder_files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or not path.is_file():
            continue
        yield path


def _read_into(path: Path, wanted: str, articles: list[SourceArticle], unread: list[Unread]) -> None:
    try:
        articles.extend(read_file(path, wanted))
    except DocumentError as exc:
        unread.append(Unread(exc.path, exc.message))


def read_sources(paths: Iterable[Path], wanted: str = "auto") -> tuple[list[SourceArticle], list[Unread]]:
    """Every article of every input; a ``SourceError`` for the first input that cannot be read."""
    articles: list[SourceArticle] = []
    unread: list[Unread] = []
    for path in paths:
        path = path.absolute()  # a file's draft names it as its source: the same file however it was given
        if path.is_dir():
            for member in _folder_files(path):
                suffix = member.suffix.lower()
                kind = SUFFIX_FORMAT.get(suffix)
                if kind is None:
                    if suffix not in ASSET_SUFFIXES:
                        unread.append(Unread(str(member), f"unsupported file type ({suffix or 'no suffix'})"))
                    continue
                # in a folder, the suffix picks the reader; --format only says which export a .json is
                _read_into(member, wanted if kind == "json" and wanted in JSON_READERS else "auto", articles, unread)
        elif path.is_file():
            _read_into(path, wanted, articles, unread)
        else:
            raise SourceError(path, "no such file or folder")
    return articles, unread
