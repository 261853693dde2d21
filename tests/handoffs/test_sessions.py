"""Inbox sessions that end, and a login throttle that slows guessing but not the right password for long.

Real app, real store (SQLite; the session and throttle tables on PostgreSQL
are covered by the matrix of database_url in test_store-like tests below).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from helpdesk.handoffs.store import HandoffStore
from helpdesk.inbox.sessions import Limit, LoginThrottle, SessionStore
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload

PASSWORD = "a long enough password"


def attempt(client: TestClient, username: str, password: str):
    token = csrf_token(client.get("/agent/login").text)
    return client.post(
        "/agent/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )


def logged_in(client: TestClient, username: str = "anna") -> str:
    assert attempt(client, username, PASSWORD).status_code == 303
    return client.cookies["hd_session"]


def with_cookie(client: TestClient, cookie: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set("hd_session", cookie, domain="testserver.local", path="/agent")
    return client


def opens_inbox(client: TestClient, cookie: str) -> bool:
    response = with_cookie(client, cookie).get("/agent", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


@pytest.fixture
def desk(client):
    client.app.state.handoffs.create_agent("anna", "Anna", ["network"], PASSWORD)
    return client


def test_logout_ends_the_session_for_every_copy_of_the_cookie(desk):
    ticket = desk.post("/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
    cookie = logged_in(desk)
    token = csrf_token(desk.get(f"/agent/handoffs/{ticket}").text)
    assert desk.post("/agent/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    # The cookie captured before the logout opens nothing and changes nothing.
    assert not opens_inbox(desk, cookie)
    note = with_cookie(desk, cookie).post(
        f"/agent/handoffs/{ticket}/note", data={"csrf_token": token, "text": "x"}, follow_redirects=False
    )
    assert note.status_code == 303 and note.headers["location"].startswith("/agent/login")
    assert [e["action"] for e in desk.app.state.handoffs.get(ticket)["events"]] == ["created"]


def test_deactivation_and_a_new_password_end_every_session_at_once(desk):
    store: HandoffStore = desk.app.state.handoffs
    first, second = logged_in(desk), logged_in(TestClient(desk.app))  # two browsers
    assert first != second and opens_inbox(desk, first) and opens_inbox(desk, second)
    sessions = desk.app.state.agent_sessions
    anna = store.authenticate("anna", PASSWORD)
    assert sessions.count(anna.id) == 2
    store.set_password("anna", PASSWORD + "!")
    assert sessions.count(anna.id) == 0
    assert not opens_inbox(desk, first) and not opens_inbox(desk, second)
    desk.cookies.clear()
    assert attempt(desk, "anna", PASSWORD).status_code == 401  # the old password is gone too
    cookie = logged_in_with(desk, "anna", PASSWORD + "!")
    token = store.create_token("anna", "laptop")
    store.deactivate_agent("anna")
    assert not opens_inbox(desk, cookie) and sessions.count(anna.id) == 0
    assert desk.get("/agent/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def logged_in_with(client: TestClient, username: str, password: str) -> str:
    assert attempt(client, username, password).status_code == 303
    return client.cookies["hd_session"]


def test_idle_sessions_end_and_active_ones_end_at_their_maximum_age(make_client):
    client = make_client(session_idle_seconds=1.5, session_max_seconds=4.0)
    client.app.state.handoffs.create_agent("anna", "Anna", ["network"], PASSWORD)
    idle = logged_in(TestClient(client.app))
    active = logged_in(client)
    started = time.monotonic()
    background = TestClient(client.app)
    while time.monotonic() - started < 2.5:  # one tab in use, one left alone but redrawing its list
        assert opens_inbox(client, active)
        with_cookie(background, idle).get("/agent", headers={"X-Helpdesk-Background": "1"})
        time.sleep(0.3)
    assert not opens_inbox(client, idle)
    while opens_inbox(client, active):  # in use all the time, it still ends at its maximum age
        assert time.monotonic() - started < 5.0
        time.sleep(0.3)
    assert time.monotonic() - started >= 3.5


def test_session_store_idle_touch_and_maximum_with_a_clock(store):
    now = [datetime(2026, 11, 27, 8, 0, tzinfo=UTC)]
    sessions = SessionStore(store, idle=timedelta(minutes=30), max_age=timedelta(hours=12), clock=lambda: now[0])
    anna = store.create_agent("anna", "Anna", ["network"], PASSWORD)
    token, session = sessions.start(anna.id, "192.0.2.1")
    for _ in range(30):  # an agent at work: a request every 25 minutes for 12.5 hours
        now[0] += timedelta(minutes=25)
        if now[0] - datetime(2026, 11, 27, 8, 0, tzinfo=UTC) > timedelta(hours=12):
            assert sessions.read(token) is None  # the shift is over: log in again
            break
        assert sessions.read(token) == session
    else:
        pytest.fail("the session outlived its maximum age")
    token, _ = sessions.start(anna.id, None)
    now[0] += timedelta(minutes=20)
    assert sessions.read(token, touch=False) is not None  # a stream: no activity
    now[0] += timedelta(minutes=11)
    assert sessions.read(token) is None  # 31 minutes without a request
    assert sessions.read("not a token") is None and sessions.read("") is None


def test_throttle_delays_grow_are_capped_and_shared_by_processes(store, database_url):
    now = [datetime(2026, 11, 27, 8, 0, tzinfo=UTC)]
    throttle = LoginThrottle(store, clock=lambda: now[0])
    other_process = LoginThrottle(HandoffStore.open(database_url, migrate=False), clock=lambda: now[0])
    limit = {"user:anna": Limit(free=5, base=1.0, cap=60.0)}
    waits = []
    for _ in range(14):
        wait = other_process.retry_after(limit)
        waits.append(round(wait, 3))
        now[0] += timedelta(seconds=max(wait, 0))
        throttle.failed("user:anna")
    assert waits[:5] == [0, 0, 0, 0, 0]  # a few typos cost nothing
    assert waits[5:] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]  # doubling, then the cap
    assert other_process.retry_after(limit) == pytest.approx(60.0)
    throttle.succeeded("user:anna")
    assert other_process.retry_after(limit) == 0
    other_process.store.close()


def test_an_attack_on_an_account_never_locks_the_right_password_out_for_long(desk):
    now = [datetime.now(UTC)]
    store = desk.app.state.handoffs
    desk.app.state.login_throttle = LoginThrottle(store, clock=lambda: now[0])
    # Anna's own browser logged in yesterday: it has her device cookie.
    anna_browser = TestClient(desk.app, client=("198.51.100.7", 40000))
    logged_in(anna_browser)
    anna_browser.cookies.delete("hd_session", domain="testserver.local", path="/agent")

    # An attacker guesses her password from many addresses, as fast as the throttle lets them.
    def attack(rounds: int, offset: int) -> None:
        for i in range(rounds):
            attacker = TestClient(desk.app, client=(f"203.0.113.{(offset + i) % 7}", 50000 + i))
            assert attempt(attacker, "anna", f"guess {offset + i}").status_code in (401, 429)
            now[0] += timedelta(seconds=5)

    attack(40, 0)
    attacker = TestClient(desk.app, client=("203.0.113.99", 1))
    refused = attempt(attacker, "anna", "guess again")
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
    assert "hd_session" not in attacker.cookies
    # A new browser of hers waits at most the account's cap (a minute) after the last guess.
    new_browser = TestClient(desk.app, client=("198.51.100.8", 40001))
    blocked = attempt(new_browser, "anna", PASSWORD)
    assert blocked.status_code == 429 and "Try again in" in blocked.text
    now[0] += timedelta(seconds=61)
    assert attempt(new_browser, "anna", PASSWORD).status_code == 303
    # The attack goes on; her known browser is not slowed by the attacker's failures at all.
    attack(40, 100)
    assert attempt(attacker, "anna", "guess again").status_code == 429
    assert attempt(anna_browser, "anna", PASSWORD).status_code == 303
    # A device cookie is bound to its account: it does not help against another account.
    store.create_agent("ben", "Ben", ["billing"], PASSWORD)
    for i in range(6):
        attempt(TestClient(desk.app, client=("203.0.113.50", 2)), "ben", f"guess {i}")
    assert attempt(anna_browser, "ben", PASSWORD).status_code == 429
