"""The deployment configuration, the bot profile derived from it, and the chat page's branding.

A second company (tests/fixtures/kb_shop: the online shop "Brightcart", its own
articles, routing and configuration) checks that everything company-specific is
derived, not written: its topics, scope sentence and page are its own and
nothing of the demo company "Nordwind" appears.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from helpdesk.chat.config import ChatConfig
from helpdesk.chat.router import router as chat_router
from helpdesk.deployment import DEFAULT_FILE, DeploymentError, load_checked, load_deployment
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.profile import build_profile, consistency_warnings
from search_api.kb.articles import load_articles

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "tests" / "fixtures" / "kb_shop"
NO_SECRETS = {"HELPDESK_SECRETS_FILE": "/nonexistent"}
NORDWIND_WORDS = ("nordwind", "shoptalk", "0800 123 4567", "network", "software")


@pytest.fixture(scope="module")
def shop():
    deployment = load_checked(SHOP / "deployment.yml", NO_SECRETS)
    routing = RoutingConfig.load(SHOP / "routing.yml")
    articles = load_articles(SHOP / "articles", ("de", "en"))
    assert not articles.errors
    return deployment, routing, articles.articles


def test_the_demo_configuration_is_valid():
    deployment = load_checked(DEFAULT_FILE, NO_SECRETS)
    assert deployment.company == "Nordwind" and deployment.languages == ["de", "en"]
    assert deployment.logo_path().is_file()
    assert deployment.chat_title("de") == "Nordwind Hilfe-Chat"


def test_mistakes_are_reported_with_file_line_and_key(tmp_path):
    path = tmp_path / "deployment.yml"
    path.write_text(
        "company: Acme\nassistant: Ada\nsupport:\n  hotline: '030 1234567'\n"
        "chat:\n  colors: {primary: '#ffffff'}\n  colour: red\nlanguages: [de, fr]\n",
        encoding="utf-8",
    )
    with pytest.raises(DeploymentError) as info:
        load_deployment(path, NO_SECRETS)
    message = str(info.value)
    assert f"{path}:3: support: give `hours` with the hotline" in message
    assert f"{path}:6: chat.colors: on_primary #ffffff on primary #ffffff has a contrast of 1.0:1" in message
    assert f"{path}:7: chat.colour: unknown key" in message
    assert f"{path}:8: languages.1:" in message
    path.write_text("company: [unclosed\n", encoding="utf-8")
    with pytest.raises(DeploymentError, match=r"deployment.yml:\d+: not valid YAML"):
        load_deployment(path, NO_SECRETS)
    with pytest.raises(DeploymentError, match="cannot read"):
        load_deployment(tmp_path / "missing.yml", NO_SECRETS)


def test_environment_overrides_win_and_their_mistakes_name_the_variable():
    env = {
        **NO_SECRETS,
        "HELPDESK_DEPLOYMENT_FILE": str(SHOP / "deployment.yml"),
        "HELPDESK_COMPANY_NAME": "Brightcart GmbH",
        "HELPDESK_SUPPORT_HOURS": "24/7",
        "HELPDESK_LANGUAGES": "de",
    }
    deployment = load_deployment(env=env)
    assert deployment.company == "Brightcart GmbH" and deployment.languages == ["de"]
    assert deployment.text(deployment.support.hours, "en") == "24/7"
    with pytest.raises(DeploymentError) as info:
        load_deployment(env={**env, "HELPDESK_CHAT_PRIMARY_COLOR": "red", "HELPDESK_LANGUAGES": "de,en"})
    assert "HELPDESK_CHAT_PRIMARY_COLOR (environment): chat.colors.primary: 'red' is not valid here" in str(info.value)


def test_the_profile_is_derived_from_the_kb_routing_and_configuration(shop):
    deployment, routing, articles = shop
    en = build_profile(deployment, routing, articles, "en")
    de = build_profile(deployment, routing, articles, "de")
    assert (en["company"], en["assistant"], en["hotline"]) == ("Brightcart", "Kit", "+49 40 5550 1234")
    assert en["hours"] == "Mon–Sat 8:00–20:00" and de["hours"] == "Mo–Sa 8–20 Uhr"
    # Routed categories with articles, in the routing file's order, then "other"; named by the
    # configuration, else by their articles' products.
    assert [(t["id"], t["title"]) for t in en["topics"]] == [
        ("orders", "Orders"),
        ("shipping", "Delivery"),
        ("returns", "Returns and refunds"),
        ("payments", "Checkout"),
        ("membership", "Brightcart Plus"),
        ("other", "Something else"),
    ]
    assert [t["title"] for t in de["topics"]][:4] == [
        "Bestellungen",
        "Lieferung",
        "Rücksendung und Erstattung",
        "Kasse",
    ]
    assert en["scope_sentence"] == (
        "I can answer questions about Orders, Delivery, Returns and refunds, Checkout and Brightcart Plus."
    )
    assert de["scope_sentence"].startswith("Ich beantworte Fragen zu Bestellungen, Lieferung")
    # Every routed category is known for typed answers (also one without articles).
    assert set(en["categories"]) == set(routing.categories)
    assert "bestellungen" in en["categories"]["orders"] and "paypal" in en["categories"]["payments"]
    assert "brightcart" not in en["categories"]["membership"]  # the company's name says nothing about a topic
    text = json.dumps([en, de], ensure_ascii=False).lower()
    assert not [word for word in NORDWIND_WORDS if word in text]


def test_the_demo_profile_keeps_its_topics():
    deployment = load_checked(DEFAULT_FILE, NO_SECRETS)
    routing = RoutingConfig.load(ROOT / "config" / "routing.yml")
    profile = build_profile(deployment, routing, load_articles(ROOT / "kb" / "articles", ("de", "en")).articles, "en")
    assert [t["id"] for t in profile["topics"]] == ["network", "software", "shop-chat", "billing", "email", "other"]
    assert "Nordwind Office / software" in profile["scope_sentence"]


def test_lint_warns_where_configuration_and_kb_disagree(shop, tmp_path):
    deployment, routing, articles = shop
    stray = tmp_path / "en" / "stray.md"
    stray.parent.mkdir()
    source = (SHOP / "articles" / "en" / "cancel-order.md").read_text(encoding="utf-8")
    stray.write_text(
        source.replace("id: en-cancel-order", "id: en-stray").replace("category: orders", "category: gifts"),
        encoding="utf-8",
    )
    warnings = consistency_warnings(deployment, routing, articles + load_articles(tmp_path, ("en",)).articles, tmp_path)
    routing_line = next(
        i
        for i, line in enumerate((SHOP / "routing.yml").read_text().splitlines(), 1)
        if line.strip().startswith("business-customers:")
    )
    assert (
        f"{SHOP / 'routing.yml'}:{routing_line}: warning: category 'business-customers' has no public articles"
        in warnings[0]
    )
    assert any(w.startswith(f"{stray}:7: warning: category 'gifts' is in no team's hands") for w in warnings), warnings
    assert len(warnings) == 2


def test_the_chat_page_shows_the_companys_brand(shop):
    deployment = shop[0]
    app = FastAPI()
    app.include_router(chat_router)
    app.state.chat_config, app.state.deployment = ChatConfig(), deployment
    client = TestClient(app)
    html = client.get("/chat?lang=de").text
    assert "<title>Brightcart Kundenhilfe</title>" in html and 'alt="Brightcart"' in html
    assert 'href="https://www.brightcart.example/privacy"' in html
    config = json.loads(html.split('<script id="chat-config" type="application/json">')[1].split("</script>")[0])
    assert config["strings"]["en"]["title"] == "Brightcart customer help"
    assert config["strings"]["de"]["typing"] == "Kit schreibt…" and config["languages"] == ["de", "en"]
    css = client.get("/chat/brand.css")
    assert css.headers["content-type"].startswith("text/css") and "--brand-primary: #7a1f5c" in css.text
    logo = client.get("/chat/brand/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml" and b"Brightcart" in logo.content
    assert "nordwind" not in html.lower()


def test_a_single_language_deployment_offers_no_language_switch():
    deployment = load_deployment(SHOP / "deployment.yml", {**NO_SECRETS, "HELPDESK_LANGUAGES": "de"})
    app = FastAPI()
    app.include_router(chat_router)
    app.state.chat_config, app.state.deployment = ChatConfig(), deployment
    html = TestClient(app).get("/chat").text
    assert '<html lang="de">' in html and '<select id="chat-lang" hidden>' in html
    assert 'value="de"' in html and 'value="en"' not in html
    config = json.loads(html.split('<script id="chat-config" type="application/json">')[1].split("</script>")[0])
    assert config["lang"] == "de" and config["languages"] == ["de"]


def test_helpdesk_lint_prints_the_warnings_with_file_and_line():
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **NO_SECRETS,
        "HELPDESK_DEPLOYMENT_FILE": str(SHOP / "deployment.yml"),
        "HELPDESK_ROUTING_FILE": str(SHOP / "routing.yml"),
        "HELPDESK_PROCEDURES_FILE": str(SHOP / "procedures.yml"),  # the system its order-status procedure calls
    }
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "lint", "--articles", str(SHOP / "articles")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr  # warnings do not fail the lint
    assert re.search(r"routing\.yml:\d+: warning: category 'business-customers' has no public articles", result.stderr)
    assert "14 articles checked, 0 problems" in result.stderr and "1 warnings" in result.stderr
    assert re.search(r"2 procedures checked in \S+kb_shop/procedures, 0 problems", result.stderr)
    broken = {**env, "HELPDESK_CHAT_PRIMARY_COLOR": "blue"}
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk.cli", "deployment-check"],
        capture_output=True,
        text=True,
        env=broken,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2 and "HELPDESK_CHAT_PRIMARY_COLOR (environment)" in result.stderr
