"""The desk in German as the documentation shows it, in Chromium against the real app under uvicorn.

A few hours of German tickets (new, overdue, claimed with a customer waiting, reassigned to billing,
escalated to the expert team, claimed by a colleague), made the way the bot and the agents make
them: the bot's ``POST /handoffs`` at the moment each came in, then claims, notes and moves through
the desk's own code. A German agent opens the inbox and a ticket's workspace, a German supervisor
the reports on two weeks of demo traffic. On each page: ``<html lang="de">``, no text of the
desk's catalog left in English (every multi-word English text the catalog translates, searched in
the page), no English sentence outside the tables' rows, nothing wider than the window, no text
cut off inside its box, no label broken over two lines. Each page's picture goes to
tests/screenshots.py's folder: docs/img/ under ``make screenshots``.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.messages.pofile import read_po

from helpdesk.app import create_app
from helpdesk.db import utcnow
from helpdesk.handoffs import api as handoff_api
from helpdesk.handoffs import moves
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.handoffs.schemas import Message
from helpdesk.reports.demo import demo_articles, generate
from tests.handoffs.conftest import SERVICE, handoff_payload, running
from tests.handoffs.test_workspace_browser import PASSWORD, axe_violations, browser, new_page  # noqa: F401
from tests.screenshots import save_screenshot

pytestmark = pytest.mark.browser
CATALOG = Path(__file__).resolve().parents[2] / "helpdesk" / "locale" / "de" / "LC_MESSAGES" / "messages.po"
# English sentences give themselves away by their small words; German text has none of them.
ENGLISH = re.compile(r"\b(the|and|of|to|with|for|from|your|you|is|are|this|that|by|no one|nobody)\b")
WIDTH = 1280


@cache
def catalog_english() -> tuple[list[str], str]:
    """The catalog's English texts of two words or more that German translates differently, and all the
    German translations in one text (an English text inside a German one is no leftover)."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    english: list[str] = []
    german: list[str] = []
    for message in catalog:
        ids = [str(i) for i in (message.id if isinstance(message.id, tuple | list) else (message.id,))]
        strings = [str(s) for s in (message.string if isinstance(message.string, tuple | list) else (message.string,))]
        german.extend(s for s in strings if s)
        for text in ids:
            if text and " " in text.strip() and "%(" not in text and "{" not in text and text not in strings:
                english.append(text)
    return english, "\n".join(german)


# The page's own words: every visible text but the rows of its tables (customers' and articles' data).
OWN_WORDS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent.closest('tbody, script, style, [hidden]') || !parent.getClientRects().length) continue;
    const text = walker.currentNode.textContent.trim();
    if (text) texts.push(text);
  }
  return texts;
}"""


def leftovers(page) -> list[str]:
    """The desk's English on the page: catalog texts shown untranslated, English sentences outside the
    tables' rows (where customers' and articles' own words are)."""
    text = page.locator("body").inner_text()
    english, german = catalog_english()
    found = [m for m in english if m in text and m not in german]
    found += [t for t in page.evaluate(OWN_WORDS) if ENGLISH.search(t)]
    return found


CUT_OFF = """() => {
  const cut = [];
  for (const e of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(e);
    if (style.display === 'none' || style.visibility === 'hidden' || !e.getClientRects().length) continue;
    const hides = ['hidden', 'clip'].includes(style.overflowX);
    const ellipsis = style.textOverflow === 'ellipsis' && (e.title || e.closest('[title]'));
    // A control or a box that hides its overflow shows less than its text.
    const control = ['BUTTON', 'SELECT', 'LABEL', 'TH', 'TD', 'A', 'SPAN', 'H1', 'H2', 'H3', 'DT', 'DD']
      .includes(e.tagName);
    if (e.matches('.tag, .badge') && e.getClientRects().length > 1) {  // a label broken over two lines
      cut.push(`${e.tagName.toLowerCase()}.${e.className} on ${e.getClientRects().length} lines: ${e.textContent}`);
      continue;
    }
    if ((hides || control) && !ellipsis && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 2
        && style.overflowX !== 'auto' && style.overflowX !== 'scroll') {
      const name = `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}`;
      cut.push(`${name}: ${e.textContent.trim().slice(0, 60)}`);
    }
  }
  return cut;
}"""


def check_page(page, name: str) -> None:
    assert page.locator("html").get_attribute("lang") == "de", name
    assert leftovers(page) == [], name
    wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], (name, wide)
    assert page.evaluate(CUT_OFF) == [], name
    assert axe_violations(page) == [], name


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/agent/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/agent")


