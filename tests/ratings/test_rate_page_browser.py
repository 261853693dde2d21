"""The rating page in Chromium (Playwright, Debian's browser) against the app under uvicorn: the question, a click
on a score, the comment, in German; axe-core finds no serious or critical violation on any state of the page."""

from __future__ import annotations

import pytest

from helpdesk.app import create_app
from helpdesk.db import utcnow
from tests.handoffs.conftest import SERVICE, handoff_payload, running
from tests.handoffs.test_workspace_browser import axe_violations, browser, new_page  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_customer_rates_and_comments_in_the_browser(make_settings, browser):  # noqa: F811
    import httpx

    from helpdesk.ratings.store import ask

    app = create_app(make_settings().model_copy(update={"public_base_url": "http://127.0.0.1"}))
    with running(app) as base:
        ticket = httpx.post(f"{base}/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
        store = app.state.handoffs
        with store.transaction() as s:
            handoff = store.lock(s, ticket)
            handoff.status, handoff.assignee = "resolved", "anna"
            token = ask(s, handoff, "chat", utcnow())
        page = new_page(browser)
        page.goto(f"{base}/rate/{token}")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.locator("#question").inner_text() == "Wie zufrieden sind Sie mit der Lösung Ihrer Anfrage?"
        assert page.locator(".scores a").count() == 5
        assert axe_violations(page) == []
        page.get_by_role("link", name="4 zufrieden").click()
        assert page.locator("[role=status]").inner_text() == "Vielen Dank für Ihre Bewertung!"
        assert page.locator("#score").inner_text() == "Ihre Bewertung: 4 von 5 (zufrieden)."
        assert axe_violations(page) == []
        page.get_by_label("Möchten Sie uns noch etwas sagen? (freiwillig)").fill("<script>alert(1)</script> gut")
        page.get_by_role("button", name="Kommentar senden").click()
        assert page.locator("[role=status]").inner_text() == "Vielen Dank, Ihr Kommentar ist angekommen."
        assert page.locator("#comment-given").inner_text() == "<script>alert(1)</script> gut"
        assert page.locator("textarea").count() == 0
        page.goto(f"{base}/rate/{token}?score=1")
        assert page.locator("[role=alert]").inner_text() == "Sie haben bereits bewertet. Vielen Dank!"
        assert axe_violations(page) == []
        page.goto(f"{base}/rate/hdrt_unknown")
        assert "does not exist" in page.locator("[role=alert]").inner_text()  # the browser asks for English
        assert axe_violations(page) == []
