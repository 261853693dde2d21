"""Zammad knowledge-base answers.

Zammad's API returns knowledge-base objects as *assets*: tables by model name, each a mapping
id -> record (``POST /api/v1/knowledge_bases/init``, ``GET /api/v1/knowledge_bases/{kb}/answers/{id}
?full=1&include_contents=1``, alone or under ``"assets"``). An answer's text is in its translations:

    KnowledgeBaseAnswer[id]                    category_id, archived_at, internal_at, published_at, tags
    KnowledgeBaseAnswerTranslation[id]         title, answer_id, kb_locale_id, content_id, updated_at
    KnowledgeBaseAnswerTranslationContent[id]  body (HTML)
    KnowledgeBaseLocale[id]                    system_locale_id (-> Locale[id].locale, "de-de", when present)
    KnowledgeBaseCategoryTranslation[id]       title, category_id, kb_locale_id

Every translation becomes one draft. The reader is tolerant: a missing table means a missing
field (no locale: the language is detected), and a plain list of answers with ``translations``
(``[{"title", "content": {"body"}, "locale"}]``) is read too. Archived answers are skipped; an answer
that is only internal becomes an ``audience: internal`` draft; an answer neither published nor
internal is skipped unless unpublished articles are asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpdesk.kbimport.common import body_markdown, field, labels_of, text_field
from helpdesk.kbimport.model import SourceArticle, parse_date

KIND = "zammad"
TRANSLATIONS = "KnowledgeBaseAnswerTranslation"


def _assets(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and isinstance(data.get("assets"), dict):
        return data["assets"]
    return data if isinstance(data, dict) else {}


def looks_like(data: Any) -> bool:
    if isinstance(_assets(data).get(TRANSLATIONS), dict):
        return True
    records = data.get("answers") if isinstance(data, dict) else data
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and isinstance(r.get("translations"), list) for r in records[:5])
    )


def _table(assets: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    table = assets.get(name)
    if not isinstance(table, dict):
        return {}
    return {str(key): value for key, value in table.items() if isinstance(value, dict)}


def read(path: Path, data: Any) -> list[SourceArticle]:
    assets = _assets(data)
    if isinstance(assets.get(TRANSLATIONS), dict):
        return _read_assets(path, assets)
    return _read_list(path, data.get("answers") if isinstance(data, dict) else data)


def _status(answer: dict[str, Any]) -> tuple[str, str | None]:
    """(audience, skip reason) of an answer by its archived/published/internal timestamps."""
    if answer.get("archived_at"):
        return "public", "archived in Zammad"
    if answer.get("published_at") or not any(k in answer for k in ("published_at", "internal_at")):
        return "public", None
    if answer.get("internal_at"):
        return "internal", None
    return "public", "a draft in Zammad (neither published nor internal)"


def _read_assets(path: Path, assets: dict[str, Any]) -> list[SourceArticle]:
    answers = _table(assets, "KnowledgeBaseAnswer")
    contents = _table(assets, "KnowledgeBaseAnswerTranslationContent")
    kb_locales = _table(assets, "KnowledgeBaseLocale")
    system_locales = _table(assets, "Locale")
    category_titles = {
        (str(t.get("category_id")), str(t.get("kb_locale_id"))): text_field(t, "title")
        for t in _table(assets, "KnowledgeBaseCategoryTranslation").values()
    }
    articles = []
    for key, translation in sorted(_table(assets, TRANSLATIONS).items(), key=lambda kv: _number(kv[0])):
        answer = answers.get(str(translation.get("answer_id")), {})
        content = contents.get(str(translation.get("content_id")), {})
        kb_locale = kb_locales.get(str(translation.get("kb_locale_id")), {})
        locale = text_field(kb_locale, "locale") or text_field(
            system_locales.get(str(kb_locale.get("system_locale_id")), {}), "locale"
        )
        articles.append(
            _answer_article(
                path,
                answer,
                translation,
                body=content.get("body"),
                ident=f"{translation.get('answer_id', '?')}/{key}",
                locale=locale,
                section=category_titles.get((str(answer.get("category_id")), str(translation.get("kb_locale_id")))),
            )
        )
    return articles


def _read_list(path: Path, records: Any) -> list[SourceArticle]:
    articles = []
    for number, answer in enumerate(records if isinstance(records, list) else [], start=1):
        if not isinstance(answer, dict):
            continue
        for index, translation in enumerate(answer.get("translations") or [], start=1):
            if not isinstance(translation, dict):
                continue
            content = translation.get("content")
            articles.append(
                _answer_article(
                    path,
                    answer,
                    translation,
                    body=content.get("body") if isinstance(content, dict) else translation.get("body"),
                    ident=f"{field(answer, 'id') or number}/{index}",
                    locale=text_field(translation, "locale", "language"),
                    section=text_field(answer, "category", "category_title") or None,
                )
            )
    return articles


def _answer_article(
    path: Path,
    answer: dict[str, Any],
    translation: dict[str, Any],
    *,
    body: Any,
    ident: str,
    locale: str | None,
    section: str | None,
) -> SourceArticle:
    """One translation of a Zammad answer as an article to import (both export shapes)."""
    title = text_field(translation, "title")
    markdown, questions = body_markdown(title, str(body or ""), None)
    audience, skip = _status(answer)
    return SourceArticle(
        title=title,
        markdown=markdown,
        source=text_field(translation, "url") or f"{path}#answer-{ident}",
        origin=f"{path.name}#answer-{ident}",
        locale=locale or None,
        updated=parse_date(field(translation, "updated_at") or field(answer, "updated_at")),
        labels=labels_of(answer.get("tags")),
        section=section,
        questions=questions,
        audience=audience,
        skip_reason=skip,
    )


def _number(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (1 << 62, key)