def ticket(base: str, ago: int, description: str, urgency: str, category: str = "network", **changes) -> str:
    """A handoff as the bot posts it, ``ago`` minutes ago: the web service's clock for new handoffs is
    set back for the request (``helpdesk.handoffs.api.utcnow``), so its age and due time are real ones."""
    payload = handoff_payload(description=description, urgency=urgency, category=category)
    payload["conversation_id"] = secrets.token_hex(16)
    for key, value in changes.items():
        if key in payload:
            payload[key] = value
        else:
            payload["summary"][key] = value
    created = datetime.now(UTC) - timedelta(minutes=ago)
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(handoff_api, "utcnow", lambda: created)
        response = httpx.post(f"{base}/handoffs", json=payload, headers=SERVICE)
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


SOLVED = [{"title": "Ja, gelöst", "payload": "/affirm"}, {"title": "Nein, nicht gelöst", "payload": "/deny"}]


def wifi_conversation(ended: int) -> list[dict]:
    """The chat before the WLAN ticket, which ended ``ended`` minutes ago."""

    def at(minute: int) -> str:
        return minutes_ago(ended + 8 - minute).isoformat()

    return [
        {"sender": "customer", "text": "Hallo, mein WLAN bricht oben im Arbeitszimmer ständig ab", "timestamp": at(1)},
        {
            "sender": "bot",
            "text": "Das habe ich in unserer Hilfe gefunden: **Langsames WLAN verbessern**\n\n"
            "1. Stellen Sie den Router frei und erhöht auf, nicht in einen Schrank.\n"
            "2. Wechseln Sie in der Benutzeroberfläche auf das 5-GHz-Band.\n\nHat das Ihr Problem gelöst?",
            "timestamp": at(1),
            "buttons": SOLVED,
        },
        {"sender": "customer", "text": "/deny", "timestamp": at(5)},
        {
            "sender": "bot",
            "text": "Das tut mir leid. Soll ich Sie an eine Kollegin oder einen Kollegen übergeben? "
            "Sie bekommen eine Zusammenfassung, Sie müssen nichts wiederholen.",
            "timestamp": at(5),
            "buttons": [{"title": "Ja, bitte", "payload": "/affirm"}, {"title": "Nein, danke", "payload": "/deny"}],
        },
        {"sender": "customer", "text": "/affirm", "timestamp": at(6)},
        {"sender": "bot", "text": "Wie erreicht Sie unser Support-Team?", "timestamp": at(6)},
        {"sender": "customer", "text": "jonas.becker@example.org oder 0171 2345678", "timestamp": at(8)},
    ]


@pytest.fixture
def reports(make_settings, tmp_path):
    """A desk of its own with two weeks of demo traffic, for the reports; its supervisor speaks German."""
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'reports.db'}")
    app = create_app(settings.model_copy(update={"public_base_url": "http://127.0.0.1"}))
    with running(app) as base:
        app.state.handoffs.create_agent("gerd", "Gerd Lange", [], PASSWORD, "supervisor")
        app.state.handoffs.set_language("gerd", "de")
        routing = RoutingConfig.load(settings.routing_file)
        generate(app.state.handoffs, routing, demo_articles(settings), weeks=2, seed=11, per_day=30)
        yield base


