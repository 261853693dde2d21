"""Fixtures of the e-mail channel's tests: a real Dovecot, a real SMTP server, the real desk.

Dovecot is Debian's (scripts/bootstrap imap), started by the tests with a configuration
of their own in a temporary directory (its sockets, state and maildirs there, IMAP on a
free port of 127.0.0.1, users in a passwd-file; no system service), once per session,
and stopped at the end. Each test gets a mailbox user of its own, the web service
(search on the starter KB, inbox) under uvicorn, and the ``helpdesk mail`` worker
pointed at both. Mails are delivered into the mailbox by IMAP APPEND.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from helpdesk.app import create_app
from helpdesk.mail.config import MailSettings
from helpdesk.mail.worker import MailWorker
from tests.conftest import csrf_token, make_settings
from tests.handoffs.conftest import (  # noqa: F401  (smtp_server is a fixture used here)
    database,
    free_port,
    running,
    smtp_server,
    wait_for,
    write_routing,
)

DOVECOT = Path("/usr/sbin/dovecot")
DESK_ADDRESS = "support@helpdesk.example"
PASSWORD = "a long enough password"


class SentMail(EmailMessage):
    """A mail the desk sent, with the envelope sender it was sent with (MAIL FROM)."""

    envelope_from: str = ""


class Dovecot:
    """A private Dovecot instance: ``add_user`` makes a mailbox, ``append`` delivers into it."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.users = root / "users"
        self.users.write_text("", encoding="utf-8")
        if os.geteuid() == 0:  # Dovecot runs neither logins nor mail access as root
            internal, login, mail_user = "dovecot", "dovenull", pwd.getpwnam("dovecot")
        else:
            internal = login = pwd.getpwuid(os.geteuid()).pw_name
            mail_user = pwd.getpwuid(os.geteuid())
        for name in ("mail", "home"):
            (root / name).mkdir()
            os.chown(root / name, mail_user.pw_uid, mail_user.pw_gid)
        (root / "dovecot.conf").write_text(
            f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {mail_user.pw_uid}
first_valid_gid = {mail_user.pw_gid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
""",
            encoding="utf-8",
        )
        self.process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                imaplib.IMAP4("127.0.0.1", self.port).logout()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"dovecot did not start: {stderr}{self.log()}") from None
                time.sleep(0.1)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def add_user(self) -> tuple[str, str]:
        user, password = f"support-{secrets.token_hex(4)}", secrets.token_hex(12)
        with self.users.open("a", encoding="utf-8") as users:
            users.write(f"{user}:{{PLAIN}}{password}\n")
        # Dovecot re-reads the passwd-file when it changed; a lookup in the same second may miss that.
        deadline = time.monotonic() + 10
        while True:
            try:
                self.imap(user, password).logout()
                return user, password
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
                os.utime(self.users)

    def imap(self, user: str, password: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(user, password)
        return client

    def append(self, user: str, password: str, raw: bytes) -> None:
        client = self.imap(user, password)
        try:
            typ, data = client.append("INBOX", "", None, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def flags(self, user: str, password: str) -> list[str]:
        client = self.imap(user, password)
        try:
            client.select("INBOX")
            typ, data = client.fetch("1:*", "(FLAGS)")
            return [item.decode() for item in data if isinstance(item, bytes)]
        finally:
            client.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        pytest.fail("needs Debian's Dovecot at /usr/sbin/dovecot: run scripts/bootstrap imap")
    # Not under pytest's 0700 temp directory: Dovecot's unprivileged login process must reach its sockets.
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    root.chmod(0o755)
    server = Dovecot(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def mail(
    sender: str,
    subject: str,
    text: str | None = None,
    *,
    html: str | None = None,
    name: str = "",
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    in_reply_to: str | None = None,
    references: str | None = None,
    to: str = DESK_ADDRESS,
    message_id: str | None = None,
) -> bytes:
    """A customer's mail as a mail program writes it."""
    message = EmailMessage()
    message["From"] = formataddr((name, sender)) if name else sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id or make_msgid(domain=sender.split("@")[1])
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references or in_reply_to
    for key, value in (headers or {}).items():
        message[key] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


class MailDesk:
    """The desk with its mailbox: deliver a mail, let the worker take it in, read what went out."""

    def __init__(
        self, base_url: str, settings, worker: MailWorker, dovecot: Dovecot, user: str, password: str, collector
    ):
        self.base_url, self.settings, self.worker = base_url, settings, worker
        self.dovecot, self.user, self.password, self.collector = dovecot, user, password, collector
        self.store = worker.store
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)

    def deliver(self, raw: bytes) -> str:
        self.dovecot.append(self.user, self.password, raw)
        return str(message_from_bytes(raw, policy=email_policy)["Message-ID"])

    def take_in(self) -> int:
        return self.worker.once()

    def sent(self, to: str | None = None) -> list[SentMail]:
        """Mails the desk sent to ``to`` (all customers' mails when None; team notifications excluded)."""
        found = []
        for envelope in list(self.collector.messages):
            rcpt = envelope.rcpt_tos[0]
            if rcpt.endswith("@helpdesk.example"):
                continue
            if to is None or rcpt == to:
                # the class the parser makes (typeshed types the result by the policy's message class)
                parsed = cast(SentMail, message_from_bytes(envelope.content, _class=SentMail, policy=email_policy))
                parsed.envelope_from = envelope.mail_from
                found.append(parsed)
        return found

    def wait_sent(self, to: str, count: int, timeout: float = 20) -> list[Any]:
        assert wait_for(lambda: len(self.sent(to)) >= count, timeout=timeout), (to, count, len(self.sent(to)))
        return self.sent(to)

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        return self.store.get(ticket_id)

    def tickets(self) -> list[dict[str, Any]]:
        return self.store.list_handoffs(limit=500)

    def login(self, username: str, teams=("software", "network", "billing", "email", "shop-chat")) -> httpx.Client:
        self.store.create_agent(username, username.title(), teams, PASSWORD)
        agent = httpx.Client(base_url=self.base_url, timeout=30, follow_redirects=True)
        page = agent.get("/agent/login")
        token = csrf_token(page.text)
        done = agent.post("/agent/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert done.status_code == 200 and "/agent/login" not in str(done.url), done.text[:300]
        return agent


@pytest.fixture(params=["sqlite"])
def mail_db(request, tmp_path) -> Iterator[str]:
    """SQLite; a test parametrizes it indirectly to run on PostgreSQL too."""
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def make_desk(starter_kb, dovecot, smtp_server, tmp_path, mail_db):
    """Opens the desk on the starter KB with a fresh mailbox; ``changes`` go to its MailSettings."""
    collector, smtp_port = smtp_server
    stack = ExitStack()

    def make(**changes: Any) -> MailDesk:
        user, password = dovecot.add_user()
        routing = write_routing(tmp_path / "routing.yml", office_hours={"mon-sun": "00:00-24:00"})
        mail_settings = MailSettings(
            imap_host="127.0.0.1",
            imap_port=dovecot.port,
            imap_security="none",
            imap_user=user,
            imap_password=password,
            attachments_dir=tmp_path / "files",
            poll_seconds=30,
        )
        settings = make_settings(
            starter_kb.articles_dir,
            starter_kb.index_dir,
            database_url=mail_db,
            drafts_dir=tmp_path / "drafts",
            routing_file=routing,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_from=DESK_ADDRESS,
            notify_retry_seconds=0.2,
            mail=mail_settings.model_copy(update=changes),
        )
        base_url = stack.enter_context(running(create_app(settings)))
        settings = settings.model_copy(update={"mail": settings.mail.model_copy(update={"search_url": base_url})})
        worker = MailWorker(settings)
        stack.callback(worker.stop)
        return MailDesk(base_url, settings, worker, dovecot, user, password, collector)

    yield make
    stack.close()
