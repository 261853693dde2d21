"""New mails end to end: real Dovecot, the real ``helpdesk mail`` worker, real search on the starter KB,
real SMTP. A German mail about a red router LED gets the answer passage by mail within the poll
interval; a mail nothing answers gets its ticket number and the honest response time."""

from __future__ import annotations

import time

from helpdesk.mail.parsing import question
from tests.mail.conftest import DESK_ADDRESS, mail, wait_for


def test_a_german_mail_about_a_red_led_gets_the_answer_passage_within_the_poll_interval(make_desk):
    desk = make_desk(poll_seconds=30)
    subject = "Info-LED leuchtet rot"
    text = (
        "Hallo,\n\nan meinem Router leuchtet seit heute Morgen die Info-LED rot. Was bedeutet das?\n\n"
        "Viele Grüße\nErika Mustermann"
    )
    # What the chat's search answers for this mail's question (greeting and closing are not searched).
    expected = desk.http.post("/search", json={"query": question(subject, text)}).json()
    assert expected["decision"] == "answer" and expected["lang"] == "de", expected
    desk.worker.start()  # the real loop: IMAP IDLE on the test mailbox
    assert wait_for(lambda: desk.worker.mailbox.rounds >= 1)  # it looked once; now it waits in IDLE
    started = time.monotonic()
    original = desk.deliver(mail("erika@example.org", subject, text, name="Erika Mustermann"))
    (reply,) = desk.wait_sent("erika@example.org", 1, timeout=30)
    took = time.monotonic() - started
    print(f"answer by mail {took:.1f} s after delivery (poll interval 30 s, IDLE)")
    assert took < desk.settings.mail.poll_seconds

    body = reply.get_content().replace("\r\n", "\n")
    hit = expected["hits"][0]
    assert hit["article_id"] == "de-router-leds-bedeutung"
    assert hit["answer"]["text"] in body and hit["answer"]["url"] in body
    assert "gelöst" in body and desk.settings.deployment.company in body
    assert reply["In-Reply-To"] == original and original in reply["References"]
    assert reply["Auto-Submitted"] == "auto-replied" and reply["X-Loop"] == DESK_ADDRESS
    assert reply.envelope_from in ("", "<>")  # RFC 3834: automatic mail has the null sender
    ticket_id = reply["X-Helpdesk-Ticket"]
    assert f"[{ticket_id}]" in reply["Subject"]

    ticket = desk.ticket(ticket_id)
    assert (ticket["channel"], ticket["language"], ticket["status"]) == ("email", "de", "resolved")
    assert ticket["summary"]["contact"] == {"name": "Erika Mustermann", "email": "erika@example.org", "phone": None}
    assert [m["sender"] for m in ticket["transcript"]] == ["customer", "bot"]
    assert "die Info-LED rot" in ticket["transcript"][0]["text"]
    assert hit["answer"]["text"] in ticket["transcript"][1]["text"]
    assert ticket["articles_shown"][0]["article_id"] == "de-router-leds-bedeutung"
    assert ticket["team"] == "network"


def test_a_mail_nothing_answers_gets_a_ticket_number_and_an_honest_response_time(make_desk):
    desk = make_desk()
    text = (
        "Good afternoon, our office dog chewed through the cable of the coffee machine in the break room. "
        "Could someone tell us whether the warranty of the kitchen furniture covers that? Thanks, John"
    )
    desk.deliver(mail("john@example.com", "Coffee machine cable and the kitchen warranty", text, name="John Smith"))
    assert desk.take_in() == 1
    (reply,) = desk.wait_sent("john@example.com", 1)
    ticket_id = reply["X-Helpdesk-Ticket"]
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "new" and ticket["language"] == "en" and ticket["reason"] == "no_answer"
    body = reply.get_content().replace("\r\n", "\n")
    promised = desk.worker.routing.expected(ticket["created_at"], ticket["due_at"]).text["en"]
    assert ticket_id in body and promised in body, body
    # Normal priority, the office open around the clock in this test: the team's 120 minutes.
    assert ticket["expected_minutes"] == 120 and (ticket["due_at"] - ticket["created_at"]).total_seconds() == 7200
    assert desk.settings.deployment.company in body
    # The team hears of it like of a chat handoff (notification mail to the team's address).
    assert wait_for(lambda: any(e.rcpt_tos == ["software@helpdesk.example"] for e in desk.collector.messages)), (
        ticket["team"],
        [e.rcpt_tos for e in desk.collector.messages],
        desk.store.notifications(ticket_id),
    )