@pytest.fixture
def desk(make_settings):
    """The desk with a morning's German tickets."""
    app = create_app(make_settings().model_copy(update={"public_base_url": "http://127.0.0.1"}))
    with running(app) as base:
        store = app.state.handoffs
        store.create_agent("jana", "Jana Schulz", ["network", "billing"], PASSWORD)
        store.create_agent("tom", "Tom Richter", ["network"], PASSWORD)
        store.set_language("jana", "de")
        jana, tom = (store.authenticate(name, PASSWORD) for name in ("jana", "tom"))
        tickets = {
            "firmware": ticket(
                base,
                130,
                "Router startet nach dem Firmware-Update alle zehn Minuten neu",
                "high",
                product="Nordwind Box 7",
                contact={"name": "Klaus Weber", "email": "k.weber@example.org"},
            ),
            "outage": ticket(
                base,
                9,
                "Seit heute früh kein Internet, die Info-LED blinkt rot",
                "critical",
                impact="Arztpraxis, Kartenterminal und Telefon fallen aus",
                contact={
                    "name": "Praxis Dr. Yilmaz",
                    "email": "empfang@praxis-yilmaz.example",
                    "phone": "+49 40 555012",
                },
            ),
            "wifi": ticket(
                base,
                95,
                "WLAN im Obergeschoss bricht alle paar Minuten ab",
                "normal",
                product="Nordwind DSL",
                tried="Router neu gestartet; auf 5 GHz gewechselt (Artikel fx-de-wlan-langsam)",
                impact="Videokonferenzen im Homeoffice brechen ab",
                contact={"name": "Jonas Becker", "email": "jonas.becker@example.org", "phone": "0171 2345678"},
                transcript=wifi_conversation(ended=96),
                articles_shown=[
                    {
                        "article_id": "fx-de-wlan-langsam",
                        "title": "Langsames WLAN verbessern",
                        "score": 0.82,
                        "feedback": "not_solved",
                    }
                ],
            ),
            "invoice": ticket(
                base,
                150,
                "Novemberrechnung doppelt abgebucht",
                "normal",
                category="billing",
                product=None,
                tried="",
                impact=None,
                contact={"name": "Sabine Krüger", "email": "sabine.krueger@example.org"},
            ),
            "tariff": ticket(
                base,
                200,
                "Seit dem Tarifwechsel auf 250 Mbit/s kommt nur die Hälfte an",
                "low",
                contact={"name": "Familie Öztürk", "email": "oeztuerk@example.org"},
            ),
            "number": ticket(
                base,
                310,
                "Neue Rufnummer wird beim Angerufenen nicht angezeigt",
                "low",
                product="Nordwind Telefon",
                contact={"name": "Heike Braun", "email": "heike.braun@example.org"},
            ),
        }
        # What the agents did since, each at its moment (the store's clock, as helpdesk.reports.demo does).
        waiting = Message(
            sender="customer", text="Gerade wieder weg, jetzt auch unten im Wohnzimmer.", timestamp=minutes_ago(4)
        )
        for ago, action in (
            (300, lambda: store.claim(tickets["number"], "tom")),
            (120, lambda: store.claim(tickets["firmware"], "tom")),
            (80, lambda: store.claim(tickets["wifi"], "jana")),
            (62, lambda: store.add_note(tickets["wifi"], "jana", "Kanal 36 stark belegt; Mesh-Repeater vorschlagen.")),
            (4, lambda: store.append_messages(tickets["wifi"], [waiting], "customer")),
        ):
            store.clock = lambda ago=ago: minutes_ago(ago)
            action()
        store.clock = utcnow
        moves.escalate(app.state, tickets["firmware"], tom, "Bekannter Fehler der Firmware 7.57? Bitte prüfen.")
        moves.reassign(app.state, tickets["tariff"], jana, "Falscher Tarif gebucht, keine Leitungsstörung", "billing")
        yield app, base, tickets


def test_the_german_desk_reads_whole_and_german_on_every_page(desk, reports, browser):  # noqa: F811
    app, base, tickets = desk
    errors: list[str] = []
    page = new_page(browser, errors, locale="de-DE")
    page.set_viewport_size({"width": WIDTH, "height": 800})
    log_in(page, base, "jana")

    page.goto(f"{base}/agent?sort=priority")
    rows = page.locator("tbody tr")
    rows.nth(4).wait_for()
    assert rows.count() == 5  # her two teams' open tickets; the escalated one went to the experts
    statuses = dict(
        zip(
            page.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.ticket)"),
            page.locator("tbody td.status").all_inner_texts(),
            strict=True,
        )
    )
    assert statuses[tickets["wifi"]] == "in Bearbeitung Kunde/Kundin wartet" and statuses[tickets["outage"]] == "neu"
    assert page.locator("#inbox-waiting").inner_text() == "1 wartend"
    routed = page.locator("#routed-elsewhere li").all_inner_texts()
    assert any(tickets["firmware"] in item and "experts" in item for item in routed), routed
    save_screenshot(page, "inbox-de.png", full_page=True)
    check_page(page, "inbox")

    page.goto(f"{base}/agent/handoffs/{tickets['wifi']}")
    assert page.locator("h1 .status").inner_text() == "in Bearbeitung"
    clicked = page.locator("#transcript .clicked").all_inner_texts()
    assert clicked == ["Nein, nicht gelöst", "Ja, bitte"]
    assert "Langsames WLAN verbessern" in page.locator(".suggestion h3").first.inner_text()
    save_screenshot(page, "workspace-de.png")
    check_page(page, "workspace")
    assert errors == []

    supervisor = new_page(browser, errors, locale="de-DE")
    supervisor.set_viewport_size({"width": WIDTH, "height": 1150})
    log_in(supervisor, reports, "gerd")
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the routing file's zone
    two_weeks = f"start={today - timedelta(days=13)}&end={today}"  # the demo traffic's weeks
    supervisor.goto(f"{reports}/agent/reports?period=week&{two_weeks}")
    legend = supervisor.locator("svg.chart").first.locator("text:not([text-anchor])").all_text_contents()
    assert "vermutlich gelöst" in legend, legend  # "assumed" as the headline figure says it
    assert supervisor.locator("h1").inner_text() == "Berichte"
    assert int(supervisor.locator("[data-kpi=conversations]").inner_text().replace(".", "")) > 100
    save_screenshot(supervisor, "reports-de.png")
    check_page(supervisor, "reports")
    assert errors == []
