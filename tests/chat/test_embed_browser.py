"""The chat embedded in another site with /chat/embed.js, in headless Chromium.

Three origins on loopback, as in production: the company's page (a small
http.server here, with the Content-Security-Policy lines the deploy guide gives),
the helpdesk web service that serves embed.js and the chat page in the iframe, and
Rasa's socket.io channel. The channel is the real one of bot/channels.py, served by
Rasa's own app in the bot's Python (tests/chat/rasa_channels.py) without a model:
nothing here needs an answer of the bot. It accepts the web service's origin as
``http://localhost:<port>`` only, so the same web service reached as
``http://127.0.0.1:<port>`` is a chat page whose origin is not accepted.

Covered: the launcher wears the deployment's colour and says whether it is
expanded; it opens the chat with the focus in its input; Escape and the chat's close
button close it and give the focus back to the launcher; the options of the script
tag (language, side, label, open on load); a phone's screen with its on-screen
keyboard; axe-core on the host page and in the chat; and what the customer and the
site's developer see when the chat cannot connect (origin not accepted, Rasa
unreachable), and Rasa's log line of the refused origin. The pictures of the
deploy guide are taken here (tests/screenshots.py).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from helpdesk.chat.config import ChatConfig
from helpdesk.chat.router import router
from helpdesk.deployment import load_deployment
from scripts.ports import free_port
from tests.chat.conftest import ThreadServer
from tests.screenshots import screenshot_dir

pytestmark = [pytest.mark.browser, pytest.mark.rasa]  # Rasa's channels run in the bot's Python 3.10 venv

ROOT = Path(__file__).resolve().parents[2]
PY310 = ROOT / ".venv" / "py310" / "bin" / "python"
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
LOGS = ROOT / "test-artifacts" / "chat"
PRIMARY = "#7a1f5c"  # not the default colour: the launcher must take it from the deployment
PRIMARY_RGB = "rgb(122, 31, 92)"
HOTLINE = "0800 123 4567"  # config/deployment.yml


# ---------------------------------------------------------------- the company's site
SITE_CSS = """
body { margin: 0; font: 17px/1.5 Georgia, serif; color: #222; background: #f7f5f0; }
header { padding: 1rem 2rem; background: #17324d; color: #fff; }
header h1 { margin: 0; font-size: 1.6rem; }
main { max-width: 40rem; padding: 1rem 2rem; }
a { color: #17324d; }
"""


class HostPage(BaseHTTPRequestHandler):
    """``/?chat=<embed.js URL>&lang=…&position=…&label=…&open=…``: a page that embeds the chat,
    sent with a strict CSP naming the helpdesk only where the deploy guide says so;
    ``/site.css`` its style; ``/axe.min.js``: axe-core, from the page's own origin (its CSP
    allows no other script)."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/axe.min.js":
            return self._send(AXE.read_bytes(), "text/javascript", {})
        if url.path == "/site.css":
            return self._send(SITE_CSS.encode(), "text/css", {})
        if url.path != "/":
            return self.send_error(404)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        chat = query.pop("chat")
        helpdesk = "{0.scheme}://{0.netloc}".format(urlsplit(chat))
        attributes = "".join(f' data-{name}="{value}"' for name, value in query.items())
        html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nordwind – Internet and phone</title>
<link rel="stylesheet" href="/site.css">
<script src="{chat}" async{attributes}></script>
</head><body>
<header><h1>Nordwind</h1></header>
<main><h2>Fast internet for your home</h2>
<p>Fibre up to 1 Gbit/s, a router included, no set-up fee. Questions? Our assistant answers
around the clock in the chat at the bottom of this page.</p>
<p><a href="/tariffs">See our tariffs</a></p></main>
</body></html>"""
        policy = "; ".join(
            [
                "default-src 'self'",
                f"script-src 'self' {helpdesk}",  # embed.js
                f"frame-src {helpdesk}",  # the chat page in the iframe
                "style-src 'self'",  # no 'unsafe-inline': the launcher is styled through the DOM
            ]
        )
        self._send(html.encode(), "text/html; charset=utf-8", {"Content-Security-Policy": policy})

    def _send(self, body: bytes, media_type: str, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[int]:
    """The company's site: its port on 127.0.0.1 (reachable as localhost too, another origin)."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), HostPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


# ---------------------------------------------------------------- helpdesk and Rasa's channels
def helpdesk_app(rasa_public_url: str) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.chat_config = ChatConfig(rasa_public_url=rasa_public_url)
    app.state.deployment = load_deployment(env={"HELPDESK_CHAT_PRIMARY_COLOR": PRIMARY})
    return app


class Stack:
    def __init__(self, port: int, rasa_log: Path) -> None:
        self.accepted = f"http://localhost:{port}"  # the origin HELPDESK_CHAT_ORIGINS lists
        self.refused = f"http://127.0.0.1:{port}"  # the same web service under an origin it does not
        self.rasa_log = rasa_log


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not PY310.exists():
        pytest.fail(f"{PY310} is missing: scripts/bootstrap py310 (Rasa's channels run there)")
    rasa_port = free_port()
    server = ThreadServer(helpdesk_app(f"http://127.0.0.1:{rasa_port}"))
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / "embed-rasa-channels.log"
    env = {
        **os.environ,
        "HELPDESK_CHAT_ORIGINS": f"http://localhost:{server.port}",
        "HELPDESK_SECRETS_FILE": str(LOGS / "no-secrets.env"),
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("HELPDESK_REDIS_URL", None)
    with log.open("wb") as out:
        rasa = subprocess.Popen(
            [str(PY310), str(Path(__file__).with_name("rasa_channels.py")), str(rasa_port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{rasa_port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if rasa.poll() is not None or time.monotonic() > deadline:
                pytest.fail("Rasa's channels did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        with server:
            yield Stack(server.port, log)
    finally:
        rasa.terminate()
        try:
            rasa.wait(15)
        except subprocess.TimeoutExpired:
            rasa.kill()


@pytest.fixture
def host_page(browser, site) -> Iterator:
    """``host_page(embed_js, site_host, …options)``: the company's page with the chat embedded;
    the page has ``.console`` (every console line, the chat's frame included) and ``.violations``."""
    contexts = []

    def make(embed_js: str, site_host: str = "127.0.0.1", viewport=None, locale="en-US", bypass_csp=False, **options):
        context = browser.new_context(
            locale=locale, viewport=viewport or {"width": 1280, "height": 800}, bypass_csp=bypass_csp
        )
        contexts.append(context)
        page = context.new_page()
        page.console = []
        page.errors = []
        page.on("console", lambda message: page.console.append(message.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.add_init_script(
            "window.violations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective));"
        )
        url = httpx.URL(f"http://{site_host}:{site}/", params={"chat": embed_js, **options})
        page.goto(str(url))
        page.locator("#helpdesk-chat-launcher").wait_for()
        return page

    yield make
    for context in contexts:
        context.close()


LAUNCHER = "#helpdesk-chat-launcher"
SHADOW = "document.getElementById('helpdesk-chat').shadowRoot"


def chat_frame(page):
    """The chat page inside the iframe (a Frame: evaluate, locators), once it listens."""
    page.locator("#helpdesk-chat-frame").wait_for()
    frame = page.frame_locator("#helpdesk-chat-frame")
    frame.locator("#chat-input").wait_for()
    inner = next(f for f in page.frames if "/chat?embed=1" in f.url)
    inner.wait_for_function("() => window.HelpdeskChat !== undefined")
    return inner, frame


def focused_in_host(page) -> str:
    return page.evaluate(f"{SHADOW}.activeElement && {SHADOW}.activeElement.id")


def test_open_focus_escape_and_close_button(stack, host_page):
    page = host_page(f"{stack.accepted}/chat/embed.js")
    launcher = page.locator(LAUNCHER)
    assert launcher.get_attribute("aria-expanded") == "false"
    assert launcher.get_attribute("aria-label") == "Nordwind help chat"  # the deployment's chat title
    assert launcher.evaluate("el => getComputedStyle(el).backgroundColor") == PRIMARY_RGB
    assert launcher.evaluate("el => getComputedStyle(el).color") == "rgb(255, 255, 255)"
    assert launcher.locator("svg").count() == 1 and launcher.inner_text().strip() == ""  # an icon, no emoji
    box = launcher.bounding_box()
    assert box["x"] + box["width"] > 1280 - 40  # bottom right by default

    launcher.click()
    frame, chat = chat_frame(page)
    assert launcher.get_attribute("aria-expanded") == "true"
    assert launcher.get_attribute("aria-controls") == "helpdesk-chat-frame"
    assert page.locator("#helpdesk-chat-frame").get_attribute("title") == "Nordwind help chat"
    frame.wait_for_function("() => document.activeElement && document.activeElement.id === 'chat-input'")
    assert focused_in_host(page) == "helpdesk-chat-frame"
    # The chat connects to Rasa's channel (it accepts the web service's origin): no notice.
    frame.wait_for_function("() => HelpdeskChat.state.confirmed", timeout=15_000)
    assert chat.locator("#chat-connection").is_hidden()
    # Its header wears the same colour (brand.css).
    assert chat.locator(".chat-header").evaluate("el => getComputedStyle(el).backgroundColor") == PRIMARY_RGB

    page.keyboard.type("my router")
    page.keyboard.press("Escape")
    page.wait_for_function(f"() => {SHADOW}.activeElement && {SHADOW}.activeElement.id === 'helpdesk-chat-launcher'")
    assert page.locator("#helpdesk-chat-frame").is_hidden()
    assert launcher.get_attribute("aria-expanded") == "false"

    page.keyboard.press("Enter")  # the focused launcher opens it again: the draft is still there
    frame.wait_for_function("() => document.activeElement && document.activeElement.id === 'chat-input'")
    assert chat.locator("#chat-input").input_value() == "my router"
    assert launcher.get_attribute("aria-expanded") == "true"
    chat.get_by_role("button", name="Close chat").click()
    page.wait_for_function(f"() => {SHADOW}.activeElement && {SHADOW}.activeElement.id === 'helpdesk-chat-launcher'")
    assert page.locator("#helpdesk-chat-frame").is_hidden()

    # The launcher again, by mouse: it toggles.
    launcher.click()
    assert page.locator("#helpdesk-chat-frame").is_visible()
    launcher.click()
    assert page.locator("#helpdesk-chat-frame").is_hidden()
    # Within the host page's strict CSP: no violation, no error; nothing unavailable.
    assert page.evaluate("window.violations") == []
    assert page.errors == []
    assert not [line for line in page.console if "Helpdesk chat" in line]


def test_a_message_from_another_window_does_not_close_the_chat(stack, host_page):
    page = host_page(f"{stack.accepted}/chat/embed.js")
    page.locator(LAUNCHER).click()
    chat_frame(page)
    # The host page itself (or any other script's window) posting "close": ignored.
    page.evaluate("() => window.postMessage({helpdeskChat: 'close'}, '*')")
    page.wait_for_timeout(300)
    assert page.locator("#helpdesk-chat-frame").is_visible()
    assert page.locator(LAUNCHER).get_attribute("aria-expanded") == "true"


def test_options_of_the_script_tag(stack, host_page):
    page = host_page(f"{stack.accepted}/chat/embed.js", lang="de", position="left", label="Hilfe", open="true")
    launcher = page.locator(LAUNCHER)
    assert launcher.inner_text().strip() == "Hilfe"  # its visible text is its name
    assert launcher.get_attribute("aria-label") is None
    assert launcher.bounding_box()["x"] < 40  # bottom left
    frame, chat = chat_frame(page)  # open on load …
    assert launcher.get_attribute("aria-expanded") == "true"
    assert page.locator("#helpdesk-chat-frame").bounding_box()["x"] < 40
    assert frame.evaluate("document.documentElement.lang") == "de"
    assert chat.get_by_role("button", name="Chat schließen").is_visible()
    # … without taking the focus from the page.
    assert frame.evaluate("document.activeElement.id") != "chat-input"
    assert page.evaluate("document.activeElement === document.body")


def test_phone_screen_with_the_on_screen_keyboard(stack, host_page):
    page = host_page(f"{stack.accepted}/chat/embed.js", viewport={"width": 390, "height": 844}, lang="de")
    page.locator(LAUNCHER).click()
    frame, chat = chat_frame(page)
    box = page.locator("#helpdesk-chat-frame").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)  # the whole screen
    frame.wait_for_function("() => document.activeElement && document.activeElement.id === 'chat-input'")
    frame.wait_for_function("() => HelpdeskChat.state.confirmed", timeout=15_000)
    screenshot_dir().joinpath("embed-phone.png").write_bytes(page.screenshot())
    # The keyboard takes the lower 40 % of the screen: the visible part shrinks, the chat follows it.
    page.set_viewport_size({"width": 390, "height": 500})
    page.wait_for_function(
        "() => document.querySelector('#helpdesk-chat').shadowRoot"
        ".querySelector('iframe').getBoundingClientRect().height === 500"
    )
    for selector in ("#chat-input", "#chat-send"):
        element = chat.locator(selector).bounding_box()
        assert element["y"] >= 0 and element["y"] + element["height"] <= 500, selector
    assert chat.get_by_role("button", name="Chat schließen").bounding_box()["y"] >= 0
    assert frame.evaluate("getComputedStyle(document.getElementById('chat-input')).fontSize") == "16px"  # no zoom


def test_axe_finds_nothing_on_the_host_page_or_in_the_chat(stack, host_page):
    page = host_page(f"{stack.accepted}/chat/embed.js", bypass_csp=True)  # axe runs in the chat's frame too
    page.locator(LAUNCHER).click()
    frame, _ = chat_frame(page)
    frame.wait_for_function("() => HelpdeskChat.state.confirmed", timeout=15_000)
    screenshot_dir().joinpath("embed-desktop.png").write_bytes(page.screenshot())
    found = {}
    for name, where in (("host page", page), ("chat", frame)):
        where.add_script_tag(path=str(AXE))
        result = where.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        found[name] = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("critical", "serious", "moderate")
        ]
    assert found == {"host page": [], "chat": []}


def test_origin_not_accepted_shows_the_way_to_a_person_and_names_the_setting(stack, host_page):
    before = stack.rasa_log.read_text(errors="replace")
    # The same web service under an origin HELPDESK_CHAT_ORIGINS does not list; the site is localhost.
    page = host_page(f"{stack.refused}/chat/embed.js", site_host="localhost", lang="de")
    started = time.monotonic()
    page.locator(LAUNCHER).click()
    frame, chat = chat_frame(page)
    status = chat.get_by_role("status").filter(has_text="Der Chat ist gerade nicht erreichbar")
    status.wait_for(timeout=15_000)
    assert time.monotonic() - started < 15
    text = status.inner_text()
    assert f"Telefon {HOTLINE} (rund um die Uhr)" in text and "E-Mail support@nordwind.example" in text
    assert "Verbinde" not in text
    assert status.get_by_role("link", name=HOTLINE).get_attribute("href") == "tel:08001234567"
    assert status.get_by_role("link", name="support@nordwind.example").get_attribute("href") == (
        "mailto:support@nordwind.example"
    )
    page.wait_for_function("() => true")  # let the console line arrive
    causes = [line for line in page.console if line.startswith("Helpdesk chat unavailable")]
    assert len(causes) == 1, page.console
    assert "HELPDESK_CHAT_ORIGINS" in causes[0] and stack.refused in causes[0]
    # The language switch re-renders the notice.
    chat.locator("#chat-lang").select_option("en")
    chat.get_by_role("status").filter(has_text="The chat is unavailable right now.").wait_for()
    assert f"phone {HOTLINE} (24/7) or e-mail support@nordwind.example" in chat.get_by_role("status").inner_text()
    # Rasa logged the refused origin once (at most once a minute), with a count.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [
            line
            for line in stack.rasa_log.read_text(errors="replace")[len(before) :].splitlines()
            if "refused" in line and f"from the page origin {stack.refused}" in line
        ]
        if lines:
            break
        time.sleep(0.2)
    assert len(lines) == 1, lines
    assert "HELPDESK_CHAT_ORIGINS" in lines[0] and stack.accepted in lines[0]
    assert frame.evaluate("HelpdeskChat.state.confirmed") is False
    screenshot_dir().joinpath("embed-unavailable.png").write_bytes(page.screenshot())


def test_rasa_unreachable_shows_the_way_to_a_person_and_names_the_setting(host_page, serve):
    with serve(helpdesk_app(f"http://127.0.0.1:{free_port()}")) as helpdesk:  # nothing listens there
        page = host_page(f"http://localhost:{helpdesk.port}/chat/embed.js")
        page.locator(LAUNCHER).click()
        _, chat = chat_frame(page)
        status = chat.get_by_role("status").filter(has_text="The chat is unavailable right now.")
        status.wait_for(timeout=15_000)
        assert f"phone {HOTLINE} (24/7)" in status.inner_text()
        causes = [line for line in page.console if line.startswith("Helpdesk chat unavailable")]
        assert len(causes) == 1 and "HELPDESK_RASA_PUBLIC_URL" in causes[0], page.console
        assert "HELPDESK_CHAT_ORIGINS" not in causes[0]
