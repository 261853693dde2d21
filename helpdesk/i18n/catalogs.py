"""The desk's message catalogs, read from their .po files and compiled once per process.

The catalogs are ``helpdesk/locale/<language>/LC_MESSAGES/messages.po``; the
repository holds no compiled ``.mo`` file. The first time a process needs a
language, its catalog is read with Babel's .po reader and compiled in memory with
its .mo writer into a ``babel.support.Translations``; the app factory loads every
language at its start, so a broken catalog stops the start instead of a page.
Fuzzy and empty entries are left out, so such a text shows in English (the msgid).
English is the source language: its catalog translates nothing and holds the
plural rule.
"""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("en", "de")  # the desk's languages; the first is the fallback
DEFAULT_LANGUAGE = LANGUAGES[0]
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}  # each in its own language, for the switch


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


@functools.cache
def translations(language: str) -> Translations:
    """The compiled catalog of one of ``LANGUAGES`` (KeyError for another)."""
    if language not in LANGUAGES:
        raise KeyError(f"the desk speaks {', '.join(LANGUAGES)}, not {language!r}")
    buffer = BytesIO()
    write_mo(buffer, read_catalog(language), use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def load_all() -> None:
    for language in LANGUAGES:
        translations(language)
