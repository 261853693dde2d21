"""Another company, swapped in by environment variables only: the bot must be entirely theirs.

The whole stack (web service, action server, Rasa with the same trained model)
runs on the test shop "Brightcart" (tests/fixtures/kb_shop: its own German and
English articles, routing file and deployment configuration), chosen with
HELPDESK_ARTICLES_DIR, HELPDESK_ROUTING_FILE and HELPDESK_DEPLOYMENT_FILE and
nothing else: no retraining, no edited file. Checked through Rasa's REST
channel: the greeting names Brightcart and its assistant, the out-of-scope
answer lists Brightcart's topics, a question finds Brightcart's article, the
handoff offers Brightcart's topics and is stored in Brightcart's category, and
no reply mentions the demo company Nordwind or its products. Its order-status
procedure (tests/fixtures/kb_shop/procedures) is files only, beside its articles,
with its system in HELPDESK_PROCEDURES_FILE: the reference company system serving
Brightcart's orders (company_system.json); the bot offers it, asks its questions
and answers from the system with the same model and actions as the demo.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import uuid
from collections.abc import Iterator

import httpx
import pytest
import yaml
from conftest import (
    ARTIFACTS,
    COMPANY_TOKEN,
    REPO,
    BotStack,
    CompanySystem,
    SearchService,
    free_port,
    start_action_server,
    start_rasa,
    start_web_service,
)
from helpers import TICKET

SHOP = REPO / "tests" / "fixtures" / "kb_shop"
GENERIC_PRODUCTS = {"Account"}  # a demo product named with a plain word, not a name


def demo_names() -> list[str]:
    """The demo company's name, hotline, topic names, routing categories and products (from
    config/ and kb/articles): none may reach another company's customers."""
    demo = yaml.safe_load((REPO / "config" / "deployment.yml").read_text(encoding="utf-8"))
    names = {demo["company"], demo["support"]["hotline"]}
    names |= {
        title
        for category, titles in demo["topics"].items()
        if category != "other"
        for title in titles.values()
        if " " in title
    }  # "E-Mail" alone is a plain word
    names |= {
        f'"{c}"' for c in yaml.safe_load((REPO / "config" / "routing.yml").read_text())["categories"] if c != "other"
    }  # as a value in the page's or a reply's JSON ("email" as a key is no category: DEMO skips keys)
    for path in (REPO / "kb" / "articles").glob("*/*.md"):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        if front.get("product") and front["product"] not in GENERIC_PRODUCTS:
            names.add(front["product"])
    return sorted(names)


DEMO = re.compile(
    "|".join(re.escape(name) + ("(?!\\s*:)" if name.startswith('"') else "") for name in demo_names()), re.I
)


TOKEN_ENV = "BRIGHTCART_API_TOKEN"


def shop_systems(folder, url: str):
    """The shop's procedures configuration (kb_shop/procedures.yml) with its system at ``url``."""
    config = yaml.safe_load((SHOP / "procedures.yml").read_text(encoding="utf-8"))
    config["systems"]["brightcart"]["base_url"] = url
    path = folder / "procedures.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shop_stack(tmp_path_factory) -> Iterator[BotStack]:
    model = REPO / os.environ.get("BOT_MODEL", "bot/models/helpdesk.tar.gz")
    if not model.exists():
        pytest.fail(f"{model} is missing: run scripts/train-bot (scripts/test-bot does)")
    tmp = tmp_path_factory.mktemp("shop")
    port, action_port, rasa_port = free_port(), free_port(), free_port()
    token = secrets.token_urlsafe(24)
    db_path = tmp / "handoffs.db"
    # The shop's own system: the reference company system with Brightcart's orders.
    system = CompanySystem(free_port(), data=SHOP / "company_system.json", token_env=TOKEN_ENV, name="shop_company")
    company = {  # the only difference to the demo deployment
        "HELPDESK_ARTICLES_DIR": str(SHOP / "articles"),
        "HELPDESK_ROUTING_FILE": str(SHOP / "routing.yml"),
        "HELPDESK_DEPLOYMENT_FILE": str(SHOP / "deployment.yml"),
        "HELPDESK_PROCEDURES_FILE": str(shop_systems(tmp, system.url)),
        TOKEN_ENV: COMPANY_TOKEN,
    }
    services = []
    system.start()
    try:
        services.append(
            start_web_service(
                "shop_web",
                port,
                db_path,
                token,
                {**company, "HELPDESK_INDEX_DIR": str(ARTIFACTS / "index-shop")},
                warm_up=("Wo ist mein Paket?", "where is my parcel"),
            )
        )
        # What this test checks is whose bot it is, not latency (tests/e2e and bench_bot do that):
        # a generous search timeout keeps a loaded CI machine from turning answers into apologies.
        services.append(
            start_action_server(
                "shop_actions", action_port, f"http://127.0.0.1:{port}", token, {"HELPDESK_SEARCH_TIMEOUT": "10"}
            )
        )
        rasa_token = secrets.token_urlsafe(24)
        services.append(
            start_rasa(
                "shop_rasa",
                rasa_port,
                f"http://127.0.0.1:{action_port}/webhook",
                f"sqlite:///{tmp / 'rasa-trackers.db'}",
                rasa_token,
            )
        )
        yield BotStack(
            f"http://127.0.0.1:{rasa_port}",
            SearchService(f"http://127.0.0.1:{port}", token, db_path),
            rasa_token,
            services[-1],
        )
    finally:
        for service in reversed(services):
            service.stop()
        system.stop()


