"""End to end, in headless Chromium: a known outage from its declaration to the last mail.

A supervisor declares an outage bound to an area in the inbox; twenty customers, in German
and English, in and out of the area, ask in the web chat. Those in the area are told of
the outage at once (no article, no ticket) and most of them ask to be told by e-mail; those
outside get the normal answer. The supervisor resolves the incident; every subscriber's
mail reaches the SMTP receiver, once; the reports page shows the incident's figures, and
the test checks them against SQL written here on the desk's database.
"""

from __future__ import annotations

import email
import re
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.chat import BOT, BOT_TIMEOUT, bot_count, choose, open_chat, say
from tests.e2e.conftest import PY311

pytestmark = pytest.mark.browser
BERLIN = ZoneInfo("Europe/Berlin")
PREFIXES = "101 104"  # Berlin-Mitte and Kreuzberg (postal codes 101xx, 104xx)
SUPERVISOR = {"username": "e2e-supervisor", "name": "Sam Supervisor", "password": "e2e-supervisor-password"}
TOLD = {"de": "bereits bekannt", "en": "already know about this outage"}
ASKS_CODE = {"de": "Postleitzahl", "en": "postal code"}
NOTIFY = {"de": "Per E-Mail benachrichtigen", "en": "E-mail me when it is fixed"}
SUBSCRIBED = {"de": "Wir schreiben an", "en": "We will write to"}


@dataclass
class Customer:
    lang: str
    message: str
    postal_code: str | None  # typed when the bot asks; None: it is in the message already
    inside: bool
    email: str | None = None  # asks to be told by e-mail (inside the area only)


CUSTOMERS = [
    # In the area: told of the outage, most subscribe.
    Customer(
        "de",
        "Hallo, seit heute Mittag geht bei uns gar kein Internet mehr, die LED am Router leuchtet rot. "
        "Was ist da los??",
        "10115",
        True,
        "anna.k@example.org",
    ),
    Customer(
        "de",
        "internet ist komplett weg, handy im wlan aber nix laedt. router schon neu gestartet, bringt nix",
        "10117",
        True,
        "b.meier@example.net",
    ),
    Customer(
        "de",
        "Guten Tag, mein Internet funktioniert seit zwei Stunden nicht, "
        "ich arbeite im Homeoffice und brauche das dringend",
        "10435",
        True,
        "c.yilmaz@example.org",
    ),
    Customer(
        "de",
        "Kein Internet mehr in 10178 Berlin, mein Nachbar hat das gleiche Problem. Ist bei euch eine Störung?",
        None,
        True,
        "dora@example.com",
    ),
    Customer("de", "hallo, internet geht nicht mehr seit heute morgen, alle geräte betroffen", "10119", True, None),
    Customer(
        "de",
        "Unser Internet ist ausgefallen, Telefon geht auch nicht. Bitte um Hilfe",
        "10405",
        True,
        "e.schulz@example.org",
    ),
    Customer(
        "en",
        "hi, my internet stopped working about an hour ago, the light on the router is red. is something going on?",
        "10115",
        True,
        "frank@example.org",
    ),
    Customer(
        "en",
        "Hello, no internet at all since this morning, all devices affected, I already restarted the router twice",
        "10178",
        True,
        "grace.h@example.com",
    ),
    Customer(
        "en",
        "is something going on with your network in berlin mitte? "
        "my neighbour and me both lost internet at the same time",
        "10117",
        True,
        "hiro@example.net",
    ),
    Customer("en", "Internet is down completely, cannot work from home. What is happening?", "10439", True, None),
    Customer(
        "en", "my internet connection has been dead since noon, postal code 10409", None, True, "ines@example.org"
    ),
    Customer(
        "de",
        "Seit heute Nachmittag habe ich kein Internet, das Licht am Router ist rot",
        "10179",
        True,
        "jonas.b@example.de",
    ),
    # Outside the area (104 and 101 are prefixes: 10245 and 01067 are outside): the normal answer.
    Customer(
        "de",
        "Hallo, seit heute Mittag geht bei uns gar kein Internet mehr, die LED am Router leuchtet rot.",
        "80331",
        False,
    ),
    Customer("de", "internet ist komplett weg, router schon neu gestartet, bringt nix", "10245", False),
    Customer("de", "Mein Internet funktioniert seit zwei Stunden nicht, alle Geräte betroffen", "01067", False),
    Customer("de", "Kein Internet mehr seit heute morgen, ist bei euch eine Störung?", "50667", False),
    Customer("en", "hi, my internet stopped working about an hour ago, the light on the router is red", "20095", False),
    Customer("en", "No internet at all since this morning, all devices affected", "10247", False),
    Customer("en", "Internet is down completely, cannot work from home", "60311", False),
    Customer("en", "my internet connection has been dead since noon", "04109", False),
]
BATCH = 5  # conversations in flight at once, like customers writing at the same time


