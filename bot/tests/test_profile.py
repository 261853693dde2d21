"""The bot's texts take the company from the deployment profile (GET /bot/profile), never from code.

Against the real web service of the bot tests (the demo deployment, config/deployment.yml),
and against a closed port for the web service that is down.
"""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO

from actions import profile
from actions.texts import render

DEMO = yaml.safe_load((REPO / "config" / "deployment.yml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def fresh_profile():
    profile.clear()
    yield
    profile.clear()


async def test_texts_name_the_configured_company_assistant_and_hotline(search):
    await profile.refresh()
    company, assistant, hotline = DEMO["company"], DEMO["assistant"], DEMO["support"]["hotline"]
    greeting = f"Guten Tag! Ich bin {assistant}, der Helpdesk-Assistent von {company}."
    assert render("greet", "de")["text"].startswith(greeting)
    hours = DEMO["support"]["hours"]["en"]
    assert f"Please call our support at {hotline} ({hours})." in render("handoff_failed", "en")["text"]
    assert render("out_of_scope", "en")["text"] == (
        "I'm afraid I can't help with that. I can answer questions about " + profile.current("en")["scope"] + "."
    )
    # The topic buttons are the profile's: routed categories with articles, "other" last.
    buttons = render("ask_handoff_category", "de")["buttons"]
    assert [b["title"] for b in buttons] == [t["title"] for t in profile.topics("de")]
    assert buttons[-1] == {"title": "Etwas anderes", "payload": '/inform{"choice": "other"}'}
    assert {"network", "billing", "other"} <= profile.topic_ids()
    assert "rechnung" in profile.topic_words()["billing"]
    assert render("privacy_note", "en")["text"].endswith("Details: " + DEMO["urls"]["privacy_policy"])


async def test_without_the_web_service_the_texts_name_no_one(backend_at, closed_port_url):
    backend_at(closed_port_url)
    await profile.refresh()  # fails quietly
    greeting = render("greet", "en")["text"]
    assert greeting.startswith("Hello! I'm the helpdesk assistant.") and "{" not in greeting
    failed = render("handoff_failed", "de")["text"]
    assert "Mitarbeiter sprechen" in failed and "{hotline}" not in failed
    assert render("out_of_scope", "en")["text"] == "I'm afraid I can't help with that."
    assert profile.topics("en") == [] and profile.topic_ids() == {"other"}
    # The privacy note without a policy link to give: its variant without one, no "{privacy_url}".
    note = render("privacy_note", "de")["text"]
    assert note.startswith("Datenschutz:") and note.endswith("Auskunft oder Löschung verlangen.")


async def test_a_failed_refresh_keeps_the_last_good_profile(search, backend_at, closed_port_url, monkeypatch):
    await profile.refresh()
    monkeypatch.setenv("HELPDESK_PROFILE_TTL", "0")
    backend_at(closed_port_url)
    await profile.refresh()
    assert DEMO["company"] in render("greet", "en")["text"]
