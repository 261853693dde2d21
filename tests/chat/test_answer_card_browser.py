"""The bot's answer card on the chat page (headless Chromium, no Rasa): one message with the
title, the answer passage as safe markdown (steps, a table row), the link to the article, the
question and the solved / not-solved buttons; nothing in it becomes markup; it survives a reload.

The card arrives as Rasa's socket.io channel emits a custom payload: the ``data`` object itself
(bot/actions/conversation.py ``answer_card``), fed here through ``HelpdeskChat.receive``.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser


def card(url: str) -> dict:
    return {
        "type": "answer",
        "lang": "de",
        "article_id": "de-wlan",
        "intro": "Dieser Artikel sollte helfen:",
        "title": 'WLAN bricht ab <img src=x onerror="window.pwned=1">',
        "section": "So gehen Sie vor",
        "markdown": "1. Router **neu starten**\n2. Kanal wechseln <script>window.pwned=2</script>\n\n"
        "| LED | Bedeutung |\n|---|---|\n| Info blinkt | Update läuft |\n\n[x](javascript:window.pwned=3)",
        "url": url,
        "link_label": "Zum vollständigen Artikel",
        "question": "Hat das Ihr Problem gelöst?",
        "buttons": [{"title": "Ja, gelöst", "payload": "/affirm"}, {"title": "Nein, nicht gelöst", "payload": "/deny"}],
        "text": "plain markdown for other channels",
    }


def test_an_answer_is_one_card_with_steps_link_and_buttons(new_page, chat_server, page_errors):
    page = new_page()
    page.goto(f"{chat_server.url}/chat")
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    url = f"{chat_server.url}/articles/de-wlan#so-gehen-sie-vor"
    page.evaluate("c => HelpdeskChat.receive(c)", card(url))

    messages = page.locator(".msg-bot:not(.msg-welcome)")
    assert messages.count() == 1  # one message, not four bubbles
    box = messages.last.locator(".msg-card")
    assert box.locator(".msg-card-intro").inner_text() == "Dieser Artikel sollte helfen:"
    assert box.locator("h3.msg-card-title").inner_text().startswith("WLAN bricht ab <img src=x")
    assert box.locator(".msg-card-section").inner_text().endswith("So gehen Sie vor")
    assert box.locator(".msg-card-answer ol li").all_inner_texts()[0] == "Router neu starten"
    assert box.locator(".msg-card-answer ol li strong").inner_text() == "neu starten"
    assert box.locator(".msg-card-answer th").all_inner_texts() == ["LED", "Bedeutung"]
    assert box.locator(".msg-card-answer td").all_inner_texts() == ["Info blinkt", "Update läuft"]
    link = box.locator(".msg-card-link a")
    assert link.inner_text() == "Zum vollständigen Artikel" and link.get_attribute("href") == url
    assert "article-link" in link.get_attribute("class") and "noopener" in link.get_attribute("rel")
    assert box.locator(".msg-card-question").inner_text() == "Hat das Ihr Problem gelöst?"
    buttons = messages.last.get_by_role("button")
    assert buttons.all_inner_texts() == ["Ja, gelöst", "Nein, nicht gelöst"] and buttons.first.is_enabled()
    assert "plain markdown" not in messages.last.inner_text()  # the card, not its text fallback
    # Nothing received becomes markup or script.
    assert page.locator(".msg-card img, .msg-card script").count() == 0
    assert box.locator("a").count() == 1  # the javascript: link stays text
    assert page.evaluate("window.pwned") is None

    page.reload()
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    assert page.locator(".msg-card h3").inner_text().startswith("WLAN bricht ab")
    stored = page.evaluate("HelpdeskChat.state.history")[-1]
    assert json.dumps(stored["card"]).count("javascript:") == 1  # kept as data, rendered as text
    page.locator(".msg-buttons button", has_text="Nein, nicht gelöst").click()
    assert page.evaluate("HelpdeskChat.state.history")[-1]["payload"] == "/deny"
    assert page_errors == []
