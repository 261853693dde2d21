"""The Jinja2 environment of the desk's pages, with ``jinja2.ext.i18n`` in the reader's language.

Each page is rendered with its reader's ``DeskLanguage`` as ``lang`` in the context;
``_()``, ``gettext``, ``ngettext``, ``pgettext`` and ``{% trans %}`` translate through it
(newstyle gettext: ``_("%(n)s tickets", n=3)``, the values escaped); ``history_note`` says a
history entry the desk wrote in that language (``helpdesk.i18n.history``). Autoescape is on
for every template: customer text is never markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from helpdesk.i18n.history import history_note


@pass_context
def _gettext(context: Context, message: str) -> str:
    return context["lang"].translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int) -> str:
    return context["lang"].translations.ngettext(singular, plural, num)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return context["lang"].translations.pgettext(message_context, message)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, num: int) -> str:
    return context["lang"].translations.npgettext(message_context, singular, plural, num)


@pass_context
def _history_note(context: Context, note: Any) -> str:
    return history_note(context["lang"], note)


def desk_environment(*folders: Path) -> Environment:
    """An environment loading templates from ``folders`` (the first that has a name wins)."""
    env = Environment(loader=FileSystemLoader(list(folders)), autoescape=True, extensions=["jinja2.ext.i18n"])
    install: Any = getattr(env, "install_gettext_callables")  # noqa: B009 (added by the extension: no type knows it)
    install(_gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext)
    env.globals["history_note"] = _history_note  # a ticket's history entry the desk wrote, in the reader's language
    return env
