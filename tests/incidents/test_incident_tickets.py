"""Tickets linked to known incidents: linking and unlinking through the JSON API and the ticket
workspace (CSRF, team scope, both audit trails), the badge in the ticket list, the incident page's
list of linked tickets, and resolving the open linked tickets together with the incident."""

from __future__ import annotations

from datetime import timedelta

from helpdesk.db import utcnow
from helpdesk.reports.queries import fetch_handoffs
from tests.handoffs.conftest import SERVICE, handoff_payload
from tests.incidents.conftest import incident

XSS = "<script>alert(1)</script>"


def ticket(desk, **summary) -> str:
    made = desk.client.post("/handoffs", json=handoff_payload(**summary), headers=SERVICE)
    assert made.status_code == 201, made.text
    return made.json()["ticket_id"]


def handoff(desk, ticket_id: str, who: str = "sue") -> dict:
    desk.client.cookies.clear()
    return desk.client.get(f"/agent/api/handoffs/{ticket_id}", headers=desk.tokens[who]).json()


def test_link_and_unlink_through_the_api(desk):
    number = desk.api("POST", "", "nora", json=incident(title=f"Outage {XSS}")).json()["id"]
    t = ticket(desk)

    linked = desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": t})
    assert linked.status_code == 201, linked.text
    assert linked.json() == {"incident_id": number, "ticket_id": t, "linked": True}
    again = desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": t})
    assert again.status_code == 409 and "linked to incident" in again.json()["detail"]

    view = handoff(desk, t)
    assert view["incident_id"] == number
    assert view["events"][-1]["action"] == "incident linked" and view["events"][-1]["actor"] == "nora"
    assert view["events"][-1]["note"] == f"incident {number}: Outage {XSS}"
    entry = desk.api("GET", f"/{number}", "nora").json()["events"][-1]
    assert (entry["action"], entry["changes"], entry["actor"]) == ("ticket linked", f"{t} (team network)", "nora")
    # Which tickets are linked is for agents only: the status page shows the declaration alone.
    public = desk.client.get("/status.json").json()["active"][0]
    assert len(public["updates"]) == 1 and t not in desk.client.get("/status.json").text

    listed = desk.api("GET", f"/{number}/tickets", "sue").json()
    assert listed == {"tickets": [{"ticket_id": t, "status": "new", "team": "network"}], "hidden": 0}
    assert desk.api("GET", f"/{number}/tickets", "bill").status_code == 404

    # Another team's agent: neither the incident nor the ticket exist for them.
    assert desk.api("POST", f"/{number}/tickets", "bill", json={"ticket_id": t}).status_code == 404
    assert desk.api("DELETE", f"/{number}/tickets/{t}", "bill").status_code == 404
    billing = desk.api("POST", "", "bill", json=incident(category="billing", product=None)).json()["id"]
    other = desk.api("POST", f"/{billing}/tickets", "bill", json={"ticket_id": ticket(desk)})
    assert other.status_code == 404 and "no handoff" in other.json()["detail"]
    # Unknown numbers, bad input, no token.
    assert desk.api("POST", "/999999/tickets", "nora", json={"ticket_id": t}).status_code == 404
    assert desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": "HD-NOPE"}).status_code == 404
    assert desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": t, "x": 1}).status_code == 422
    assert desk.api("POST", f"/{number}/tickets", "nora", json={}).status_code == 422
    assert desk.api("POST", f"/{number}/tickets", None, json={"ticket_id": t}).status_code == 401

    # Linking is triage, not an answer to the customer: the reports' first response is still to come.
    engine = desk.client.app.state.handoffs.engine
    facts = fetch_handoffs(engine, utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1))
    assert [f.first_response_at for f in facts] == [None, None]

    unlinked = desk.api("DELETE", f"/{number}/tickets/{t}", "nora")
    assert unlinked.status_code == 200 and unlinked.json()["linked"] is False
    assert desk.api("DELETE", f"/{number}/tickets/{t}", "nora").status_code == 404
    view = handoff(desk, t)
    assert view["incident_id"] is None and view["events"][-1]["action"] == "incident unlinked"
    assert desk.api("GET", f"/{number}", "nora").json()["events"][-1]["action"] == "ticket unlinked"

    # A resolved incident is closed: its tickets can be neither linked nor unlinked.
    desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": t})
    assert desk.api("POST", f"/{number}/updates", "nora", json={"status": "resolved"}).status_code == 200
    late = desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": ticket(desk)})
    assert late.status_code == 409 and "resolved" in late.json()["detail"]
    assert desk.api("DELETE", f"/{number}/tickets/{t}", "nora").status_code == 409


