"""A reopened ticket does not go quiet: the story of an operator's mailbox, end to end.

A German mail about a red LED is answered automatically and its ticket created resolved; the
customer answers "hat nicht geholfen". The ticket reopens, and then: the customer gets an
acknowledgement with the ticket number and the new response time (the once-a-day limit on
automatic mail does not swallow it: it answers a reply in the ticket's own thread), the team
is notified through the outbox as for a new ticket, the automatic "resolution" is gone, the
article of the automatic answer counts as "not solved", and ``helpdesk mail`` logs one line
per mail without the customer's address or words. Auto-responders and bounces answering in
the same thread still get nothing. Real Dovecot, real SMTP, the real web service and search;
SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import time

import pytest

from helpdesk.feedback.store import FeedbackStore
from helpdesk.mail import threads
from helpdesk.mail.intake import loggable_id
from helpdesk.mail.parsing import parse
from helpdesk.privacy.masking import install_log_masking
from tests.mail.conftest import mail, wait_for

CUSTOMER = "erika@example.org"
SUBJECT = "Info-LED leuchtet rot"
QUESTION = (
    "Hallo,\n\nan meinem Router leuchtet seit heute Morgen die Info-LED rot. Was bedeutet das?\n\n"
    "Viele Grüße\nErika Mustermann"
)
ARTICLE = "de-router-leds-bedeutung"
LOGGER = "helpdesk.mail.intake"


def intake_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]


def line_for(caplog, message_id: str) -> str:
    (line,) = [line for line in intake_lines(caplog) if message_id in line]
    return line


def team_mails(desk, address: str) -> list:
    return [e for e in desk.collector.messages if e.rcpt_tos == [address]]


def answered_automatically(desk) -> tuple[str, str, object]:
    """The first part of the story: the German mail, its automatic answer, its resolved ticket."""
    first = desk.deliver(mail(CUSTOMER, SUBJECT, QUESTION, name="Erika Mustermann"))
    assert desk.take_in() == 1
    (answer,) = desk.wait_sent(CUSTOMER, 1)
    ticket_id = answer["X-Helpdesk-Ticket"]
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "resolved" and ticket["resolution"].startswith("Answered automatically by mail")
    assert [(a["article_id"], a["feedback"]) for a in ticket["articles_shown"]] == [(ARTICLE, "none")]
    return first, ticket_id, answer


@pytest.mark.parametrize("mail_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_not_helped_reopens_with_an_acknowledgement_a_team_notice_and_not_solved_feedback(make_desk, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    desk = make_desk()
    first, ticket_id, answer = answered_automatically(desk)
    time.sleep(0.3)
    assert team_mails(desk, "network@helpdesk.example") == []  # an answered mail notifies nobody

    # The customer answers the automatic answer in its thread: it did not help.
    quoted = "\n".join("> " + line for line in answer.get_content().splitlines())
    reply = desk.deliver(
        mail(
            CUSTOMER,
            f"AW: {answer['Subject']}",
            f"Hat nicht geholfen, die LED leuchtet immer noch rot.\n\nAm Montag schrieb Support:\n{quoted}",
            name="Erika Mustermann",
            in_reply_to=answer["Message-ID"],
            references=f"{first} {answer['Message-ID']}",
        )
    )
    assert desk.take_in() == 1

    # 1. The acknowledgement: in German, in the thread, with the ticket number and the new response time.
    ack = desk.wait_sent(CUSTOMER, 2)[1]
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "new" and ticket["assignee"] is None
    reopened = next(e for e in reversed(ticket["events"]) if e["action"] == "reopened")
    promised = desk.worker.routing.expected(reopened["at"], ticket["sla_due_at"])
    body = ack.get_content().replace("\r\n", "\n")
    assert ticket_id in body and promised.text["de"] in body, (promised.text, body)
    assert "wieder geöffnet" in body and "Erika Mustermann" in body
    assert desk.settings.deployment.company in body
    assert ack["X-Helpdesk-Ticket"] == ticket_id and f"[{ticket_id}]" in ack["Subject"]
    assert ack["In-Reply-To"] == reply and answer["Message-ID"] in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied" and ack.envelope_from in ("", "<>")
    assert ticket["sla_due_at"] > reopened["at"]
    assert ticket["transcript"][-1]["sender"] == "bot" and ticket_id in ticket["transcript"][-1]["text"]
    assert "nicht geholfen" in ticket["transcript"][-2]["text"]

    # 2. The team hears of it as of a new ticket: the outbox's e-mail to the owning team.
    assert ticket["team"] == "network"
    assert wait_for(lambda: team_mails(desk, "network@helpdesk.example")), desk.store.notifications(ticket_id)
    (notice,) = team_mails(desk, "network@helpdesk.example")
    text = notice.content.decode("utf-8", "replace")
    assert f"[{ticket_id}] Reopened" in text and "Respond by:" in text
    events = [n["event"] for n in desk.store.notifications(ticket_id) if n["channel"] == "email"]
    assert events == ["handoff.reopened"]

    # 3. The automatic "resolution" is gone (the history keeps it).
    assert ticket["resolution"] is None
    assert any(e["action"] == "resolved" and e["actor"] == "mail" for e in ticket["events"])

    # 4. The article of the automatic answer: "not solved", on the ticket and in the feedback statistics.
    assert [(a["article_id"], a["feedback"]) for a in ticket["articles_shown"]] == [(ARTICLE, "not_solved")]
    feedback = FeedbackStore(desk.store.engine).feedback(desk.store.conversation_of(ticket_id), ARTICLE)
    assert feedback is not None and feedback["helpful"] is False, feedback
    assert "LED" in feedback["query"]
    stats = {s["article_id"]: s for s in FeedbackStore(desk.store.engine).article_stats(ticket["created_at"])}
    assert stats[ARTICLE]["not_helpful"] == 1

    # 5. One log line per mail: Message-ID, ticket, decision, reply sent; never the address or the text.
    assert line_for(caplog, first) == f"mail {first} ticket={ticket_id} decision=answered reply=yes (mail.answer)"
    line = line_for(caplog, reply)
    assert line == f"mail {reply} ticket={ticket_id} decision=reopened reply=yes (mail.reopened)", line
    assert len(intake_lines(caplog)) == 2
    # Nothing of the customer: the log masking of the process would show an address as <email>.
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert CUSTOMER not in everything and "nicht geholfen" not in everything and "Mustermann" not in everything
    assert not any("<email>" in line for line in intake_lines(caplog))

    # 6. Resolved again by an agent; the customer's next "not solved" is acknowledged again, the same day.
    desk.store.resolve(ticket_id, "anna", "Router zurückgesetzt")
    again = desk.deliver(mail(CUSTOMER, f"Re: {ack['Subject']}", "Immer noch rot.", in_reply_to=ack["Message-ID"]))
    desk.take_in()
    third = desk.wait_sent(CUSTOMER, 3)[2]
    assert third["In-Reply-To"] == again and ticket_id in third.get_content()
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "new" and ticket["resolution"] is None
    assert "decision=reopened" in line_for(caplog, again)
    assert wait_for(lambda: len(team_mails(desk, "network@helpdesk.example")) == 2)


@pytest.mark.parametrize("mail_db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_auto_responders_answering_in_the_thread_still_get_nothing(make_desk, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    desk = make_desk()
    first, ticket_id, answer = answered_automatically(desk)
    machines = [
        mail(
            CUSTOMER,
            f"Automatische Antwort: {answer['Subject']}",
            "Ich bin bis Montag nicht im Büro.",
            in_reply_to=answer["Message-ID"],
            headers={"Auto-Submitted": "auto-replied"},
        ),
        mail(
            CUSTOMER,
            f"Out of office: {answer['Subject']}",
            "I am away.",
            in_reply_to=answer["Message-ID"],
            headers={"X-Autoreply": "yes", "Precedence": "bulk"},
        ),
        mail(
            "mailer-daemon@example.org",
            "Undelivered Mail Returned to Sender",
            f"Your message could not be delivered.\n\nSubject: {answer['Subject']}",
            in_reply_to=answer["Message-ID"],
        ),
    ]
    ids = [desk.deliver(raw) for raw in machines]
    assert desk.take_in() == 3
    time.sleep(0.5)
    assert len(desk.sent(CUSTOMER)) == 1 and len(desk.sent()) == 1  # only the automatic answer
    ticket = desk.ticket(ticket_id)
    assert ticket["status"] == "resolved" and ticket["resolution"].startswith("Answered automatically")
    assert [(a["article_id"], a["feedback"]) for a in ticket["articles_shown"]] == [(ARTICLE, "none")]
    assert FeedbackStore(desk.store.engine).feedback(desk.store.conversation_of(ticket_id), ARTICLE) is None
    assert team_mails(desk, "network@helpdesk.example") == []
    assert all(n["channel"] == "mail" for n in desk.store.notifications(ticket_id))
    for message_id in ids:
        line = line_for(caplog, message_id)
        assert f"ticket={ticket_id}" in line and "decision=ignored-autoreply" in line and "reply=no" in line, line

    # A naive responder (no marks at all) answering in the thread reopens the ticket once and gets one
    # acknowledgement; its answer to that acknowledgement finds an open ticket and gets nothing: no loop.
    naive = mail(CUSTOMER, f"Re: {answer['Subject']}", "I am away until Monday.", in_reply_to=answer["Message-ID"])
    desk.deliver(naive)
    desk.take_in()
    ack = desk.wait_sent(CUSTOMER, 2)[1]
    for _ in range(3):
        latest = desk.sent(CUSTOMER)[-1]
        desk.deliver(mail(CUSTOMER, f"Re: {latest['Subject']}", "I am away.", in_reply_to=latest["Message-ID"]))
        desk.take_in()
        time.sleep(0.3)
    assert [m["Message-ID"] for m in desk.sent(CUSTOMER)][1:] == [ack["Message-ID"]]
    assert desk.ticket(ticket_id)["status"] == "new"


@pytest.mark.parametrize(
    ("text", "solved"),
    [
        ("Gelöst, danke!", True),
        ("Funktioniert wieder.", True),
        ("solved, thanks", True),
        ("Funktioniert nicht.", False),
        ("Funktioniert immer noch nicht!", False),
        ("Hat nicht geholfen", False),
        ("It works not at all", False),
    ],
)
def test_only_a_reply_that_says_solved_keeps_the_ticket_resolved(text, solved):
    assert threads.says_solved(parse(mail(CUSTOMER, "Re: LED", text), 1_000_000)) is solved


def test_the_log_shows_the_message_id_but_never_the_sender():
    install_log_masking()  # as in ``helpdesk mail``: the Message-ID survives it, an address does not
    plain = parse(mail(CUSTOMER, "LED", "rot", message_id="<20260501123456789.4711@mail.example.org>"), 1_000_000)
    assert loggable_id(plain) == "<20260501123456789.4711@mail.example.org>"
    record = logging.getLogger(LOGGER).makeRecord(
        LOGGER, logging.INFO, __file__, 1, "mail %s %s", (loggable_id(plain), f"from {CUSTOMER}"), None
    )
    assert record.getMessage() == "mail <20260501123456789.4711@mail.example.org> from <email>"
    named = parse(mail(CUSTOMER, "LED", "rot", message_id="<1234.erika@example.org>"), 1_000_000)
    assert loggable_id(named).startswith("<sha256:") and "erika" not in loggable_id(named)
