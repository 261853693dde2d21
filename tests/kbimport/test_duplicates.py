"""The duplicate threshold against the starter KB: every article, rendered to HTML as a help centre would
serve it and converted back, is found as its own duplicate; no two different articles are."""

from __future__ import annotations

from helpdesk.kbimport.duplicates import THRESHOLD, DuplicateFinder
from helpdesk.kbimport.htmltext import html_to_markdown
from search_api.kb.articles import load_articles
from search_api.kb.render import render_markdown
from tests.conftest import STARTER_KB


def test_the_threshold_separates_copies_from_different_articles():
    articles = load_articles(STARTER_KB, ("de", "en")).articles
    assert len(articles) > 20
    for article in articles:
        own = DuplicateFinder()
        own.add(article.lang, article.path, article.title, article.body)
        converted = html_to_markdown(render_markdown(article.body)).markdown
        found = own.best(article.lang, article.title, converted)
        assert found is not None and found.score >= 99, (article.path, found)

        others = DuplicateFinder()
        for other in articles:
            if other.id != article.id:
                others.add(other.lang, other.path, other.title, other.body)
        assert others.best(article.lang, article.title, article.body) is None, article.path
    assert THRESHOLD == 85
