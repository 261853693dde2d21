"""Loop and abuse protection (RFC 3834): which mail never gets an automatic reply.

Two auto-responders answering each other fill both mailboxes within minutes, and an
auto-reply to a mailing list or a bounce reaches people who never wrote. So the desk
answers automatically only a person's mail: none with Auto-Submitted other than
``no``, Precedence bulk/list/junk, list headers, an X-Loop, a null Return-Path, a
machine's sender address (mailer-daemon, no-reply, ...), or the desk's own mail; and at
most one automatic reply per sender per HELPDESK_MAIL_AUTOREPLY_HOURS (counted in the
database by ``store.MailStore.claim_auto_reply``, so every process shares the count).
Mail it refuses to answer still reaches the ticket; an automatic mail never reopens one.
"""

from __future__ import annotations

import re

from helpdesk.mail.parsing import ParsedMail

MACHINE_SENDER = re.compile(
    r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?(?:[+-].*)?|listserv|majordomo|"
    r"owner-.+|.+-request|.+-bounces?|.+-noreply|noreply-.+|no-reply-.+)$",
    re.IGNORECASE,
)
BULK_PRECEDENCE = {"bulk", "list", "junk"}
LIST_HEADERS = ("list-unsubscribe", "list-id", "list-post")


def is_own(mail: ParsedMail, desk_address: str) -> bool:
    """The desk's own mail (its auto-replies or agent replies coming back, a copy to itself)."""
    own = desk_address.strip().lower()
    loops = {v.strip().lower() for v in mail.headers.get("x-loop", ())}
    return mail.sender == own or own in loops or bool(mail.header("x-helpdesk-ticket"))


def automatic_reason(mail: ParsedMail) -> str | None:
    """Why this mail was written by a machine (None: by a person, as far as the headers tell)."""
    submitted = mail.header("auto-submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = mail.header("precedence").lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in LIST_HEADERS:
        if name in mail.headers:
            return f"mailing list ({name})"
    if "x-loop" in mail.headers:
        return "X-Loop"
    if mail.header("return-path") in ("<>", "<<>>"):
        return "null Return-Path (a bounce)"
    if mail.header("x-autoreply") or mail.header("x-autorespond"):
        return "auto-responder headers"
    local = mail.sender.split("@", 1)[0]
    if not mail.sender:
        return "no sender address"
    if MACHINE_SENDER.match(local):
        return f"machine sender {mail.sender}"
    return None


def refusal(mail: ParsedMail, desk_address: str) -> str | None:
    """Why this mail must get no automatic reply (the per-sender limit is checked afterwards)."""
    if is_own(mail, desk_address):
        return "the desk's own mail"
    if mail.reply_to == desk_address.strip().lower():
        return "the reply address is the desk's own"
    if mail.header("x-auto-response-suppress"):
        return "X-Auto-Response-Suppress: the sender asks for no automatic answers"
    return automatic_reason(mail)
