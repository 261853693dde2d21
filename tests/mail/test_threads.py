"""A conversation by mail: replies thread into their ticket (headers or ticket number), agents answer
from the inbox by SMTP with threading headers, a reply reopens a resolved ticket. Real Dovecot, real
SMTP, real web service; on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from tests.conftest import csrf_token
from tests.mail.conftest import DESK_ADDRESS, mail

UNANSWERABLE = (
    "Hallo,\n\nunser Bürohund hat das Kabel der Kaffeemaschine im Pausenraum angeknabbert. Zahlt das "
    "die Versicherung der Küchenmöbel?\n\nViele Grüße\nLena Berg"
)


def events(ticket) -> list[str]:
    return [e["action"] for e in ticket["events"]]


@pytest.mark.parametrize("mail_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_mail_conversation_stays_in_one_ticket_and_agents_answer_by_mail(make_desk):
    desk = make_desk()
    customer = "lena@example.net"
    first = desk.deliver(mail(customer, "Kabel der Kaffeemaschine", UNANSWERABLE, name="Lena Berg"))
    desk.take_in()
    (ack,) = desk.wait_sent(customer, 1)
    ticket_id = ack["X-Helpdesk-Ticket"]
    assert ack["In-Reply-To"] == first

    # 1. The customer answers the acknowledgement: threaded by In-Reply-To/References, quote left out.
    quoted = "\n".join("> " + line for line in ack.get_content().splitlines())
    second = desk.deliver(
        mail(
            customer,
            f"AW: {ack['Subject']}",
            f"Die Seriennummer ist NB7-4711.\n\nAm Freitag schrieb Support:\n{quoted}",
            in_reply_to=ack["Message-ID"],
            references=f"{first} {ack['Message-ID']}",
        )
    )
    assert desk.take_in() == 1
    ticket = desk.ticket(ticket_id)
    assert ticket["transcript"][-1]["sender"] == "customer"
    assert "NB7-4711" in ticket["transcript"][-1]["text"] and "Bürohund" not in ticket["transcript"][-1]["text"]
    assert len(desk.tickets()) == 1
    time.sleep(0.5)
    assert len(desk.sent(customer)) == 1  # a reply gets no automatic mail

    # 2. An agent answers from the inbox: by SMTP, threaded, stored in the transcript.
    agent = desk.login("anna")
    page = agent.get(f"/agent/handoffs/{ticket_id}")
    assert page.status_code == 200 and "Reply by e-mail" in page.text and customer in page.text
    sent = agent.post(
        f"/agent/handoffs/{ticket_id}/mail",
        data={"csrf_token": csrf_token(page.text), "text": "Bitte schicken Sie uns ein Foto."},
    )
    assert sent.status_code == 200 and "reply sent by e-mail" in sent.text, sent.text[:500]
    reply = desk.wait_sent(customer, 2)[1]
    assert reply["In-Reply-To"] == second
    assert all(m in reply["References"] for m in (first, ack["Message-ID"], second))
    assert reply["Auto-Submitted"] is None and reply.envelope_from == DESK_ADDRESS
    assert f"[{ticket_id}]" in reply["Subject"] and "Foto" in reply.get_content()
    ticket = desk.ticket(ticket_id)
    assert (ticket["transcript"][-1]["sender"], ticket["transcript"][-1]["text"]) == (
        "agent",
        "Bitte schicken Sie uns ein Foto.",
    )

    # 3. The customer's answer to the agent lands in the same ticket.
    desk.deliver(mail(customer, f"Re: {reply['Subject']}", "Foto kommt gleich.", in_reply_to=reply["Message-ID"]))
    # 4. A mail program that dropped the headers: the ticket number in the subject, from the contact's address.
    desk.deliver(mail(customer, f"Nachtrag zu {ticket_id}", "Das Kabel ist jetzt ganz durch."))
    # 5. Somebody else with that ticket number gets a ticket of their own.
    desk.deliver(mail("stranger@example.org", f"[{ticket_id}] noch eine Frage", UNANSWERABLE))
    assert desk.take_in() == 3
    ticket = desk.ticket(ticket_id)
    texts = [m["text"] for m in ticket["transcript"]]
    assert any("Foto kommt gleich" in t for t in texts) and any("ganz durch" in t for t in texts)
    assert not any("noch eine Frage" in t for t in texts)
    others = [t for t in desk.tickets() if t["ticket_id"] != ticket_id]
    assert len(others) == 1 and others[0]["summary"]["contact"]["email"] == "stranger@example.org"

    # 6. A reply to the resolved ticket reopens it; "gelöst" does not.
    desk.store.resolve(ticket_id, "anna", "Kabel getauscht")
    latest = desk.sent(customer)[-1]["Message-ID"]
    desk.deliver(mail(customer, "Re: Kabel", "Die neue Maschine geht auch nicht.", in_reply_to=latest))
    desk.take_in()
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "new" and "reopened" in events(ticket)
    assert ticket["sla_due_at"] > ticket["updated_at"]
    desk.store.resolve(ticket_id, "anna", "Maschine getauscht")
    desk.deliver(mail(customer, "Re: Kabel", "Gelöst, danke!\n\n> alter Text", in_reply_to=latest))
    desk.take_in()
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "resolved" and "Gelöst, danke!" in ticket["transcript"][-1]["text"]
    assert any(e["note"] == "the customer confirmed by mail that it is solved" for e in ticket["events"])

    # 7. The same mail delivered twice is taken in once.
    before = sum(m["sender"] == "customer" for m in desk.ticket(ticket_id)["transcript"])
    twice = mail(customer, "Re: Kabel", "doppelt", in_reply_to=latest, message_id="<twice.1@example.net>")
    desk.deliver(twice)
    desk.deliver(twice)
    assert desk.take_in() == 2  # both are marked seen ...
    after = sum(m["sender"] == "customer" for m in desk.ticket(ticket_id)["transcript"])
    assert after == before + 1  # ... one is in the transcript (it reopened the ticket: an acknowledgement too)
    assert desk.take_in() == 0  # nothing unseen is left


def test_after_the_reopen_period_a_reply_starts_a_new_ticket(make_desk):
    desk = make_desk(reopen_days=1 / 86400)  # one second
    customer = "paul@example.net"
    desk.deliver(mail(customer, "Kabel der Kaffeemaschine", UNANSWERABLE))
    desk.take_in()
    (ack,) = desk.wait_sent(customer, 1)
    old = ack["X-Helpdesk-Ticket"]
    desk.store.resolve(old, "anna", "erledigt")
    time.sleep(1.5)
    desk.deliver(mail(customer, f"Re: {ack['Subject']}", "Schon wieder kaputt.", in_reply_to=ack["Message-ID"]))
    desk.take_in()
    assert desk.ticket(old)["status"] == "resolved"
    (new,) = [t for t in desk.tickets() if t["ticket_id"] != old]
    assert new["summary"]["description"].startswith(f"Follow-up to {old}.")
