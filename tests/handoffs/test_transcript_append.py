"""POST /handoffs/{ticket}/messages: what the customer writes to the bot after the handoff is added
to the ticket's transcript (any channel), by the bot's service token, for that conversation only."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.handoffs.conftest import SERVICE, handoff_payload


def message(text: str, sender: str = "customer") -> dict:
    return {"sender": sender, "text": text, "timestamp": datetime(2020, 1, 1, tzinfo=UTC).isoformat()}


def test_customer_message_after_the_handoff_is_appended(client):
    payload = handoff_payload()
    ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    body = {"conversation_id": payload["conversation_id"], "messages": [message("the LED is orange now")]}
    response = client.post(f"/handoffs/{ticket}/messages", json=body, headers=SERVICE)
    assert response.status_code == 200, response.text
    assert response.json() == {"ticket_id": ticket, "status": "new", "messages": len(payload["transcript"]) + 1}
    last = client.app.state.handoffs.get(ticket)["transcript"][-1]
    assert (last["sender"], last["text"]) == ("customer", "the LED is orange now")
    assert last["timestamp"].year > 2020  # stamped by the service, not the caller


def test_only_the_bot_only_its_conversation_only_customer_messages_only_open_tickets(client):
    payload = handoff_payload()
    ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    body = {"conversation_id": payload["conversation_id"], "messages": [message("hello")]}
    url = f"/handoffs/{ticket}/messages"
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post(url, json={**body, "conversation_id": "someone-else"}, headers=SERVICE).status_code == 404
    assert client.post("/handoffs/HD-AAAAAA/messages", json=body, headers=SERVICE).status_code == 404
    agent = {**body, "messages": [message("I am the agent", "agent")]}
    assert client.post(url, json=agent, headers=SERVICE).status_code == 422
    assert client.post(url, json={**body, "messages": []}, headers=SERVICE).status_code == 422
    assert client.post(url, json={**body, "extra": 1}, headers=SERVICE).status_code == 422
    store = client.app.state.handoffs
    store.create_agent("anna", "Anna", ["network"], "a long enough password")
    store.resolve(ticket, "anna", "fixed")
    assert client.post(url, json=body, headers=SERVICE).status_code == 409
