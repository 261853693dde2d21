"""The desk's side of "the bot knows first": which active incidents concern a message (plain
functions, then GET /api/incidents/active), "tell me when it is fixed" subscriptions, and the
link of a ticket made during an incident; all with the bot's service token, on PostgreSQL."""

from __future__ import annotations

import pytest

from helpdesk.incidents.matching import in_area, named_categories, relevant
from tests.handoffs.conftest import SERVICE, handoff_payload
from tests.incidents.conftest import incident


def shaped(**changes):
    base = {
        "id": 1,
        "category": "network",
        "product": "Nordwind Fiber",
        "everywhere": False,
        "postal_prefixes": ["101", "102"],
        "active": True,
    }
    return {**base, **changes}


def test_matching_by_hits_words_and_area():
    fibre = shaped()
    everywhere = shaped(id=2, product=None, everywhere=True, postal_prefixes=[])
    billing = shaped(id=3, category="billing", product=None, everywhere=True, postal_prefixes=[])
    resolved = shaped(id=4, active=False, everywhere=True)
    all_four = [fibre, everywhere, billing, resolved]
    found = relevant(all_four, ["network"], ["Nordwind Fiber"], set(), None)
    assert [(i["id"], i["in_area"]) for i in found] == [(1, None), (2, True)]
    # Another product of the category: only the incident of every product concerns it.
    dsl = relevant([fibre, everywhere], ["network"], ["Nordwind DSL"], set(), None)
    assert [i["id"] for i in dsl] == [2]
    # Outside the area: left out; inside: in_area True.
    assert relevant([fibre], ["network"], [], set(), "80331") == []
    assert relevant([fibre], ["network"], [], set(), "10115")[0]["in_area"] is True
    # The words name the category although the hits are elsewhere.
    assert [i["id"] for i in relevant([billing], ["network"], [], {"billing"}, None)] == [3]
    words = {"billing": ["rechnung"], "network": ["dsl"]}
    assert named_categories("Meine RECHNUNG ist falsch", words) == {"billing"}
    assert in_area(fibre, "10 115") is True and in_area(fibre, None) is None


def test_active_incidents_for_the_bot(desk):
    fibre = desk.api("POST", "", "sue", json=incident()).json()["id"]
    billing = desk.api(
        "POST", "", "sue", json=incident(category="billing", product=None, postal_prefixes=[], title="Invoices late")
    ).json()["id"]
    url = "/api/incidents/active"
    assert desk.client.get(url, params={"category": "network"}).status_code == 401
    body = desk.client.get(
        url, params={"category": "network", "product": "Nordwind Fiber", "lang": "en"}, headers=SERVICE
    )
    assert body.status_code == 200, body.text
    [found] = body.json()["incidents"]
    assert found["id"] == fibre and found["in_area"] is None
    assert found["message"].startswith("Fibre")
    assert found["topic"] and found["started_at"].endswith("Z")
    assert set(found) == {
        "id",
        "title",
        "category",
        "topic",
        "product",
        "status",
        "everywhere",
        "postal_prefixes",
        "in_area",
        "started_at",
        "expected_resolution_at",
        "since",
        "expected",
        "message",
    }
    assert found["expected"] == "01 Jan 2099, 19:00 (Europe/Berlin)"
    inside = desk.client.get(url, params={"category": "network", "postal_code": "10117"}, headers=SERVICE).json()[
        "incidents"
    ]
    assert [(i["id"], i["in_area"]) for i in inside] == [(fibre, True)]
    outside = desk.client.get(url, params={"category": "network", "postal_code": "80331"}, headers=SERVICE).json()[
        "incidents"
    ]
    assert outside == []
    words = desk.client.get(url, params={"q": "Frage zu meiner Rechnung", "lang": "de"}, headers=SERVICE).json()[
        "incidents"
    ]
    assert [i["id"] for i in words] == [billing]
    assert words[0]["message"].startswith("Störung")
    assert desk.client.get(url, params={"postal_code": "1x"}, headers=SERVICE).status_code == 422
    assert desk.client.get(url, params={"lang": "fr"}, headers=SERVICE).status_code == 422


def test_subscriptions(desk):
    number = desk.api("POST", "", "sue", json=incident()).json()["id"]
    url = f"/api/incidents/{number}/subscriptions"
    body = {"email": "Erika@Example.org", "language": "de", "conversation_id": "conv-1"}
    assert desk.client.post(url, json=body).status_code == 401
    made = desk.client.post(url, json=body, headers=SERVICE)
    assert made.status_code == 201
    assert made.json() == {"incident_id": number, "email": "erika@example.org", "created": True}
    again = desk.client.post(url, json={**body, "language": "en"}, headers=SERVICE)
    assert again.status_code == 200 and again.json()["created"] is False
    for bad in (
        {**body, "email": "erika@"},
        {**body, "email": "a@b.c\u0000"},
        {**body, "extra": 1},
        {**body, "language": "fr"},
    ):
        assert desk.client.post(url, json=bad, headers=SERVICE).status_code == 422
    missing = desk.client.post("/api/incidents/999999/subscriptions", json=body, headers=SERVICE)
    assert missing.status_code == 404
    desk.api("POST", f"/{number}/updates", "sue", json={"status": "resolved"})
    late = desk.client.post(url, json={**body, "email": "late@example.org"}, headers=SERVICE)
    assert late.status_code == 409 and "resolved" in late.json()["detail"]


@pytest.mark.parametrize("known", [True, False])
def test_a_ticket_made_during_an_incident_is_linked(desk, known):
    number = desk.api("POST", "", "sue", json=incident()).json()["id"]
    payload = handoff_payload()
    payload["incident_id"] = number if known else 777777
    made = desk.client.post("/handoffs", json=payload, headers=SERVICE)
    assert made.status_code == 201, made.text
    ticket = made.json()["ticket_id"]
    view = desk.client.get(f"/agent/api/handoffs/{ticket}", headers=desk.tokens["sue"]).json()
    assert view["incident_id"] == (number if known else None)
    assert ("during incident" in view["events"][0]["note"]) is known
    # A replay of the same payload is the same ticket.
    replay = desk.client.post("/handoffs", json=payload, headers=SERVICE)
    assert replay.json()["ticket_id"] == ticket
    if known:
        desk.login("sue")
        page = desk.client.get(f"/agent/handoffs/{ticket}").text
        assert f'href="/agent/incidents/{number}"' in page