def everything(messages: list[dict]) -> str:
    """All a reply shows the customer: texts, buttons, custom payloads."""
    return json.dumps(messages, ensure_ascii=False)


def button_titles(messages: list[dict]) -> dict[str, str]:
    return {b["payload"]: b["title"] for m in messages for b in m.get("buttons") or []}


def no_demo_company(messages: list[dict]) -> list[dict]:
    found = DEMO.findall(everything(messages))
    assert not found, f"the demo company leaked into another company's bot: {found} in {messages}"
    return messages


def through_the_form(stack: BotStack, me: str, reply: list[dict], contact: str, tried: str, description: str) -> str:
    """Answers whatever the handoff form asks (topic: shipping, urgency: normal) until the ticket; its number."""
    for _ in range(12):
        buttons, text = button_titles(reply), everything(reply)
        match = TICKET.search(text)
        if match:
            return match.group(0)
        if '/inform{"choice": "other"}' in buttons:
            answer = '/inform{"choice": "shipping"}'
        elif '/inform{"choice": "normal"}' in buttons:
            answer = '/inform{"choice": "normal"}'
        elif "/affirm" in buttons:
            answer = "/affirm"
        elif re.search(r"erreichen|E-Mail-Adresse", text):
            answer = contact
        elif re.search(r"versucht", text):
            answer = tried
        else:
            answer = description
        reply = no_demo_company(stack.say(me, answer))
    pytest.fail(f"no ticket after the form; last reply {reply}")


def test_greeting_and_scope_are_the_companys(shop_stack):
    me = f"shop-{uuid.uuid4().hex[:8]}"
    reply = no_demo_company(shop_stack.say(me, "Hello", metadata={"language": "en"}))
    assert "Kit" in everything(reply) and "Brightcart" in everything(reply)

    reply = no_demo_company(shop_stack.say(me, "What's the weather like tomorrow?"))
    text = everything(reply)
    assert "I can answer questions about Orders, Delivery, Returns and refunds, Checkout and Brightcart Plus." in text


def test_german_answer_and_handoff_with_the_companys_topics(shop_stack):
    me = f"shop-de-{uuid.uuid4().hex[:8]}"
    no_demo_company(shop_stack.say(me, "Guten Tag", metadata={"language": "de"}))
    reply = no_demo_company(shop_stack.say(me, "Wo ist mein Paket? Ich habe letzte Woche bestellt und nichts kam an"))
    assert "/articles/de-bestellung-verfolgen" in everything(reply)

    reply = no_demo_company(shop_stack.say(me, "Ich möchte mit einem Mitarbeiter sprechen"))
    # Whatever the form asks, answer it; the topic comes from the shipping article shown.
    ticket = through_the_form(
        shop_stack,
        me,
        reply,
        "kunde@example.com",
        "Sendungsverfolgung geprüft",
        "Mein Paket ist seit einer Woche unterwegs und kommt nicht an",
    )
    row = shop_stack.search.query("SELECT category, team, language FROM handoffs WHERE ticket_id = ?", ticket)[0]
    assert (row["category"], row["team"], row["language"]) == ("shipping", "order-desk", "de")
    # Asked for a person before any article, the form's topic question offers this company's topics.
    reply = no_demo_company(
        shop_stack.say(f"{me}-topics", "Ich möchte mit einem Mitarbeiter sprechen", metadata={"language": "de"})
    )
    assert list(button_titles(reply).values()) == [
        "Bestellungen",
        "Lieferung",
        "Rücksendung und Erstattung",
        "Kasse",
        "Brightcart Plus",
        "Etwas anderes",
    ]


