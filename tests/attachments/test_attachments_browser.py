"""Attachments end to end in Chromium: the customer's chat page, the agent's workspace, another team.

The real app runs under uvicorn with a real clamd; the chat page's socket points at a closed
port (Rasa is not needed: the upload and its acknowledgement go through the web service). The
customer attaches a screenshot with the paperclip and pastes another into the message box;
a refused file leaves only the notice why. The conversation's ticket, made afterwards as the
bot makes it, takes both; its team's agent sees the thumbnails and opens one; an agent of
another team gets a 404 for the same file. ``make screenshots`` keeps the pictures for the docs.
"""

from __future__ import annotations

import base64
import re

import httpx
import pytest

from helpdesk.app import create_app
from helpdesk.attachments.config import AttachmentSettings
from scripts.ports import free_port
from tests.attachments.conftest import image_bytes
from tests.handoffs.conftest import SERVICE, chromium, handoff_payload, running
from tests.screenshots import screenshot_dir

PASSWORD = "attachment browser password"

pytestmark = pytest.mark.browser

PASTE = """([data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
  const input = document.getElementById("chat-input");
  input.focus();
  return input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
}"""


def screenshot_png() -> bytes:
    """A small picture with something on it, as a customer's screenshot of an error."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 300), "#f4f6fa")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 480, 36), fill="#1f4e8c")
    draw.rectangle((60, 90, 420, 220), outline="#a4161a", width=4, fill="white")
    draw.text((90, 120), "Error 651: connection failed", fill="#a4161a")
    draw.text((90, 160), "The router did not answer.", fill="#1d2330")
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def server(make_settings, clamd, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPDESK_RASA_PUBLIC_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    settings = make_settings(attachments=AttachmentSettings(directory=tmp_path / "chat-files", clamd=clamd))
    app = create_app(settings.model_copy(update={"public_base_url": "http://127.0.0.1"}))
    with running(app) as base:
        app.state.handoffs.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
        app.state.handoffs.create_agent("bill", "Bill", ["billing"], PASSWORD)
        yield app, base


def log_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/agent/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/agent$"))
    return page


def test_a_customer_attaches_by_paperclip_and_paste_and_only_the_tickets_team_sees_the_files(server):
    app, base = server
    errors: list[str] = []
    with chromium() as browser:
        customer = browser.new_context(viewport={"width": 480, "height": 760}, locale="en-US").new_page()
        customer.set_default_timeout(15000)
        customer.on("pageerror", lambda error: errors.append(str(error)))
        customer.goto(f"{base}/chat?lang=en")
        clip = customer.locator("#chat-attach")
        clip.wait_for(state="visible")
        assert clip.get_attribute("aria-label") == "Attach a screenshot or PDF"

        # The paperclip opens the file chooser.
        with customer.expect_file_chooser() as chooser:
            clip.click()
        chooser.value.set_files({"name": "router-error.png", "mimeType": "image/png", "buffer": screenshot_png()})
        customer.locator(".msg-user .msg-attachment-name", has_text="router-error.png").wait_for()
        customer.locator(".msg-bot", has_text="Thank you for router-error.png.").wait_for()
        assert customer.locator(".msg-user .msg-attachment-preview").count() == 1

        # A screenshot pasted into the message box goes the same way; the box keeps no text of it.
        assert customer.evaluate(PASTE, [base64.b64encode(image_bytes("PNG", (300, 200), "gold")).decode()]) is False
        customer.locator(".msg-bot", has_text="Thank you for image.png.").wait_for()
        assert customer.input_value("#chat-input") == ""

        # A file that only claims to be a picture: refused, with only the notice of why.
        with customer.expect_file_chooser() as chooser:
            clip.click()
        chooser.value.set_files({"name": "fake.png", "mimeType": "image/png", "buffer": b"<svg><script>1</script>"})
        customer.locator(".msg-system", has_text="fake.png was not sent: I cannot accept this file.").wait_for()
        assert customer.locator(".msg-user", has_text="fake.png").count() == 0
        # The documentation's picture leaves out the notice that Rasa, not started here, cannot be reached.
        customer.evaluate("document.getElementById('chat-connection').hidden = true")
        customer.screenshot(path=str(screenshot_dir() / "chat-attachment.png"))
        assert errors == []

        # The bot hands the conversation over: the ticket takes the conversation's files.
        payload = handoff_payload(category="network", description="Fehler 651 beim Verbinden, siehe Bildschirmfoto")
        payload["conversation_id"] = customer.evaluate("window.HelpdeskChat.state.sessionId")
        created = httpx.post(f"{base}/handoffs", json=payload, headers=SERVICE)
        assert created.status_code == 201, created.text
        ticket = created.json()["ticket_id"]

        agent = log_in(browser, base, "anna")
        agent.goto(f"{base}/agent/handoffs/{ticket}")
        thumbs = agent.locator("#chat-files img")
        assert thumbs.count() == 2
        assert [thumbs.nth(i).get_attribute("alt") for i in range(2)] == ["router-error.png", "image.png"]
        agent.wait_for_function(
            "() => [...document.querySelectorAll('#chat-files img')].every((i) => i.complete && i.naturalWidth > 0)"
        )
        agent.locator("#chat-files").scroll_into_view_if_needed()
        agent.screenshot(path=str(screenshot_dir() / "workspace-attachments.png"))
        with agent.expect_popup() as popup:
            thumbs.first.click()
        opened = popup.value
        opened.wait_for_load_state()
        url = opened.url
        assert re.search(rf"/agent/handoffs/{ticket}/chat-files/[0-9a-f]{{64}}$", url)
        assert opened.evaluate("document.images.length === 1 && document.images[0].naturalWidth") == 480

        # Another team's agent: the same address is a ticket that does not exist.
        other = log_in(browser, base, "bill")
        response = other.goto(url)
        assert response is not None and response.status == 404
        assert "There is no handoff" in other.content() and other.locator("img").count() == 0
        assert other.request.get(url + "/thumbnail").status == 404
