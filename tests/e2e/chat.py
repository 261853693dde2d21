"""The customer's side of the web chat in Chromium, for the end-to-end tests: open the chat, say
something, click a button, wait for the bot's whole answer."""

from __future__ import annotations

import re
import time

BOT = ".msg-bot:not(.msg-welcome)"  # messages from Rasa (the page's own greeting is not one)
BOT_TIMEOUT = 30_000  # ms; a turn with a search is about a second, the first one loads models


def open_chat(contexts, stack, locale: str, viewport: dict | None = None):
    context = contexts(locale=locale, **({"viewport": viewport} if viewport else {}))
    page = context.new_page()
    page.goto(f"{stack.search_url}/chat")
    page.wait_for_function("() => window.HelpdeskChat && HelpdeskChat.state.confirmed", timeout=BOT_TIMEOUT)
    return page


def say(page, text: str) -> None:
    box = page.get_by_role("textbox")
    box.fill(text)
    box.press("Enter")


def bot_says(page, pattern: str, timeout: int = BOT_TIMEOUT):
    """The newest bot message matching ``pattern`` (a regular expression), waited for."""
    message = page.locator(BOT).filter(has_text=re.compile(pattern)).last
    message.wait_for(timeout=timeout)
    return message


def choose(page, title: str) -> None:
    page.locator(".msg-buttons button:enabled").filter(has_text=re.compile(f"^{re.escape(title)}$")).last.click()


def bot_count(page) -> int:
    return page.locator(BOT).count()


def turn(page, act, timeout: float = BOT_TIMEOUT / 1000) -> str:
    """Do ``act()`` (say something, click a button) and return the text of the bot's whole answer.

    Rasa sends an answer as several messages; the answer is complete when no
    new message came for a second.
    """
    before = bot_count(page)
    act()
    deadline = time.monotonic() + timeout
    while bot_count(page) == before:
        assert time.monotonic() < deadline, f"no answer from the bot within {timeout:.0f} s"
        page.wait_for_timeout(100)
    count = bot_count(page)
    settled = time.monotonic() + 1.0
    while time.monotonic() < settled:
        page.wait_for_timeout(100)
        if bot_count(page) != count:
            count, settled = bot_count(page), time.monotonic() + 1.0
    return "\n".join(page.locator(BOT).all_inner_texts()[before:])
