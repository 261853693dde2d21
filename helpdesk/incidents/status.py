"""The public status page: ``/status`` (HTML), ``/status.json`` and the Atom feed ``/status.atom``.

Customers and their feed readers see every active incident and those resolved in the last
``RECENT_DAYS`` days, in the visitor's language (``?lang=``, else ``Accept-Language``, else the
deployment's first language), with the public message, what is affected and the timeline. No
agent names and no internal notes leave the desk here. The answers are cached briefly by
browsers and proxies (``MAX_AGE``), so a burst of visitors during an outage costs one query a
minute per replica at most.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel

from helpdesk.handoffs.store import HandoffStore
from helpdesk.incidents.links import LINK_ACTIONS
from helpdesk.incidents.store import RECENT_DAYS, IncidentStore, message_in
from helpdesk.profile import public_by_category, topic_title

MAX_AGE = 60
ATOM = "http://www.w3.org/2005/Atom"
templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
router = APIRouter(tags=["status"])

# The page's texts per language; a language the deployment serves must have all of them.
TEXTS: dict[str, dict[str, str]] = yaml.safe_load((Path(__file__).parent / "texts.yml").read_text(encoding="utf-8"))
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


class UpdateOut(BaseModel):
    at: datetime
    status: str
    status_label: str
    message: str | None


class PublicIncidentOut(BaseModel):
    id: int
    title: str
    status: str
    status_label: str
    active: bool
    category: str
    topic: str
    product: str | None
    everywhere: bool
    postal_prefixes: list[str]
    area: str
    started_at: datetime
    expected_resolution_at: datetime | None
    resolved_at: datetime | None
    message: str | None
    updates: list[UpdateOut]


class StatusOut(BaseModel):
    lang: str
    generated_at: datetime
    recent_days: int
    active: list[PublicIncidentOut]
    resolved: list[PublicIncidentOut]


def visitor_language(request: Request, lang: str | None) -> str:
    """``?lang=`` if the deployment serves it, else the best of ``Accept-Language``, else the
    deployment's first language."""
    served = list(request.app.state.deployment.languages)
    if lang is not None and lang in served:
        return lang
    wanted = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = code.strip().lower().split("-")[0]
        if primary in served and quality > 0:
            wanted.append((-quality, position, primary))
    return min(wanted)[2] if wanted else served[0]


def public_view(incident: dict[str, Any], lang: str, topics: dict[str, str]) -> dict[str, Any]:
    """What the public may know of an incident: no agents' names, no notes, no team."""
    texts = TEXTS[lang]
    updates = [
        {
            "at": e["at"],
            "status": e["status"],
            "status_label": texts[e["status"]],
            "message": message_in(e["messages"], lang),
        }
        for e in reversed(incident["events"])
        if e["action"] not in LINK_ACTIONS  # which tickets are linked is for agents only
    ]
    keep = (
        "id",
        "title",
        "status",
        "active",
        "category",
        "product",
        "everywhere",
        "postal_prefixes",
        "started_at",
        "expected_resolution_at",
        "resolved_at",
    )
    area = (
        texts["everywhere"]
        if incident["everywhere"]
        else texts["postal"].format(prefixes=", ".join(incident["postal_prefixes"]))
    )
    return {
        **{key: incident[key] for key in keep},
        "status_label": texts[incident["status"]],
        "area": area,
        "topic": topics.get(incident["category"], incident["category"]),
        "message": message_in(incident["messages"], lang),
        "updates": updates,
    }


def status_data(request: Request, lang: str) -> dict[str, Any]:
    state = request.app.state
    grouped = public_by_category(state.search.index.articles.values())
    topics = {c: topic_title(c, lang, state.deployment, grouped.get(c, [])) for c in state.routing.categories}
    incidents = [public_view(i, lang, topics) for i in IncidentStore(state.handoffs).public()]
    return {
        "lang": lang,
        "generated_at": state.handoffs.clock(),
        "recent_days": RECENT_DAYS,
        "active": [i for i in incidents if i["active"]],
        "resolved": [i for i in incidents if not i["active"]],
    }


def cache_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "Vary": "Accept-Language",
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }


def local_time(request: Request, lang: str):
    tz = request.app.state.routing.tz
    pattern = "%d.%m.%Y, %H:%M Uhr" if lang == "de" else "%d %b %Y, %H:%M"

    def show(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime(pattern) + f" ({tz.key})" if moment else "-"

    return show


@router.get("/status", response_class=HTMLResponse, summary="Public status page: known incidents")
def status_page(request: Request, lang: str | None = Query(None, max_length=8)) -> HTMLResponse:
    lang = visitor_language(request, lang)
    deployment = request.app.state.deployment
    html = templates.get_template("status.html").render(
        data=status_data(request, lang),
        t=TEXTS[lang],
        lang=lang,
        local=local_time(request, lang),
        company=deployment.company,
        languages=[(code, LANGUAGE_NAMES[code]) for code in deployment.languages],
    )
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return HTMLResponse(html, headers=cache_headers({"Content-Security-Policy": policy, "Content-Language": lang}))


@router.get("/status.json", response_model=StatusOut, summary="Known incidents as JSON")
def status_json(request: Request, lang: str | None = Query(None, max_length=8)) -> Response:
    lang = visitor_language(request, lang)
    body = StatusOut.model_validate(status_data(request, lang)).model_dump_json()
    return Response(body, media_type="application/json", headers=cache_headers({"Content-Language": lang}))


@router.get(
    "/status.atom",
    summary="Known incidents as an Atom feed",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
def status_atom(request: Request, lang: str | None = Query(None, max_length=8)) -> Response:
    lang = visitor_language(request, lang)
    data = status_data(request, lang)
    base = request.app.state.settings.public_base_url.rstrip("/")
    texts = TEXTS[lang]
    stamp = HandoffStore.to_json
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed", {"xml:lang": lang})

    def child(parent, tag: str, text: str | None = None, **attrs: str) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    company = request.app.state.deployment.company
    child(feed, "id", f"{base}/status.atom?lang={lang}")
    child(feed, "title", f"{company}: {texts['title']}" if company else texts["title"])
    child(feed, "link", rel="self", href=f"{base}/status.atom?lang={lang}")
    child(feed, "link", rel="alternate", type="text/html", href=f"{base}/status?lang={lang}")
    incidents = data["active"] + data["resolved"]
    latest = max((i["updates"][0]["at"] for i in incidents if i["updates"]), default=data["generated_at"])
    child(feed, "updated", stamp(latest))
    child(child(feed, "author"), "name", company or texts["title"])
    for incident in incidents:
        entry = child(feed, "entry")
        child(entry, "id", f"{base}/status#incident-{incident['id']}")
        child(entry, "title", f"{incident['status_label']}: {incident['title']}")
        child(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            href=f"{base}/status?lang={lang}#incident-{incident['id']}",
        )
        child(entry, "published", stamp(incident["started_at"]))
        updated = incident["updates"][0]["at"] if incident["updates"] else incident["started_at"]
        child(entry, "updated", stamp(updated))
        lines = [
            f"{texts['affected']}: {incident['topic']}" + (f" ({incident['product']})" if incident["product"] else ""),
            f"{texts['area']}: {incident['area']}",
        ]
        child(entry, "content", "\n".join([incident["message"] or "", *lines]).strip(), type="text")
    body = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(
        body, media_type="application/atom+xml; charset=utf-8", headers=cache_headers({"Content-Language": lang})
    )
