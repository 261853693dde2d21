"""Linking a ticket to an incident in Chromium against the real app on PostgreSQL: the workspace's
form, the badge in the ticket list, the incident page's linked tickets, and axe-core's check of
the three pages."""

from __future__ import annotations

import re

import httpx
import pytest

from helpdesk.app import create_app
from tests.handoffs.conftest import chromium, running
from tests.handoffs.test_workspace_browser import PASSWORD, axe_violations, log_in, new_page, post
from tests.incidents.conftest import incident

pytestmark = pytest.mark.browser


def test_link_a_ticket_in_the_workspace(make_settings, pg_url):
    app = create_app(make_settings(database_url=pg_url).model_copy(update={"public_base_url": "http://127.0.0.1"}))
    with running(app) as base, chromium() as browser:
        store = app.state.handoffs
        store.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
        token = {"Authorization": f"Bearer {store.create_token('anna', 'test')}"}
        declared = httpx.post(f"{base}/agent/api/incidents", json=incident(title="Fibre <cut>"), headers=token)
        assert declared.status_code == 201, declared.text
        number = declared.json()["id"]
        ticket = post(base)

        page = new_page(browser)
        log_in(page, base)
        page.goto(f"{base}/agent/handoffs/{ticket}")
        page.select_option("#incident-select", str(number))
        page.click("button[name=link]")
        page.wait_for_url(re.compile(r".*done=linked$"))
        assert page.locator("#incident-link").inner_text() == "part of incident Fibre <cut>"
        found = {"ticket": axe_violations(page)}

        page.goto(f"{base}/agent")
        badge = page.locator(f"tr[data-ticket='{ticket}'] .incident-tag")
        assert badge.inner_text() == "part of incident Fibre <cut>"
        found["inbox"] = axe_violations(page)
        badge.locator("a").click()
        page.wait_for_url(re.compile(rf".*/agent/incidents/{number}$"))
        assert page.locator(f"#linked-tickets tr[data-ticket='{ticket}']").count() == 1
        found["incident"] = axe_violations(page)
        assert found == {name: [] for name in found}