def test_link_and_unlink_in_the_workspace(desk):
    number = desk.api("POST", "", "nora", json=incident(title=f"Outage {XSS}")).json()["id"]
    t = ticket(desk)
    csrf = desk.login("nora")
    page = desk.client.get(f"/agent/handoffs/{t}").text
    assert 'id="incident-link-form"' in page and f'<option value="{number}">' in page
    assert XSS not in page and "Outage &lt;script&gt;" in page

    url = f"/agent/handoffs/{t}/incident"
    forged = desk.client.post(url, data={"csrf_token": "wrong", "incident_id": number}, follow_redirects=False)
    assert forged.status_code == 403 and handoff(desk, t)["incident_id"] is None

    csrf = desk.login("nora")
    done = desk.client.post(url, data={"csrf_token": csrf, "incident_id": number}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/agent/handoffs/{t}?done=linked"
    assert handoff(desk, t)["incident_id"] == number
    desk.login("nora")
    page = desk.client.get(f"/agent/handoffs/{t}").text
    assert f'part of incident <a href="/agent/incidents/{number}">Outage &lt;script&gt;' in page
    assert 'id="incident-unlink"' in page and XSS not in page
    inbox = desk.client.get("/agent").text
    assert f'part of incident <a href="/agent/incidents/{number}">Outage &lt;script&gt;' in inbox and XSS not in inbox
    incident_page = desk.client.get(f"/agent/incidents/{number}").text
    assert f'<tr data-ticket="{t}"><td><a href="/agent/handoffs/{t}">{t}</a></td><td>new</td>' in incident_page
    assert 'name="resolve_tickets"' in incident_page

    # Twice: the page says why, nothing changes.
    csrf = desk.login("nora")
    again = desk.client.post(url, data={"csrf_token": csrf, "incident_id": number}, follow_redirects=False)
    assert again.status_code == 409 and "linked to incident" in again.text
    # Another team's agent gets the ticket's 404 page.
    csrf = desk.login("bill")
    other = desk.client.post(url, data={"csrf_token": csrf, "incident_id": number}, follow_redirects=False)
    assert other.status_code == 404

    csrf = desk.login("nora")
    done = desk.client.post(
        url, data={"csrf_token": csrf, "incident_id": number, "unlink": "1"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=unlinked")
    view = handoff(desk, t)
    assert view["incident_id"] is None
    assert [e["action"] for e in view["events"]][-2:] == ["incident linked", "incident unlinked"]
    desk.login("nora")
    assert "part of incident" not in desk.client.get("/agent").text


def test_resolving_the_incident_resolves_the_open_linked_tickets(desk):
    number = desk.api("POST", "", "sue", json=incident()).json()["id"]
    open_ticket, done_ticket, other_team = ticket(desk), ticket(desk), ticket(desk, category="billing")
    unlinked = ticket(desk)
    for t in (open_ticket, done_ticket, other_team):
        assert desk.api("POST", f"/{number}/tickets", "sue", json={"ticket_id": t}).status_code == 201
    desk.client.post(f"/agent/api/handoffs/{done_ticket}/resolve", json={"note": "fixed"}, headers=desk.tokens["sue"])

    # Only with the status resolved.
    refused = desk.api("POST", f"/{number}/updates", "nora", json={"status": "monitoring", "resolve_tickets": True})
    assert refused.status_code == 422

    desk.login("nora")
    listed = desk.client.get(f"/agent/incidents/{number}").text
    assert "1 more linked ticket of other teams" in listed and other_team not in listed
    csrf = desk.login("nora")
    form = {
        "csrf_token": csrf,
        "status": "resolved",
        "product": "Nordwind Fiber",
        "postal_prefixes": "101 102",
        "expected_resolution_at": "2099-01-01T19:00",
        "message_de": "Die Störung ist behoben.",
        "message_en": "Fixed.",
        "note": "",
        "resolve_tickets": "1",
    }
    done = desk.client.post(f"/agent/incidents/{number}/update", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text

    resolved = handoff(desk, open_ticket)
    assert resolved["status"] == "resolved" and resolved["resolution"] == "Die Störung ist behoben."
    assert resolved["events"][-1]["action"] == "resolved" and resolved["events"][-1]["actor"] == "nora"
    assert handoff(desk, done_ticket)["resolution"] == "fixed"
    assert handoff(desk, other_team)["status"] == "new"  # not nora's team
    assert handoff(desk, unlinked)["status"] == "new"
    events = desk.api("GET", f"/{number}", "sue").json()["events"]
    assert [e["action"] for e in events[-2:]] == ["resolved", "tickets resolved"]
    assert events[-1]["changes"] == f"1 linked ticket(s) resolved: {open_ticket} (team network)"
    # Another team's tickets do not exist for nora, in the timeline either.
    seen = desk.api("GET", f"/{number}", "nora").json()["events"]
    assert other_team not in str(seen) and "a ticket of another team" in str(seen)
    assert len(desk.client.get("/status.json").json()["resolved"][0]["updates"]) == 2


def test_resolving_without_the_option_leaves_the_tickets(desk):
    number = desk.api("POST", "", "nora", json=incident()).json()["id"]
    t = ticket(desk)
    desk.api("POST", f"/{number}/tickets", "nora", json={"ticket_id": t})
    done = desk.api("POST", f"/{number}/updates", "nora", json={"status": "resolved"})
    assert done.status_code == 200 and done.json()["events"][-1]["action"] == "resolved"
    assert handoff(desk, t)["status"] == "new"
