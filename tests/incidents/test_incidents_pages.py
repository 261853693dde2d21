"""The inbox pages of known incidents: declare and update through the forms (CSRF, the API's checks,
post/redirect/get), everything escaped, another team's incident a 404 page."""

from __future__ import annotations

import re

XSS = "<script>alert(1)</script>"


def form(csrf: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "title": f"Outage {XSS}",
        "category": "network",
        "product": "Nordwind DSL",
        "postal_prefixes": "10, 12",
        "status": "investigating",
        "started_at": "",
        "expected_resolution_at": "2099-01-01T18:30",
        "message_de": f"Störung {XSS}",
        "message_en": f"Outage {XSS}",
        "note": "",
    }
    data.update(changes)
    return data


def test_declare_and_update_through_the_pages(desk):
    csrf = desk.login("nora")
    page = desk.client.get("/agent/incidents")
    assert page.status_code == 200 and 'id="declare"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert '<option value="network"' in page.text and '<option value="billing"' not in page.text

    forged = desk.client.post("/agent/incidents", data=form("wrong"), follow_redirects=False)
    assert forged.status_code == 403
    assert desk.api("GET", "?state=all", "sue").json()["incidents"] == []

    done = desk.client.post("/agent/incidents", data=form(desk.login("nora")), follow_redirects=False)
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    number = int(re.match(r"/agent/incidents/(\d+)\?", location).group(1))
    detail = desk.client.get(location)
    assert detail.status_code == 200 and XSS not in detail.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail.text
    stored = desk.api("GET", f"/{number}", "nora").json()
    # 18:30 Berlin time in winter is 17:30 UTC.
    assert stored["expected_resolution_at"] == "2099-01-01T17:30:00Z"
    assert stored["postal_prefixes"] == ["10", "12"] and stored["product"] == "Nordwind DSL"
    desk.login("nora")
    listed = desk.client.get("/agent/incidents")
    assert f'href="/agent/incidents/{number}"' in listed.text and XSS not in listed.text

    # An update posts the whole form; only what differs is recorded.
    csrf = desk.login("nora")
    update = {
        "csrf_token": csrf,
        "status": "monitoring",
        "product": "Nordwind DSL",
        "postal_prefixes": "10 12",
        "expected_resolution_at": "2099-01-01T18:30",
        "message_de": f"Störung {XSS}",
        "message_en": "Fixed, watching.",
        "note": f"note {XSS}",
    }
    url = f"/agent/incidents/{number}/update"
    done = desk.client.post(url, data=update, follow_redirects=False)
    assert done.status_code == 303, done.text
    after = desk.api("GET", f"/{number}", "nora").json()
    assert after["status"] == "monitoring" and after["messages"]["en"] == "Fixed, watching."
    assert after["events"][-1]["changes"] == "message (en); status: investigating -> monitoring"
    desk.login("nora")
    timeline = desk.client.get(f"/agent/incidents/{number}").text
    assert "note &lt;script&gt;" in timeline and XSS not in timeline

    # Nothing changed and no note: the form says so, nothing is written.
    csrf = desk.login("nora")
    same = {**update, "csrf_token": csrf, "note": ""}
    refused = desk.client.post(url, data=same, follow_redirects=False)
    assert refused.status_code == 422 and "an update needs a change" in refused.text
    assert len(desk.api("GET", f"/{number}", "nora").json()["events"]) == 2

    # Another team's agent: the incident does not exist for them.
    desk.login("bill")
    assert desk.client.get(f"/agent/incidents/{number}").status_code == 404
    csrf = desk.login("bill")
    other = desk.client.post(f"/agent/incidents/{number}/update", data={**same, "csrf_token": csrf, "note": "mine"})
    assert other.status_code == 404
    assert len(desk.api("GET", f"/{number}", "sue").json()["events"]) == 2


def test_form_errors_keep_what_was_typed(desk):
    csrf = desk.login("bill")
    refused = desk.client.post("/agent/incidents", data=form(csrf, category="network"))
    # bill's form offers no network category; posting it anyway is the API's 403.
    assert refused.status_code == 403 and "team &#39;network&#39;" in refused.text
    csrf = desk.login("sue")
    bad = desk.client.post("/agent/incidents", data=form(csrf, expected_resolution_at="tomorrow"))
    assert bad.status_code == 422 and "not a date and time" in bad.text
    assert "Outage &lt;script&gt;" in bad.text and XSS not in bad.text
    csrf = desk.login("sue")
    bad = desk.client.post("/agent/incidents", data=form(csrf, postal_prefixes="10 abc"))
    assert bad.status_code == 422 and "postal-code prefix" in bad.text


def test_pages_need_a_login(desk):
    desk.client.cookies.clear()
    for method, path in (
        ("GET", "/agent/incidents"),
        ("POST", "/agent/incidents"),
        ("GET", "/agent/incidents/1"),
        ("POST", "/agent/incidents/1/update"),
    ):
        response = desk.client.request(method, path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/agent/login")
