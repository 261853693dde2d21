"""Personal data masked in the web service's logs: whatever logger, handler or argument carries it."""

from __future__ import annotations

import logging

from helpdesk.privacy.masking import install_log_masking, mask


def test_mask_hides_addresses_and_numbers_but_keeps_codes():
    assert mask("mail erika.m+x@example.org or call +49 30 1234567") == "mail <email> or call <number>"
    assert mask("IBAN DE89 3704 0044 0532 0130 00 please") == "IBAN <iban> please"
    assert mask("error 0x80070005 on 192.168.178.1 since 2026-11-27") == \
        "error 0x80070005 on 192.168.178.1 since 2026-11-27"


def test_every_log_record_is_masked(caplog, monkeypatch):
    # An in-process uvicorn of an earlier test (log_level="warning") may have configured its
    # access logger not to propagate and to drop INFO; caplog listens at the root.
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "propagate", True)
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "disabled", False)
    install_log_masking()
    install_log_masking()  # idempotent
    log = logging.getLogger("helpdesk.anything")
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    log.info("handoff from %s (%s), %d messages", "erika@example.org", "0171 2345678", 3)
    log.info("contact: %(email)s", {"email": "bob@example.org"})
    try:
        raise ValueError("bad address erika@example.org")
    except ValueError:
        log.exception("failed for +49 30 1234567")
    # uvicorn's access log unpacks its arguments: they stay a tuple of the same length.
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                                             "/agent/api/handoffs?q=erika@example.org", "1.1", 200)
    text = "\n".join(caplog.text.splitlines())
    assert "erika" not in text and "bob@" not in text and "2345678" not in text and "1234567" not in text
    assert "handoff from <email> (<number>), 3 messages" in text and "contact: <email>" in text
    assert "ValueError: bad address <email>" in text and "failed for <number>" in text
    assert '127.0.0.1:5000 - "GET /agent/api/handoffs?q=<email> HTTP/1.1" 200' in text
    access = [r for r in caplog.records if r.name == "uvicorn.access"][0]
    assert isinstance(access.args, tuple) and len(access.args) == 5 and access.args[4] == 200
