"""The inbox in a real browser: Debian's Chromium driven by Playwright, against the real app under uvicorn."""

from __future__ import annotations

import json

import httpx
import pytest

from helpdesk.app import create_app
from tests.handoffs.conftest import SERVICE, chromium, handoff_payload, running, wait_for

PASSWORD = "browser test password"
DESCRIPTION = 'Router tot <script>window.pwned = 1; alert("x")</script> & "quotes"'

pytestmark = pytest.mark.browser


@pytest.fixture
def receivers(smtp_server, make_webhook):
    collector, smtp_port = smtp_server
    return collector, smtp_port, make_webhook()


@pytest.fixture
def server(make_settings, receivers):
    collector, smtp_port, webhook = receivers
    app = create_app(
        make_settings(
            webhook_url=webhook.url, webhook_secret="browser-test-secret", smtp_host="127.0.0.1", smtp_port=smtp_port
        )
    )
    with running(app) as base:
        yield app, base


@pytest.fixture
def page():
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(15000)
        yield page


def test_agent_logs_in_claims_notes_escalates_and_resolves(server, receivers, page):
    """The issue's "done when": posted as the bot posts it, the handoff is routed and prioritised, reaches the
    team's webhook and mailbox and a logged-in agent's inbox, and moves through claim, escalate, resolve."""
    app, base = server
    collector, _, webhook = receivers
    app.state.handoffs.create_agent("anna", "Anna Agent", ["network", "experts"], PASSWORD)
    response = httpx.post(f"{base}/handoffs", json=handoff_payload(description=DESCRIPTION), headers=SERVICE)
    assert response.status_code == 201, response.text
    ticket = response.json()["ticket_id"]
    assert wait_for(lambda: len(webhook.delivered()) == 1 and len(collector.messages) == 1)
    assert collector.messages[0].rcpt_tos == ["network@helpdesk.example"]
    assert json.loads(webhook.delivered()[0][1])["handoff"]["ticket_id"] == ticket
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{base}/agent")
    assert "/agent/login" in page.url
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    row = page.locator(f"tr[data-ticket='{ticket}']")
    assert "high" in row.inner_text() and "network" in row.inner_text() and "due in" in row.inner_text()

    page.click(f"a:has-text('{ticket}')")
    assert page.locator("#description").inner_text() == DESCRIPTION  # shown as text, not run
    assert page.evaluate("window.pwned") is None and dialogs == []

    page.click("button[name=claim]")
    assert "Done: claimed" in page.locator(".flash").inner_text()
    page.fill("textarea[name=text]", "Leitung gemessen, Sync ok")
    page.click("button[name=add_note]")
    assert "Leitung gemessen, Sync ok" in page.locator("#history").inner_text()
    page.fill("textarea[name=reason]", "Fehler im DSLAM, braucht Experten")
    page.click("button[name=escalate]")
    assert page.locator("h1 .status").inner_text() == "escalated"
    assert "experts" in page.locator("#history").inner_text()
    # The expert team is told, and the customer (not in a live chat) gets the experts' later time by mail.
    assert wait_for(lambda: len(webhook.delivered()) == 2 and len(collector.messages) == 3)
    assert sorted(m.rcpt_tos[0] for m in collector.messages[1:]) == ["erika@example.org", "experts@helpdesk.example"]
    assert "customer told" in page.locator("#history").inner_text()
    page.fill("textarea[name=note]", "Port am DSLAM neu geschaltet")
    page.click("button[name=resolve]")
    assert page.locator("h1 .status").inner_text() == "resolved"
    assert "Port am DSLAM neu geschaltet" in page.locator("#summary").inner_text()

    stored = app.state.handoffs.get(ticket)
    assert (stored["status"], stored["team"]) == ("resolved", "experts")
    assert [(e["actor"], e["action"]) for e in stored["events"]] == [
        ("bot", "created"),
        ("anna", "claimed"),
        ("anna", "note"),
        ("anna", "escalated"),
        ("desk", "customer_told"),
        ("anna", "resolved"),
        ("desk", "rating_asked"),
    ]
    assert dialogs == []
