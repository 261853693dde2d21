"""The chat's attachments on disk and in the database: saved, linked to tickets, found for agents.

A file is written under a random name (the token, 32 random bytes in hex) in the attachments'
folder with owner-only permissions, beside its thumbnail (``<token>.thumb``); the customer's
file name is kept for display only. The row names the conversation and, while the conversation
has an open ticket, that ticket; a ticket made later takes the conversation's earlier files
(``link_conversation``, a hook of every new handoff). A file that goes to an open ticket also adds
a line to its transcript (the paperclip and the file's name), so an agent in the live chat sees
it come. An agent reaches a file only through a ticket they may see (``for_ticket``, ``one``):
another team's agent gets what a missing ticket gets.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpdesk.attachments.content import Checked
from helpdesk.attachments.models import ChatAttachment
from helpdesk.db import as_utc, utcnow
from helpdesk.handoffs.models import Handoff
from helpdesk.handoffs.schemas import Message
from helpdesk.handoffs.store import OPEN_STATUSES, HandoffStore, Scope

PAPERCLIP = "\N{PAPERCLIP}"  # marks a file in the transcript, as the chat page shows it
TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")
THUMB_SUFFIX = ".thumb"


class TooMany(Exception):
    """The conversation has as many attachments as it may have."""


@dataclass(frozen=True)
class AttachmentView:
    token: str
    filename: str
    kind: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    at: datetime | None
    ticket_id: str | None


def clean_filename(name: str | None, suffix: str) -> str:
    """The customer's file name for display: no path, no control characters, at most 120 characters, and the
    suffix of what the file really is."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable()).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return (stem[:120] or "attachment") + suffix


def paths_of(directory: Path, token: str) -> tuple[Path, Path]:
    """The file and its thumbnail; FileNotFoundError for anything that is not a token the desk makes."""
    if not TOKEN_RE.match(token):
        raise FileNotFoundError(token)
    return directory / token, directory / (token + THUMB_SUFFIX)


def write_files(directory: Path, checked: Checked) -> str:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(32)
    path, thumb = paths_of(directory, token)
    for target, data in ((path, checked.data), (thumb, checked.thumbnail)):
        if data is None:
            continue
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return token


def link_conversation(s: Session, handoff: Handoff, _now: datetime | None = None) -> None:
    """A new ticket takes the files its conversation sent before it and that no ticket has yet."""
    s.execute(
        update(ChatAttachment)
        .where(ChatAttachment.conversation_id == handoff.conversation_id, ChatAttachment.handoff_id.is_(None))
        .values(handoff_id=handoff.id)
    )


class AttachmentStore:
    def __init__(self, handoffs: HandoffStore, directory: Path):
        self.handoffs = handoffs
        self.directory = directory

    def count(self, conversation_id: str) -> int:
        with self.handoffs.transaction() as s:
            return s.scalar(select(func.count()).where(ChatAttachment.conversation_id == conversation_id)) or 0

    def save(
        self, conversation_id: str, filename: str | None, language: str, checked: Checked, limit: int
    ) -> AttachmentView:
        """Write the file and its row, linked to the conversation's open ticket if it has one; TooMany past
        ``limit`` files per conversation (nothing written then)."""
        if self.count(conversation_id) >= limit:
            raise TooMany(conversation_id)
        token = write_files(self.directory, checked)
        try:
            with self.handoffs.transaction() as s:
                handoff = s.scalar(
                    select(Handoff)
                    .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
                    .order_by(Handoff.id.desc())
                    .limit(1)
                    .with_for_update()
                )
                # Counted again where the row is written (the first count only spares writing files in vain).
                taken = s.scalar(select(func.count()).where(ChatAttachment.conversation_id == conversation_id)) or 0
                if taken >= limit:
                    raise TooMany(conversation_id)
                now = utcnow()
                row = ChatAttachment(
                    token=token,
                    conversation_id=conversation_id,
                    handoff_id=handoff.id if handoff else None,
                    filename=clean_filename(filename, checked.suffix),
                    kind=checked.kind,
                    content_type=checked.content_type,
                    size=len(checked.data),
                    sha256=hashlib.sha256(checked.data).hexdigest(),
                    width=checked.width,
                    height=checked.height,
                    language=language,
                    at=now,
                )
                s.add(row)
                if handoff is not None:
                    # In the transcript too: an agent in the live chat sees it come, like the customer's words.
                    note = Message(sender="customer", text=f"{PAPERCLIP} {row.filename}", timestamp=now)
                    self.handoffs.add_messages(s, handoff, [note], "customer", now)
                s.flush()
                return self._view(row, handoff.ticket_id if handoff else None)
        except BaseException:
            for path in paths_of(self.directory, token):
                path.unlink(missing_ok=True)
            raise

    def for_ticket(self, ticket_id: str, teams: Scope = None) -> list[AttachmentView]:
        return self.handoffs.files_of(ticket_id, ChatAttachment, self._view, teams=teams)

    def one(self, ticket_id: str, token: str, teams: Scope = None) -> AttachmentView:
        """One file of a ticket the caller may see; TicketNotFound otherwise (the same answer either way)."""
        return self.handoffs.files_of(ticket_id, ChatAttachment, self._view, teams=teams, token=token)[0]

    @staticmethod
    def _view(row: ChatAttachment, ticket_id: str | None) -> AttachmentView:
        return AttachmentView(
            row.token,
            row.filename,
            row.kind,
            row.content_type,
            row.size,
            row.width,
            row.height,
            as_utc(row.at),
            ticket_id,
        )
