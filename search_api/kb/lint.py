"""``helpdesk lint``: every problem of every article, as ``file:line: message``.

Stricter than the build: the build indexes an article with few example
questions, lint asks for at least ``MIN_QUESTIONS`` because they are what the
CI test and the evaluation check the article against.
"""

from __future__ import annotations

from pathlib import Path

from search_api.kb.articles import ArticleError, field_line, load_articles

MIN_QUESTIONS = 3


def lint(root: Path, languages: tuple[str, ...]) -> tuple[list[ArticleError], int]:
    """Return (problems, number of files checked)."""
    result = load_articles(root, languages)
    problems = list(result.errors)
    for article in result.articles:
        if len(article.questions) < MIN_QUESTIONS:
            raw = (root / article.path).read_text(encoding="utf-8")
            line = field_line(raw, "questions") if "questions" in raw else 1
            problems.append(
                ArticleError(
                    article.path,
                    line,
                    f"{len(article.questions)} example questions; write at least {MIN_QUESTIONS}",
                )
            )
        if len(set(article.questions)) != len(article.questions):
            raw = (root / article.path).read_text(encoding="utf-8")
            problems.append(ArticleError(article.path, field_line(raw, "questions"), "duplicate example question"))
    problems.sort(key=lambda p: (p.path, p.line))
    return problems, len(result.articles) + len(result.errors)
