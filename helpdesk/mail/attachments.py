"""Attachments of inbound mail: stored safely, handed to agents only as downloads.

A file is written under a random name (the token, 32 random bytes) in
HELPDESK_MAIL_ATTACHMENTS_DIR with owner-only permissions; the sender's file name is
kept in the database for display only and never becomes a path. The inbox serves a file
to a logged-in agent who may see its ticket, always as ``application/octet-stream``
with ``Content-Disposition: attachment``, ``nosniff`` and a sandboxing CSP, so no
browser renders a customer's HTML, SVG or PDF inside the desk's origin.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from helpdesk.mail.parsing import Attachment
from helpdesk.mail.store import StoredAttachment

DOWNLOAD_HEADERS = {
    "Content-Type": "application/octet-stream",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store",
}


def save(directory: Path, attachment: Attachment) -> StoredAttachment:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_hex(32)
    fd = os.open(directory / token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(attachment.data)
    return StoredAttachment(
        token,
        attachment.filename,
        attachment.content_type,
        len(attachment.data),
        hashlib.sha256(attachment.data).hexdigest(),
    )


def path_of(directory: Path, token: str) -> Path:
    if len(token) != 64 or any(c not in "0123456789abcdef" for c in token):
        raise FileNotFoundError(token)
    return directory / token


def download_headers(filename: str) -> dict[str, str]:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return {
        **DOWNLOAD_HEADERS,
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
    }
