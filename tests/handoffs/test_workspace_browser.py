"""The agent's workspace in Chromium (Playwright, Debian's browser) against the real app under uvicorn,
and axe-core's accessibility check of every page customers and agents use.

axe-core is vendored under tests/vendor/axe-core (no network at test time) and
injected into each page; a critical or serious violation fails the test with
the rule ids and the elements it found.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from helpdesk.app import create_app
from helpdesk.handoffs.schemas import Message
from helpdesk.inbox import stream as inbox_stream
from tests.handoffs.conftest import SERVICE, chromium, handoff_payload, running
from tests.screenshots import docs_image_requested, screenshot_dir

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "browser test password"

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_settings, monkeypatch):
    monkeypatch.setattr(inbox_stream, "POLL_SECONDS", 0.5)
    app = create_app(make_settings().model_copy(update={"public_base_url": "http://127.0.0.1"}))
    with running(app) as base:
        app.state.handoffs.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
        app.state.handoffs.create_agent("bill", "Bill", ["billing"], PASSWORD)
        yield app, base


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def new_page(browser, errors: list[str] | None = None, locale: str = "en-US"):
    # bypass_csp: only so that the test can inject axe-core; the pages' own scripts run under their CSP as usual.
    # locale: the browser's language (its Accept-Language), which picks the desk's language of an agent without one.
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, bypass_csp=True, locale=locale, timezone_id="America/Los_Angeles"
    )  # not the desk's zone: the page must not care
    page = context.new_page()
    page.set_default_timeout(15000)
    if errors is not None:
        page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def log_in(page, base: str, username: str = "anna") -> None:
    page.goto(f"{base}/agent/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/agent$"))


def post(base: str, **summary) -> str:
    payload = handoff_payload(**summary)
    payload["conversation_id"] = secrets.token_hex(16)
    response = httpx.post(f"{base}/handoffs", json=payload, headers=SERVICE)
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def test_list_updates_live_with_badge_and_alert_and_keeps_focus(server, browser):
    app, base = server
    errors: list[str] = []
    page = new_page(browser, errors)
    log_in(page, base)
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    search = page.locator("input[name=q]")
    search.click()
    search.type("Rou")
    time.sleep(1.0)  # the stream's first state arrived
    ticket = post(base)
    row = page.locator(f"tr[data-ticket='{ticket}']")
    row.wait_for(timeout=10_000)  # no reload: the table was redrawn in place
    assert "fresh" in (row.get_attribute("class") or "")
    assert page.evaluate("document.activeElement.name") == "q" and search.input_value() == "Rou"
    page.wait_for_function("() => document.getElementById('inbox-alert').textContent.includes('New ticket')")
    assert ticket in page.locator("#inbox-alert").inner_text()
    # New tickets and waiting customers are two labelled counts, never their sum.
    assert page.locator("#inbox-new").inner_text() == "1 new" and page.title().startswith("(1 new) ")
    assert page.locator("#inbox-waiting").is_hidden()
    # Another team's new ticket is neither shown nor counted.
    post(base, category="billing")
    time.sleep(2.0)
    assert page.locator("#inbox-new").inner_text() == "1 new" and page.locator("tbody tr").count() == 1
    # The customer writes after the handoff: one new ticket, one customer waiting, on the same row.
    app.state.handoffs.append_messages(
        ticket, [Message(sender="customer", text="Still down", timestamp=datetime.now(UTC))], "customer"
    )
    page.wait_for_function("() => !document.getElementById('inbox-waiting').hidden")
    assert page.locator("#inbox-waiting").inner_text() == "1 waiting"
    assert page.locator("#inbox-new").inner_text() == "1 new" and page.title().startswith("(1 new, 1 waiting) ")
    assert page.locator("tbody tr").count() == 1
    assert errors == []


def test_ticket_workspace_reply_box_in_view_ctrl_enter_assist_and_24h_times(server, browser):
    app, base = server
    solved = [{"title": "Yes, solved", "payload": "/affirm"}, {"title": "No, not solved", "payload": "/deny"}]
    urgency = [{"title": "High: I can hardly work", "payload": '/inform{"choice": "high"}'}]
    turns = [
        ("customer", "Hi, my internet has been down since this morning", None),
        (
            "bot",
            "I found this in our help pages: **No internet: the router's Internet light is red**\n\n"
            "1. Unplug the router for 30 seconds, then plug it in again.\n"
            "2. Check that the fiber cable is firmly plugged in.\n\nDid this solve your problem?",
            solved,
        ),
        ("customer", "/deny", None),
        (
            "bot",
            "Sorry to hear that. Shall I pass this to a colleague? They get a summary, so you "
            "do not have to repeat anything.",
            [{"title": "Yes, please", "payload": "/affirm"}, {"title": "No, thanks", "payload": "/deny"}],
        ),
        ("customer", "/affirm", None),
        ("bot", "How urgent is it?", urgency),
        ("customer", '/inform{"choice": "high"}', None),
        ("bot", "How can our support team reach you?", None),
        ("customer", "erika@example.org", None),
    ] * 3  # a long conversation: the page is taller than the window
    transcript = [
        {"sender": who, "text": text, "timestamp": "2026-11-27T13:05:00Z", **({"buttons": b} if b else {})}
        for who, text, b in turns
    ]
    transcript.append({"sender": "customer", "text": "/deny", "timestamp": "2026-11-27T13:06:00Z"})
    payload = handoff_payload()
    payload["summary"]["contact"]["email"] = "erika.mustermann.homeoffice-team@" + "sub." * 12 + "example.org"
    payload["conversation_id"] = secrets.token_hex(16)
    payload["transcript"] = transcript
    payload["language"] = "en"
    payload["summary"]["description"] = "No internet, the router's Internet light is red"
    ticket = httpx.post(f"{base}/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    errors: list[str] = []
    page = new_page(browser, errors)
    log_in(page, base)
    page.goto(f"{base}/agent/handoffs/{ticket}")
    # Each click shows as the title of the button the customer clicked, not its payload; the last
    # /deny answered no buttons that offered it: a readable label.
    clicked = page.locator("#transcript .clicked").all_inner_texts()
    assert clicked[:3] == ["No, not solved", "Yes, please", "High: I can hardly work"] and clicked[-1] == "No"
    assert "/deny" not in page.locator("#transcript").inner_text()
    # The long contact address wraps inside the summary instead of being clipped.
    contact = page.locator("#summary a[href^='mailto:']")
    box_of = page.locator("#summary").bounding_box()
    link = contact.bounding_box()
    assert link["x"] + link["width"] <= box_of["x"] + box_of["width"] and link["height"] > 30
    assert page.evaluate("() => (s => s.scrollWidth <= s.clientWidth)(document.querySelector('#summary'))")
    assert "14:05" in page.locator("#transcript").inner_text()  # 13:05 UTC in Berlin, 24-hour clock
    page.click("button[name=live_start]")
    box = page.locator("#live-text")
    # Side by side: the summary left of the transcript, the reply box right of it, and still in view
    # after scrolling to the end of the page.
    summary, transcript_box, reply = (page.locator(s).bounding_box() for s in ("#summary", "#transcript", "#live"))
    assert summary["x"] < transcript_box["x"] < reply["x"]
    page.mouse.wheel(0, 5000)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert box.is_visible() and 0 <= box.bounding_box()["y"] < 900
    # Agent assist: one click puts the article's passage into the reply box.
    suggestion = page.locator(".suggestion").first
    suggestion.locator(".insert-passage").click()
    passage = suggestion.get_attribute("data-passage")
    assert passage and box.input_value() == passage
    # ... the passage the bot shows a customer for that article (the answer, not the introduction).
    found = httpx.post(f"{base}/search", json={"query": payload["summary"]["description"], "lang": "en"}).json()
    article = suggestion.locator("h3").inner_text().split("\n")[0].strip()
    assert passage == next(h["answer"]["markdown"] for h in found["hits"] if h["title"] == article)
    box.fill("Hello, **Anna** here.")
    box.press("Enter")  # a new line, not sent
    box.type("Please unplug the router.")
    assert page.locator("#live-log li").count() == 0
    box.press("Control+Enter")
    entry = page.locator("#live-log li").last
    entry.wait_for(timeout=10_000)
    assert "Anna" in entry.inner_text()
    # The agent's line break stays, in the live log and in the transcript after a reload.
    assert entry.locator(".msg").inner_text() == "Hello, **Anna** here.\nPlease unplug the router."
    stamp = entry.locator("small").inner_text()
    assert re.search(r"\b([01]\d|2[0-3]):[0-5]\d\b", stamp) and "AM" not in stamp and "PM" not in stamp
    stored = app.state.handoffs.get(ticket)["transcript"][-1]
    assert stored["sender"] == "agent" and stored["text"].startswith("Hello, **Anna** here.")
    page.reload()
    said = page.locator("#transcript .sender-agent .msg").last.inner_text()
    assert said == "Hello, Anna here.\nPlease unplug the router."  # markdown rendered, the break kept
    assert errors == []
    if docs_image_requested():  # make screenshots: the documentation's pictures of the workspace and inbox
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_dir() / "workspace.png"))
        post(base, category="network", urgency="critical")
        page.goto(f"{base}/agent?sort=priority")
        page.locator("tbody tr").nth(1).wait_for()
        page.set_viewport_size({"width": 1400, "height": 330})
        page.screenshot(path=str(screenshot_dir() / "inbox.png"))


def test_another_teams_ticket_is_not_found_in_the_browser(server, browser):
    app, base = server
    ticket = post(base)
    page = new_page(browser)
    log_in(page, base, "bill")
    response = page.goto(f"{base}/agent/handoffs/{ticket}")
    assert response.status == 404 and "There is no handoff" in page.content()
    assert "Erika" not in page.content()


def test_axe_finds_no_serious_violation_on_the_pages_people_use(server, browser):
    app, base = server
    ticket = post(base)
    page = new_page(browser)
    found: dict[str, list[str]] = {}
    page.goto(f"{base}/chat?lang=en")
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    found["chat"] = axe_violations(page)
    page.goto(f"{base}/articles/fx-en-router-no-internet")
    found["article"] = axe_violations(page)
    page.goto(f"{base}/agent/login")
    found["login"] = axe_violations(page)
    log_in(page, base)
    page.goto(f"{base}/agent")
    page.locator(f"tr[data-ticket='{ticket}']").wait_for()
    found["inbox"] = axe_violations(page)
    page.goto(f"{base}/agent/handoffs/{ticket}")
    found["ticket"] = axe_violations(page)
    page.click("button[name=live_start]")
    found["ticket, live"] = axe_violations(page)
    assert found == {name: [] for name in found}
    # The control: the same check does find a serious violation where there is one.
    page.set_content('<html lang="en"><body><main><img src="data:,"><button></button></main></body></html>')
    assert any(v.startswith(("image-alt", "button-name")) for v in axe_violations(page))


def test_a_german_agent_and_an_english_supervisor_each_read_the_desk_in_their_language(server, browser):
    """Anna's browser asks for German; Sue chose English in her profile and uses the same German browser.
    Every page of the desk is in the reader's language (html lang, its words, its times), the live counts
    too, the switch changes it, and axe-core finds no serious violation in either language."""
    app, base = server
    app.state.handoffs.create_agent("sue", "Sue Supervisor", [], PASSWORD, "supervisor")
    app.state.handoffs.set_language("sue", "en")
    ticket = post(base)
    errors: list[str] = []
    german = new_page(browser, errors, locale="de-DE")
    german.goto(f"{base}/agent/login")
    assert german.locator("html").get_attribute("lang") == "de"
    assert german.locator("h1").inner_text() == "Anmeldung für Bearbeiter/innen"
    assert axe_violations(german) == []
    german.fill("input[name=username]", "anna")
    german.fill("input[name=password]", PASSWORD)
    german.get_by_role("button", name="Anmelden").click()
    german.wait_for_url(re.compile(r".*/agent$"))
    pages = {
        "/agent": ("Übergaben", "Posteingang"),
        f"/agent/handoffs/{ticket}": ("Zusammenfassung", "Übernehmen"),
        "/agent/incidents": ("Bekannte Störungen", "Störung melden"),
        "/agent/reports": ("Die Berichte sind für Supervisor/innen und Admins.", "Zurück zum Posteingang"),
    }
    for path, words in pages.items():
        german.goto(f"{base}{path}")
        assert german.locator("html").get_attribute("lang") == "de", path
        text = german.locator("body").inner_text()
        assert all(word in text for word in words), (path, words)
        assert "Log out" not in text and "Abmelden" in text, path
        assert axe_violations(german) == [], path
    german.goto(f"{base}/agent")
    assert german.locator(f"tr[data-ticket='{ticket}'] td.status").inner_text() == "neu"
    assert "fällig in" in german.locator(f"tr[data-ticket='{ticket}']").inner_text()
    time.sleep(1.0)  # the stream's first state arrived
    second = post(base)
    german.wait_for_function("() => document.getElementById('inbox-alert').textContent.includes('Neues Ticket')")
    assert (
        german.locator("#inbox-new").inner_text() == "2 neu" and second in german.locator("#inbox-alert").inner_text()
    )

    english = new_page(browser, errors, locale="de-DE")
    log_in(english, base, "sue")
    for path in ("/agent", f"/agent/handoffs/{ticket}", "/agent/incidents", "/agent/reports"):
        english.goto(f"{base}{path}")
        assert english.locator("html").get_attribute("lang") == "en", path
        assert "Log out" in english.locator("header").inner_text(), path
        assert axe_violations(english) == [], path
    english.goto(f"{base}/agent/handoffs/{ticket}")
    assert "Summary" in english.locator("#summary").inner_text()
    assert re.search(r"created (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [A-Z][a-z]{2} \d{1,2}, \d\d:\d\d", english.content())
    # The switch: Sue turns to German on the workspace and stays on it.
    english.get_by_role("button", name="Deutsch").click()
    english.wait_for_url(re.compile(rf".*/agent/handoffs/{ticket}$"))
    assert english.locator("html").get_attribute("lang") == "de"
    assert "Zusammenfassung" in english.locator("#summary").inner_text()
    assert re.search(r"erstellt (Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. ", english.content())
    assert app.state.handoffs.authenticate("sue", PASSWORD).language == "de"
    assert errors == []


@pytest.fixture
def night(make_settings, closed_routing):
    """The desk on a holiday: urgent tickets go to on-call, the others wait for their team."""
    app = create_app(
        make_settings(routing_file=closed_routing).model_copy(update={"public_base_url": "http://127.0.0.1"})
    )
    with running(app) as base:
        app.state.handoffs.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
        app.state.handoffs.create_agent("sue", "Sue Supervisor", [], PASSWORD, "supervisor")
        yield app, base


def test_reassignment_and_where_the_teams_tickets_went(night, browser):
    """A supervisor reassigns a network ticket to billing with the workspace's own form (not an escalation);
    the network agent's inbox then names it and the urgent ticket on-call took, with why, and axe-core finds
    no serious violation on either page."""
    app, base = night
    urgent = post(base, urgency="critical")
    waiting = post(base, urgency="low")
    assert app.state.handoffs.get(urgent)["team"] == "on-call"
    errors: list[str] = []
    page = new_page(browser, errors)
    log_in(page, base, "sue")
    page.goto(f"{base}/agent/handoffs/{waiting}")
    form = page.locator("#reassign-form")
    options = form.locator("select[name=team] option").all_inner_texts()
    assert options[0] != "experts" and "experts" not in options and "network" not in options
    assert page.locator("#escalate-form select").count() == 0  # escalation has no team to choose
    assert page.get_by_label("Reason for the reassignment").is_visible()
    assert axe_violations(page) == []
    form.locator("select[name=team]").select_option("billing")
    page.get_by_label("Reason for the reassignment").fill("Invoice question, not the line")
    form.locator("button[name=reassign]").click()
    assert "Done: reassigned to billing" in page.locator(".flash").inner_text()
    assert page.locator("h1 .status").inner_text() == "new"  # new for billing, not "escalated"
    assert "reassigned → billing" in page.locator("#history").inner_text()
    log_out = page.locator("header button", has_text="Log out")
    log_out.click()
    log_in(page, base, "anna")
    hint = page.locator("#routed-elsewhere")
    assert hint.locator("h2").inner_text() == "Recently routed elsewhere"
    items = hint.locator("li").all_inner_texts()
    assert items[0].startswith(f"{waiting} → billing (reassigned by sue: Invoice question, not the line, priority low)")
    assert items[1].startswith(f"{urgent} → on-call (on-call routing outside office hours, priority critical)")
    assert hint.locator("a").count() == 0  # neither is anna's to open now
    assert page.locator(f"tr[data-ticket='{waiting}']").count() == 0
    assert axe_violations(page) == []
    assert errors == []
