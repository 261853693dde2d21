"""What happens to one inbound mail: a new ticket with an answer or an acknowledgement, or a reply.

A new mail goes through the same decision as the chat: the web service's POST /search
(knowledge search's public API) answers ``answer`` / ``suggest`` / ``none``. With
``answer`` the customer gets the answer passage and the article's link by mail and the
ticket is resolved at once (their reply "did not help" reopens it); otherwise an
acknowledgement with the ticket number and the expected response time computed by the
routing rules, the same the chat promises. Either way the mail becomes a handoff with
the mail as its transcript, routed like the bot's handoffs (the top hit's category
picks the team). A reply (``threads``) is added to its ticket. No automatic mail goes
out where ``loop`` forbids it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from pydantic import ValidationError

from helpdesk.db import utcnow
from helpdesk.handoffs.api import create_routed
from helpdesk.handoffs.routing import OTHER_CATEGORY, RoutingConfig
from helpdesk.handoffs.schemas import MAX_MESSAGE_CHARS, HandoffIn, Message
from helpdesk.handoffs.store import HandoffStore
from helpdesk.mail import attachments, loop, replies, threads
from helpdesk.mail.config import MailSettings
from helpdesk.mail.parsing import ParsedMail, new_text, parse, question
from helpdesk.mail.store import MailStore
from search_api.search.language import detect_language

log = logging.getLogger(__name__)
MAX_TEXT = MAX_MESSAGE_CHARS  # a transcript message, as long as a chat message
MAX_QUERY = 2000  # POST /search
LANGUAGES = ("de", "en")  # the languages of the desk's mail texts


class SearchUnavailable(Exception):
    pass


class SearchClient:
    """POST /search of the web service (the chat's decision, and it feeds `helpdesk gaps`)."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def search(self, query: str, conversation_id: str | None = None) -> dict[str, Any]:
        """The decision on ``query``; the conversation id goes with it, so that an unanswered question is
        kept with its conversation and erased with the customer's data."""
        try:
            response = httpx.post(
                f"{self.base_url}/search",
                json={"query": query, "top_k": 3, "conversation_id": conversation_id},
                timeout=self.timeout,
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SearchUnavailable(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Outcome:
    action: str  # created | added | duplicate | own | refused
    ticket_id: str | None = None
    decision: str | None = None
    auto_reply: str | None = None  # the event of the mail sent, or why none was sent


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 60].rstrip() + "\n[… shortened; the full text is longer]"


class Intake:
    def __init__(
        self,
        *,
        handoffs: HandoffStore,
        routing: RoutingConfig,
        notify,
        mail: MailSettings,
        desk_address: str,
        company: str,
        default_language: str,
        search: SearchClient,
    ):
        self.handoffs, self.routing, self.notify, self.settings = handoffs, routing, notify, mail
        self.desk_address, self.company, self.default_language = desk_address, company, default_language
        self.search = search
        self.store = MailStore(handoffs)

    def take(self, raw: bytes, size: int | None = None, complete: bool = True) -> Outcome:
        """``raw`` is the mail, or only its header when it is over the size limit (``complete`` False)."""
        mail = parse(raw, self.settings.max_attachment_bytes, size=size, complete=complete)
        if loop.is_own(mail, self.desk_address):
            return Outcome("own")
        if self.store.known(mail.message_id):
            return Outcome("duplicate")
        ticket = threads.find_ticket(mail, self.store, self.handoffs)
        if ticket is not None:
            view = self.handoffs.get(ticket)
            if not threads.reopen_expired(view, utcnow(), self.settings.reopen_days):
                return self._reply(mail, view)
            return self._new(mail, follows=ticket)
        return self._new(mail)

    # -- a new conversation ------------------------------------------------------------------------
    def _new(self, mail: ParsedMail, follows: str | None = None) -> Outcome:
        if "@" not in mail.sender:
            log.warning("mail %s has no sender address: nobody to answer, dropped", mail.message_id)
            return Outcome("refused", auto_reply="no sender address")
        query = question(mail.subject, mail.text)[:MAX_QUERY]
        digest = hashlib.sha256(mail.message_id.encode()).hexdigest()
        conversation = "mail-" + digest[:32]
        result = None
        if mail.complete and query:
            try:
                result = self.search.search(query, conversation)
            except SearchUnavailable as exc:
                log.warning("search unavailable for mail %s: %s", mail.message_id, exc)
        decision = result["decision"] if result else "none"
        hits = result["hits"] if result else []
        lang = result["lang"] if result else detect_language(query, LANGUAGES).lang
        lang = lang if lang in LANGUAGES else self.default_language
        top = hits[0] if hits else None
        answer = top if decision == "answer" else None  # an answer comes with its article
        # The team: the category of what the search found plausible, like the chat's topic; "other" without.
        plausible = top if decision in ("answer", "suggest") else None
        category = (
            plausible["category"] if plausible and plausible["category"] in self.routing.categories else OTHER_CATEGORY
        )
        reason = (
            "customer_request"
            if decision == "answer"
            else "no_answer"
            if result is not None or not mail.complete
            else "search_unavailable"
        )
        description = clip(
            (f"Follow-up to {follows}. " if follows else "")
            + (mail.subject or "(no subject)")
            + ("\n\n" + mail.text if mail.text else "")
        )
        shown = hits[:1] if decision == "answer" else hits[:3] if decision == "suggest" else []
        try:
            data = HandoffIn.model_validate(
                {
                    "idempotency_key": "mail-" + digest[:48],
                    "conversation_id": conversation,
                    "channel": "email",
                    "language": lang,
                    "reason": reason,
                    "summary": {
                        "category": category,
                        "product": answer["product"] if answer else None,
                        "description": description,
                        "tried": "",
                        "urgency": "normal",
                        "contact": {"name": mail.sender_name or None, "email": mail.sender},
                    },
                    "transcript": [{"sender": "customer", "text": self._transcript(mail), "timestamp": utcnow()}],
                    "articles_shown": [
                        {"article_id": h["article_id"], "title": h["title"][:300], "score": h["confidence"]}
                        for h in shown
                    ],
                }
            )
        except ValidationError as exc:
            log.warning("mail %s from %r cannot become a ticket: %s", mail.message_id, mail.sender, exc)
            return Outcome("refused", auto_reply="invalid sender")
        # create_routed reads routing, notify and handoffs from its state: this object has them.
        view, created, expected = create_routed(self, data, notify=decision != "answer")
        ticket = view["ticket_id"]
        stored = [attachments.save(self.settings.attachments_dir, a) for a in mail.attachments]
        refusal = self._refusal(mail)
        notes = [*mail.dropped, *([f"no automatic reply: {refusal}"] if refusal else [])]
        self.store.take_in(ticket, mail.message_id, mail.subject, [], stored, note="; ".join(notes) or None)
        if not (created or not self.store.sent_any(ticket)):
            return Outcome("created", ticket, decision, "already answered")
        if answer is not None and created:
            self.handoffs.resolve(
                ticket, "mail", f"Answered automatically by mail: {answer['title']} ({answer['answer']['url']})"
            )
        if refusal:
            return Outcome("created", ticket, decision, refusal)
        if not mail.complete:
            text = replies.too_large_text(lang, self.company, mail, ticket, self.settings.max_mail_bytes)
            event = "mail.too-large"
        elif answer is not None:
            text, event = replies.answer_text(lang, self.company, mail, ticket, answer), "mail.answer"
        else:
            suggestions = [{"title": h["title"], "url": h["url"]} for h in shown]
            text = replies.acknowledgement_text(lang, self.company, mail, ticket, expected.text[lang], suggestions)
            event = "mail.acknowledgement"
        self._send_auto(mail, ticket, text, event)
        return Outcome("created", ticket, decision, event)

    # -- a reply to a ticket -----------------------------------------------------------------------
    def _reply(self, mail: ParsedMail, view: dict[str, Any]) -> Outcome:
        ticket = view["ticket_id"]
        machine = loop.automatic_reason(mail)
        solved = threads.says_solved(mail)
        reopen = note = None
        if view["status"] == "resolved":
            if machine:
                note = f"an automatic mail ({machine}) came in; the ticket stays resolved"
            elif solved:
                note = "the customer confirmed by mail that it is solved"
            else:
                due = self.routing.expected_for_team(view["team"], view["priority"]).due_at
                reopen = {"sla_due_at": due, "note": "the customer answered by mail: not solved"}
        stored = [attachments.save(self.settings.attachments_dir, a) for a in mail.attachments]
        notes = "; ".join([*mail.dropped, *([note] if note else [])]) or None
        message = Message(sender="customer", text=self._transcript(mail, reply=True), timestamp=utcnow())
        if not self.store.take_in(ticket, mail.message_id, mail.subject, [message], stored, reopen, notes):
            return Outcome("duplicate", ticket)
        sent = None
        if not mail.complete and not self._refusal(mail):
            sent = "mail.too-large"
            self._send_auto(
                mail,
                ticket,
                replies.too_large_text(view["language"], self.company, mail, ticket, self.settings.max_mail_bytes),
                sent,
            )
        return Outcome("added", ticket, auto_reply=sent or ("reopened" if reopen else None))

    # -- helpers -----------------------------------------------------------------------------------
    def _refusal(self, mail: ParsedMail) -> str | None:
        reason = loop.refusal(mail, self.desk_address)
        if reason is None and not self.store.claim_auto_reply(
            mail.reply_to or mail.sender, timedelta(hours=self.settings.autoreply_hours)
        ):
            reason = (
                f"{mail.reply_to or mail.sender} got an automatic reply within the last "
                f"{self.settings.autoreply_hours:g} hours"
            )
        return reason

    def _send_auto(self, mail: ParsedMail, ticket: str, text: str, event: str) -> None:
        thread = [m["message_id"] for m in self.store.thread(ticket)]
        out = replies.compose(
            desk_address=self.desk_address,
            company=self.company,
            to=mail.reply_to or mail.sender,
            ticket_id=ticket,
            subject=mail.subject,
            text=text,
            thread=thread,
            automatic=True,
        )
        self.store.send(
            ticket,
            out.message_id,
            out.subject,
            out.to,
            out.raw,
            out.mail_from,
            event,
            Message(sender="bot", text=clip(text), timestamp=utcnow()),
            actor="mail",
        )

    def _transcript(self, mail: ParsedMail, reply: bool = False) -> str:
        if not mail.complete:
            return (
                f"Subject: {mail.subject}\n\n[This mail of {mail.size} bytes is over the limit of "
                f"{self.settings.max_mail_bytes} bytes; it was not downloaded. It is still in the mailbox.]"
            )
        body = new_text(mail.text) if reply else mail.text
        lines = [f"Subject: {mail.subject}", "", body or "(no text)"]
        if mail.was_html:
            lines.append("\n[HTML mail, shown as sanitised text]")
        if mail.attachments:
            lines.append("\nAttachments: " + ", ".join(f"{a.filename} ({len(a.data)} bytes)" for a in mail.attachments))
        lines.extend(f"[{d}]" for d in mail.dropped)
        return clip("\n".join(lines))
