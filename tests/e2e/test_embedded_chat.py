"""The chat embedded in the company's own site answers, end to end, in headless Chromium.

The company's page is served from another origin (a small http.server on loopback) and
embeds the chat with the one tag of the deploy guide; the chat page in its iframe comes
from the web service of the real stack (conftest: Rasa with the trained model, the
action server, the starter KB). tests/chat/test_embed_browser.py covers the launcher,
keyboard, phone and failure cases without a model; this test adds what only the whole
stack shows: a question typed into the embedded chat gets the article's answer, and
Escape inside the chat closes it with the focus back on the launcher.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.ports import free_port

pytestmark = pytest.mark.browser
BOT_TIMEOUT = 30_000  # ms, as in test_customer_to_agent.py: the first turn loads the models
SHADOW = "document.getElementById('helpdesk-chat').shadowRoot"


@pytest.fixture(scope="module")
def company_site(stack) -> Iterator[str]:
    """The company's home page with the chat's script tag; its URL (another origin than the helpdesk)."""
    page = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Nordwind</title>'
        f'<script src="{stack.search_url}/chat/embed.js" data-lang="de" async></script>'
        "</head><body><h1>Nordwind</h1><p>Glasfaser für Ihr Zuhause.</p></body></html>"
    ).encode()

    class Home(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Home)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_question_in_the_embedded_chat_gets_the_article(contexts, stack, company_site):
    page = contexts(locale="de-DE").new_page()
    page.goto(company_site)
    launcher = page.locator("#helpdesk-chat-launcher")
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    page.frame_locator("#helpdesk-chat-frame").locator("#chat-input").wait_for()
    chat = next(f for f in page.frames if f.url.startswith(f"{stack.search_url}/chat?embed=1"))
    chat.wait_for_function("() => window.HelpdeskChat && HelpdeskChat.state.confirmed", timeout=BOT_TIMEOUT)
    assert chat.evaluate("document.activeElement.id") == "chat-input"

    box = chat.locator("#chat-input")
    box.fill("Hallo, mein Internet ist seit Tagen total langsam, ich habe nur 20 Mbit statt 250. Was kann ich tun?")
    box.press("Enter")
    link = chat.locator(".msg-bot a.article-link").last
    link.wait_for(timeout=BOT_TIMEOUT)
    assert link.get_attribute("href").startswith(f"{stack.search_url}/articles/")
    chat.locator(".msg-bot", has_text="Hat das Ihr Problem gelöst").last.wait_for(timeout=BOT_TIMEOUT)

    box.press("Escape")
    page.wait_for_function(f"() => {SHADOW}.activeElement && {SHADOW}.activeElement.id === 'helpdesk-chat-launcher'")
    assert launcher.get_attribute("aria-expanded") == "false"