def test_the_profile_the_bot_uses_is_the_companys(shop_stack):
    profile = httpx.get(f"{shop_stack.search.url}/bot/profile", params={"lang": "en"}, timeout=10).json()
    assert (profile["company"], profile["assistant"], profile["hotline"]) == ("Brightcart", "Kit", "+49 40 5550 1234")
    assert [t["id"] for t in profile["topics"]] == ["orders", "shipping", "returns", "payments", "membership", "other"]
    assert httpx.get(f"{shop_stack.search.url}/bot/profile", params={"lang": "fr"}, timeout=10).status_code == 422
    page = httpx.get(f"{shop_stack.search.url}/chat", timeout=10).text
    assert "Brightcart" in page and not DEMO.findall(page)
    demo_company = yaml.safe_load((REPO / "config" / "deployment.yml").read_text(encoding="utf-8"))["company"]
    assert len(demo_names()) >= 10 and DEMO.search(f"Welcome to {demo_company}")  # the check itself can fail


def test_the_shops_order_status_procedure_runs_from_its_files_alone(shop_stack):
    """No code, no NLU data, no training for it: a procedure file per language and the system's data."""
    me = f"shop-order-{uuid.uuid4().hex[:8]}"
    no_demo_company(shop_stack.say(me, "Hello", metadata={"language": "en"}))
    reply = no_demo_company(shop_stack.say(me, "Has my order been shipped yet?"))
    text = everything(reply)
    assert "I can do this for you right away" in text and "Order status: where is your Brightcart order now?" in text
    assert "order number, e-mail address" in text
    reply = no_demo_company(shop_stack.say(me, "yes"))
    assert "What is your order number?" in everything(reply)
    reply = no_demo_company(shop_stack.say(me, "NW-100234"))
    assert "doesn't look like a Brightcart order number" in everything(reply)
    reply = no_demo_company(shop_stack.say(me, "bc 482913"))
    assert "e-mail address you placed the order with" in everything(reply)
    reply = no_demo_company(shop_stack.say(me, "lena.park@example.org"))
    assert "order number: BC482913" in everything(reply) and "e-mail address: lena.park@example.org" in everything(
        reply
    )
    reply = no_demo_company(shop_stack.say(me, "/affirm"))
    assert (
        "Your order BC-482913 is on its way with DHL, tracking number 00340434161094042557. "
        "It should arrive on 9 Dec 2026." in everything(reply)
    )
    [run] = shop_stack.search.query("SELECT procedure_id, outcome, status_code FROM procedure_runs")
    assert tuple(run) == ("en-order-status", "done", 200)


def test_a_delayed_order_goes_to_the_order_desk_with_the_run_and_the_address_masked(shop_stack):
    me = f"shop-order-de-{uuid.uuid4().hex[:8]}"
    no_demo_company(shop_stack.say(me, "Guten Tag", metadata={"language": "de"}))
    reply = no_demo_company(shop_stack.say(me, "Wurde meine Bestellung schon verschickt?"))
    assert "Bestellstatus: Wo ist Ihre Brightcart-Bestellung gerade?" in everything(reply)
    no_demo_company(shop_stack.say(me, "ja"))
    no_demo_company(shop_stack.say(me, "BC-481200"))
    no_demo_company(shop_stack.say(me, "sara.klein@example.com"))
    reply = no_demo_company(shop_stack.say(me, "ja"))
    text = everything(reply)
    assert "Ihre Bestellung BC-481200 verspätet sich: Sie sollte am 02.12.2026 ankommen" in text
    assert "Soll ich Ihr Anliegen an einen Kollegen" in text
    reply = no_demo_company(shop_stack.say(me, "/affirm"))
    ticket = through_the_form(shop_stack, me, reply, "sara.klein@example.com", "nichts", "Bestellung kommt nicht")
    [row] = shop_stack.search.query("SELECT * FROM handoffs WHERE ticket_id = ?", ticket)
    assert (row["category"], row["team"]) == ("orders", "order-desk")
    run = json.loads(row["procedure_run"])
    assert (run["procedure_id"], run["outcome"], run["status_code"]) == ("de-bestellstatus", "handoff", 200)
    assert run["inputs"] == [
        {"label": "Bestellnummer", "value": "BC-481200"},
        {"label": "E-Mail-Adresse", "value": "•••om"},
    ]
    assert run["answer"].startswith("Ihre Bestellung BC-481200 verspätet sich")
    assert "sara.klein" not in row["tried"] and "E-Mail-Adresse: •••om" in row["tried"]
