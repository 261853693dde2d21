"""``helpdesk lint``: every problem of every article, as ``file:line: message``.

Stricter than the build: the build indexes an article with few example
questions, lint asks for at least ``MIN_QUESTIONS`` because they are what the
CI test and the evaluation check the article against.

Procedures (kb/procedures) are held to the same rules for their example questions, and their
ids may not be an article's (``lint_procedures``).

Drafts (``drafts=True``) may carry ``guessed: [...]``, the fields ``helpdesk import``
guessed; an article may not: its author confirms the guesses and deletes the list
before moving the draft into the articles.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from search_api.kb.articles import ArticleError, field_line, load_articles
from search_api.kb.procedures import key_line, load_procedures

MIN_QUESTIONS = 3


def question_problems(path: str, questions: Sequence[str], line: int) -> list[ArticleError]:
    """Too few example questions, or one twice; ``line``: where the questions are."""
    problems = []
    if len(questions) < MIN_QUESTIONS:
        count = f"{len(questions)} example questions" if questions else "no example questions yet"
        problems.append(ArticleError(path, line, f"{count}; write at least {MIN_QUESTIONS}"))
    if len(set(questions)) != len(questions):
        problems.append(ArticleError(path, line, "duplicate example question"))
    return problems


def lint(root: Path, languages: tuple[str, ...], drafts: bool = False) -> tuple[list[ArticleError], int]:
    """Return (problems, number of files checked)."""
    result = load_articles(root, languages)
    problems = list(result.errors)
    for article in result.articles:
        raw = (root / article.path).read_text(encoding="utf-8")
        line = field_line(raw, "questions") if "questions" in raw else 1
        problems += question_problems(article.path, article.questions, line)
        if article.guessed and not drafts:
            problems.append(
                ArticleError(
                    article.path,
                    field_line(raw, "guessed"),
                    f"{', '.join(article.guessed)} guessed by the import: confirm, then delete 'guessed'",
                )
            )
    problems.sort(key=lambda p: (p.path, p.line))
    return problems, len(result.articles) + len(result.errors)


def lint_procedures(
    root: Path, languages: tuple[str, ...], article_ids: Collection[str] = ()
) -> tuple[list[ArticleError], int]:
    """Return (problems, number of procedure files checked) of the procedures below ``root``."""
    result = load_procedures(root, languages)
    problems: list[ArticleError] = list(result.errors)
    for procedure in result.procedures:
        path = root.parent / procedure.path
        problems += question_problems(procedure.path, procedure.spec.questions, key_line(path, "questions"))
        if procedure.id in article_ids:
            problems.append(ArticleError(procedure.path, key_line(path, "id"), f"'{procedure.id}' is an article's id"))
    problems.sort(key=lambda p: (p.path, p.line))
    return problems, len(result.procedures) + len(result.errors)