def answers(pages, acts, timeout: float = BOT_TIMEOUT / 1000) -> list[str]:
    """Do each page's act at once, then wait for every page's whole answer (no new bot message
    on any of them for a second), like ``chat.turn`` for several customers writing together."""
    before = [bot_count(page) for page in pages]
    for act in acts:
        act()
    deadline = time.monotonic() + timeout
    counts, settled = list(before), time.monotonic() + 1.0
    while True:
        now = [bot_count(page) for page in pages]
        if now != counts:
            counts, settled = now, time.monotonic() + 1.0
        answered = all(n > b for n, b in zip(now, before, strict=True))
        if answered and time.monotonic() >= settled:
            break
        assert time.monotonic() < deadline, f"no answer within {timeout:.0f} s: {now} after {before}"
        pages[0].wait_for_timeout(100)
    return ["\n".join(page.locator(BOT).all_inner_texts()[b:]) for page, b in zip(pages, before, strict=True)]


def log_in(contexts, stack, account):
    page = contexts(locale="en-GB").new_page()
    page.goto(f"{stack.search_url}/agent")
    page.locator("input[name=username]").fill(account["username"])
    page.locator("input[name=password]").fill(account["password"])
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/agent(/inbox)?/?(\?.*)?$"))
    return page


def create_supervisor(stack) -> None:
    password = stack.tmp / "supervisor-password"
    password.write_text(SUPERVISOR["password"] + "\n")
    done = subprocess.run(
        [str(PY311 / "helpdesk"), "create-agent", SUPERVISOR["username"], "--name", SUPERVISOR["name"]]
        + ["--role", "supervisor", "--password-file", str(password)],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def query(stack, sql: str, *args) -> list[tuple]:
    path = stack.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def test_a_known_outage_from_declaration_to_the_last_mail(contexts, stack, shoot):
    create_supervisor(stack)
    desk = log_in(contexts, stack, SUPERVISOR)

    # The supervisor declares the outage in the inbox.
    desk.goto(f"{stack.search_url}/agent/incidents")
    form = desk.locator("form#declare")
    form.locator("input[name=title]").fill("Glasfaser-Störung Berlin-Mitte / Kreuzberg")
    form.locator("select[name=category]").select_option("network")
    form.locator("input[name=postal_prefixes]").fill(PREFIXES)
    expected = (datetime.now(BERLIN) + timedelta(hours=4)).replace(second=0, microsecond=0)
    form.locator("input[name=expected_resolution_at]").fill(expected.strftime("%Y-%m-%dT%H:%M"))
    form.locator("textarea[name=message_de]").fill("Ein Glasfaserkabel wurde bei Bauarbeiten beschädigt.")
    form.locator("textarea[name=message_en]").fill("A fibre cable was damaged by construction work.")
    form.locator("button[type=submit]").click()
    desk.wait_for_url(re.compile(r"/agent/incidents/\d+"))
    number = int(re.search(r"/agent/incidents/(\d+)", desk.url).group(1))
    [(status, prefixes)] = query(stack, "SELECT status, postal_prefixes FROM incidents WHERE id = ?", number)
    assert status == "investigating" and "101" in prefixes and "104" in prefixes

    # Twenty customers ask in the chat, five at a time.
    sessions: dict[str, Customer] = {}
    for start in range(0, len(CUSTOMERS), BATCH):
        batch = CUSTOMERS[start : start + BATCH]
        pages = [open_chat(contexts, stack, "de-DE" if c.lang == "de" else "en-GB") for c in batch]
        for page, customer in zip(pages, batch, strict=True):
            sessions[page.evaluate("HelpdeskChat.state.sessionId")] = customer
        first = answers(pages, [lambda p=p, c=c: say(p, c.message) for p, c in zip(pages, batch, strict=True)])
        told = {id(c): text for c, text in zip(batch, first, strict=True)}
        asked = [(p, c) for p, c in zip(pages, batch, strict=True) if c.postal_code]
        for _, c in asked:
            assert ASKS_CODE[c.lang] in told[id(c)], (c.message, told[id(c)])
        if asked:
            replies = answers([p for p, _ in asked], [lambda p=p, c=c: say(p, c.postal_code) for p, c in asked])
            told.update((id(c), text) for (_, c), text in zip(asked, replies, strict=True))
        for page, customer in zip(pages, batch, strict=True):
            text = told[id(customer)]
            if customer.inside:
                assert TOLD[customer.lang] in text and "Glasfaser-Störung Berlin-Mitte" in text, (customer, text)
                assert page.locator(".msg-bot a.article-link").count() == 0  # restarting the router will not help
            else:
                # The normal answer: an article, or the articles to choose from; never the outage.
                assert TOLD[customer.lang] not in text, (customer, text)
                assert page.locator(".msg-bot a.article-link, .msg-bot .msg-buttons button").count() > 0, text
        subscribing = [(p, c) for p, c in zip(pages, batch, strict=True) if c.inside and c.email]
        if subscribing:
            asked_mail = answers(
                [p for p, _ in subscribing], [lambda p=p, c=c: choose(p, NOTIFY[c.lang]) for p, c in subscribing]
            )
            assert all("@" in text or "E-Mail" in text or "e-mail" in text for text in asked_mail), asked_mail
            done = answers([p for p, _ in subscribing], [lambda p=p, c=c: say(p, c.email) for p, c in subscribing])
            for (_, c), text in zip(subscribing, done, strict=True):
                assert SUBSCRIBED[c.lang] in text and c.email in text, (c, text)
        if start == 0:
            shoot(pages[0], "outage-told-customer")
        for page in pages:
            page.context.close()

    inside = {s for s, c in sessions.items() if c.inside}
    outside = set(sessions) - inside
    subscribers = {c.email: c.lang for c in CUSTOMERS if c.email}
    # No ticket for anyone; the customers told are exactly those in the area, each once.
    tickets = {r[0] for r in query(stack, "SELECT conversation_id FROM handoffs")}
    assert not tickets & set(sessions), "a customer told of the outage got a ticket"
    told_rows = query(stack, "SELECT conversation_id FROM incident_conversations WHERE incident_id = ?", number)
    assert sorted(r[0] for r in told_rows) == sorted(inside) and not outside & {r[0] for r in told_rows}
    stored = query(stack, "SELECT email, language FROM incident_subscriptions WHERE incident_id = ?", number)
    assert dict(stored) == subscribers

    # The supervisor resolves it; every subscriber's mail arrives, once, in their language.
    desk.goto(f"{stack.search_url}/agent/incidents/{number}")
    update = desk.locator("form#update")
    update.locator("select[name=status]").select_option("resolved")
    update.locator("textarea[name=message_de]").fill("Das Kabel ist repariert, das Internet läuft wieder.")
    update.locator("textarea[name=message_en]").fill("The cable is repaired, the internet works again.")
    update.locator("button[type=submit]").click()
    desk.wait_for_url(re.compile(rf"/agent/incidents/{number}"))
    assert query(stack, "SELECT status FROM incidents WHERE id = ?", number) == [("resolved",)]
    deadline = time.monotonic() + 60
    while len(stack.mail.received()) < len(subscribers) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # a second send would come within the sender's next pass
    mails = [email.message_from_bytes(e.content, policy=default_policy) for e in stack.mail.received()]
    resolution = [
        m for m in mails if "repariert" in m.get_body().get_content() or "repaired" in m.get_body().get_content()
    ]
    recipients = sorted(m["To"] for m in resolution)
    assert recipients == sorted(subscribers), recipients
    for mail in resolution:
        body = mail.get_body().get_content()
        expected_words = "repariert" if subscribers[mail["To"]] == "de" else "repaired"
        assert expected_words in body, (mail["To"], body)
    assert len({m["Message-ID"] for m in resolution}) == len(resolution)

    # The reports page shows the incident's figures; SQL written here says what they must be.
    told_sql = query(
        stack, "SELECT count(DISTINCT conversation_id) FROM incident_conversations WHERE incident_id = ?", number
    )[0][0]
    subscribers_sql = query(stack, "SELECT count(*) FROM incident_subscriptions WHERE incident_id = ?", number)[0][0]
    linked_sql = query(stack, "SELECT count(*) FROM handoffs WHERE incident_id = ?", number)[0][0]
    assert (told_sql, subscribers_sql, linked_sql) == (len(inside), len(subscribers), 0)
    desk.goto(f"{stack.search_url}/agent/reports")
    table = desk.locator("section[aria-labelledby=h-incidents] table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr").filter(has_text="Glasfaser-Störung Berlin-Mitte")
    cells = dict(zip(headers, (c.strip() for c in row.locator("td, th").all_inner_texts()), strict=False))
    assert cells["told by the bot"] == cells["told, no ticket"] == str(told_sql), cells
    assert cells["subscribers"] == str(subscribers_sql), cells
    assert cells["linked tickets"] == str(linked_sql), cells
    assert cells["resolved"] and cells["resolved"] != "active" and cells["time to resolve"], cells
    deflections = desk.locator("[data-kpi=incident_deflections]").inner_text()
    assert int(deflections) == told_sql
    shoot(desk, "outage-reports")
