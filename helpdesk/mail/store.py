"""The e-mail channel's database work, each step one transaction of the handoff store.

Taking in a reply (transcript message, its Message-ID, its attachments, a reopen with
its team notifications, the customer's verdict on the automatic answer's article and
the acknowledgement to the customer) and sending a mail (its Message-ID, the outbox row
that delivers it, the transcript message) are each committed together or not at all. The
unique Message-ID makes taking in the same mail twice (a crash before the IMAP flag was set)
a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.db import as_utc, utcnow
from helpdesk.feedback.store import feedback_upsert
from helpdesk.handoffs.models import ArticleShown, Handoff, HandoffEvent, OutboxItem
from helpdesk.handoffs.schemas import Message
from helpdesk.handoffs.store import HandoffStore, Notification, Scope
from helpdesk.mail.models import AutoReply, MailAttachment, MailMessage
from helpdesk.mail.replies import Outgoing


@dataclass(frozen=True)
class StoredAttachment:
    token: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class AttachmentInfo(StoredAttachment):
    ticket_id: str
    at: datetime


@dataclass(frozen=True)
class Verdict:
    """The customer's answer to an automatic answer: solved or not, for the articles it was made of."""

    articles: tuple[str, ...]
    query: str  # what the customer had asked (stored masked, like the chat's feedback)
    solved: bool


@dataclass(frozen=True)
class Reopen:
    """A resolved ticket the customer's reply reopens: the new due time, the history's note, the team's
    notifications ("handoff.reopened") and, unless loop protection forbids one, the acknowledgement."""

    sla_due_at: datetime
    note: str
    notifications: tuple[Notification, ...] = ()
    acknowledgement: tuple[Outgoing, str, Message] | None = None  # the mail, its event, its transcript message


TakenIn = Literal["duplicate", "added", "reopened"]


