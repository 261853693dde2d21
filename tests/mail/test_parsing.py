"""Parsing, sanitising and the loop rules on hand-made mails (no servers): the cases a real mailbox
rarely shows on demand (broken charsets, no Message-ID, unparseable From, quoted replies)."""

from __future__ import annotations

import pytest

from helpdesk.mail import loop
from helpdesk.mail.parsing import html_to_text, new_text, parse, question
from helpdesk.mail.replies import compose, reply_subject
from helpdesk.mail.threads import says_solved

LIMIT = 1_000_000


def raw(headers: str, body: str = "Hallo") -> bytes:
    return (headers.strip().replace("\n", "\r\n") + "\r\n\r\n" + body).encode("latin-1")


def test_a_mail_without_message_id_gets_a_stable_one_and_a_broken_charset_still_reads():
    data = raw(
        "From: Jörg <joerg@example.de>\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
        "Content-Type: text/plain; charset=x-unknown-charset",
        "Daten \xfcber alles\x00",
    )
    first, second = parse(data, LIMIT), parse(data, LIMIT)
    assert first.message_id == second.message_id and first.message_id.endswith("@no-message-id.invalid>")
    assert first.subject == "Grüße" and first.sender == "joerg@example.de"
    assert "Daten" in first.text and "\x00" not in first.text


def test_an_unparseable_from_still_yields_the_address():
    mail = parse(raw("From: Dora <b>Admin</b> <dora@example.com>\nMessage-ID: <a@b>"), LIMIT)
    assert mail.sender == "dora@example.com"


def test_html_is_reduced_to_text_without_active_content():
    text = html_to_text(
        '<div><script>evil()</script><style>p{}</style><p onclick="x()">A &amp; B</p>'
        '<a href="javascript:alert(1)">click</a> <a href="https://x.example/y">docs</a>'
        "<ol><li>one</li></ol></div>"
    )
    assert text == "A & B\nclick docs (https://x.example/y)\n\n- one"


def test_the_quoted_history_and_greetings_are_not_the_customers_words():
    reply = "Geht leider nicht.\n\nAm 27.11.2026 um 10:00 schrieb Support <s@x.de>:\n> Bitte neu starten\n> Gruß"
    assert new_text(reply) == "Geht leider nicht."
    assert (
        question("AW: WLAN weg", "Hallo Team,\n\nmein WLAN ist weg.\n\nViele Grüße\nAnna")
        == "WLAN weg\nmein WLAN ist weg."
    )
    # No charset declared and UTF-8 bytes: read as UTF-8.
    assert says_solved(parse(raw("From: a@b.de", "Gelöst, danke!\n> alt".encode().decode("latin-1")), LIMIT))
    assert not says_solved(parse(raw("From: a@b.de", "Nicht gelöst."), LIMIT))


@pytest.mark.parametrize(
    "headers, reason",
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; type=vacation", "Auto-Submitted: auto-generated"),
        ("Precedence: junk", "Precedence: junk"),
        ("List-Id: <x.example.com>", "mailing list (list-id)"),
        ("X-Loop: someone@example.com", "X-Loop"),
        ("Return-Path: <>", "null Return-Path (a bounce)"),
        ("X-Auto-Response-Suppress: All", "X-Auto-Response-Suppress"),
    ],
)
def test_machine_mail_is_recognised(headers, reason):
    mail = parse(raw(f"From: kunde@example.com\nMessage-ID: <m@x>\n{headers}"), LIMIT)
    assert reason in (loop.refusal(mail, "support@helpdesk.example") or "")


def test_people_get_answers_and_the_desk_never_answers_itself():
    person = parse(raw("From: kunde@example.com\nAuto-Submitted: no"), LIMIT)
    assert loop.refusal(person, "support@helpdesk.example") is None
    own = parse(raw("From: Support <SUPPORT@helpdesk.example>"), LIMIT)
    assert loop.is_own(own, "support@helpdesk.example")
    for sender in ("MAILER-DAEMON@mx.example.com", "noreply@shop.example", "bounces+123@list.example.org"):
        assert "machine sender" in loop.refusal(parse(raw(f"From: {sender}"), LIMIT), "support@helpdesk.example")


def test_the_desks_mails_carry_threading_and_loop_headers():
    out = compose(
        desk_address="support@helpdesk.example",
        company="Nordwind",
        to="a@example.com",
        ticket_id="HD-ABCDEF",
        subject="AW: Re: [HD-ABCDEF] WLAN",
        text="Grüße " * 40,
        thread=["<1@x>", "<2@y>"],
        automatic=True,
    )
    assert out.subject == "[HD-ABCDEF] Re: WLAN" and out.mail_from == ""
    assert "In-Reply-To: <2@y>" in out.raw and "References: <1@x> <2@y>" in out.raw
    assert "Auto-Submitted: auto-replied" in out.raw and max(len(line) for line in out.raw.splitlines()) <= 78
    assert reply_subject("HD-ABCDEF", "") == "[HD-ABCDEF]"
