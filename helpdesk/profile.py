"""The bot's profile: what the bot says about the company, derived, never written in the bot.

``GET /bot/profile?lang=de`` gives the action server the company and assistant
names, the hotline, the scope sentence and the handoff topics. The names and
the hotline come from the deployment configuration (helpdesk/deployment.py);
the scope and the topics are derived from the knowledge base as it is served
(every category of ``config/routing.yml`` that has public articles, in the
routing file's order, then "other") and named by the deployment's ``topics``,
else by the products of the category's articles. So a new KB, routing file or
configuration changes what the bot says without retraining it.

``consistency_warnings`` is the same derivation seen from the author's side:
``helpdesk lint`` prints where the routing file and the KB disagree.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from helpdesk.deployment import Deployment
from helpdesk.handoffs.routing import OTHER_CATEGORY, RoutingConfig
from search_api.kb.articles import Article, field_line
from search_api.yaml_lines import key_lines

MAX_PRODUCTS = 3
MAX_WORDS = 80
OTHER_TITLE = {"en": "Something else", "de": "Etwas anderes"}
SCOPE_SENTENCE = {"en": "I can answer questions about {scope}.", "de": "Ich beantworte Fragen zu {scope}."}
AND = {"en": "and", "de": "und"}
_WORD = re.compile(r"[\w][\w-]*", re.UNICODE)


def join_words(items: list[str], lang: str) -> str:
    """ "a, b and c" in the language."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND.get(lang, AND['en'])} {items[-1]}"


def public_by_category(articles: Iterable[Article]) -> dict[str, list[Article]]:
    grouped: dict[str, list[Article]] = {}
    for article in articles:
        if article.audience == "public" and article.category:
            grouped.setdefault(article.category, []).append(article)
    return grouped


def products(articles: list[Article], lang: str | None = None) -> list[str]:
    """The category's products, most articles first (those in ``lang`` when it has any)."""
    chosen = [a for a in articles if a.lang == lang] or articles
    counts = Counter(a.product for a in chosen if a.product)
    return [name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def topic_title(category: str, lang: str, deployment: Deployment, articles: list[Article]) -> str:
    named = deployment.text(deployment.topics.get(category), lang)
    if named:
        return named
    if category == OTHER_CATEGORY:
        return OTHER_TITLE.get(lang, OTHER_TITLE["en"])
    found = products(articles, lang)[:MAX_PRODUCTS]
    return " / ".join(found) if found else category.replace("-", " ").capitalize()


def _words(text: str) -> set[str]:
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if len(w) >= 3 and not w.isdigit()}


def category_words(
    routing: RoutingConfig, deployment: Deployment, grouped: dict[str, list[Article]]
) -> dict[str, list[str]]:
    """Words that name each category in a typed answer ("it's about my invoice"): the category,
    its topic names in every language, its products and its articles' tags. A word that
    names several categories, or the company, says nothing about the topic and is dropped."""
    raw: dict[str, set[str]] = {}
    for category in routing.categories:
        articles = grouped.get(category, [])
        words = _words(category.replace("-", " ")) | {category}
        for lang in deployment.languages:
            words |= _words(topic_title(category, lang, deployment, articles))
        for article in articles:
            words |= _words(article.product or "")
            words |= {t.lower() for t in article.tags if len(t) >= 3}
        raw[category] = words
    seen = Counter(w for words in raw.values() for w in words)
    company = _words(deployment.company)
    return {
        category: sorted(w for w in words if seen[w] == 1 and w not in company)[:MAX_WORDS]
        for category, words in raw.items()
    }


def build_profile(
    deployment: Deployment, routing: RoutingConfig, articles: Iterable[Article], lang: str
) -> dict[str, Any]:
    grouped = public_by_category(articles)
    topics: list[dict[str, Any]] = [
        {
            "id": category,
            "title": topic_title(category, lang, deployment, grouped[category]),
            "products": products(grouped[category], lang)[:MAX_PRODUCTS],
        }
        for category in routing.categories
        if category != OTHER_CATEGORY and grouped.get(category)
    ]
    scope = join_words([t["title"] for t in topics], lang)
    topics.append({"id": OTHER_CATEGORY, "title": topic_title(OTHER_CATEGORY, lang, deployment, []), "products": []})
    urls = deployment.urls
    return {
        "lang": lang,
        "languages": list(deployment.languages),
        "company": deployment.company,
        "assistant": deployment.assistant,
        "hotline": deployment.support.hotline or "",
        "hours": deployment.text(deployment.support.hours, lang) or "",
        "support_email": deployment.support.email or "",
        "scope": scope,
        "scope_sentence": SCOPE_SENTENCE.get(lang, SCOPE_SENTENCE["en"]).format(scope=scope) if scope else "",
        "topics": topics,
        "categories": category_words(routing, deployment, grouped),
        "urls": {
            "public": urls.public,
            "website": urls.website,
            "contact": urls.contact,
            "privacy_policy": urls.privacy_policy,
        },
    }


router = APIRouter(tags=["bot"])


@router.get("/bot/profile", summary="What the bot says about this deployment (company, hotline, scope, topics)")
def bot_profile(request: Request, lang: Literal["de", "en"] | None = Query(default=None)) -> JSONResponse:
    state = request.app.state
    deployment: Deployment = state.deployment
    language = lang or deployment.default_language
    index = state.search.index
    key = (index.version, language)
    cache = getattr(state, "bot_profiles", None)
    if cache is None or len(cache) > 8:
        cache = state.bot_profiles = {}
    if key not in cache:  # an index version never changes; a reindex brings a new one
        cache[key] = build_profile(deployment, state.routing, index.articles.values(), language)
    return JSONResponse(cache[key], headers={"Cache-Control": "public, max-age=60"})


def consistency_warnings(
    deployment: Deployment, routing: RoutingConfig, articles: Iterable[Article], articles_dir: Path
) -> list[str]:
    """Where the deployment, the routing file and the KB disagree, as ``file:line: warning: ...``."""
    articles = list(articles)
    grouped = public_by_category(articles)
    routing_path = Path(routing.source)
    try:
        routing_lines = key_lines(routing_path.read_text(encoding="utf-8"))
    except OSError:
        routing_lines = {}
    warnings = []
    for category in routing.categories:
        if category != OTHER_CATEGORY and category not in grouped:
            line = routing_lines.get(("categories", category), 1)
            warnings.append(
                f"{routing_path}:{line}: warning: category {category!r} has no public articles: "
                "the bot offers it as no topic and never answers it"
            )
    for article in sorted(articles, key=lambda a: a.path):
        if article.category and article.category not in routing.categories:
            raw = (articles_dir / article.path).read_text(encoding="utf-8")
            warnings.append(
                f"{articles_dir / article.path}:{field_line(raw, 'category')}: warning: category "
                f"{article.category!r} is in no team's hands: add it to {routing_path.name} `categories`"
            )
        elif not article.category and article.audience == "public":
            warnings.append(
                f"{articles_dir / article.path}:1: warning: no category: a handoff after this article goes to 'other'"
            )
    deployment_path = Path(deployment.source)
    try:
        deployment_lines = key_lines(deployment_path.read_text(encoding="utf-8"))
    except OSError:
        deployment_lines = {}
    for category in deployment.topics:
        if category not in routing.categories:
            line = deployment_lines.get(("topics", category), 1)
            warnings.append(
                f"{deployment_path}:{line}: warning: topic {category!r} is not a category of {routing_path.name}"
            )
    return warnings
