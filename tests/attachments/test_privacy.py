"""The chat's files as the customer's data: purged with their ticket or after the conversation's period,
erased with the customer, orphans removed; uploads through the real app, purge and erasure as the
commands run them.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta

from sqlalchemy import text

from helpdesk.attachments.config import AttachmentSettings
from helpdesk.db import utcnow
from helpdesk.privacy.erasure import CustomerStores, erase, find
from helpdesk.privacy.files import CustomerFiles
from helpdesk.privacy.purge import purge
from helpdesk.privacy.retention import load_privacy
from tests.attachments.conftest import count_rows, image_bytes
from tests.handoffs.conftest import SERVICE, handoff_payload
from tests.privacy.conftest import set_updated


def files_of(client) -> set[str]:
    return {p.name for p in client.app.state.settings.attachments.directory.iterdir()}


def send(client, session: str) -> None:
    answer = client.post(
        "/chat/api/attachments", data={"session": session, "lang": "en"}, files={"file": ("s.png", image_bytes())}
    )
    assert answer.status_code == 201, answer.text


def ticket_of(client, session: str) -> str:
    payload = handoff_payload(category="network")
    payload["conversation_id"] = session
    answer = client.post("/handoffs", json=payload, headers=SERVICE)
    assert answer.status_code == 201, answer.text
    return answer.json()["ticket_id"]


def tokens(client, session: str) -> set[str]:
    with client.app.state.handoffs.engine.connect() as connection:
        found = connection.execute(
            text("SELECT token FROM chat_attachments WHERE conversation_id = :c"), {"c": session}
        ).scalars()
        return {name for token in found for name in (token, token + ".thumb")}


def test_purge_takes_the_files_with_their_ticket_after_the_conversations_period_and_orphans(make_client, tmp_path):
    client = make_client(attachments=AttachmentSettings(directory=tmp_path / "chat-files"))
    store = client.app.state.handoffs
    with_ticket, without, recent = (secrets.token_hex(16) for _ in range(3))
    for session in (with_ticket, without, recent):
        send(client, session)
    old_ticket = ticket_of(client, with_ticket)
    store.resolve(old_ticket, "anna", "Router reset.")
    set_updated(store, old_ticket, utcnow() - timedelta(days=400))
    with store.engine.begin() as connection:  # a conversation that never got a ticket, 40 days ago
        connection.execute(
            text("UPDATE chat_attachments SET at = :at WHERE conversation_id = :c"),
            {"at": utcnow() - timedelta(days=40), "c": without},
        )
    directory = client.app.state.settings.attachments.directory
    orphan = directory / ("ab" * 32)  # a file whose row was never written
    orphan.write_bytes(b"left behind")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    kept = tokens(client, recent)

    files = CustomerFiles.of(client.app.state.settings)
    counts = purge(store, load_privacy(), None, files, 24.0)["counts"]
    assert (counts["chat_attachments"], counts["chat_attachment_files"], counts["orphaned_attachment_files"]) == (
        2,
        4,
        1,
    )
    assert files_of(client) == kept and count_rows(client.app) == 1


def test_erasure_takes_the_files_of_the_ticket_and_those_the_conversation_sent_after_it(make_client, tmp_path):
    client = make_client(attachments=AttachmentSettings(directory=tmp_path / "chat-files"))
    store = client.app.state.handoffs
    customer, other = secrets.token_hex(16), secrets.token_hex(16)
    send(client, customer)
    ticket = ticket_of(client, customer)
    store.resolve(ticket, "anna", "Router reset.")
    send(client, customer)  # after the resolution: no ticket takes it, the conversation keeps it
    send(client, other)
    theirs = tokens(client, other)
    stores = CustomerStores(store, None, CustomerFiles.of(client.app.state.settings))

    dry = erase(stores, find(store.engine, "ticket", ticket), "dpo", dry_run=True).counts
    assert (dry["chat_attachments"], dry["chat_attachment_files"]) == (2, 4)
    assert count_rows(client.app) == 3
    done = erase(stores, find(store.engine, "ticket", ticket), "dpo").counts
    assert (done["chat_attachments"], done["chat_attachment_files"]) == (2, 4)
    assert files_of(client) == theirs and count_rows(client.app) == 1
