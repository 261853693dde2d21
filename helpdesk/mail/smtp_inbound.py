"""The optional inbound SMTP endpoint: the mail server delivers to the desk instead of a mailbox.

For operators whose mail server can forward the support address by SMTP (a transport or
relay rule), ``helpdesk mail`` also listens on HELPDESK_MAIL_SMTP_PORT (aiosmtpd). It
accepts mail only for the desk's address, refuses mail over HELPDESK_MAIL_MAX_BYTES
during the transfer (552), and answers 250 only after the intake committed the mail; if
that fails it answers 451, so the sending server keeps the mail and retries. It does not
relay and has no authentication: listen on 127.0.0.1 or a private network only, behind
the mail server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)


class _Handler:
    def __init__(self, address: str, take: Callable[[bytes], object]):
        self.address, self.take = address.lower(), take

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() != self.address:
            return f"550 5.1.1 <{address}>: this server only takes mail for {self.address}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        try:
            await server.loop.run_in_executor(None, self.take, content)
        except Exception:
            log.exception("inbound SMTP: the mail from %s could not be taken in", envelope.mail_from)
            return "451 4.3.0 temporary failure, please try again later"
        return "250 2.0.0 taken in"


def start(host: str, port: int, address: str, max_bytes: int, take: Callable[[bytes], object]) -> Controller:
    controller = Controller(
        _Handler(address, take), hostname=host, port=port, data_size_limit=max_bytes, decode_data=False
    )
    controller.start()
    return controller
