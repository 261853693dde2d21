"""Extraction of the desk's texts, the update of its catalogs, and the check that they are complete.

``python -m helpdesk.i18n update`` (``make catalogs``) extracts every text of the
code and the desk's templates (``babel.cfg``: ``_``, ``gettext``, ``ngettext``,
``pgettext``, ``N_``, ``{% trans %}``, and the desk's own ``msg`` and ``term``) and
merges it into each catalog (a language without one gets a new one): a new text
gets an empty translation, a text no longer in the code is dropped.
``python -m helpdesk.i18n check`` (``scripts/check``, and
tests/i18n in the suite) fails when a text of the code has no translation in a
language other than English (the source), such an entry is fuzzy, or a
translation's placeholders differ from its msgid (``%(name)s``, and the ``{name}``
of the inbox's scripts). So that it cannot pass on an empty extraction, it also
wants at least ``MIN_MESSAGES`` texts and one known German translation.
"""

from __future__ import annotations

import re
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

from helpdesk.i18n.catalogs import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, catalog_path, read_catalog

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"
KEYWORDS = {**DEFAULT_KEYWORDS, "msg": None, "term": ((1, "c"), 2)}
MIN_MESSAGES = 400  # the desk has more; an extraction that finds fewer has lost its sources
KNOWN = ("Log out", "Abmelden")  # a text of every page and its German translation
BRACES = re.compile(r"\{(\w+)\}")


def extract() -> Catalog:
    """Every text of the desk, as a catalog template (the .pot that is never written to disk)."""
    with MAPPING.open() as file:
        method_map, options_map = parse_mapping_cfg(file, str(MAPPING))
    template = Catalog(project="helpdesk desk", domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def render(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    # No line numbers: a catalog changes when a text does, not when code moves around it.
    write_po(buffer, catalog, width=100, sort_output=True, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


def update(template: Catalog | None = None) -> list[Path]:
    """Merge the extracted texts into every language's catalog; returns the files that changed."""
    template = extract() if template is None else template
    changed = []
    for language in LANGUAGES:
        path = catalog_path(language)
        if not path.exists():  # a new language: its catalog starts empty
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render(Catalog(locale=language, domain=DOMAIN, project="helpdesk desk", version="1")))
        catalog = read_catalog(language)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        text = render(catalog)
        if text != path.read_bytes():
            path.write_bytes(text)
            changed.append(path)
    return changed


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(s and s.strip() for s in strings)


def _script_placeholders(message: Message) -> list[str]:
    """The {name} placeholders the inbox's scripts fill in: a translation keeps them all."""
    wanted = set(BRACES.findall(message.id if isinstance(message.id, str) else message.id[0]))
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return [
        f"the translation has {{{', '.join(sorted(BRACES.findall(s)))}}}, not {{{', '.join(sorted(wanted))}}}"
        for s in strings
        if s and set(BRACES.findall(s)) != wanted
    ]


def problems(template: Catalog | None = None) -> list[str]:
    """What keeps the catalogs from being complete and right; empty when they are."""
    template = extract() if template is None else template
    found = [m for m in template if m.id]
    if len(found) < MIN_MESSAGES:
        return [f"only {len(found)} texts extracted (at least {MIN_MESSAGES} expected): is babel.cfg right?"]
    if not any(m.id == KNOWN[0] for m in found):
        return [f"{KNOWN[0]!r} was not extracted from the templates: is babel.cfg right?"]
    result = []
    for language in LANGUAGES:
        catalog = read_catalog(language)
        where = shown(catalog_path(language))
        for message in found:
            entry = catalog.get(message.id, message.context)
            label = f"{message.id!r}" + (f" ({message.context})" if message.context else "")
            origin = ", ".join(sorted({f for f, _ in message.locations}))
            if entry is None:
                result.append(f"{where}: missing {label} from {origin}: run `make catalogs`")
            elif language != DEFAULT_LANGUAGE and entry.fuzzy:
                result.append(f"{where}: fuzzy {label}: check the translation and remove the fuzzy flag")
            elif language != DEFAULT_LANGUAGE and not _translated(entry):
                result.append(f"{where}: no translation of {label} from {origin}")
            else:
                result.extend(f"{where}: {label}: {error}" for error in entry.check(catalog))
                result.extend(f"{where}: {label}: {error}" for error in _script_placeholders(entry))
    german = read_catalog("de").get(KNOWN[0])
    if german is None or german.string != KNOWN[1]:
        result.append(f"{KNOWN[0]!r} is not translated to {KNOWN[1]!r} in the German catalog")
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        for path in update():
            print(f"updated {shown(path)}")
        return 0
    if args == ["check"]:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f'catalogs: {len(found)} problem(s); docs/development.md, "Languages"', file=sys.stderr)
        return 1 if found else 0
    print("usage: python -m helpdesk.i18n update | check", file=sys.stderr)
    return 2
