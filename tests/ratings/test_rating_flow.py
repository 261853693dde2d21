"""The satisfaction question end to end: a resolution mails the customer one link per score through the real
outbox and SMTP server, the link records one score on the page over HTTP, takes one comment, and the workspace,
the export and the erasure see the answer; on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import text

from helpdesk.db import utcnow
from helpdesk.handoffs.store import HandoffStore
from helpdesk.ratings.store import RatingStore
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload, wait_for

PASSWORD = "a long enough password"
BASE = "http://desk.example"
LINK = re.compile(r"http://desk\.example/rate/(hdrt_[A-Za-z0-9_-]+)\?score=([1-5])")


def new_ticket(client, language: str = "de", conversation: str | None = None) -> str:
    payload = handoff_payload(contact={"name": "Erika", "email": "erika@example.org", "phone": None})
    payload["language"] = language
    payload["conversation_id"] = conversation or "conv-" + secrets.token_hex(6)
    response = client.post("/handoffs", json=payload, headers=SERVICE)
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def mail_text(envelope) -> str:
    message = email.message_from_bytes(envelope.content)
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def sql(store: HandoffStore, query: str, **params):
    with store.engine.begin() as conn:
        result = conn.execute(text(query), params)
        return result.all() if result.returns_rows else []


def resolved_and_mailed(client, collector, ticket: str, language: str = "de") -> tuple[str, str]:
    client.app.state.handoffs.resolve(ticket, "anna", "Router getauscht")

    def to_customer():
        return [
            e
            for e in collector.messages
            if e.rcpt_tos == ["erika@example.org"] and f"X-Helpdesk-Ticket: {ticket}" in e.content.decode("latin-1")
        ]

    assert wait_for(lambda: to_customer(), 15)
    (envelope,) = to_customer()
    assert envelope.mail_from in ("", "<>")  # an automatic mail: the null sender
    body = mail_text(envelope)
    links = LINK.findall(body)
    assert [int(n) for _, n in links] == [5, 4, 3, 2, 1]
    assert len({token for token, _ in links}) == 1
    return links[0][0], body


def test_the_resolution_mail_asks_once_and_the_answer_shows_everywhere(make_client, database_url, smtp_server):
    collector, port = smtp_server
    client = make_client(database_url=database_url, smtp_host="127.0.0.1", smtp_port=port, public_base_url=BASE)
    store = client.app.state.handoffs
    store.create_agent("anna", "Anna", ("network",), PASSWORD, "agent")
    store.create_agent("adam", "Adam", (), PASSWORD, "admin")
    ticket = new_ticket(client)
    token, body = resolved_and_mailed(client, collector, ticket)
    assert "Wie zufrieden sind Sie" in body and "5 – sehr zufrieden" in body
    assert ticket not in LINK.search(body).group(0)  # the link names nothing of the ticket
    ((stored,),) = sql(store, "SELECT token_hash FROM ratings")
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(sql(store, "SELECT * FROM ratings"))

    # The question without a score (the chat's link) shows the five choices.
    question = client.get(f"/rate/{token}")
    assert question.status_code == 200 and question.text.count(f"/rate/{token}?score=") == 5
    assert 'lang="de"' in question.text and question.headers["referrer-policy"] == "no-referrer"

    assert client.get(f"/rate/{token}", params={"score": "9"}).status_code == 400
    bad = client.get(f"/rate/{token}", params={"score": "vier"})
    assert bad.status_code == 400 and "ganze Zahl von 1 bis 5" in bad.text
    assert sql(store, "SELECT score FROM ratings") == [(None,)]  # a bad score records nothing

    rated = client.get(f"/rate/{token}", params={"score": "4"})
    assert rated.status_code == 200 and "Vielen Dank für Ihre Bewertung" in rated.text
    assert 'name="comment"' in rated.text
    again = client.get(f"/rate/{token}", params={"score": "1"})
    assert again.status_code == 409 and "bereits bewertet" in again.text
    assert sql(store, "SELECT score FROM ratings") == [(4,)]

    assert client.post(f"/rate/{token}", data={"comment": "   "}).status_code == 422
    long = client.post(f"/rate/{token}", data={"comment": "x" * 2001})
    assert long.status_code == 422 and "höchstens 2000 Zeichen" in long.text
    said = "<b>Schnell</b> & freundlich"
    commented = client.post(f"/rate/{token}", data={"comment": said})
    assert commented.status_code == 200 and "Kommentar ist angekommen" in commented.text
    assert "<b>Schnell</b>" not in commented.text and "&lt;b&gt;Schnell&lt;/b&gt;" in commented.text
    assert client.post(f"/rate/{token}", data={"comment": "noch was"}).status_code == 409
    assert sql(store, "SELECT comment FROM ratings") == [(said,)]

    for unknown in ("hdrt_" + secrets.token_urlsafe(32), "nothing", "x" * 300):
        page = client.get(f"/rate/{unknown}", params={"score": "5"})
        assert page.status_code == 404 and "does not exist" in page.text
        assert client.post(f"/rate/{unknown}", data={"comment": "hi"}).status_code == 404

    # The workspace shows the answer, the comment escaped.
    login = client.get("/agent/login")
    client.post("/agent/login", data={"username": "anna", "password": PASSWORD, "csrf_token": csrf_token(login.text)})
    workspace = client.get(f"/agent/handoffs/{ticket}")
    assert workspace.status_code == 200 and "4 of 5" in workspace.text
    assert "&lt;b&gt;Schnell&lt;/b&gt; &amp; freundlich" in workspace.text and "<b>Schnell" not in workspace.text

    # The customer's export holds it; the erasure removes it.
    admin = {"Authorization": f"Bearer {store.create_token('adam', 'api')}"}
    exported = client.post("/agent/api/admin/privacy/export", json={"ticket": ticket}, headers=admin).json()
    assert [(r["score"], r["comment"]) for r in exported["handoffs"][0]["ratings"]] == [(4, said)]
    readable = client.post("/agent/api/admin/privacy/export?format=html", json={"ticket": ticket}, headers=admin)
    assert "4 von 5" in readable.text and "&lt;b&gt;Schnell" in readable.text
    erased = client.post("/agent/api/admin/privacy/erase", json={"ticket": ticket}, headers=admin).json()
    assert erased["counts"]["ratings"] == 1
    assert sql(store, "SELECT COUNT(*) FROM ratings") == [(0,)]
    assert client.get(f"/rate/{token}").status_code == 404


def test_an_expired_link_and_a_second_resolution(make_client, database_url, smtp_server):
    collector, port = smtp_server
    client = make_client(database_url=database_url, smtp_host="127.0.0.1", smtp_port=port, public_base_url=BASE)
    store = client.app.state.handoffs
    ticket = new_ticket(client, language="en")
    token, body = resolved_and_mailed(client, collector, ticket)
    assert "How satisfied are you" in body
    sql(store, "UPDATE ratings SET expires_at = :t", t=(utcnow() - timedelta(minutes=1)).replace(tzinfo=None))
    expired = client.get(f"/rate/{token}", params={"score": "5"})
    assert expired.status_code == 410 and "expired" in expired.text
    assert client.get(f"/rate/{token}").status_code == 410
    assert sql(store, "SELECT score FROM ratings") == [(None,)]
    # Resolved again (after a reopen): a new link, the old unanswered one is gone.
    with store.transaction() as s:
        store.lock(s, ticket).status = "new"
    collector.messages.clear()
    second, _ = resolved_and_mailed(client, collector, ticket, "en")
    assert second != token and client.get(f"/rate/{token}").status_code == 404
    assert RatingStore(store).rate(second, 5) == "recorded" and RatingStore(store).rate(second, 5) == "already"


def test_a_customer_still_in_the_live_chat_is_asked_there(make_client, database_url, smtp_server):
    collector, port = smtp_server
    client = make_client(database_url=database_url, smtp_host="127.0.0.1", smtp_port=port, public_base_url=BASE)
    store = client.app.state.handoffs
    ticket = new_ticket(client, language="en", conversation=secrets.token_hex(16))
    store.seen_by_customer(ticket)  # the customer's chat page is open
    store.resolve(ticket, "anna", "solved live")
    customer = store.get(ticket, rating_links=True)["transcript"]
    notices = [m for m in customer if m["sender"] == "bot" and "/rate/" in m["text"]]
    assert len(notices) == 1 and "How satisfied are you" in notices[0]["text"]
    token = re.search(r"/rate/(hdrt_[A-Za-z0-9_-]+)", notices[0]["text"]).group(1)
    # The team sees that the customer was asked, never the link: nobody rates their own work.
    seen = [m["text"] for m in store.get(ticket)["transcript"]]
    assert not any(token in text for text in seen) and any("/rate/…" in text for text in seen)
    store.create_agent("anna", "Anna", ("network",), PASSWORD, "agent")
    login = client.get("/agent/login")
    client.post("/agent/login", data={"username": "anna", "password": PASSWORD, "csrf_token": csrf_token(login.text)})
    workspace = client.get(f"/agent/handoffs/{ticket}")
    assert workspace.status_code == 200 and token not in workspace.text
    assert client.get(f"/rate/{token}").text.count("?score=") == 5
    events = [e["action"] for e in store.get(ticket)["events"]]
    assert "rating_asked" in events
    assert sql(store, "SELECT COUNT(*) FROM notification_outbox WHERE event = 'mail.resolved'") == [(0,)]


def test_the_e_mail_channel_s_own_resolution_asks_nobody(make_client, database_url, smtp_server):
    _collector, port = smtp_server
    client = make_client(database_url=database_url, smtp_host="127.0.0.1", smtp_port=port, public_base_url=BASE)
    store = client.app.state.handoffs
    ticket = new_ticket(client)
    store.resolve(ticket, "mail", "answered automatically")
    assert sql(store, "SELECT COUNT(*) FROM ratings") == [(0,)]
