"""The chat's upload over real HTTP against the real app: what is taken, how, and every refusal.

The virus scan is a real clamd (tests/attachments/clamd.py) asked over its socket. Each bad
file is refused with a 4xx and the customer's message in German and in English, and leaves
neither a file nor a row.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import stat

import pytest
from PIL import Image

from helpdesk.attachments.config import AttachmentSettings
from tests.attachments.clamd import EICAR
from tests.attachments.conftest import count_rows, image_bytes
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload

PASSWORD = "attachment test password"


@pytest.fixture
def desk(make_client, clamd, tmp_path):
    def make(**changes):
        settings = AttachmentSettings(directory=tmp_path / "chat-files", clamd=clamd)
        return make_client(attachments=settings.model_copy(update=changes))

    return make


def upload(client, data: bytes, name: str = "screenshot.png", declared: str = "image/png", lang="en", session=None):
    session = session or secrets.token_hex(16)
    return client.post(
        "/chat/api/attachments", data={"session": session, "lang": lang}, files={"file": (name, data, declared)}
    )


def stored_files(client) -> list:
    directory = client.app.state.settings.attachments.directory
    return sorted(directory.iterdir()) if directory.exists() else []


def log_in(client, username: str, teams: list[str]) -> None:
    client.app.state.handoffs.create_agent(username, username.title(), teams, PASSWORD)
    client.cookies.clear()
    token = csrf_token(client.get("/agent/login").text)
    answer = client.post(
        "/agent/login", data={"username": username, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303


def photo_with_metadata() -> bytes:
    """A JPEG as a phone writes it: EXIF with a camera and a place, and bytes after its end."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 12"  # Model
    exif[0x0131] = "GPS-at-home"  # Software, standing in for the place
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "orange").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue() + b"APPENDED-AFTER-THE-IMAGE"


def test_a_photo_is_stored_re_encoded_under_a_random_name_and_the_bot_acknowledges_it(desk):
    client = desk()
    session = secrets.token_hex(16)
    answer = upload(client, photo_with_metadata(), "../../etc/Foto vom Router.jpg", "image/jpeg", "de", session)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["message"].startswith("Danke für Foto vom Router.jpg.") and "Ticket" in body["message"]
    assert body["attachment"] == {
        "filename": "Foto vom Router.jpg",
        "kind": "image",
        "size": body["attachment"]["size"],
    }
    assert body["ticket_id"] is None
    files = stored_files(client)
    assert [len(p.name) for p in files] == [64, 70]  # the token, and the token's thumbnail
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = files[0].read_bytes()
    assert b"SecretPhone" not in stored and b"PhoneMaker" not in stored and b"APPENDED" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("JPEG", (200, 100)) and not image.getexif()
    with Image.open(files[1]) as thumb:
        assert thumb.format == "PNG" and max(thumb.size) <= 320

    # The ticket made later takes the conversation's file: the agent of its team sees it, another team does not.
    payload = handoff_payload(category="network")
    payload["conversation_id"] = session
    ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    log_in(client, "anna", ["network"])
    page = client.get(f"/agent/handoffs/{ticket}").text
    token = files[0].name
    assert f'src="/agent/handoffs/{ticket}/chat-files/{token}/thumbnail"' in page
    assert 'alt="Foto vom Router.jpg"' in page
    full = client.get(f"/agent/handoffs/{ticket}/chat-files/{token}")
    assert full.status_code == 200 and full.content == stored
    assert full.headers["content-type"] == "image/jpeg" and full.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in full.headers["content-security-policy"]
    thumb = client.get(f"/agent/handoffs/{ticket}/chat-files/{token}/thumbnail")
    assert thumb.status_code == 200 and thumb.content == files[1].read_bytes()
    log_in(client, "bill", ["billing"])
    for path in (
        f"/agent/handoffs/{ticket}/chat-files/{token}",
        f"/agent/handoffs/{ticket}/chat-files/{token}/thumbnail",
    ):
        assert client.get(path).status_code == 404
    assert session not in page  # the chat's session id is never shown to agents

    # While the ticket is open, the next file goes to it at once, and the bot says so.
    again = upload(client, image_bytes("WEBP"), "more.webp", "image/webp", "en", session)
    assert again.status_code == 201, again.text
    transcript = client.app.state.handoffs.get(ticket)["transcript"]
    assert (transcript[-1]["sender"], transcript[-1]["text"]) == ("customer", "\N{PAPERCLIP} more.webp")
    assert (
        again.json()["message"]
        == f"Thank you, I have added more.webp to your ticket {ticket}. The agent will see it there."
    )


def test_a_pdf_keeps_its_bytes_and_reaches_agents_only_as_a_download(desk):
    client = desk()
    session = secrets.token_hex(16)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    answer = upload(client, pdf, "<img src=x onerror=alert(1)>.pdf", "application/pdf", "de", session)
    assert answer.status_code == 201, answer.text
    payload = handoff_payload(category="network")
    payload["conversation_id"] = session
    ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    log_in(client, "anna", ["network"])
    page = client.get(f"/agent/handoffs/{ticket}").text
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page and "<img src=x" not in page  # escaped
    [path] = stored_files(client)
    download = client.get(f"/agent/handoffs/{ticket}/chat-files/{path.name}")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"/agent/handoffs/{ticket}/chat-files/{path.name}/thumbnail").status_code == 404


