"""The chat page in headless Chromium, without Rasa: safe markdown rendering,
buttons and article links, language choice, keyboard and screen-reader
structure, a phone-sized screen, and what survives a reload.

Bot messages are fed through ``HelpdeskChat.receive``, the same function the
socket's ``bot_uttered`` handler calls; the path through a real Rasa is
tested in tests/e2e.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

ATTACK = (
    'Try **this** <img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> '
    "[click](javascript:window.pwned=3) [art](ARTICLE) `code` *em*\n\n- one\n- two"
)


def open_chat(new_page, chat_server, query: str = "", **kw):
    page = new_page(**kw)
    page.goto(f"{chat_server.url}/chat{query}")
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    return page


def test_bot_markdown_is_rendered_without_markup_injection(new_page, chat_server, page_errors):
    page = open_chat(new_page, chat_server)
    article = f"{chat_server.url}/articles/wifi-drops#fix"
    page.evaluate("text => HelpdeskChat.receive({text})", ATTACK.replace("ARTICLE", article))
    message = page.locator(".msg-bot").last
    assert message.locator("strong").inner_text() == "this"
    assert message.locator("em").inner_text() == "em"
    assert message.locator("code").inner_text() == "code"
    assert message.locator("li").all_inner_texts() == ["one", "two"]
    # Markup arrives as text, never as elements.
    assert message.locator("img, script").count() == 0
    assert "<img src=x" in message.inner_text()
    links = message.locator("a")
    assert links.count() == 1
    assert links.get_attribute("href") == article
    assert links.get_attribute("target") == "_blank"
    assert "noopener" in links.get_attribute("rel")
    assert "article-link" in links.get_attribute("class")
    assert page.evaluate("window.pwned") is None
    assert page_errors == []


def test_buttons_send_their_payload_and_article_lists_open_articles(new_page, chat_server, browser):
    page = open_chat(new_page, chat_server)
    page.evaluate("""() => HelpdeskChat.receive({
        text: "Did this solve it?",
        quick_replies: [{title: "Solved", payload: "/affirm"}, {title: "<b>Not</b> solved", payload: "/deny"}],
        articles: [{title: "Wi-Fi drops", url: "/articles/wifi-drops"}, {title: "bad", url: "javascript:alert(1)"}]
    })""")
    buttons = page.get_by_role("group").get_by_role("button")
    assert buttons.all_inner_texts() == ["Solved", "<b>Not</b> solved"]
    article = page.locator(".msg-articles a")
    assert article.count() == 1
    assert article.get_attribute("href") == f"{chat_server.url}/articles/wifi-drops"
    assert article.get_attribute("aria-label") == "Open article: Wi-Fi drops"
    page.get_by_role("button", name="Solved", exact=True).click()
    # Rasa is unreachable: the choice waits in the outbox, with its payload, shown as pending.
    user = page.locator(".msg-user").last
    assert user.locator(".msg-body").inner_text() == "Solved"
    assert "msg-pending" in user.get_attribute("class")
    assert buttons.first.is_disabled() and buttons.last.is_disabled()
    history = page.evaluate("HelpdeskChat.state.history")
    assert history[-1]["payload"] == "/affirm"
    assert page.evaluate("HelpdeskChat.state.outbox") == [history[-1]["local"]]


def test_language_follows_the_browser_and_can_be_overridden(new_page, chat_server):
    page = open_chat(new_page, chat_server, locale="de-DE")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("button", name="Senden").is_visible()
    assert page.get_by_label("Ihre Nachricht").is_visible()
    assert "Hallo!" in page.locator(".msg-bot").first.inner_text()
    page.get_by_label("Sprache").select_option("en")
    assert page.get_by_role("button", name="Send").is_visible()
    page.reload()
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    assert page.locator("html").get_attribute("lang") == "en"  # the choice is remembered

    english_browser = open_chat(new_page, chat_server, "?lang=de", locale="en-GB")
    assert english_browser.get_by_role("button", name="Neues Gespräch").is_visible()
    french = open_chat(new_page, chat_server, locale="fr-FR")
    assert french.locator("html").get_attribute("lang") == "en"


def test_accessible_structure_and_keyboard_use(new_page, chat_server):
    page = open_chat(new_page, chat_server)
    log = page.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"
    assert log.get_attribute("aria-labelledby") == "chat-title"
    textbox = page.get_by_role("textbox", name="Your message")
    assert textbox.get_attribute("aria-describedby") == "chat-hint chat-counter-status"
    assert page.locator("#chat-typing").get_attribute("aria-live") == "polite"
    # Tab order follows the visual order: the company's logo link, language, new conversation,
    # log, input, send.
    page.locator("body").focus()
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert order == ["chat-home", "chat-lang", "chat-new", "chat-log", "chat-input", "chat-send"]
    # Enter sends, Shift+Enter makes a new line; focus stays in the input.
    textbox.focus()
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    page.keyboard.press("Enter")
    assert page.locator(".msg-user").last.locator(".msg-body").inner_text() == "first line\nsecond line"
    assert textbox.input_value() == ""
    assert page.evaluate("document.activeElement.id") == "chat-input"
    # Each message names its sender for screen readers.
    assert page.locator(".msg-user .visually-hidden").first.inner_text().strip() == "You:"


def test_phone_screen_has_no_horizontal_scrolling(new_page, chat_server):
    page = open_chat(new_page, chat_server, viewport={"width": 360, "height": 640})
    page.evaluate(
        "text => HelpdeskChat.receive({text, quick_replies: [{title: 'Yes, that solved it', "
        "payload: '/affirm'}, {title: 'No, still broken', payload: '/deny'}]})",
        "A very long link " + "https://example.com/" + "x" * 200,
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for selector in ("#chat-input", "#chat-send"):
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 640
    assert page.locator("#chat-send").bounding_box()["height"] >= 32  # a finger-sized target


def test_conversation_session_and_draft_survive_a_reload(new_page, chat_server):
    page = open_chat(new_page, chat_server)
    session = page.evaluate("HelpdeskChat.state.sessionId")
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    page.evaluate("HelpdeskChat.receive({text: 'Restart the **router**.'})")
    page.get_by_role("textbox").fill("unsent question")
    page.get_by_role("textbox").press("Enter")
    page.get_by_role("textbox").fill("half typed")
    page.reload()
    page.wait_for_function("() => window.HelpdeskChat !== undefined")
    assert page.evaluate("HelpdeskChat.state.sessionId") == session
    texts = page.locator(".msg .msg-body").all_inner_texts()
    assert texts == ["Restart the router.", "unsent question"]
    assert page.get_by_role("textbox").input_value() == "half typed"
    assert len(page.evaluate("HelpdeskChat.state.outbox")) == 1  # still waiting for Rasa
    # A new conversation gets a new, different session and an empty log.
    page.get_by_role("button", name="New conversation").click()
    assert page.evaluate("HelpdeskChat.state.sessionId") not in (session, None)
    assert page.locator(".msg-user").count() == 0
    other = open_chat(new_page, chat_server)  # another browser profile, another session
    assert other.evaluate("HelpdeskChat.state.sessionId") != session


def test_connection_problem_is_announced(new_page, chat_server):
    """Rasa unreachable: "reconnecting" first, then, after three failed tries, that the chat is
    unavailable with the deployment's hotline and e-mail, never a permanent "Reconnecting…"."""
    page = open_chat(new_page, chat_server)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.wait_for_function(
        "() => document.getElementById('chat-connection').textContent.includes('Connection lost')"
        " || document.getElementById('chat-connection').textContent.includes('unavailable')"
    )
    status = page.get_by_role("status").filter(has_text="The chat is unavailable right now.")
    status.wait_for(timeout=15_000)
    assert "Reconnecting" not in status.inner_text()
    assert "phone 0800 123 4567 (24/7) or e-mail support@nordwind.example." in status.inner_text()
    page.wait_for_function("() => true")
    assert any("HELPDESK_RASA_PUBLIC_URL" in line for line in messages), messages


