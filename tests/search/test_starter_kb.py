"""The starter KB as customers will meet it: the authors' CI check.

Every example question in front matter must find its own article first, and
paraphrases that appear nowhere in the KB (written here, held out from the
articles) must find the right article in both languages, while questions no
article covers are refused.
"""

import shutil
from pathlib import Path

import pytest

from search_api.search.service import SearchService
from tests.conftest import make_settings

KB = Path(__file__).resolve().parents[2] / "kb" / "articles"

HELD_OUT = [
    ("The internet light on my Nordwind Box went red an hour ago", "en-router-no-internet"),
    ("Outlook says it can't reach the outgoing mail server", "en-mail-cannot-send"),
    ("my online shop doesn't show the chat button anymore", "en-shoptalk-widget-not-showing"),
    ("Where can I get last month's bill as a PDF?", "en-invoice-download"),
    ("Office closes immediately after I open it", "en-office-crash-on-start"),
    ("Seit heute Morgen geht bei mir gar kein Internet mehr, die Lampe ist rot", "de-router-kein-internet"),
    ("Ich habe mein Passwort vergessen und komme nicht mehr ins Kundenportal", "de-passwort-zuruecksetzen"),
    ("Mein WLAN fällt ständig aus", "de-wlan-bricht-ab"),
    ("Wie kündige ich meinen Vertrag?", "de-vertrag-kuendigen"),
    ("Die Synchronisierung von Nordwind Office zeigt einen Fehler", "de-sync-fehler"),
]
OUT_OF_SCOPE = [
    "What's the weather in Hamburg tomorrow?",
    "Can you recommend a good pizza place?",
    "Wer hat die Fußball-WM 2014 gewonnen?",
    "Schreib mir ein Gedicht über Katzen",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("starter")
    shutil.copytree(KB, root / "articles")
    settings = make_settings(root / "articles", root / "index")
    report = SearchService.build(settings)
    assert report.errors == []
    return SearchService.open(settings)


def test_every_example_question_finds_its_article(service):
    # The language is given, as the bot gives the conversation's language once it
    # knows it; several questions are mostly product names and error codes, which
    # no detector can place (the held-out tests below go through detection).
    misses = []
    for article in service.index.articles.values():
        for question in article.questions:
            result = service.search(question, lang=article.lang, audiences=("public", "internal"))
            if not result.hits or result.hits[0].article.id != article.id or not result.answerable:
                got = result.hits[0].article.id if result.hits else None
                misses.append(f"{article.path}: {question!r} -> {got} (answerable={result.answerable})")
    assert misses == [], "\n".join(misses)


@pytest.mark.parametrize("question, article_id", HELD_OUT)
def test_held_out_paraphrases(service, question, article_id):
    result = service.search(question)
    top = [h.article.id for h in result.hits[:3]]
    assert article_id in top, top
    assert result.answerable


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_is_refused(service, question):
    result = service.search(question)
    assert not result.answerable, (result.confidence, result.hits[0].article.id)


def test_internal_articles_are_not_shown_to_customers(service):
    result = service.search("escalation checklist for line faults")
    assert all(h.article.audience == "public" for h in result.hits)
