"""Long messages on the chat page in headless Chromium: nothing is ever cut.

The page learns the limit from the server (``maxMessageChars`` in its config,
HELPDESK_BOT_MAX_MESSAGE_CHARS). From 80 % of it a counter shows under the input;
a paste over it stays whole in the box, marked too long (localised, announced
politely to screen readers), and the send button and Enter do nothing until it
fits. A message within the limit goes to Rasa whole: the socket.io client is
replaced by a recording stand-in here (the real channel: bot/tests/test_edge.py).
Each state is saved as a screenshot under test-artifacts/chat/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from helpdesk.chat.config import ChatConfig
from helpdesk.chat.router import router
from tests.handoffs.test_workspace_browser import axe_violations

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "chat"

# Rasa's socket.io client as the page uses it: connects, answers session_request, records what is emitted.
RECORDING_SOCKET = """
window.emitted = [];
window.io = function () {
  var handlers = {};
  var socket = {
    on: function (name, handler) { handlers[name] = handler; return socket; },
    emit: function (name, data) {
      window.emitted.push([name, data]);
      if (name === "session_request") setTimeout(function () { handlers.session_confirm({}); }, 0);
    },
    disconnect: function () { return socket; },
    connect: function () { return socket; }
  };
  setTimeout(function () { handlers.connect(); }, 0);
  return socket;
};
"""


def paste(page, text: str) -> None:
    """Into the focused chat input, as the customer's Ctrl+V does (a maxlength would cut it)."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.get_by_role("textbox").focus()
    page.keyboard.press("Control+V")


def long_text(size: int) -> str:
    """``size`` characters as the server counts them: umlauts, an emoji, the customer number last."""
    end = " Kundennummer 4711-0815 🙏"
    return ("Seit dem Update stürzt die Office-App beim Öffnen großer Dateien ab. " * 130)[: size - len(end)] + end


@pytest.fixture
def chat_page(browser, chat_server, page_errors):
    """``chat_page(locale, server)``: the chat with clipboard access and the recording socket."""
    contexts = []

    def make(locale: str = "en-US", server=chat_server, bypass_csp: bool = False):
        context = browser.new_context(
            locale=locale,
            viewport={"width": 720, "height": 560},
            bypass_csp=bypass_csp,
            permissions=["clipboard-read", "clipboard-write"],
        )
        contexts.append(context)
        context.route(
            "**/vendor/socket.io.min.js",
            lambda route: route.fulfill(body=RECORDING_SOCKET, content_type="text/javascript"),
        )
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.goto(f"{server.url}/chat")
        page.wait_for_function("() => window.HelpdeskChat && HelpdeskChat.state.confirmed")
        return page

    yield make
    for context in contexts:
        context.close()


def sent_messages(page) -> list[str]:
    return [data["message"] for name, data in page.evaluate("window.emitted") if name == "user_uttered"]


def test_a_paste_over_the_limit_stays_whole_and_cannot_be_sent(chat_page, page_errors):
    page = chat_page()
    text = long_text(8200)
    paste(page, text)
    box = page.get_by_role("textbox", name="Your message")
    assert box.input_value() == text  # nothing cut
    counter = page.locator("#chat-counter")
    assert counter.is_visible() and "is-error" in counter.get_attribute("class")
    assert page.locator("#chat-counter-count").inner_text() == "8,200 / 8,000"
    assert (
        page.locator("#chat-counter-error")
        .inner_text()
        .startswith("Your message is too long (8,200 characters; at most 8,000).")
    )
    assert box.get_attribute("aria-invalid") == "true"
    send = page.get_by_role("button", name="Send")
    assert send.is_disabled()
    box.press("Enter")  # neither the button nor Enter sends it
    assert page.locator(".msg-user").count() == 0 and sent_messages(page) == []
    assert box.input_value() == text
    # Screen readers hear it once typing pauses, from a polite live region the input points to.
    status = page.locator("#chat-counter-status")
    assert status.get_attribute("aria-live") == "polite"
    assert "chat-counter-status" in box.get_attribute("aria-describedby")
    page.wait_for_function("() => document.getElementById('chat-counter-status').textContent.includes('too long')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "long-message-too-long.png"))

    # Shortened to fit: the error goes, the counter stays, it can be sent.
    box.press("End")
    for _ in range(201):
        box.press("Backspace")
    assert page.locator("#chat-counter-count").inner_text() == "7,999 / 8,000"
    assert "is-error" not in counter.get_attribute("class") and not page.locator("#chat-counter-error").is_visible()
    assert send.is_enabled() and box.get_attribute("aria-invalid") is None
    assert page_errors == []


def test_a_long_message_within_the_limit_shows_the_counter_and_is_sent_whole(chat_page, page_errors):
    page = chat_page()
    box = page.get_by_role("textbox", name="Your message")
    paste(page, long_text(6000))
    assert not page.locator("#chat-counter").is_visible()  # under 80 % of the limit: no counter
    text = long_text(7000)
    box.fill("")
    paste(page, text)
    counter = page.locator("#chat-counter")
    assert counter.is_visible() and "is-error" not in counter.get_attribute("class")
    assert page.locator("#chat-counter-count").inner_text() == "7,000 / 8,000"
    page.wait_for_function(
        "() => document.getElementById('chat-counter-status').textContent === '7,000 of 8,000 characters'"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "long-message-counter.png"))
    page.get_by_role("button", name="Send").click()
    assert sent_messages(page) == [text]  # to Rasa whole
    assert page.locator(".msg-user .msg-body").last.inner_text() == text
    assert box.input_value() == "" and not counter.is_visible()
    assert page_errors == []


def test_the_counter_speaks_the_pages_language_and_is_accessible(chat_page, page_errors):
    page = chat_page("de-DE", bypass_csp=True)  # axe-core is injected as a script
    paste(page, long_text(8001))
    assert page.locator("#chat-counter-count").inner_text() == "8.001 / 8.000"
    assert (
        page.locator("#chat-counter-error")
        .inner_text()
        .startswith("Ihre Nachricht ist zu lang (8.001 Zeichen; höchstens 8.000).")
    )
    assert page.get_by_role("button", name="Senden").is_disabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "long-message-too-long-de.png"))
    assert axe_violations(page) == []
    assert page_errors == []


def test_the_limit_is_the_servers(chat_page, serve):
    """Lowered by HELPDESK_BOT_MAX_MESSAGE_CHARS, the page counts to the new number (no copy in chat.js)."""
    app = FastAPI()
    app.include_router(router)
    app.state.chat_config = ChatConfig(rasa_public_url="http://127.0.0.1:9", max_message_chars=100)
    with serve(app) as server:
        page = chat_page(server=server)
        paste(page, "x" * 101)
        assert page.locator("#chat-counter-count").inner_text() == "101 / 100"
        assert page.get_by_role("button", name="Send").is_disabled()
        page.get_by_role("textbox").press("Backspace")
        page.get_by_role("button", name="Send").click()
        assert sent_messages(page) == ["x" * 100]
