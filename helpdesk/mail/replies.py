"""The mails the desk writes: automatic answers, acknowledgements (of a new or a reopened ticket), agents' replies.

Every mail carries a fresh Message-ID (stored with its ticket, so the customer's
answer threads back), In-Reply-To and References of the conversation, the ticket
number in the subject, ``X-Loop`` with the desk's address and ``X-Helpdesk-Ticket``.
Automatic mails are marked ``Auto-Submitted: auto-replied`` and sent with the null
envelope sender (RFC 3834), so another machine neither answers nor bounces them back.
Texts are German or English, the language the customer wrote in, signed with the
company's name from the deployment configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any

from helpdesk.mail.parsing import ParsedMail

REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|antw|wg|fwd?)\s*:\s*", re.IGNORECASE)
MAX_REFERENCES = 20


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    to: str
    subject: str
    text: str
    raw: str
    mail_from: str  # the SMTP envelope sender; "" (null) for automatic mail


def reply_subject(ticket_id: str, subject: str) -> str:
    base = subject.replace(f"[{ticket_id}]", "").strip()
    while REPLY_PREFIX.match(base):
        base = REPLY_PREFIX.sub("", base, count=1)
    return f"[{ticket_id}] Re: {base}" if base else f"[{ticket_id}]"


def compose(
    *,
    desk_address: str,
    company: str,
    to: str,
    ticket_id: str,
    subject: str,
    text: str,
    thread: list[str],
    automatic: bool,
    answer: bool = True,
) -> Outgoing:
    """``thread``: the conversation's Message-IDs, oldest first; the last one is answered. ``answer``
    False: a mail that answers no mail of the customer, its subject the ticket number and ``subject``."""
    message = EmailMessage()
    domain = desk_address.rsplit("@", 1)[-1]
    message_id = make_msgid(idstring=ticket_id, domain=domain)
    message["From"] = formataddr((company, desk_address))
    message["To"] = to
    message["Subject"] = reply_subject(ticket_id, subject) if answer else f"[{ticket_id}] {subject}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    if thread:
        message["In-Reply-To"] = thread[-1]
        message["References"] = " ".join(thread[-MAX_REFERENCES:])
    message["X-Helpdesk-Ticket"] = ticket_id
    message["X-Loop"] = desk_address
    if automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"  # no out-of-office answers from Exchange
    message.set_content(text, cte="quoted-printable")  # 7-bit, short lines: any SMTP server takes it
    return Outgoing(
        message_id, to, str(message["Subject"]), text, message.as_string(), "" if automatic else desk_address
    )


def greeting(lang: str, name: str) -> str:
    if lang == "de":
        return f"Guten Tag {name}," if name else "Guten Tag,"
    return f"Hello {name}," if name else "Hello,"


def answer_text(lang: str, company: str, mail: ParsedMail, ticket_id: str, hit: dict[str, Any]) -> str:
    """An answer found in the knowledge base: the passage, its article, how to say it did (not) help."""
    passage, link, title = hit["answer"]["text"], hit["answer"]["url"], hit["title"]
    if lang == "de":
        return (
            f"{greeting(lang, mail.sender_name)}\n\nvielen Dank für Ihre Nachricht an {company}. "
            f"Diese Antwort aus unserer Wissensdatenbank sollte weiterhelfen:\n\n{passage}\n\n"
            f"Ausführlich im Artikel „{title}“:\n{link}\n\n"
            f"Hat das geholfen? Dann antworten Sie einfach mit „gelöst“. Wenn nicht, beantworten Sie "
            f"einfach diese Mail: Ihre Antwort geht direkt an unser Support-Team (Ticket {ticket_id}).\n\n"
            f"Freundliche Grüße\n{company}\n\n"
            f"(Diese Antwort wurde automatisch aus unserer Wissensdatenbank erstellt.)"
        )
    return (
        f"{greeting(lang, mail.sender_name)}\n\nthank you for writing to {company}. "
        f"This answer from our knowledge base should help:\n\n{passage}\n\n"
        f'More in the article "{title}":\n{link}\n\n'
        f'Did that solve it? Then just reply "solved". If it did not help, just answer this mail: '
        f"your answer goes straight to our support team (ticket {ticket_id}).\n\n"
        f"Kind regards\n{company}\n\n(This answer was written automatically from our knowledge base.)"
    )


def article_list(intro: str, articles: list[dict[str, Any]]) -> str:
    return f"\n\n{intro}\n" + "\n".join(f"- {a['title']}: {a['url']}" for a in articles) if articles else ""


def acknowledgement_text(
    lang: str, company: str, mail: ParsedMail, ticket_id: str, expected: str, suggestions: list[dict[str, Any]]
) -> str:
    """No article answers: the ticket number and the honest expected response time."""
    if lang == "de":
        text = (
            f"{greeting(lang, mail.sender_name)}\n\nvielen Dank für Ihre Nachricht an {company}. "
            f"Wir haben daraus das Ticket {ticket_id} angelegt. Eine Mitarbeiterin oder ein Mitarbeiter "
            f"meldet sich {expected}.\n\nWenn Sie etwas ergänzen möchten, beantworten Sie einfach diese "
            f"Mail; die Ticketnummer im Betreff ordnet Ihre Antwort zu."
        )
        text += article_list("Vielleicht hilft Ihnen bis dahin einer dieser Artikel:", suggestions)
        return text + f"\n\nFreundliche Grüße\n{company}\n\n(Diese Bestätigung wurde automatisch erstellt.)"
    text = (
        f"{greeting(lang, mail.sender_name)}\n\nthank you for writing to {company}. We have opened "
        f"ticket {ticket_id} for your request. A member of our team will get back to you {expected}.\n\n"
        f"To add something, just answer this mail; the ticket number in the subject keeps it together."
    )
    text += article_list("Until then, one of these articles may help:", suggestions)
    return text + f"\n\nKind regards\n{company}\n\n(This confirmation was sent automatically.)"


def reopened_text(lang: str, company: str, mail: ParsedMail, ticket_id: str, expected: str) -> str:
    """The customer's answer reopened their resolved ticket: its number and the new expected response time."""
    if lang == "de":
        return (
            f"{greeting(lang, mail.sender_name)}\n\nvielen Dank für Ihre Antwort. Schade, dass das Problem noch "
            f"nicht gelöst ist. Wir haben Ihr Ticket {ticket_id} wieder geöffnet und an unser Support-Team "
            f"gegeben. Eine Mitarbeiterin oder ein Mitarbeiter meldet sich {expected}.\n\nWenn Sie etwas "
            f"ergänzen möchten, beantworten Sie einfach diese Mail; die Ticketnummer im Betreff ordnet Ihre "
            f"Antwort zu.\n\nFreundliche Grüße\n{company}\n\n(Diese Bestätigung wurde automatisch erstellt.)"
        )
    return (
        f"{greeting(lang, mail.sender_name)}\n\nthank you for your answer, and sorry that the problem is not "
        f"solved yet. We have reopened ticket {ticket_id} and passed it to our support team. A member of our "
        f"team will get back to you {expected}.\n\nTo add something, just answer this mail; the ticket number "
        f"in the subject keeps it together.\n\nKind regards\n{company}\n\n(This confirmation was sent "
        f"automatically.)"
    )


