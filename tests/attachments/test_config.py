"""The attachments' settings from the environment: a wrong value stops the start with the variable's name."""

from __future__ import annotations

import pytest

from helpdesk.attachments.clamd import parse_address
from helpdesk.attachments.config import AttachmentSettings
from search_api.settings import SettingsError


def test_clamd_addresses_as_operators_write_them():
    assert parse_address("unix:/run/clamav/clamd.ctl") == ("unix", "/run/clamav/clamd.ctl")
    assert parse_address("tcp:clamav.internal:3310") == ("tcp", ("clamav.internal", 3310))
    assert parse_address("127.0.0.1:3310") == ("tcp", ("127.0.0.1", 3310))
    assert parse_address("tcp:[::1]:3310") == ("tcp", ("::1", 3310))


@pytest.mark.parametrize("value", ["unix:run/clamd.ctl", "clamav", "tcp:host:0", "tcp:host:http"])
def test_a_wrong_clamd_address_stops_the_start(value):
    with pytest.raises(ValueError, match="HELPDESK_CLAMD"):
        AttachmentSettings.from_env({"HELPDESK_CLAMD": value})


def test_the_defaults_and_the_variables():
    default = AttachmentSettings.from_env({})
    assert (default.clamd, default.max_bytes, default.max_per_conversation) == (None, 10 * 1024 * 1024, 10)
    set_ = AttachmentSettings.from_env(
        {
            "HELPDESK_CLAMD": "unix:/run/clamav/clamd.ctl",
            "HELPDESK_CHAT_ATTACHMENTS_DIR": "/srv/helpdesk/files",
            "HELPDESK_CHAT_ATTACHMENTS_MAX_BYTES": "5000000",
            "HELPDESK_CHAT_ATTACHMENTS_PER_CONVERSATION": "0",
        }
    )
    assert str(set_.directory) == "/srv/helpdesk/files" and set_.max_bytes == 5_000_000 and not set_.enabled
    with pytest.raises(SettingsError, match="HELPDESK_CHAT_ATTACHMENTS_MAX_BYTES: '10MB' is not a whole number"):
        AttachmentSettings.from_env({"HELPDESK_CHAT_ATTACHMENTS_MAX_BYTES": "10MB"})
    with pytest.raises(SettingsError, match="HELPDESK_CHAT_ATTACHMENTS_PER_CONVERSATION: .*greater than or equal to 0"):
        AttachmentSettings.from_env({"HELPDESK_CHAT_ATTACHMENTS_PER_CONVERSATION": "-1"})
