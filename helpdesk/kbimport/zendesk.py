"""Zendesk Guide (help center) articles, as the API's list endpoint gives them.

``GET /api/v2/help_center/articles.json`` (or ``/{locale}/articles.json``) returns
``{"articles": [{"id", "title", "body" (HTML), "locale", "html_url", "updated_at", "label_names",
"section_id", "draft", ...}], "sections": [...]?}``; a file may also be a bare list of such
articles, or one article. The section's name is used when the export includes ``sections``.
Drafts (``"draft": true``) are skipped unless unpublished articles are asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpdesk.kbimport.common import body_markdown, field, labels_of, text_field
from helpdesk.kbimport.model import SourceArticle, SourceError, parse_date

KIND = "zendesk"


def looks_like(data: Any) -> bool:
    records = _records(data)
    return (
        bool(records)
        and all(isinstance(r, dict) and "body" in r and "title" in r for r in records[:5])
        and any(key in records[0] for key in ("html_url", "section_id", "label_names", "locale"))
    )


def _records(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        return list(data["articles"])
    if isinstance(data, dict) and isinstance(data.get("article"), dict):
        return [data["article"]]
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and "body" in data:
        return [data]
    return []


def read(path: Path, data: Any) -> list[SourceArticle]:
    sections = {}
    if isinstance(data, dict) and isinstance(data.get("sections"), list):
        sections = {s.get("id"): text_field(s, "name") for s in data["sections"] if isinstance(s, dict)}
    articles = []
    for number, record in enumerate(_records(data), start=1):
        if not isinstance(record, dict):
            raise SourceError(path, f"article {number} of the Zendesk export is not an object")
        ident = field(record, "id") or number
        title = text_field(record, "title", "name")
        url = text_field(record, "html_url", "url")
        markdown, questions = body_markdown(title, str(record.get("body") or ""), url or None)
        skip = None
        if record.get("draft") is True:
            skip = "a draft in Zendesk"
        elif record.get("outdated") is True:
            skip = "marked outdated in Zendesk"
        articles.append(
            SourceArticle(
                title=title,
                markdown=markdown,
                source=url or f"{path}#{ident}",
                origin=f"{path.name}#{ident}",
                locale=text_field(record, "locale") or None,
                updated=parse_date(field(record, "updated_at", "edited_at", "created_at")),
                labels=labels_of(record.get("label_names")),
                section=sections.get(record.get("section_id")) or None,
                questions=questions,
                skip_reason=skip,
            )
        )
    return articles