def human_size(size: int, lang: str) -> str:
    text = f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"
    return text.replace(".", ",") if lang == "de" else text


def too_large_text(lang: str, company: str, mail: ParsedMail, ticket_id: str, limit: int) -> str:
    size, most = human_size(mail.size, lang), human_size(limit, lang)
    if lang == "de":
        return (
            f"{greeting(lang, mail.sender_name)}\n\nIhre Mail „{mail.subject}“ ist {size} groß, mehr als die "
            f"{most}, die wir annehmen können; sie wurde deshalb nicht gelesen. Wir haben das Ticket "
            f"{ticket_id} angelegt. Bitte beantworten Sie diese Mail mit Ihrer Frage als Text und lassen "
            f"Sie große Anhänge weg (oder teilen Sie sie als Link).\n\nFreundliche Grüße\n{company}\n\n"
            f"(Diese Nachricht wurde automatisch erstellt.)"
        )
    return (
        f'{greeting(lang, mail.sender_name)}\n\nyour mail "{mail.subject}" is {size}, more than the '
        f"{most} we can accept, so it was not read. We have opened ticket {ticket_id}. Please answer this "
        f"mail with your question as text and leave out large attachments (or share them as a link).\n\n"
        f"Kind regards\n{company}\n\n(This message was sent automatically.)"
    )
