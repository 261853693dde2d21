"""Fixtures of the chat page tests: the chat router served by a real uvicorn
server in a thread, and headless Debian Chromium driven by Playwright.

The page is served by a small FastAPI app that includes only the chat router,
so these tests need neither the search index nor Rasa; the page's socket then
points at a closed port, which is what a customer sees while Rasa is down.
Tests that need Rasa live in tests/e2e.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from helpdesk.chat.config import ChatConfig
from helpdesk.chat.router import router
from scripts.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ThreadServer:
    """uvicorn serving ``app`` on a free port in a daemon thread."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def serve():
    """``serve(app)``: a context manager running ``app`` under uvicorn on a free port."""
    return ThreadServer


@pytest.fixture(scope="session")
def chat_server():
    app = FastAPI()
    app.include_router(router)
    # Nothing listens there: the page must cope with Rasa being unreachable.
    app.state.chat_config = ChatConfig(rasa_public_url=f"http://127.0.0.1:{free_port()}")
    with ThreadServer(app) as server:
        yield server


# Module scope, not session: Playwright's sync API allows one instance at a time, and
# other test directories start their own.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            "browser tests need Debian's chromium at /usr/bin/chromium: run scripts/bootstrap browser "
            "(or deselect them with -m 'not browser')"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_errors():
    return []


@pytest.fixture
def new_page(browser, page_errors):
    """Factory of pages in fresh contexts (own localStorage), closed after the test."""
    contexts = []

    def make(locale: str = "en-US", viewport: dict | None = None):
        context = browser.new_context(locale=locale, viewport=viewport or {"width": 1000, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
