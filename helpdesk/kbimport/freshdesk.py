"""Freshdesk solution articles.

``GET /api/v2/solutions/folders/{id}/articles`` returns a list of ``{"id", "title", "description"
(HTML), "description_text", "status" (1 draft, 2 published), "tags", "folder_id", "category_id",
"updated_at", ...}``; a file may also hold ``{"articles": [...]}`` or one article. Freshdesk keeps
translations per language code, so an article with ``"language"`` (or ``"locale"``) gets it; others
are detected. ``seo_data.meta_keywords`` count as labels. The folder or category name is used
when the record carries it (``folder_name``, ``category_name``). Drafts (status 1) are skipped
unless unpublished articles are asked for.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from helpdesk.kbimport.common import body_markdown, field, labels_of, text_field
from helpdesk.kbimport.model import SourceArticle, SourceError, parse_date

KIND = "freshdesk"
DRAFT = 1


def looks_like(data: Any) -> bool:
    records = _records(data)
    return bool(records) and all(
        isinstance(r, dict) and "title" in r and ("description" in r or "description_text" in r) for r in records[:5]
    )


def _records(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        return list(data["articles"])
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and ("description" in data or "description_text" in data):
        return [data]
    return []


def read(path: Path, data: Any) -> list[SourceArticle]:
    articles = []
    for number, record in enumerate(_records(data), start=1):
        if not isinstance(record, dict):
            raise SourceError(path, f"article {number} of the Freshdesk export is not an object")
        ident = field(record, "id") or number
        title = text_field(record, "title")
        body = record.get("description")
        if not isinstance(body, str) or not body.strip():  # only the plain text: paragraphs by blank lines
            text = str(record.get("description_text") or "")
            body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
        url = text_field(record, "url", "html_url", "portal_url")
        markdown, questions = body_markdown(title, body, url or None)
        seo = record.get("seo_data")
        seo = seo if isinstance(seo, dict) else {}
        labels = labels_of(record.get("tags")) + labels_of(seo.get("meta_keywords"))
        status = record.get("status")
        articles.append(
            SourceArticle(
                title=title,
                markdown=markdown,
                source=url or f"{path}#{ident}",
                origin=f"{path.name}#{ident}",
                locale=text_field(record, "language", "locale", "lang") or None,
                updated=parse_date(field(record, "updated_at", "created_at")),
                labels=tuple(dict.fromkeys(labels)),
                section=text_field(record, "folder_name", "category_name") or None,
                questions=questions,
                skip_reason="a draft in Freshdesk (status 1)" if status in (DRAFT, "1", "draft") else None,
            )
        )
    return articles