def bomb() -> bytes:
    """A PNG of 20,000 x 20,000 pixels in a few dozen kilobytes: it would take 400 MB to decode."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
BAD_FILES = {
    # case: (bytes, file name, declared type, status, the start of the English message, of the German one)
    "oversized": (
        b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024),
        "big.png",
        "image/png",
        413,
        "The file is too large: at most 10 MB",
        "Die Datei ist zu groß: höchstens 10 MB",
    ),
    "text named png": (
        b"just some text, not a picture",
        "shot.png",
        "image/png",
        415,
        "I cannot accept this file.",
        "Diese Datei kann ich nicht annehmen.",
    ),
    "png header, no png": (
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 100,
        "shot.png",
        "image/png",
        422,
        "The file is damaged or not what its name says.",
        "Die Datei ist beschädigt",
    ),
    "decompression bomb": (
        bomb(),
        "bomb.png",
        "image/png",
        422,
        "The image is too large: at most 40 million pixels.",
        "Das Bild ist zu groß: höchstens 40 Millionen Bildpunkte.",
    ),
    "svg with script": (SVG, "logo.svg", "image/svg+xml", 415, "I cannot accept", "Diese Datei kann ich nicht"),
    "svg named png": (SVG, "logo.png", "image/png", 415, "I cannot accept", "Diese Datei kann ich nicht"),
    # The bare test string is no picture; inside one, only the virus scan finds it.
    "eicar": (EICAR, "eicar.png", "image/png", 415, "I cannot accept", "Diese Datei kann ich nicht"),
    "eicar in a pdf": (
        b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n",
        "invoice.pdf",
        "application/pdf",
        422,
        "The virus check found",
        "Die Virenprüfung hat",
    ),
    "eicar inside a png": (
        image_bytes() + EICAR,
        "clean-looking.png",
        "image/png",
        422,
        "The virus check found",
        "Die Virenprüfung hat",
    ),
    "pdf without its end": (
        b"%PDF-1.7\n1 0 obj",
        "cut.pdf",
        "application/pdf",
        422,
        "The file is damaged",
        "Die Datei",
    ),
    "empty": (b"", "nothing.png", "image/png", 422, "The file is empty.", "Die Datei ist leer."),
}


@pytest.fixture(scope="module")
def one_desk(clamd, tmp_path_factory):
    """One app for the refusals (they write nothing, so they do not disturb each other)."""
    from fastapi.testclient import TestClient

    from helpdesk.app import create_app
    from tests.conftest import make_settings

    tmp = tmp_path_factory.mktemp("refusals")
    settings = make_settings(
        tmp / "kb",
        tmp / "index",
        database_url=f"sqlite:///{tmp / 'desk.db'}",
        attachments=AttachmentSettings(directory=tmp / "chat-files", clamd=clamd),
    )
    (tmp / "kb").mkdir()
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_stored(one_desk, case):
    data, name, declared, status, english, german = BAD_FILES[case]
    for lang, expected in (("en", english), ("de", german)):
        answer = upload(one_desk, data, name, declared, lang)
        assert answer.status_code == status, (case, answer.text)
        assert answer.json()["detail"].startswith(expected), answer.json()
    assert stored_files(one_desk) == [] and count_rows(one_desk.app) == 0


def test_a_configured_clamd_that_does_not_answer_refuses_every_file(desk, tmp_path):
    client = desk(clamd=f"unix:{tmp_path / 'no-clamd.sock'}")
    for lang, expected in (("en", "Files cannot be checked right now"), ("de", "Dateien können gerade nicht")):
        answer = upload(client, image_bytes(), lang=lang)
        assert answer.status_code == 503 and answer.json()["detail"].startswith(expected)
    assert stored_files(client) == [] and count_rows(client.app) == 0


def test_a_conversation_has_at_most_its_number_of_files(desk):
    client = desk(max_per_conversation=2)
    session = secrets.token_hex(16)
    assert [upload(client, image_bytes(), session=session).status_code for _ in range(2)] == [201, 201]
    third = upload(client, image_bytes(), session=session, lang="de")
    assert third.status_code == 409 and third.json()["detail"] == "In diesem Gespräch sind höchstens 2 Dateien möglich."
    assert upload(client, image_bytes()).status_code == 201  # another conversation
    assert count_rows(client.app) == 3


def test_a_body_far_over_the_limit_is_refused_before_it_is_read_and_a_bad_session_id_is_a_422(desk):
    client = desk()
    huge = upload(client, b"\0" * (11 * 1024 * 1024))
    assert huge.status_code == 413
    wrong = upload(client, image_bytes(), session="not-a-chat-session")
    assert wrong.status_code == 422 and "session" in wrong.text
    assert stored_files(client) == [] and count_rows(client.app) == 0


def page_config(client) -> dict:
    page = client.get("/chat").text
    return json.loads(page.split('<script id="chat-config" type="application/json">', 1)[1].split("</script>", 1)[0])


def test_the_chat_page_offers_the_paperclip_and_the_start_says_whether_files_are_scanned(desk, caplog):
    with caplog.at_level(logging.INFO, logger="helpdesk.attachments"):
        scanned = desk()
        unscanned = desk(clamd=None)
        off = desk(max_per_conversation=0)
    lines = [r.getMessage() for r in caplog.records if r.name == "helpdesk.attachments"]
    assert any(line.startswith("chat attachments are scanned by clamd at unix:") for line in lines)
    assert any("NOT scanned for viruses: HELPDESK_CLAMD is not set" in line for line in lines)
    assert page_config(scanned)["attachments"]["url"] == "/chat/api/attachments"
    assert page_config(scanned)["attachments"]["maxBytes"] == 10 * 1024 * 1024
    assert page_config(off)["attachments"] is None
    assert unscanned.get("/chat").status_code == 200
    refused = upload(off, image_bytes(), lang="de")
    assert (
        refused.status_code == 403
        and refused.json()["detail"] == "In diesem Chat können keine Dateien gesendet werden."
    )
