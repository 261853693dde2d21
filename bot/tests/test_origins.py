"""The socket.io channel's origin check (channels.OriginCheck), without a server: which page
origins are accepted, and that each refused origin is logged at most once a minute with a count.
The check inside a running channel, seen from a browser: tests/chat/test_embed_browser.py."""

from __future__ import annotations

import logging

from channels import OriginCheck

HELPDESK = "https://help.example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refusals(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "channels"]
    caplog.clear()
    return lines


def test_only_the_listed_origins_are_accepted():
    check = OriginCheck([HELPDESK, "http://127.0.0.1:8000"])
    assert check(HELPDESK) and check("http://127.0.0.1:8000")
    assert not check("https://www.example.com")  # the website that embeds the chat is not the page's origin
    assert not check("http://help.example.com")  # another scheme is another origin
    assert check(None)  # no Origin header: not a browser page, engine.io does not ask
    assert OriginCheck(["*"])("https://anything.example")


def test_each_request_counts_once_although_engineio_asks_twice(caplog):
    caplog.set_level(logging.WARNING, logger="channels")
    clock = Clock()
    check = OriginCheck([HELPDESK], clock=clock)
    environ: dict = {}
    assert not check("https://www.example.com", environ)
    assert not check("https://www.example.com", environ)  # the answer's CORS headers
    [line] = refusals(caplog)
    assert "refused 1 request(s) from the page origin https://www.example.com;" in line
    assert "HELPDESK_CHAT_ORIGINS): https://help.example.com" in line
    other: dict = {}
    assert check(HELPDESK, other) and check(HELPDESK, other)
    assert refusals(caplog) == []


def test_a_refused_origin_is_logged_at_most_once_a_minute_with_its_count(caplog):
    caplog.set_level(logging.WARNING, logger="channels")
    clock = Clock()
    check = OriginCheck([HELPDESK], clock=clock)
    check("https://www.example.com", {})
    assert len(refusals(caplog)) == 1  # the first one at once
    for _ in range(41):
        clock.now += 1
        check("https://www.example.com", {})
    check("https://shop.example.com", {})  # another origin has its own minute
    assert [line.split(";")[0] for line in refusals(caplog)] == [
        "socket.io: refused 1 request(s) from the page origin https://shop.example.com"
    ]
    clock.now += 19
    check("https://www.example.com", {})  # a minute after the first line: the 42 since then
    [line] = refusals(caplog)
    assert "refused 42 request(s) from the page origin https://www.example.com in the last 60 s;" in line
    clock.now += 30
    check("https://www.example.com", {})
    assert refusals(caplog) == []


def test_many_origins_cannot_flood_the_log(caplog):
    caplog.set_level(logging.WARNING, logger="channels")
    check = OriginCheck([HELPDESK], clock=Clock())
    for n in range(OriginCheck.MAX_ORIGINS + 50):
        check(f"https://x{n}.example", {})
    lines = refusals(caplog)
    assert len(lines) == OriginCheck.MAX_ORIGINS + 1
    assert OriginCheck.OTHERS in lines[-1]
