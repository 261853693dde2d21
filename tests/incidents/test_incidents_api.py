"""Known incidents in the desk: the JSON API (declare, list, read, update) against the real app on
PostgreSQL, with roles and team scope like the tickets', and a clear 4xx for every bad input."""

from __future__ import annotations

import pytest

from tests.incidents.conftest import incident


def test_declare_read_update_resolve_with_timeline(desk):
    made = desk.api("POST", "", "nora", json=incident())
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["team"] == "network" and body["status"] == "investigating" and body["active"]
    assert body["postal_prefixes"] == ["101", "102"] and not body["everywhere"]
    assert body["created_by"] == "nora" and body["started_at"].endswith("Z")
    assert [e["action"] for e in body["events"]] == ["declared"]
    number = body["id"]

    updated = desk.api(
        "POST",
        f"/{number}/updates",
        "nora",
        json={
            "status": "identified",
            "messages": {"en": "A cable was cut; repairs under way."},
            "note": "crew on site",
        },
    )
    assert updated.status_code == 200, updated.text
    after = updated.json()
    assert after["status"] == "identified"
    assert after["messages"] == {
        "de": "Störung im Glasfasernetz <b>Mitte</b>.",
        "en": "A cable was cut; repairs under way.",
    }
    last = after["events"][-1]
    assert (last["actor"], last["action"], last["note"]) == ("nora", "updated", "crew on site")
    assert last["changes"] == "message (en); status: investigating -> identified"

    resolved = desk.api("POST", f"/{number}/updates", "sue", json={"status": "resolved"}).json()
    assert resolved["status"] == "resolved" and not resolved["active"] and resolved["resolved_at"]
    assert [e["action"] for e in resolved["events"]] == ["declared", "updated", "resolved"]
    again = desk.api("POST", f"/{number}/updates", "sue", json={"note": "one more"})
    assert again.status_code == 409 and "resolved" in again.json()["detail"]

    assert desk.api("GET", "", "nora").json()["incidents"] == []
    listed = desk.api("GET", "?state=resolved", "nora").json()["incidents"]
    assert [i["id"] for i in listed] == [number]
    assert desk.api("GET", f"/{number}", "nora").json()["events"][-1]["action"] == "resolved"


def test_team_scope_and_roles(desk):
    network = desk.api("POST", "", "nora", json=incident()).json()["id"]
    # An agent declares only for their teams' categories: a clear 403.
    refused = desk.api("POST", "", "bill", json=incident())
    assert refused.status_code == 403 and "team 'network'" in refused.json()["detail"]
    billing = desk.api(
        "POST", "", "bill", json=incident(category="billing", product="Account", postal_prefixes=[])
    ).json()["id"]
    # Another team's incident does not exist for an agent: exactly like a missing one.
    for method, path, body in (("GET", f"/{network}", None), ("POST", f"/{network}/updates", {"note": "mine now"})):
        other = desk.api(method, path, "bill", json=body)
        missing = desk.api(method, path.replace(str(network), "999999"), "bill", json=body)
        assert other.status_code == missing.status_code == 404
        assert other.text.replace(str(network), "999999") == missing.text
    assert [i["id"] for i in desk.api("GET", "", "bill").json()["incidents"]] == [billing]
    assert {i["id"] for i in desk.api("GET", "", "sue").json()["incidents"]} == {network, billing}
    # Moving an incident to another team's category is the scope check again.
    move = {"category": "billing", "product": None}
    moved = desk.api("POST", f"/{network}/updates", "nora", json=move)
    assert moved.status_code == 403
    moved = desk.api("POST", f"/{network}/updates", "sue", json=move)
    assert moved.status_code == 200 and moved.json()["team"] == "billing"
    assert desk.api("GET", f"/{network}", "nora").status_code == 404
    # Credentials on every route.
    for method, path in (("GET", ""), ("POST", ""), ("GET", f"/{network}"), ("POST", f"/{network}/updates")):
        assert desk.api(method, path, None, json={}).status_code == 401


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"category": "weather"}, "unknown category 'weather'"),
        ({"product": "Nordwind Toaster"}, "unknown product 'Nordwind Toaster'"),
        ({"postal_prefixes": ["1O1"]}, "postal-code prefix"),
        ({"status": "resolved"}, "status"),
        ({"title": "   "}, "at least 1"),
        ({"messages": {"de": "nur deutsch"}}, "missing: en"),
        ({"messages": {"de": "x", "en": "y", "fr": "z"}}, "fr"),
        ({"started_at": "2026-12-01T10:00:00"}, "timezone"),
        ({"started_at": "2026-12-01T10:00:00Z", "expected_resolution_at": "2026-12-01T09:00:00Z"}, "after started_at"),
        ({"title": "x\u0000y"}, "NUL"),
    ],
)
def test_bad_declarations_get_a_clear_4xx(desk, changes, words):
    response = desk.api("POST", "", "sue", json=incident(**changes))
    assert 400 <= response.status_code < 500, response.text
    assert words in response.text
    assert desk.api("GET", "?state=all", "sue").json()["incidents"] == []


def test_bad_updates_and_bad_requests_never_500(desk):
    number = desk.api("POST", "", "sue", json=incident()).json()["id"]
    cases = [
        ({}, 422, "an update needs a change"),
        ({"status": None}, 422, "status cannot be cleared"),
        ({"expected_resolution_at": "2000-01-01T00:00:00Z"}, 422, "after the incident's start"),
        ({"messages": {"en": ""}}, 422, "missing: en"),
        ({"status": "over"}, 422, "status"),
    ]
    for body, code, words in cases:
        response = desk.api("POST", f"/{number}/updates", "sue", json=body)
        assert response.status_code == code and words in response.text, (body, response.text)
    for path in ("/abc", "/0", "/99999999999"):
        assert desk.api("GET", path, "sue").status_code in (404, 422)
    broken = desk.api("POST", "", "sue", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422
    assert desk.api("GET", "?state=nonsense", "sue").status_code == 422
    # Clearing the expected resolution and the product is allowed and recorded.
    cleared = desk.api(
        "POST", f"/{number}/updates", "sue", json={"expected_resolution_at": None, "product": None}
    ).json()
    assert cleared["expected_resolution_at"] is None and cleared["product"] is None
    assert "product: Nordwind Fiber -> -" in cleared["events"][-1]["changes"]


def test_openapi_documents_the_response_models(desk):
    paths = desk.client.get("/openapi.json").json()["paths"]
    post = paths["/agent/api/incidents"]["post"]
    schema = post["responses"]["201"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("IncidentOut")


def test_openapi_documents_the_token_answers(desk):
    paths = desk.client.get("/openapi.json").json()["paths"]
    assert "401" in paths["/agent/api/incidents"]["post"]["responses"]
    assert "401" in paths["/api/incidents/active"]["get"]["responses"]
    assert "401" in paths["/api/incidents/{incident_id}/subscriptions"]["post"]["responses"]
