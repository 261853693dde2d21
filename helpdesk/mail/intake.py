"""What happens to one inbound mail: a new ticket with an answer or an acknowledgement, or a reply.

A new mail goes through the same decision as the chat: the web service's POST /search
(knowledge search's public API) answers ``answer`` / ``suggest`` / ``none``. With
``answer`` the customer gets the answer passage and the article's link by mail and the
ticket is resolved at once; otherwise an acknowledgement with the ticket number and the
expected response time computed by the routing rules, the same the chat promises. Either
way the mail becomes a handoff with the mail as its transcript, routed like the bot's
handoffs (the top hit's category picks the team). A reply (``threads``) is added to its
ticket. A person's reply to a resolved ticket that does not say "solved" reopens it: the
resolution is cleared, the team is notified as for a new ticket, the article of an
automatic answer counts as "not solved", and the customer gets an acknowledgement with the
ticket number and the new expected response time. No automatic mail goes out where
``loop`` forbids it. Each mail taken in is logged as one line: its Message-ID, the ticket,
what was decided and whether a mail went back (never the sender's address or words).
"""

from __future__ import annotations

import hashlib
import logging
import re
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
from helpdesk.mail.store import MailStore, Reopen, Verdict
from helpdesk.privacy.masking import NotPersonal
from search_api.search.language import detect_language

log = logging.getLogger(__name__)
MAX_TEXT = MAX_MESSAGE_CHARS  # a transcript message, as long as a chat message
MAX_QUERY = 2000  # POST /search
LANGUAGES = ("de", "en")  # the languages of the desk's mail texts
AUTO_ACTOR = "mail"  # who resolves a ticket whose mail was answered automatically
FOLLOW_UP = re.compile(r"^Follow-up to HD-[0-9A-Z]+\. ")
LOOP_PROTECTION = "loop protection"  # the log's words for a refusal by ``loop`` (its reasons may name the sender)


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
    """What became of one mail, as ``helpdesk mail`` logs it."""

    # answered | handed-off | reopened | solved | added | ignored-autoreply | duplicate | own-mail | refused
    action: str
    ticket_id: str | None = None
    decision: str | None = None  # the search's decision on a new mail
    sent: str | None = None  # the event of the automatic mail sent (mail.answer, mail.reopened, ...)
    why_not: str | None = None  # why none was sent, in words that name nobody

    def log_line(self) -> str:
        reply = f"yes ({self.sent})" if self.sent else "no" + (f" ({self.why_not})" if self.why_not else "")
        return f"ticket={self.ticket_id or '-'} decision={self.action} reply={reply}"


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
        outcome = self._take(mail)
        log.info("mail %s %s", loggable_id(mail), outcome.log_line())
        return outcome

    def _take(self, mail: ParsedMail) -> Outcome:
        if loop.is_own(mail, self.desk_address):
            return Outcome("own-mail", why_not="the desk's own mail is not taken in")
        if self.store.known(mail.message_id):
            return Outcome("duplicate", self.store.ticket_for([mail.message_id]), why_not="taken in before")
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
            return Outcome("refused", why_not="no sender address")
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
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            log.warning("mail %s cannot become a ticket: invalid %s", mail.message_id, fields)
            return Outcome("refused", why_not="invalid sender")
        # create_routed reads routing, notify and handoffs from its state: this object has them.
        view, created, expected = create_routed(self, data, notify=decision != "answer")
        ticket = view["ticket_id"]
        stored = [attachments.save(self.settings.attachments_dir, a) for a in mail.attachments]
        refusal = self._refusal(mail)
        notes = [*mail.dropped, *([f"no automatic reply: {refusal[0]}"] if refusal else [])]
        self.store.take_in(ticket, mail.message_id, mail.subject, [], stored, note="; ".join(notes) or None)
        answered = answer is not None and (created or view["status"] == "resolved")
        action = "answered" if answered else "handed-off"
        if not (created or not self.store.sent_any(ticket)):
            return Outcome(action, ticket, decision, why_not="already answered")
        if answer is not None and created:
            self.handoffs.resolve(
                ticket, AUTO_ACTOR, f"Answered automatically by mail: {answer['title']} ({answer['answer']['url']})"
            )
        if refusal:
            return Outcome(action, ticket, decision, why_not=refusal[1])
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
        return Outcome(action, ticket, decision, sent=event)

    # -- a reply to a ticket -----------------------------------------------------------------------
    def _reply(self, mail: ParsedMail, view: dict[str, Any]) -> Outcome:
        ticket = view["ticket_id"]
        machine = loop.automatic_reason(mail)
        reopen = verdict = note = refusal = None
        action = "added"
        why_not: str | None = "a reply to an open ticket"
        if view["status"] == "resolved":
            articles = answered_with(view)
            if machine:
                note = f"an automatic mail ({machine}) came in; the ticket stays resolved"
                action, why_not = "ignored-autoreply", LOOP_PROTECTION
            elif threads.says_solved(mail):
                note = "the customer confirmed by mail that it is solved"
                action, why_not = "solved", "a confirmation"
                verdict = Verdict(articles, asked(view), solved=True) if articles else None
            else:
                action = "reopened"
                verdict = Verdict(articles, asked(view), solved=False) if articles else None
                refusal = loop.refusal(mail, self.desk_address)
                reopen = self._reopen(mail, view, acknowledge=mail.complete and refusal is None)
                why_not = LOOP_PROTECTION if refusal else None
        stored = [attachments.save(self.settings.attachments_dir, a) for a in mail.attachments]
        notes = [*mail.dropped, *([note] if note else []), *([f"no automatic reply: {refusal}"] if refusal else [])]
        message = Message(sender="customer", text=self._transcript(mail, reply=True), timestamp=utcnow())
        taken = self.store.take_in(
            ticket, mail.message_id, mail.subject, [message], stored, reopen, "; ".join(notes) or None, verdict
        )
        if taken == "duplicate":
            return Outcome("duplicate", ticket, why_not="taken in before")
        if action == "reopened" and taken != "reopened":  # resolved no more: someone reopened it meanwhile
            action, why_not = "added", "a reply to an open ticket"
        sent = "mail.reopened" if taken == "reopened" and reopen and reopen.acknowledgement else None
        if not mail.complete and sent is None:
            too_large = self._refusal(mail)
            if too_large:
                why_not = too_large[1]
            else:
                sent = "mail.too-large"
                self._send_auto(
                    mail,
                    ticket,
                    replies.too_large_text(view["language"], self.company, mail, ticket, self.settings.max_mail_bytes),
                    sent,
                )
        return Outcome(action, ticket, sent=sent, why_not=None if sent else why_not)

    def _reopen(self, mail: ParsedMail, view: dict[str, Any], acknowledge: bool) -> Reopen:
        """The reopen of a resolved ticket: the team's new due time and notifications, and the customer's
        acknowledgement with the ticket number and that response time. The acknowledgement answers a
        reply in the ticket's own thread, so the one-automatic-mail-per-sender limit does not apply: it
        goes out only when the ticket goes from resolved to open, which no auto-responder can repeat."""
        ticket, team = view["ticket_id"], view["team"]
        expected = self.routing.expected_for_team(team, view["priority"])
        acknowledgement = None
        if acknowledge:
            lang = view["language"] if view["language"] in LANGUAGES else self.default_language
            text = replies.reopened_text(lang, self.company, mail, ticket, expected.text[lang])
            out = self._compose(mail, ticket, text, [*self._thread(ticket), mail.message_id])
            acknowledgement = (out, "mail.reopened", Message(sender="bot", text=clip(text), timestamp=utcnow()))
        return Reopen(
            sla_due_at=expected.due_at,
            note="the customer answered by mail: not solved",
            notifications=tuple(self.notify.plan(self.routing, team)),
            acknowledgement=acknowledgement,
        )

    # -- helpers -----------------------------------------------------------------------------------
    def _refusal(self, mail: ParsedMail) -> tuple[str, str] | None:
        """Why ``mail`` gets no automatic reply: (the note for the ticket's history, the words for the log)."""
        reason = loop.refusal(mail, self.desk_address)
        if reason is not None:
            return reason, LOOP_PROTECTION
        if not self.store.claim_auto_reply(
            mail.reply_to or mail.sender, timedelta(hours=self.settings.autoreply_hours)
        ):
            return (
                f"{mail.reply_to or mail.sender} got an automatic reply within the last "
                f"{self.settings.autoreply_hours:g} hours",
                f"one automatic mail per sender per {self.settings.autoreply_hours:g} hours",
            )
        return None

    def _thread(self, ticket: str) -> list[str]:
        return [m["message_id"] for m in self.store.thread(ticket)]

    def _compose(self, mail: ParsedMail, ticket: str, text: str, thread: list[str]) -> replies.Outgoing:
        return replies.compose(
            desk_address=self.desk_address,
            company=self.company,
            to=mail.reply_to or mail.sender,
            ticket_id=ticket,
            subject=mail.subject,
            text=text,
            thread=thread,
            automatic=True,
        )

    def _send_auto(self, mail: ParsedMail, ticket: str, text: str, event: str) -> None:
        out = self._compose(mail, ticket, text, self._thread(ticket))
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