class MailStore:
    def __init__(self, handoffs: HandoffStore):
        self.handoffs = handoffs

    def known(self, message_id: str) -> bool:
        with self.handoffs.transaction() as s:
            return s.scalar(select(MailMessage.id).where(MailMessage.message_id == message_id)) is not None

    def ticket_for(self, message_ids: Iterable[str]) -> str | None:
        """The ticket of the first of ``message_ids`` the desk knows (a reply's In-Reply-To first)."""
        ids = [m for m in message_ids if m]
        if not ids:
            return None
        with self.handoffs.transaction() as s:
            rows = dict(
                s.execute(
                    select(MailMessage.message_id, Handoff.ticket_id)
                    .join(Handoff, Handoff.id == MailMessage.handoff_id)
                    .where(MailMessage.message_id.in_(ids))
                ).all()
            )
        return next((rows[m] for m in ids if m in rows), None)

    def thread(self, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's Message-IDs, oldest first: the References of the next mail the desk sends."""
        with self.handoffs.transaction() as s:
            return self.thread_in(s, Handoff.ticket_id == ticket_id)

    @staticmethod
    def thread_in(s: Session, which: Any) -> list[dict[str, Any]]:
        """``thread`` in the caller's transaction, of the handoff ``which`` selects."""
        rows = s.execute(
            select(MailMessage.message_id, MailMessage.direction, MailMessage.subject, MailMessage.at)
            .join(Handoff, Handoff.id == MailMessage.handoff_id)
            .where(which)
            .order_by(MailMessage.id)
        ).all()
        return [{"message_id": m, "direction": d, "subject": subj, "at": as_utc(at)} for m, d, subj, at in rows]

    def claim_auto_reply(self, sender: str, period: timedelta, now: datetime | None = None) -> bool:
        """True (and the sender's clock restarts) when ``sender`` got no automatic reply within ``period``."""
        now = now or utcnow()
        sender = sender.lower()[:254]
        try:
            with self.handoffs.transaction() as s:
                row = s.scalar(select(AutoReply).where(AutoReply.sender == sender).with_for_update())
                if row is None:
                    s.add(AutoReply(sender=sender, last_at=now))
                    s.flush()
                    return True
                if as_utc(row.last_at) > now - period:
                    return False
                row.last_at = now
                return True
        except IntegrityError:  # another process claimed this new sender at the same moment
            return False

    def take_in(
        self,
        ticket_id: str,
        message_id: str,
        subject: str,
        messages: list[Message],
        attachments: list[StoredAttachment],
        reopen: Reopen | None = None,
        note: str | None = None,
        verdict: Verdict | None = None,
    ) -> TakenIn:
        """Record an inbound mail on a ticket: its Message-ID, transcript messages (none when the
        ticket was just made from it), attachments, and, while the ticket is resolved, a reopen and the
        customer's verdict on the articles of the automatic answer. "duplicate" when this Message-ID was
        taken in before (nothing changes); "reopened" when the ticket was resolved and is open again."""
        now = utcnow()
        reopened = False
        try:
            with self.handoffs.transaction() as s:
                handoff = self.handoffs.lock(s, ticket_id)
                s.add(
                    MailMessage(
                        message_id=message_id, handoff_id=handoff.id, direction="in", subject=subject[:500], at=now
                    )
                )
                s.flush()
                if messages:
                    self.handoffs.add_messages(s, handoff, messages, "mail", now)
                for a in attachments:
                    s.add(
                        MailAttachment(
                            token=a.token,
                            handoff_id=handoff.id,
                            filename=a.filename,
                            content_type=a.content_type,
                            size=a.size,
                            sha256=a.sha256,
                            at=now,
                        )
                    )
                if note:
                    s.add(HandoffEvent(handoff_id=handoff.id, at=now, actor="mail", action="note", note=note))
                if verdict is not None and handoff.status == "resolved":
                    self._verdict(s, handoff, verdict, now)
                if reopen is not None and handoff.status == "resolved":
                    # The resolution did not solve it: the ticket is open again, without that "resolution"
                    # (the history keeps it with its "resolved" event).
                    handoff.status, handoff.assignee, handoff.resolution = "new", None, None
                    handoff.sla_due_at, handoff.updated_at = reopen.sla_due_at, now
                    s.add(
                        HandoffEvent(handoff_id=handoff.id, at=now, actor="mail", action="reopened", note=reopen.note)
                    )
                    if reopen.acknowledgement is not None:  # the team's notice shows what the customer was told
                        out, event, transcript = reopen.acknowledgement
                        handoff.told_due_at = reopen.sla_due_at  # the time the acknowledgement promises
                        self.queue(s, handoff, out.message_id, out.subject, out.to, out.raw, out.mail_from, event, now)
                        self.handoffs.add_messages(s, handoff, [transcript], "mail", now)
                    self.handoffs.enqueue(s, handoff, "handoff.reopened", reopen.notifications, now)
                    reopened = True
        except IntegrityError:
            return "duplicate"
        if reopened:
            self.handoffs.outbox_signal.set()
        return "reopened" if reopened else "added"

    def _verdict(self, s: Session, handoff: Handoff, verdict: Verdict, now: datetime) -> None:
        """The ticket's articles and the feedback statistics (``helpdesk gaps``), like a chat's click."""
        if not verdict.articles:
            return
        s.execute(
            update(ArticleShown)
            .where(ArticleShown.handoff_id == handoff.id, ArticleShown.article_id.in_(verdict.articles))
            .values(feedback="solved" if verdict.solved else "not_solved")
        )
        dialect = self.handoffs.engine.dialect.name
        for article in verdict.articles:
            s.execute(feedback_upsert(dialect, handoff.conversation_id, article, verdict.query, verdict.solved, now))

    @staticmethod
    def queue(
        s: Session,
        handoff: Handoff,
        message_id: str,
        subject: str,
        to: str,
        raw: str,
        mail_from: str,
        event: str,
        now: datetime,
    ) -> None:
        """A composed mail's Message-ID and the outbox row that delivers it, in the caller's transaction."""
        s.add(MailMessage(message_id=message_id, handoff_id=handoff.id, direction="out", subject=subject[:500], at=now))
        s.add(
            OutboxItem(
                handoff_id=handoff.id,
                event=event,
                channel="mail",
                target=to,
                payload=json.dumps({"event": event, "raw": raw, "mail_from": mail_from}, ensure_ascii=False),
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    def send(
        self,
        ticket_id: str,
        message_id: str,
        subject: str,
        to: str,
        raw: str,
        mail_from: str,
        event: str,
        transcript: Message | None,
        actor: str,
        teams: Scope = None,
    ) -> None:
        """Enqueue a composed mail for delivery (the notification worker sends it by SMTP, with retries),
        with its Message-ID and, when given, its transcript message, in one transaction."""
        now = utcnow()
        with self.handoffs.transaction() as s:
            handoff = self.handoffs.lock(s, ticket_id, teams=teams)
            self.queue(s, handoff, message_id, subject, to, raw, mail_from, event, now)
            if transcript is not None:
                self.handoffs.add_messages(s, handoff, [transcript], actor, now)
            else:
                handoff.updated_at = now
        self.handoffs.outbox_signal.set()

    def sent_any(self, ticket_id: str) -> bool:
        return any(m["direction"] == "out" for m in self.thread(ticket_id))

    def attachments(self, ticket_id: str, teams: Scope = None) -> list[AttachmentInfo]:
        return self.handoffs.files_of(ticket_id, MailAttachment, self._info, teams=teams)

    def attachment(self, ticket_id: str, token: str, teams: Scope = None) -> AttachmentInfo:
        """One attachment of a ticket the caller may see; TicketNotFound otherwise (same answer either way)."""
        return self.handoffs.files_of(ticket_id, MailAttachment, self._info, teams=teams, token=token)[0]

    @staticmethod
    def _info(row: MailAttachment, ticket_id: str) -> AttachmentInfo:
        return AttachmentInfo(
            row.token, row.filename, row.content_type, row.size, row.sha256, ticket_id, as_utc(row.at)
        )
