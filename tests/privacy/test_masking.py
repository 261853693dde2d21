"""Personal data masked: in the texts kept for authors and in the web service's logs, whatever logger,
handler or argument carries it; names introduced as such and the company's own identifiers too."""

from __future__ import annotations

import logging

import pytest

from helpdesk.privacy.masking import Masker, hid_something, install_log_masking, mask
from helpdesk.privacy.retention import PrivacyConfigError, load_privacy


def test_mask_hides_addresses_and_numbers_but_keeps_codes():
    assert mask("mail erika.m+x@example.org or call +49 30 1234567") == "mail <email> or call <number>"
    assert mask("IBAN DE89 3704 0044 0532 0130 00 please") == "IBAN <iban> please"
    assert (
        mask("error 0x80070005 on 192.168.178.1 since 2026-11-27")
        == "error 0x80070005 on 192.168.178.1 since 2026-11-27"
    )


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
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/agent/api/handoffs?q=erika@example.org", "1.1", 200
    )
    text = "\n".join(caplog.text.splitlines())
    assert "erika" not in text and "bob@" not in text and "2345678" not in text and "1234567" not in text
    assert "handoff from <email> (<number>), 3 messages" in text and "contact: <email>" in text
    assert "ValueError: bad address <email>" in text and "failed for <number>" in text
    assert '127.0.0.1:5000 - "GET /agent/api/handoffs?q=<email> HTTP/1.1" 200' in text
    access = [r for r in caplog.records if r.name == "uvicorn.access"][0]
    assert isinstance(access.args, tuple) and len(access.args) == 5 and access.args[4] == 200


# The customer of the data-protection officer's trial, as the product's default configuration sees her.
ERIKA = "Guten Tag, mein Name ist Erika Probe, Kundennummer 4711-0815. Mein Router blinkt rot."


@pytest.mark.parametrize(
    "text, masked",
    [
        (ERIKA, "Guten Tag, mein Name ist <name>, Kundennummer <customer-number>. Mein Router blinkt rot."),
        ("my name is erika probe and my router is broken", "my name is <name> and my router is broken"),
        ("Hallo, ich heiße Erika von Probe-Müller.", "Hallo, ich heiße <name>."),
        ("Ich heisse Bob, Vertragsnummer: V-2024/77", "Ich heisse <name>, Vertragsnummer: <contract-number>"),
        ("Mein Name ist Dr. Erika Probe. Mein Router", "Mein Name ist Dr. <name>. Mein Router"),
        ("My name is Erika. I need help", "My name is <name>. I need help"),
        (
            "customer number is KD-4711 and contract no. 12345",
            "customer number is <customer-number> and contract no. <contract-number>",
        ),
        ("Tel. 030 12345 oder Handy: 0171 2345678", "Tel. <number> oder Handy: <number>"),
        ("IBAN: de89 3704 0044 0532 0130 00".upper(), "IBAN: <iban>"),
        # Not a name, not a number: left alone.
        ("my name is not important", "my name is not important"),
        ("Mein Name ist unwichtig", "Mein Name ist unwichtig"),
        ("Mobile 5G router, model 7590, since 2026-11-27", "Mobile 5G router, model 7590, since 2026-11-27"),
        ("Kundennummer weiß ich nicht", "Kundennummer weiß ich nicht"),
    ],
)
def test_names_identifiers_and_phone_numbers_are_masked_with_the_default_configuration(text, masked):
    assert mask(text) == masked
    assert hid_something(mask(text)) == (text != masked)


def test_the_companys_own_patterns_come_from_the_privacy_configuration(tmp_path):
    path = tmp_path / "privacy.yml"
    path.write_text(
        "masking:\n  patterns:\n    member-id: '\\bM-\\d{5}\\b'\n    order: '(?i)order\\s+(\\d{6})'\n", encoding="utf-8"
    )
    masker = Masker(load_privacy(path).masking.patterns)
    assert (
        masker("member M-12345 asks about order 123456, not M-123")
        == "member <member-id> asks about order <order>, not M-123"
    )
    assert masker.hid_something("<member-id>") and not masker.hid_something("<customer-number>")
    # Without patterns the company's numbers are only masked when they are long.
    assert Masker()("Kundennummer 4711-0815 or 1234 5678 90") == "Kundennummer 4711-0815 or <number>"


@pytest.mark.parametrize(
    "patterns, problem",
    [
        ("    Customer: 'x\\d+'\n", "masking.patterns.Customer.[key]: Value error, a label is lower-case letters"),
        ("    order: '(\\d+'\n", "masking.patterns.order: Value error, not a regular expression: missing ), "),
        ("    order: '\\d*'\n", "masking.patterns.order: Value error, the pattern matches an empty text"),
    ],
)
def test_a_bad_pattern_is_refused_with_its_line(tmp_path, patterns, problem):
    path = tmp_path / "privacy.yml"
    path.write_text(f"retention_days: {{handoffs: 30}}\nmasking:\n  patterns:\n{patterns}", encoding="utf-8")
    with pytest.raises(PrivacyConfigError) as raised:
        load_privacy(path)
    assert f"{path}:4: {problem}" in str(raised.value)


def test_a_known_customer_is_masked_wherever_their_details_stand():
    contact = {"name": "Erika von Probe", "email": "erika.probe@example.org", "phone": "+49 30 1234567"}
    text = "Viele Grüße\nErika von Probe; Frau Probe; ERIKA.PROBE@example.org; 030 123 45 67; Probenraum; von Bob"
    assert mask(text, contact) == "Viele Grüße\n<name>; Frau <name>; <email>; <number>; Probenraum; von Bob"
    assert mask("Erika Probe", {"name": None, "email": None, "phone": None}) == "Erika Probe"
