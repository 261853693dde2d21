"""``helpdesk lint``: every problem of every article, as ``file:line: message``.

Stricter than the build: the build indexes an article with few example
questions, lint asks for at least ``MIN_QUESTIONS`` because they are what the
CI test and the evaluation check the article against.

Drafts (``drafts=True``) may carry ``guessed: [...]``, the fields ``helpdesk import``
guessed; an article may not: its author confirms the guesses and deletes the list
before moving the draft into the articles.
"""

from __future__ import annotations

from pathlib import Path

from search_api.kb.articles import ArticleError, field_line, load_articles

MIN_QUESTIONS = 3


def lint(root: Path, languages: tuple[str, ...], drafts: bool = False) -> tuple[list[ArticleError], int]:
    """Return (problems, number of files checked)."""
    result = load_articles(root, languages)
    problems = list(result.errors)
    for article in result.articles:
        if len(article.questions) < MIN_QUESTIONS:
            raw = (root / article.path).read_text(encoding="utf-8")
            line = field_line(raw, "questions") if "questions" in raw else 1
            count = f"{len(article.questions)} example questions" if article.questions else "no example questions yet"
            problems.append(ArticleError(article.path, line, f"{count}; write at least {MIN_QUESTIONS}"))
        if article.guessed and not drafts:
            raw = (root / article.path).read_text(encoding="utf-8")
            problems.append(
                ArticleError(
                    article.path,
                    field_line(raw, "guessed"),
                    f"{', '.join(article.guessed)} guessed by the import: confirm, then delete 'guessed'",
                )
            )
        if len(set(article.questions)) != len(article.questions):
            raw = (root / article.path).read_text(encoding="utf-8")
            problems.append(ArticleError(article.path, field_line(raw, "questions"), "duplicate example question"))
    problems.sort(key=lambda p: (p.path, p.line))
    return problems, len(result.articles) + len(result.errors)
