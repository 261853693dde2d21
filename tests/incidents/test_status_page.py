"""The public status page: /status, /status.json and /status.atom show the active incidents and
those resolved in the last 14 days, in the visitor's language, escaped, briefly cacheable, with
nothing internal (agents' names, notes, teams)."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

from helpdesk.db import utcnow
from helpdesk.incidents.models import Incident
from tests.incidents.conftest import incident

ATOM = "{http://www.w3.org/2005/Atom}"
XSS = "<script>alert(1)</script>"


def declare(desk, **changes):
    made = desk.api("POST", "", "sue", json=incident(**changes))
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_status_json_shape_language_and_recent_window(desk):
    active = declare(desk, title=f"Fibre {XSS}", note="internal: call the carrier")
    desk.api(
        "POST",
        f"/{active}/updates",
        "sue",
        json={
            "status": "identified",
            "messages": {"de": "Bagger hat Kabel getroffen.", "en": "An excavator cut a cable."},
            "note": "crew of Anna",
        },
    )
    recent = declare(desk, title="Mail delays", category="email", product=None, postal_prefixes=[])
    desk.api("POST", f"/{recent}/updates", "sue", json={"status": "resolved"})
    old = declare(desk, title="Old billing glitch", category="billing", product=None)
    desk.api("POST", f"/{old}/updates", "sue", json={"status": "resolved"})
    store = desk.client.app.state.handoffs
    with store.transaction() as s:  # resolved three weeks ago: off the page
        s.get(Incident, old).resolved_at = utcnow() - timedelta(days=21)

    english = {"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
    response = desk.client.get("/status.json", headers=english)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in response.headers["Vary"]
    data = response.json()
    assert data["lang"] == "en" and data["recent_days"] == 14
    assert set(data) == {"lang", "generated_at", "recent_days", "active", "resolved"}
    assert [i["id"] for i in data["active"]] == [active]
    assert [i["id"] for i in data["resolved"]] == [recent]
    shown = data["active"][0]
    assert set(shown) == {
        "id",
        "title",
        "status",
        "status_label",
        "active",
        "category",
        "topic",
        "product",
        "everywhere",
        "postal_prefixes",
        "area",
        "started_at",
        "expected_resolution_at",
        "resolved_at",
        "message",
        "updates",
    }
    assert shown["status"] == "identified" and shown["status_label"] == "Identified"
    assert shown["message"] == "An excavator cut a cable." and shown["product"] == "Nordwind Fiber"
    assert shown["postal_prefixes"] == ["101", "102"] and not shown["everywhere"]
    assert [u["status"] for u in shown["updates"]] == ["identified", "investigating"]
    assert "crew of Anna" not in response.text and "internal" not in response.text
    assert "sue" not in response.text and '"team"' not in response.text

    german = desk.client.get("/status.json?lang=de", headers={"Accept-Language": "en"}).json()
    assert german["lang"] == "de"
    assert german["active"][0]["message"] == "Bagger hat Kabel getroffen."
    assert german["active"][0]["status_label"] == "Ursache gefunden"
    french_first = {"Accept-Language": "fr, de;q=0.3"}
    assert desk.client.get("/status.json", headers=french_first).json()["lang"] == "de"
    assert desk.client.get("/status.json?lang=xx").json()["lang"] in ("de", "en")


def test_status_page_is_escaped_accessible_and_localised(desk):
    declare(desk, title=f"Fibre {XSS}")
    page = desk.client.get("/status", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "public, max-age=60"
    # default-src 'none': no script at all
    assert "script-src" not in page.headers["Content-Security-Policy"]
    html = page.text
    assert '<html lang="de">' in html and "Aktuelle Störungen" in html
    assert XSS not in html and "Fibre &lt;script&gt;" in html
    assert "Störung im Glasfasernetz &lt;b&gt;Mitte&lt;/b&gt;." in html
    assert "Postleitzahlen beginnend mit 101, 102" in html and "<time datetime=" in html
    assert 'aria-current="page"' in html and 'type="application/atom+xml"' in html
    english = desk.client.get("/status?lang=en").text
    assert '<html lang="en">' in english and "Current incidents" in english


def test_status_page_without_incidents(desk):
    html = desk.client.get("/status?lang=en").text
    assert "There are no known incidents right now." in html
    feed = ElementTree.fromstring(desk.client.get("/status.atom?lang=en").content)
    assert feed.findall(f"{ATOM}entry") == []


def test_atom_feed_parses_and_carries_the_incidents(desk):
    number = declare(desk, title=f"Fibre {XSS} & more")
    response = desk.client.get("/status.atom?lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}title").text and feed.find(f"{ATOM}updated").text.endswith("Z")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.find(f"{ATOM}title").text == f"Investigating: Fibre {XSS} & more"
    assert entry.find(f"{ATOM}id").text.endswith(f"/status#incident-{number}")
    content = entry.find(f"{ATOM}content").text
    assert content.startswith("Fibre outage in <b>Mitte</b>.")
    assert "postal codes starting with 101" in content
    assert b"<script>" not in response.content  # escaped in the XML text


def test_every_language_has_every_text():
    from helpdesk.deployment import BOT_LANGUAGES
    from helpdesk.incidents.models import INCIDENT_STATUSES
    from helpdesk.incidents.status import TEXTS

    assert set(TEXTS) == set(BOT_LANGUAGES)
    assert TEXTS["de"].keys() == TEXTS["en"].keys() >= set(INCIDENT_STATUSES)
