"""The German catalog against the texts of the code: complete, nothing fuzzy, placeholders kept.

``helpdesk.i18n.extract.problems`` is the check of ``scripts/check``; here it runs on the real
catalogs, and on broken copies of them to show that it fails when it should.
"""

from __future__ import annotations

import shutil

import pytest
from babel.messages.catalog import Catalog

from helpdesk.handoffs.models import PRIORITIES, ROLES, STATUSES
from helpdesk.handoffs.schemas import HandoffIn
from helpdesk.i18n import catalogs, extract
from helpdesk.i18n.terms import TERMS
from helpdesk.incidents.models import INCIDENT_STATUSES
from helpdesk.reports.queries import AGE_BUCKETS, PERIODS


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract.extract()


def test_every_text_of_the_desk_is_in_german(template):
    assert extract.problems(template) == []
    found = [m for m in template if m.id]
    assert len(found) >= extract.MIN_MESSAGES
    german = catalogs.translations("de")
    assert german.gettext("Log out") == "Abmelden"
    assert german.pgettext("status", "claimed") == "in Bearbeitung"
    assert german.ngettext("after %(num)s attempt", "after %(num)s attempts", 3) == "nach %(num)s Versuchen"
    # English is the source: its catalog has every text and translates none.
    english = catalogs.read_catalog("en")
    assert all(english.get(m.id, m.context) is not None for m in found)


def test_the_check_fails_on_a_missing_fuzzy_or_broken_translation(template, tmp_path, monkeypatch):
    shutil.copytree(catalogs.LOCALE_DIR, tmp_path / "locale")
    monkeypatch.setattr(catalogs, "LOCALE_DIR", tmp_path / "locale")
    german = catalogs.read_catalog("de")
    german["Log out"].string = ""
    german["Apply"].flags.add("fuzzy")
    german["There is no handoff %(ticket)s."].string = "Es gibt keine Übergabe %(ticket)d."
    german["New ticket {ticket}"].string = "Neues Ticket {id}"
    german.delete("Password")
    catalogs.catalog_path("de").write_bytes(extract.render(german))
    found = "\n".join(extract.problems(template))
    assert "no translation of 'Log out'" in found and "fuzzy 'Apply'" in found
    assert "missing 'Password'" in found
    assert "There is no handoff" in found and "New ticket {ticket}" in found
    assert "'Log out' is not translated to 'Abmelden'" in found


def test_the_check_cannot_pass_on_an_empty_extraction():
    assert extract.problems(Catalog())[0].startswith("only 0 texts extracted")
    few = Catalog()
    for n in range(extract.MIN_MESSAGES):
        few.add(f"text {n}")
    assert "'Log out' was not extracted" in extract.problems(few)[0]


def test_the_terms_name_every_value_the_desk_shows():
    listed = {(t.context, t.msgid) for t in TERMS}
    values = {
        "status": STATUSES,
        "priority": PRIORITIES,
        "role": ROLES,
        "incident status": INCIDENT_STATUSES,
        "reason": HandoffIn.model_fields["reason"].annotation.__args__,
        "age": [label for label, _ in AGE_BUCKETS],
        "period": PERIODS,
    }
    for context, words in values.items():
        assert {(context, w) for w in words} <= listed, context


def test_a_catalog_is_compiled_once_per_process_and_only_the_desks_languages():
    assert catalogs.translations("de") is catalogs.translations("de")
    with pytest.raises(KeyError):
        catalogs.translations("fr")
