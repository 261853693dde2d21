"""Personal details masked: in texts the desk keeps for authors, and in every log line.

Authors need a customer's question, not the customer, and a log line is read by
operators and kept by log collectors, so e-mail addresses, IBANs and phone-like numbers
are replaced by ``<email>``, ``<iban>`` and ``<number>``. ``mask`` is the one
definition; ``helpdesk/feedback/store.py`` masks stored queries with it and
``install_log_masking`` masks every log record of the process (message, arguments and
the formatted traceback), whatever logger or handler it goes to.
"""

from __future__ import annotations

import logging
import re
import traceback

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")
# Nine or more digits, optionally split by spaces, slashes, dashes or brackets: phone, customer or
# contract numbers. Dates, IP addresses (dots) and hex error codes (0x...) stay readable.
LONG_NUMBER = re.compile(r"(?<![\w.])(?:\+|00)?\d(?:[ /()-]{0,2}\d){8,}(?![\w])")


def mask(text: str) -> str:
    """``text`` with e-mail addresses, IBANs and phone-like numbers replaced by placeholders."""
    text = EMAIL.sub("<email>", text)
    text = IBAN.sub("<iban>", text)
    return LONG_NUMBER.sub("<number>", text)


_installed = False


def _masked(value):
    # Strings and anything whose text may carry a detail (an exception, a URL object); numbers stay numbers.
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = str(value)
    masked = mask(text)
    return value if masked == text else masked


def install_log_masking() -> None:
    """Mask every log record created from now on in this process (idempotent).

    A record factory rather than a handler filter: uvicorn, the app's loggers and a
    log collector's handler all see the masked record, and a handler added later is
    covered too. The message is rendered (``msg % args``) and masked once; a traceback
    is formatted and masked into ``exc_text``, which formatters print instead. The
    arguments are masked one by one and stay arguments: uvicorn's access formatter
    unpacks them.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
