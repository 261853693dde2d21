"""The files that hold customer data outside the databases: mail and chat attachments, article drafts.

A mail attachment is a file named by its token in HELPDESK_MAIL_ATTACHMENTS_DIR
(helpdesk/mail/attachments.py) whose row hangs on a handoff: when erasure or the purge
deletes the handoff, the file goes too. A file without a row (the process stopped
between saving the file and recording it, or the mail was a duplicate) is deleted by
the purge once it is an hour old. A chat attachment (helpdesk/attachments/store.py) is a file
and its thumbnail named by its token in HELPDESK_CHAT_ATTACHMENTS_DIR, whose row hangs on the
conversation and, once there is one, its ticket; the same holds for it. An article draft written from a ticket
(helpdesk/inbox/drafts.py) names that ticket in its first line and carries the
customer's words, masked, and the agent's note: it goes with its ticket. A draft an
author has stripped of that line, or moved into the articles, is the author's text
and stays.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from helpdesk.attachments.store import paths_of
from helpdesk.inbox.drafts import ticket_of
from helpdesk.mail.attachments import path_of

ORPHAN_AGE_SECONDS = 3600  # a file this old without a row will never get one


@dataclass(frozen=True)
class CustomerFiles:
    attachments_dir: Path
    drafts_dir: Path
    chat_attachments_dir: Path | None = None  # None: no chat attachments are looked for

    @classmethod
    def of(cls, settings) -> CustomerFiles:
        """The folders of the desk's ``Settings``."""
        return cls(settings.mail.attachments_dir, settings.drafts_dir, settings.attachments.directory)

    def attachments(self, tokens: Iterable[str]) -> list[Path]:
        """The attachment files of these tokens that exist."""
        found = []
        for token in tokens:
            try:
                path = path_of(self.attachments_dir, token)
            except FileNotFoundError:  # not a token the desk makes: no file of it
                continue
            if path.is_file():
                found.append(path)
        return found

    def chat_attachments(self, tokens: Iterable[str]) -> list[Path]:
        """The chat attachments' files and thumbnails of these tokens that exist."""
        if self.chat_attachments_dir is None:
            return []
        found: list[Path] = []
        for token in tokens:
            try:
                found.extend(path for path in paths_of(self.chat_attachments_dir, token) if path.is_file())
            except FileNotFoundError:  # not a token the desk makes: no file of it
                continue
        return found

    def orphan_attachments(self, known_tokens: set[str], now: float | None = None) -> list[Path]:
        """Attachment files (of mails and of chats) older than an hour whose token no row names."""
        cutoff = (now if now is not None else time.time()) - ORPHAN_AGE_SECONDS
        return [
            path
            for directory in (self.attachments_dir, self.chat_attachments_dir)
            if directory is not None and directory.is_dir()
            for path in directory.iterdir()
            if path.is_file() and path.name[:64] not in known_tokens and path.stat().st_mtime < cutoff
        ]

    def drafts(self, tickets: Iterable[str]) -> list[Path]:
        """The article drafts written from these tickets."""
        tickets = set(tickets)
        if not tickets or not self.drafts_dir.is_dir():
            return []
        return sorted(path for path in self.drafts_dir.glob("*/*.md") if ticket_of(path) in tickets)


def remove(paths: Iterable[Path]) -> int:
    """Delete these files; how many were deleted (one deleted meanwhile by someone else is not counted)."""
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
