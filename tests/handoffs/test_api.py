"""POST /handoffs and the agent JSON API, through the real app (create_app, lifespan, real store)."""

from __future__ import annotations

import json
import re
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from helpdesk.handoffs.schemas import MAX_MESSAGE_CHARS
from tests.handoffs.conftest import SERVICE, handoff_payload

TICKET_RE = re.compile(r"^HD-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{6}$")


def count(client: TestClient) -> int:
    return cast(FastAPI, client.app).state.handoffs.count()


def agent_headers(client: TestClient, username="anna", teams=("network", "experts")) -> dict[str, str]:
    store = cast(FastAPI, client.app).state.handoffs
    store.create_agent(username, username.title(), teams, "a long enough password")
    return {"Authorization": f"Bearer {store.create_token(username, 'test')}"}


def test_post_handoff_as_the_bot_does(client):
    response = client.post("/handoffs", json=handoff_payload("conv-7-handoff-1"), headers=SERVICE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert TICKET_RE.match(body["ticket_id"])
    assert body | {"ticket_id": None, "expected_response": None, "chat_key": None} == {
        "ticket_id": None,
        "status": "new",
        "team": "network",
        "priority": "high",
        "created": True,
        "expected_response": None,
        "chat_key": None,
    }
    assert body["chat_key"].startswith("hdck_") and len(body["chat_key"]) > 40
    assert body["expected_response"]["minutes"] == 30
    assert body["expected_response"]["text"] == {"en": "within 30 minutes", "de": "innerhalb von 30 Minuten"}
    assert body["expected_response"]["due_at"].endswith("Z")
    # It is in the store before the answer: a fresh read finds it with everything.
    stored = client.app.state.handoffs.get(body["ticket_id"])
    assert stored["summary"]["description"].startswith("Seit heute früh")
    assert len(stored["transcript"]) == 3 and stored["articles_shown"][0]["feedback"] == "not_solved"

    # The same key with another payload (handoff_payload draws a new conversation id) is refused.
    reused = client.post("/handoffs", json=handoff_payload("conv-7-handoff-1"), headers=SERVICE)
    assert reused.status_code == 409 and body["ticket_id"] in reused.json()["detail"]
    assert count(client) == 1


def test_a_whole_chat_message_is_kept_as_description_and_transcript(client):
    # The longest message the chat takes, in code points as Python counts them (an emoji is one).
    whole = ("Der Router startet ständig neu. " * 250)[: MAX_MESSAGE_CHARS - 22] + " Kundennr. 4711-0815 😀"
    assert len(whole) == MAX_MESSAGE_CHARS
    payload = handoff_payload("conv-long-handoff-1")
    payload["summary"]["description"] = payload["transcript"][0]["text"] = whole
    response = client.post("/handoffs", json=payload, headers=SERVICE)
    assert response.status_code == 201, response.text
    stored = client.app.state.handoffs.get(response.json()["ticket_id"])
    assert stored["summary"]["description"] == stored["transcript"][0]["text"] == whole


def test_replay_is_200_with_the_same_body(client):
    payload = handoff_payload("conv-8-handoff-1")
    first = client.post("/handoffs", json=payload, headers=SERVICE)
    second = client.post("/handoffs", json=payload, headers=SERVICE)
    assert (first.status_code, second.status_code) == (201, 200)
    # The first answer was lost (that is why the bot retried): the replay carries a fresh chat key.
    assert second.json() == first.json() | {"created": False, "chat_key": second.json()["chat_key"]}
    store = cast(FastAPI, client.app).state.handoffs
    assert store.ticket_for_chat_key(second.json()["chat_key"]) == first.json()["ticket_id"]
    assert store.ticket_for_chat_key(first.json()["chat_key"]) is None
    assert count(client) == 1


def test_urgent_handoff_outside_office_hours_goes_to_on_call(make_client, closed_routing):
    client = make_client(routing_file=closed_routing)
    urgent = client.post("/handoffs", json=handoff_payload(urgency="critical"), headers=SERVICE).json()
    assert (urgent["team"], urgent["priority"], urgent["expected_response"]["minutes"]) == ("on-call", "critical", 30)
    normal = client.post(
        "/handoffs", json=handoff_payload(urgency="normal", category="billing"), headers=SERVICE
    ).json()
    assert normal["team"] == "billing" and normal["expected_response"]["minutes"] > 24 * 60
    assert "within" not in normal["expected_response"]["text"]["en"]  # a date, not a misleading duration
    frustrated = client.post(
        "/handoffs", json=handoff_payload(urgency="normal") | {"reason": "frustration"}, headers=SERVICE
    ).json()
    assert (frustrated["priority"], frustrated["team"]) == ("high", "on-call")


def bad(mutate):
    payload = handoff_payload()
    mutate(payload)
    return payload


BAD_PAYLOADS = {
    "description too long": (
        bad(lambda p: p["summary"].update(description="x" * (MAX_MESSAGE_CHARS + 1))),
        "description",
    ),
    "blank description": (bad(lambda p: p["summary"].update(description="   ")), "description"),
    "invalid e-mail": (bad(lambda p: p["summary"]["contact"].update(email="erika@@example")), "email"),
    "invalid phone": (bad(lambda p: p["summary"]["contact"].update(phone="call me maybe")), "phone"),
    "no way to reach": (bad(lambda p: p["summary"].update(contact={"name": "Erika"})), "contact"),
    "unknown category": (bad(lambda p: p["summary"].update(category="plumbing")), "category"),
    "unknown urgency": (bad(lambda p: p["summary"].update(urgency="asap")), "urgency"),
    "short key": (bad(lambda p: p.update(idempotency_key="abc")), "idempotency_key"),
    "NUL in text": (bad(lambda p: p["transcript"][0].update(text="a\u0000b")), "transcript"),
    "bad timestamp": (bad(lambda p: p["transcript"][0].update(timestamp="yesterday")), "timestamp"),
    "too many messages": (bad(lambda p: p.update(transcript=p["transcript"] * 200)), "transcript"),
    "unknown field": (bad(lambda p: p.update(team="billing")), "team"),
    "infinite score": (bad(lambda p: p["articles_shown"][0].update(score=float("inf"))), "score"),
}


@pytest.mark.parametrize("name", BAD_PAYLOADS)
def test_bad_payloads_are_422_naming_the_field_and_store_nothing(client, name):
    payload, field = BAD_PAYLOADS[name]
    # json.dumps, not json=: an infinite float must reach the server as the client wrote it.
    response = client.post("/handoffs", content=json.dumps(payload), headers=SERVICE)
    assert response.status_code == 422, response.text
    assert any(field in map(str, error["loc"]) for error in response.json()["detail"]), response.json()
    assert count(client) == 0


def test_bodies_that_are_not_json_or_too_large(client):
    cases = [
        (b'{"idempotency_key": "\xff\xfe broken"}', 400, "UTF-8"),
        (b'{"idempotency_key": ', 400, "not valid JSON"),
        (b"[1, 2]", 422, ""),
        (b"[" * 200_000 + b"]" * 200_000, 400, "nested too deeply"),
        (json.dumps(handoff_payload() | {"pad": "x" * (1024 * 1024)}).encode(), 413, "bytes"),
    ]
    for body, status, text in cases:
        response = client.post("/handoffs", content=body, headers=SERVICE | {"Content-Type": "application/json"})
        assert response.status_code == status, (body[:40], response.text)
        assert text in response.text
    assert count(client) == 0


def test_credentials(client, make_client):
    payload = handoff_payload()
    assert client.post("/handoffs", json=payload).status_code == 401
    assert client.post("/handoffs", json=payload, headers={"Authorization": "Bearer wrong"}).status_code == 401
    agent = agent_headers(client)
    assert client.post("/handoffs", json=payload, headers=agent).status_code == 401  # agents are not the bot
    assert client.get("/agent/api/handoffs", headers=SERVICE).status_code == 401  # nor the bot an agent
    assert client.get("/agent/api/handoffs").status_code == 401
    assert count(client) == 0
    unconfigured = make_client(service_token=None, database_url=client.app.state.settings.database_url)
    assert unconfigured.post("/handoffs", json=payload, headers=SERVICE).status_code == 403


def test_agent_api_moves_a_handoff_through_claim_escalate_resolve(client):
    ticket = client.post("/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
    anna = agent_headers(client, "anna", ("network",))
    eva = agent_headers(client, "eva", ("experts",))
    listed = client.get("/agent/api/handoffs", params={"team": "network", "status": "new"}, headers=anna).json()
    assert [h["ticket_id"] for h in listed["handoffs"]] == [ticket]
    assert client.get("/agent/api/handoffs", params={"priority": "low"}, headers=anna).json() == {"handoffs": []}
    assert client.get("/agent/api/handoffs", params={"team": "plumbing"}, headers=anna).status_code == 422
    assert client.get("/agent/api/handoffs", params={"status": "lost"}, headers=anna).status_code == 422

    url = f"/agent/api/handoffs/{ticket}"
    assert client.post(f"{url}/claim", headers=anna).json()["assignee"] == "anna"
    nils = agent_headers(client, "nils", ("network",))
    assert client.post(f"{url}/claim", headers=nils).status_code == 409  # anna has it
    assert client.post(f"{url}/claim", headers=eva).status_code == 404  # not the experts' ticket (yet)
    assert client.post(f"{url}/notes", json={"text": "Leitung ok"}, headers=anna).status_code == 200
    assert client.post(f"{url}/notes", json={"text": ""}, headers=anna).status_code == 422
    unknown = client.post(f"{url}/escalate", json={"reason": "x", "team": "plumbing"}, headers=anna)
    assert unknown.status_code == 422 and "unknown team" in unknown.text
    escalated = client.post(f"{url}/escalate", json={"reason": "DSLAM"}, headers=anna).json()
    assert (escalated["status"], escalated["team"]) == ("escalated", "experts")
    assert client.post(f"{url}/claim", headers=eva).json()["assignee"] == "eva"
    resolved = client.post(f"{url}/resolve", json={"note": "Port neu geschaltet"}, headers=eva).json()
    assert resolved["status"] == "resolved"
    assert [e["action"] for e in resolved["events"]] == [
        "created",
        "claimed",
        "note",
        "escalated",
        "customer_told",  # the experts' later response time: neither a live chat nor SMTP to tell it by
        "claimed",
        "resolved",
    ]
    assert client.post(f"{url}/resolve", json={"note": "again"}, headers=eva).status_code == 409
    detail = client.get(url, headers=eva).json()
    assert detail["resolution"] == "Port neu geschaltet" and detail["notifications"] == []
    assert client.get("/agent/api/handoffs/HD-ZZZZZZ", headers=eva).status_code == 404
    assert client.get("/agent/api/me", headers=eva).json()["teams"] == ["experts"]


def test_the_app_refuses_to_start_with_a_broken_routing_file(make_settings, tmp_path):
    broken = tmp_path / "routing.yml"
    broken.write_text("time_zone: Europe/Berlin\nteams: {}\n")
    with pytest.raises(Exception, match="invalid routing configuration"):
        with TestClient(create_app(make_settings(routing_file=broken))):
            pass


def test_the_app_refuses_to_start_with_a_message_limit_a_ticket_cannot_keep(make_settings, monkeypatch):
    monkeypatch.setenv("HELPDESK_BOT_MAX_MESSAGE_CHARS", str(MAX_MESSAGE_CHARS + 1))
    with pytest.raises(ValueError, match="HELPDESK_BOT_MAX_MESSAGE_CHARS must be 1 to 8000"):
        create_app(make_settings())