def test_the_page_wears_the_deployments_brand(new_page, chat_server, page_errors):
    """Title, assistant, privacy link and colours come from config/deployment.yml, in both languages."""
    import yaml

    from helpdesk.deployment import DEFAULT_FILE

    demo = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    page = open_chat(new_page, chat_server, "?lang=de")
    assert page.locator("#chat-title").inner_text() == demo["chat"]["title"]["de"]
    assert page.title() == demo["chat"]["title"]["de"]
    assert page.get_by_role("link", name="Datenschutz").get_attribute("href") == demo["urls"]["privacy_policy"]
    assert page.get_by_role("link", name="Kontakt").get_attribute("href") == demo["urls"]["contact"]
    assert page.get_by_role("img", name=demo["company"]).is_visible()
    header = page.locator(".chat-header")
    primary = demo["chat"]["colors"]["primary"]
    rgb = "rgb({}, {}, {})".format(*(int(primary[i : i + 2], 16) for i in (1, 3, 5)))
    assert header.evaluate("el => getComputedStyle(el).backgroundColor") == rgb
    page.locator("#chat-lang").select_option("en")
    assert page.locator("#chat-title").inner_text() == demo["chat"]["title"]["en"]
    assert page.locator("#chat-typing-text").inner_text() == f"{demo['assistant']} is typing…"
    assert page_errors == []
