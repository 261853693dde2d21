"""Loop and abuse protection (RFC 3834) end to end: no automatic reply to machines, lists, bounces or the
desk itself, at most one per sender and period, so an auto-responder cannot start a mail loop."""

from __future__ import annotations

import time

from tests.mail.conftest import DESK_ADDRESS, mail

QUESTION = (
    "Hello, our office dog chewed through the cable of the coffee machine in the break room. Does the "
    "warranty of the kitchen furniture cover that?"
)


def notes(ticket) -> str:
    return " ".join(e["note"] or "" for e in ticket["events"])


def test_an_auto_responder_cannot_start_a_mail_loop(make_desk):
    desk = make_desk()
    customer = "max@example.com"
    desk.deliver(mail(customer, "Coffee machine cable", QUESTION))
    desk.take_in()
    desk.wait_sent(customer, 1)
    answered: set[str] = set()
    for _ in range(4):
        # Max's mailbox has two auto-responders: a well-behaved one (RFC 3834 headers, threaded) and a naive
        # one that writes a fresh mail without any mark. Both answer every mail the desk sent them.
        for sent in desk.sent(customer):
            if sent["Message-ID"] in answered:
                continue
            answered.add(sent["Message-ID"])
            desk.deliver(
                mail(
                    customer,
                    f"Automatic reply: {sent['Subject']}",
                    "I am out of office until Monday.",
                    in_reply_to=sent["Message-ID"],
                    headers={"Auto-Submitted": "auto-replied"},
                )
            )
            desk.deliver(mail(customer, "Out of office", f"I am away. Your mail: {sent['Subject']}"))
        desk.take_in()
        time.sleep(0.3)
    assert len(desk.sent(customer)) == 1, [m["Subject"] for m in desk.sent(customer)]
    tickets = desk.tickets()
    # The first ticket keeps the threaded auto-replies; the naive responder's new mail became a ticket
    # (every mail is one), with the reason it got no answer.
    naive = [t for t in tickets if t["summary"]["description"].startswith("Out of office")]
    assert len(naive) == 1
    assert "got an automatic reply within the last 24 hours" in notes(desk.ticket(naive[0]["ticket_id"]))


def test_machine_mail_and_the_desks_own_mail_get_no_automatic_reply(make_desk):
    desk = make_desk()
    cases = {
        "auto@example.com": {"Auto-Submitted": "auto-generated"},
        "bulk@example.com": {"Precedence": "bulk"},
        "list@example.com": {"List-Unsubscribe": "<mailto:leave@example.com>", "List-Id": "<news.example.com>"},
        "loop@example.com": {"X-Loop": "other-desk@example.com"},
        "mailer-daemon@example.com": {},
        "no-reply@example.com": {},
        "person@example.com": {"Auto-Submitted": "no"},  # a person's mail that says so: it gets an answer
    }
    for sender, headers in cases.items():
        desk.deliver(mail(sender, f"Question from {sender}", QUESTION, headers=headers))
    desk.deliver(mail(DESK_ADDRESS, "A copy of our own mail", QUESTION))
    assert desk.take_in() == len(cases) + 1
    desk.wait_sent("person@example.com", 1)
    time.sleep(0.5)
    assert [m["To"] for m in desk.sent()] == ["person@example.com"]
    tickets = {t["summary"]["contact"]["email"]: t for t in desk.tickets()}
    assert set(tickets) == set(cases)  # every mail is a ticket, except the desk's own
    for sender, reason in (
        ("auto@example.com", "Auto-Submitted: auto-generated"),
        ("bulk@example.com", "Precedence: bulk"),
        ("list@example.com", "mailing list"),
        ("loop@example.com", "X-Loop"),
        ("mailer-daemon@example.com", "machine sender"),
        ("no-reply@example.com", "machine sender"),
    ):
        assert f"no automatic reply: {reason}" in notes(desk.ticket(tickets[sender]["ticket_id"])), sender
