"""The optional inbound SMTP endpoint: a mail server delivers to ``helpdesk mail`` by SMTP."""

from __future__ import annotations

import smtplib

import pytest

from tests.mail.conftest import DESK_ADDRESS, free_port, mail


def test_mail_delivered_by_smtp_is_taken_in_like_mailbox_mail(make_desk):
    port = free_port()
    desk = make_desk(smtp_port=port, max_mail_bytes=50_000)
    desk.worker.start()
    text = "Hello, my office dog chewed the coffee machine cable. Does the kitchen furniture warranty cover it?"
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail("nina@example.org", [DESK_ADDRESS], mail("nina@example.org", "Coffee cable", text))
        # Not the desk's address: refused, it relays nothing.
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("nina@example.org", ["someone@elsewhere.example"], mail("nina@example.org", "x", "y"))
        # Over the size limit: refused during the transfer, the sending server tells the sender.
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused, smtplib.SMTPServerDisconnected)):
            smtp.sendmail("nina@example.org", [DESK_ADDRESS], mail("nina@example.org", "big", "x" * 80_000))
    (reply,) = desk.wait_sent("nina@example.org", 1)
    ticket = desk.ticket(reply["X-Helpdesk-Ticket"])
    assert ticket["channel"] == "email" and "office dog" in ticket["transcript"][0]["text"]
    assert len(desk.tickets()) == 1
