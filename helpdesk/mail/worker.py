"""The ``helpdesk mail`` process: the mailbox loop (and the optional inbound SMTP endpoint) plus a
notification worker of its own.

It runs beside the web service (``make run`` starts it when HELPDESK_IMAP_HOST is set)
and shares its database: tickets, Message-IDs and the outbox. Answers need the web
service's POST /search (HELPDESK_SEARCH_URL); mails the desk writes are outbox rows
that this process's notification worker delivers at once (the web service's worker
would too: leases keep them from sending a row twice). One ``helpdesk mail`` per
mailbox: a second one would only compete for the same unseen mails.
"""

from __future__ import annotations

import logging
import signal
import threading

from helpdesk.deployment import load_checked
from helpdesk.handoffs.notifications import NotificationConfig, NotificationWorker
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.handoffs.store import HandoffStore
from helpdesk.mail import smtp_inbound
from helpdesk.mail.config import MailConfigError
from helpdesk.mail.intake import Intake, SearchClient
from helpdesk.mail.mailbox import Mailbox

log = logging.getLogger(__name__)


class MailWorker:
    def __init__(self, settings):
        if not settings.mail.enabled:
            raise MailConfigError(
                "the e-mail channel is off: set HELPDESK_IMAP_HOST or HELPDESK_MAIL_SMTP_PORT (see docs/email.md)"
            )
        if not settings.smtp_host:
            raise MailConfigError("the e-mail channel answers by SMTP: set HELPDESK_SMTP_HOST")
        deployment = settings.deployment or load_checked()
        self.routing = RoutingConfig.load(settings.routing_file)
        self.notify = NotificationConfig(settings)
        self.store = HandoffStore.open(settings.database_url)
        self.intake = Intake(
            handoffs=self.store,
            routing=self.routing,
            notify=self.notify,
            mail=settings.mail,
            desk_address=settings.mail.desk_address(settings.smtp_from),
            company=deployment.company,
            default_language=deployment.default_language,
            search=SearchClient(settings.mail.search_url),
        )
        self.mailbox = Mailbox(settings.mail, lambda raw, size, complete: self.intake.take(raw, size, complete))
        self.notifications = NotificationWorker(self.store, self.notify)
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._smtp = None

    def start(self) -> None:
        self.notifications.start()
        mail = self.mailbox.settings
        if mail.imap_host:
            self._thread = threading.Thread(target=self.mailbox.run, args=(self.stopping,), name="mailbox", daemon=True)
            self._thread.start()
        if mail.smtp_port is not None:
            self._smtp = smtp_inbound.start(
                mail.smtp_listen, mail.smtp_port, self.intake.desk_address, mail.max_mail_bytes, self.intake.take
            )

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(15)
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        self.notifications.stop()
        self.store.close()

    def once(self) -> int:
        """Take in what is in the mailbox now and deliver the mails that caused; returns how many came in."""
        if not self.mailbox.settings.imap_host:
            raise MailConfigError("--once reads the IMAP mailbox: set HELPDESK_IMAP_HOST")
        with self.mailbox.connect() as box:
            taken = self.mailbox.take_new(box)
        while self.notifications.run_once():
            pass
        return taken

    def run_forever(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.start()
        mail = self.mailbox.settings
        if mail.imap_host:
            log.info("taking in mail from %s@%s/%s", mail.imap_user, mail.imap_host, mail.imap_folder)
        if mail.smtp_port is not None:
            log.info(
                "taking in mail for %s by SMTP on %s:%s", self.intake.desk_address, mail.smtp_listen, mail.smtp_port
            )
        self.stopping.wait()
        self.stop()
