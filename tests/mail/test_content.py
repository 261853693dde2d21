"""What a mail may carry: an oversize mail is not downloaded (the sender is told), HTML becomes sanitised
text, attachments are stored under random names and reach agents only as downloads."""

from __future__ import annotations

import os
import secrets

from tests.mail.conftest import mail

HTML = """<html><head><style>body { color: red }</style><script>alert('stolen')</script></head>
<body><p onclick="alert(1)">Hello, our <b>invoice</b> for November is wrong.</p>
<ul><li>Item one</li><li>Item two</li></ul>
<p>See <a href="https://portal.example.com/invoice/42">the portal</a>
<img src="javascript:alert(2)"> and <iframe src="https://evil.example"></iframe>.</p></body></html>"""


def test_an_oversize_mail_is_not_downloaded_and_the_sender_is_told(make_desk):
    desk = make_desk(max_mail_bytes=100_000)
    big = secrets.token_bytes(300_000)
    desk.deliver(
        mail(
            "carla@example.com",
            "Logfiles of the router",
            "Secret body words: zebra42",
            attachments=[("logs.bin", "application/octet-stream", big)],
        )
    )
    assert desk.take_in() == 1
    (reply,) = desk.wait_sent("carla@example.com", 1)
    body = reply.get_content()
    assert "is 402 KB, more than the 98 KB we can accept" in body  # 300 KB in base64 and "not read" in body
    ticket = desk.ticket(reply["X-Helpdesk-Ticket"])
    text = ticket["transcript"][0]["text"]
    assert "over the limit of 100000 bytes" in text and "zebra42" not in text
    assert ticket["status"] == "new"
    store_dir = desk.settings.mail.attachments_dir
    assert not store_dir.exists() or os.listdir(store_dir) == []  # the attachment was never downloaded
    flags = desk.dovecot.flags(desk.user, desk.password)
    assert len(flags) == 1 and "\\Seen" in flags[0]  # still in the mailbox, marked as taken in


def test_html_mail_becomes_sanitised_text_and_attachments_are_downloads_only(make_desk):
    desk = make_desk(max_attachment_bytes=50_000)
    pdf = b"%PDF-1.4 " + secrets.token_bytes(2000)
    page = b"<html><script>alert(document.cookie)</script></html>"
    too_big = secrets.token_bytes(60_000)
    desk.deliver(
        mail(
            "dora@example.com",
            "Invoice wrong",
            html=HTML,
            name="Dora <b>Admin</b>",
            attachments=[
                ("invoice.pdf", "application/pdf", pdf),
                ("..\\..\\evil<script>&.html", "text/html", page),
                ("huge.bin", "application/octet-stream", too_big),
            ],
        )
    )
    assert desk.take_in() == 1
    (ticket,) = desk.tickets()
    ticket = desk.ticket(ticket["ticket_id"])
    text = ticket["transcript"][0]["text"]
    assert "Hello, our invoice for November is wrong." in text and "- Item one" in text
    assert "the portal (https://portal.example.com/invoice/42)" in text
    for bad in ("<script", "alert", "onclick", "<b>", "color: red", "iframe", "javascript:"):
        assert bad not in text, bad
    assert "huge.bin (60000 bytes) is over the limit of 50000 bytes" in text

    store_dir = desk.settings.mail.attachments_dir
    files = sorted(os.listdir(store_dir))
    assert len(files) == 2 and all(len(f) == 64 for f in files)  # random names, not the sender's
    assert all(oct(os.stat(store_dir / f).st_mode & 0o777) == "0o600" for f in files)

    teams = ("software", "network", "billing", "email", "shop-chat")
    agent = desk.login("anna", teams)
    detail = agent.get(f"/agent/handoffs/{ticket['ticket_id']}")
    assert detail.status_code == 200 and "invoice.pdf" in detail.text
    # The sender's name without its path and markup characters, escaped on the page.
    assert "evilscript&amp;.html" in detail.text and "evil<script>" not in detail.text and "..\\" not in detail.text
    links = [
        line.split('href="')[1].split('"')[0]
        for line in detail.text.splitlines()
        if "/attachments/" in line and 'href="' in line
    ]
    assert len(links) == 2
    downloads = {}
    for link in links:
        response = agent.get(link)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]
        downloads[response.headers["content-disposition"]] = response.content
    assert sorted(downloads.values()) == sorted([pdf, page])
    assert any('filename="invoice.pdf"' in d for d in downloads)

    # Another team's agent and nobody get nothing.
    other_team = next(t for t in teams if t != ticket["team"])
    other = desk.login("otto", (other_team,))
    assert other.get(links[0]).status_code == 404
    anonymous = desk.http.get(links[0], follow_redirects=False)
    assert anonymous.status_code == 303 and "/agent/login" in anonymous.headers["location"]


def test_a_mail_as_long_as_the_longest_chat_message_is_kept_whole(make_desk):
    desk = make_desk()
    body = ("Unser Drucker im zweiten Stock druckt seit Montag nur leere Seiten. " * 120)[
        :7400
    ] + "\n\nKundennummer 4711-0815, bitte rufen Sie mich zurück."
    desk.deliver(mail("erik@example.com", "Drucker druckt leer", body))
    assert desk.take_in() == 1
    (ticket,) = desk.tickets()
    ticket = desk.ticket(ticket["ticket_id"])
    for text in (ticket["summary"]["description"], ticket["transcript"][0]["text"]):
        assert text.rstrip().endswith("Kundennummer 4711-0815, bitte rufen Sie mich zurück.")
        assert "shortened" not in text
