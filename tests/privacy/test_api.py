"""The admin API of data protection, on SQLite and PostgreSQL with Rasa's real tracker store."""

from __future__ import annotations

import time

from tests.handoffs.conftest import SERVICE, handoff_payload, index_dir, make_client, make_settings, open_routing  # noqa: F401  (fixtures)

PASSWORD = "a long enough password"


def test_admin_exports_and_erases_a_customer_and_the_audit_log_names_the_admin(make_client, database_url, trackers):
    client = make_client(database_url=database_url, tracker_store_url=trackers.url)
    store = client.app.state.handoffs
    store.create_agent("adam", "Adam", (), PASSWORD, "admin")
    store.create_agent("nora", "Nora", ("network",), PASSWORD, "agent")
    admin = {"Authorization": f"Bearer {store.create_token('adam', 'api')}"}
    agent = {"Authorization": f"Bearer {store.create_token('nora', 'api')}"}
    tickets = {}
    for conv, email in (("conv-api-erika", "erika@example.org"), ("conv-api-bob", "bob@example.org")):
        payload = handoff_payload(contact={"name": None, "email": email, "phone": None})
        payload["conversation_id"] = conv
        tickets[conv] = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    trackers.rasa("save", {conv: [("hello", time.time() - 60)] for conv in tickets})

    body = {"ticket": tickets["conv-api-erika"]}
    assert client.post("/agent/api/admin/privacy/erase", json=body, headers=agent).status_code == 403
    assert client.post("/agent/api/admin/privacy/erase", json=body).status_code == 401
    both = client.post(
        "/agent/api/admin/privacy/erase", json={"email": "x@example.org", "ticket": "HD-X"}, headers=admin
    )
    assert both.status_code == 422 and "exactly one of" in both.text
    assert client.post("/agent/api/admin/privacy/export", json={"email": "nobody"}, headers=admin).status_code == 422

    exported = client.post("/agent/api/admin/privacy/export", json=body, headers=admin).json()
    assert [h["summary"]["contact"]["email"] for h in exported["handoffs"]] == ["erika@example.org"]
    assert {e["sender_id"] for e in exported["conversation_events"]} == {"conv-api-erika"}
    page = client.post("/agent/api/admin/privacy/export?format=html", json=body, headers=admin)
    assert page.headers["content-type"].startswith("text/html") and "erika@example.org" in page.text
    assert tickets["conv-api-erika"] in page.text and "bob@" not in page.text
    assert client.post("/agent/api/admin/privacy/export?format=pdf", json=body, headers=admin).status_code == 422

    erased = client.post("/agent/api/admin/privacy/erase", json=body, headers=admin).json()
    assert erased["counts"]["handoffs"] == 1 and erased["counts"]["tracker_events"] >= 2
    assert [h["ticket_id"] for h in store.list_handoffs()] == [tickets["conv-api-bob"]]
    assert set(trackers.rasa("keys")) == {"conv-api-bob"}
    entries = client.get("/agent/api/admin/privacy/audit", headers=admin).json()["entries"]
    erika = [tickets["conv-api-erika"]]
    assert [(e["action"], e["actor"], e["tickets"]) for e in entries] == [
        ("erase", "admin:adam", erika),
        ("export", "admin:adam", erika),
        ("export", "admin:adam", erika),
    ]
    assert "erika" not in str(entries)
