"""The support mailbox over IMAP: fetch what is new, hand it to the intake, mark it seen; then wait.

Waiting is IMAP IDLE where the server offers it (a new mail is taken in within a second
or two), else a poll every HELPDESK_MAIL_POLL_SECONDS; IDLE is also renewed after that
long. A mail over HELPDESK_MAIL_MAX_BYTES is never downloaded: only its header is
fetched (BODY.PEEK[HEADER]), so the sender can be told. A mail is flagged \\Seen only
after the intake committed it; when the intake fails (database away, a bug), the mail
stays unseen and is tried again on the next round. A lost connection is re-opened
with a growing pause.
"""

from __future__ import annotations

import imaplib
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError

from helpdesk.mail.config import MailSettings

log = logging.getLogger(__name__)
SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
Handler = Callable[[bytes, int, bool], object]  # (raw mail or its header, size, complete)
CONNECTION_ERRORS = (imaplib.IMAP4.error, OSError, socket.timeout, ssl.SSLError, UnexpectedCommandStatusError)


class Mailbox:
    def __init__(self, settings: MailSettings, handle: Handler):
        self.settings, self.handle = settings, handle
        self.rounds = 0  # how many times the mailbox was looked at (for tests and logs)

    def connect(self):
        s = self.settings
        box: BaseMailBox
        if s.imap_security == "ssl":
            box = MailBox(s.imap_host, s.imap_port, timeout=60, ssl_context=ssl.create_default_context())
        elif s.imap_security == "starttls":
            box = MailBoxStartTls(s.imap_host, s.imap_port, timeout=60, ssl_context=ssl.create_default_context())
        else:
            box = MailBoxUnencrypted(s.imap_host, s.imap_port, timeout=60)
        return box.login(s.imap_user or "", s.imap_password or "", initial_folder=s.imap_folder)

    def take_new(self, box) -> int:
        """Take in every unseen mail; returns how many were taken in."""
        self.rounds += 1
        done = 0
        for uid in box.uids(AND(seen=False)):
            size = self._size(box, uid)
            complete = size <= self.settings.max_mail_bytes
            raw = self._fetch(box, uid, "BODY.PEEK[]" if complete else "BODY.PEEK[HEADER]")
            if raw is None:
                continue
            try:
                self.handle(raw, size, complete)
            except Exception:
                log.exception("mail uid %s could not be taken in; it stays unseen", uid)
                continue
            box.flag(uid, MailMessageFlags.SEEN, True)
            done += 1
        return done

    @staticmethod
    def _size(box, uid: str) -> int:
        typ, data = box.client.uid("FETCH", uid, "(RFC822.SIZE)")
        for item in data or ():
            found = SIZE_RE.search(item if isinstance(item, bytes) else b"")
            if found:
                return int(found.group(1))
        return 0

    @staticmethod
    def _fetch(box, uid: str, part: str) -> bytes | None:
        typ, data = box.client.uid("FETCH", uid, f"({part})")
        for item in data or ():
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None

    def wait(self, box, stop: threading.Event) -> None:
        """Until something arrives (IDLE) or the poll interval passed; returns early when ``stop`` is set."""
        deadline = time.monotonic() + self.settings.poll_seconds
        if not (self.settings.imap_idle and "IDLE" in box.client.capabilities):
            stop.wait(self.settings.poll_seconds)
            return
        with box.idle as idle:
            while not stop.is_set() and time.monotonic() < deadline:
                if idle.poll(timeout=min(1.0, max(0.0, deadline - time.monotonic()))):
                    return

    def run(self, stop: threading.Event) -> None:
        pause = 1.0
        while not stop.is_set():
            try:
                with self.connect() as box:
                    pause = 1.0
                    while not stop.is_set():
                        self.take_new(box)
                        self.wait(box, stop)
            except MailboxLoginError as exc:
                log.error("IMAP login to %s as %s failed: %s", self.settings.imap_host, self.settings.imap_user, exc)
            except CONNECTION_ERRORS as exc:
                log.warning("IMAP connection to %s: %s; reconnecting in %.0f s", self.settings.imap_host, exc, pause)
            stop.wait(pause)
            pause = min(pause * 2, max(60.0, self.settings.poll_seconds))
