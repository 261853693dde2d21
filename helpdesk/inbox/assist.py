"""Agent assist: the knowledge-base articles that match a ticket's summary.

The same search the bot uses (``app.state.search``, search_api's public
service), asked with the ticket's problem description, product and category,
and with internal articles included: agents may read what customers may not.
Each suggestion carries the article's public link (public articles only: a
customer cannot open an internal one) and its answer passage: the same passage
the bot shows a customer for that hit (``search_api.search.passage``: the steps
of the matching how-to, not the article's introduction), as markdown, so the
workspace can put either into the live reply with one click.
"""

from __future__ import annotations

from typing import Any

from search_api.search.passage import hit_passage
from search_api.search.service import snippet

AGENT_AUDIENCES = ("public", "internal")
MAX_QUERY = 1000


def ticket_query(view: dict[str, Any]) -> str:
    summary = view["summary"]
    parts = [summary.get("product") or "", summary.get("description") or ""]
    return " ".join(p for p in parts if p).strip()[:MAX_QUERY]


def suggestions(state, view: dict[str, Any], base_url: str, top_k: int = 5) -> list[dict[str, Any]]:
    """Articles for a ticket view, best first: id, title, section, audience, score, url (public only),
    passage (markdown) and passage_text (plain, for the preview)."""
    query = ticket_query(view)
    search = getattr(state, "search", None)
    if not query or search is None:
        return []
    result = search.search(query, lang=view.get("language"), top_k=top_k, audiences=AGENT_AUDIENCES)
    found = []
    for hit in result.hits:
        answer = hit_passage(search, result, hit)
        public = hit.article.audience == "public"
        url = None
        if public:
            anchor = answer.anchor if answer.markdown else hit.section.anchor
            url = f"{base_url}/articles/{hit.article.id}" + (f"#{anchor}" if anchor else "")
        found.append(
            {
                "article_id": hit.article.id,
                "title": hit.article.title,
                "section": answer.section if answer.markdown else hit.section.heading,
                "audience": hit.article.audience,
                "score": round(hit.score, 4),
                "url": url,
                # The bot's answer passage (markdown, as the customer's chat shows it); the matched
                # section's text only for an article without one.
                "passage": answer.markdown or snippet(hit.section.plain_text or hit.article.title, 600),
                "passage_text": answer.text or snippet(hit.section.plain_text or hit.article.title, 600),
            }
        )
    return found