def answered_with(view: dict[str, Any]) -> tuple[str, ...]:
    """The articles of the automatic answer a resolved ticket was resolved with; none when a person
    resolved it last (then the customer's reply is about that person's answer, not an article)."""
    resolved = next((e for e in reversed(view.get("events", [])) if e["action"] == "resolved"), None)
    if view["channel"] != "email" or resolved is None or resolved["actor"] != AUTO_ACTOR:
        return ()
    return tuple(a["article_id"] for a in view.get("articles_shown", []))


def asked(view: dict[str, Any]) -> str:
    """What the customer asked, as it was searched: the subject and the body's question (the description
    a new mail's ticket is made with)."""
    subject, _, text = FOLLOW_UP.sub("", view["summary"]["description"]).partition("\n\n")
    return question(subject, text)[:MAX_QUERY] or subject[:MAX_QUERY]


def loggable_id(mail: ParsedMail) -> NotPersonal:
    """The Message-ID for the log, verbatim (the log masking would take it for an address): it names the
    mail, not the customer. One that contains the sender's address or its local part (a few mail
    programs build it so) is logged as a digest instead."""
    mid = mail.message_id
    lowered = mid.lower()
    for address in {mail.sender, mail.reply_to} - {""}:
        local = address.split("@", 1)[0]
        if address in lowered or (len(local) >= 3 and local in lowered):
            return NotPersonal(f"<sha256:{hashlib.sha256(mid.encode()).hexdigest()[:24]}>")
    return NotPersonal(mid)
