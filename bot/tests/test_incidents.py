"""The bot knows first: what a known incident means for the conversation (``actions.incidents``,
plain functions) and the search action against the real web service with incidents declared in
its store: told once, postal code asked once, e-mail subscription, the ticket linked."""

from __future__ import annotations

import json
import subprocess
import uuid
from contextlib import contextmanager

from conftest import PY311, REPO
from helpers import Conversation, buttons, choice, texts
from test_conversations import talk

from actions import incidents
from actions.actions import ActionSearch
from actions.handoff import handoff_payload

FIBRE = {
    "id": 7,
    "title": "Glasfaser-Störung",
    "category": "network",
    "topic": "Internet",
    "product": "Nordwind Fiber",
    "in_area": True,
    "since": "07.12.2026, 08:00 Uhr",
    "expected": "07.12.2026, 18:00 Uhr",
    "message": "Ein Kabel wurde beschädigt.",
}


# -- the decisions ---------------------------------------------------------------------------------


def test_hit_topics_are_the_top_hits_categories_and_products():
    result = {
        "hits": [
            {"category": "network", "product": "Nordwind Fiber"},
            {"category": "network", "product": "Nordwind DSL"},
            {"category": "billing", "product": None},
            {"category": "email"},
        ]
    }
    topics = (["network", "billing"], ["Nordwind Fiber", "Nordwind DSL"])
    assert incidents.hit_topics(result) == topics
    assert incidents.hit_topics({}) == ([], [])


def test_decide_tells_once_and_asks_for_the_postal_code_once():
    area = {**FIBRE, "id": 8, "in_area": None}
    assert incidents.decide([FIBRE], [], False) == incidents.Step(incidents.TELL, FIBRE)
    assert incidents.decide([FIBRE], [7], False) is None  # told of it already
    assert incidents.decide([area], [], False) == incidents.Step(incidents.ASK_POSTAL_CODE, area)
    assert incidents.decide([area], [], True) is None  # asked once already
    assert incidents.decide([area, FIBRE], [], False).kind == incidents.TELL
    assert incidents.decide([], [], False) is None


def test_postal_codes_and_the_notice():
    assert incidents.postal_code_in("PLZ 10115 Berlin") == "10115"
    assert incidents.postal_code_in("1010 Wien") == "1010"
    assert incidents.postal_code_in("meine Kundennummer ist 1234567") is None
    assert incidents.postal_code_in("keine Ahnung") is None
    # Unasked, only a number named as a postal code or five digits before a place name.
    assert incidents.postal_code_mentioned("Kein Internet mehr in 10178 Berlin, mein Nachbar auch") == "10178"
    assert incidents.postal_code_mentioned("dead since noon, postal code 10409") == "10409"
    assert incidents.postal_code_mentioned("meine PLZ lautet 1010") == "1010"
    assert incidents.postal_code_mentioned("seit 2024 nur 16000 kbit, Kunde 1234567") is None
    assert incidents.postal_code_mentioned("Rechnung über 12345 Euro") is None
    values = incidents.notice_values(FIBRE)
    assert values["affected"] == "Internet (Nordwind Fiber)"
    assert values["since"].startswith("07.12.")
    assert incidents.remembered(FIBRE) == {
        "id": 7,
        "title": "Glasfaser-Störung",
        "category": "network",
        "product": "Nordwind Fiber",
    }


def test_a_ticket_made_after_an_incident_was_told_is_linked_to_it():
    told = Conversation("linked", slots={"incident": incidents.remembered(FIBRE)})
    assert handoff_payload(told.tracker(), "de", 1)["incident_id"] == 7
    assert "incident_id" not in handoff_payload(Conversation("plain").tracker(), "de", 1)


# -- against the real web service ------------------------------------------------------------------

STORE_SCRIPT = """
import json, sys
from datetime import datetime, timedelta, timezone
from helpdesk.handoffs.store import HandoffStore
from helpdesk.incidents.store import IncidentStore
url, command, arg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
store = IncidentStore(HandoffStore.open(url, migrate=False))
if command == "declare":
    arg["expected_resolution_at"] = datetime.now(timezone.utc) + timedelta(hours=3)
    print(store.declare(actor="sue", status="investigating", started_at=None, **arg)["id"])
else:
    store.update(arg, "sue", {"status": "resolved"})
"""


def store_call(search, command: str, arg) -> str:
    done = subprocess.run(
        [str(PY311), "-c", STORE_SCRIPT, f"sqlite:///{search.db_path}", command, json.dumps(arg)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@contextmanager
def declared(search, **changes):
    """An incident in the web service's store while the block runs; resolved afterwards, so the
    other tests of the session never meet it."""
    body = {
        "title": "Glasfaser-Störung in Berlin",
        "category": "network",
        "team": "network",
        "product": None,
        "postal_prefixes": [],
        "messages": {
            "de": "Ein Kabel wurde bei Bauarbeiten beschädigt.",
            "en": "A cable was damaged by construction work.",
        },
        **changes,
    }
    number = int(store_call(search, "declare", body))
    try:
        yield number
    finally:
        store_call(search, "resolve", number)


async def test_the_first_reply_tells_of_the_outage_and_offers_an_email(search):
    with declared(search) as number:
        c = Conversation("incident-told")
        await c.turn(ActionSearch(), "Mein Internet ist sehr langsam", "describe_problem")
        assert "bereits bekannt" in c.text and "Glasfaser-Störung in Berlin" in c.text
        assert "seit" in c.text and "Voraussichtlich" in c.text and "Neustart" in c.text
        assert "Ein Kabel wurde bei Bauarbeiten beschädigt." in c.text
        assert c.cards == []  # no article: restarting the router will not help
        assert c.payloads == ['/inform{"choice": "incident_notify"}', "/request_human"]
        assert c.slots["incident"]["id"] == number and c.slots["incidents_told"] == [number]
        assert c.slots["flow"] is None
        told = search.query(
            "SELECT conversation_id, language FROM incident_conversations WHERE incident_id = ?", number
        )
        assert [tuple(r) for r in told] == [("incident-told", "de")]  # the reports count the customer as told

        await c.turn(ActionSearch(), '/inform{"choice": "incident_notify"}', "inform", choice("incident_notify"))
        assert "E-Mail-Adresse" in c.text and c.slots["incident_waiting"] == "email"
        await c.turn(ActionSearch(), "erika@", "nlu_fallback")
        assert "nicht nach einer E-Mail-Adresse" in c.text
        assert c.slots["incident_waiting"] == "email"
        await c.turn(ActionSearch(), "Gern an Erika@Example.org bitte", "nlu_fallback")
        assert "erika@example.org" in c.text.lower() and c.slots["incident_waiting"] is None
        rows = search.query(
            "SELECT email, language, conversation_id FROM incident_subscriptions WHERE incident_id = ?", number
        )
        assert [tuple(r) for r in rows] == [("erika@example.org", "de", "incident-told")]

        # Told once: the same problem again gets the article.
        await c.turn(ActionSearch(), "Mein Internet ist sehr langsam", "describe_problem")
        assert c.cards and c.cards[0]["article_id"] == "de-internet-langsam"
        assert len(search.query("SELECT id FROM incident_conversations WHERE incident_id = ?", number)) == 1


async def test_an_area_bound_incident_asks_the_postal_code_once(search):
    with declared(search, postal_prefixes=["101"]):
        outside = Conversation("incident-outside")
        await outside.turn(ActionSearch(), "my internet is very slow", "describe_problem")
        assert "postal code" in outside.text and outside.slots["incident_waiting"] == "postal_code"
        await outside.turn(ActionSearch(), "80331", "nlu_fallback")
        assert outside.cards and outside.cards[0]["article_id"] == "en-slow-internet-speed"
        assert outside.slots["postal_code"] == "80331" and outside.slots["incident_waiting"] is None

        inside = Conversation("incident-inside")
        await inside.turn(ActionSearch(), "my internet is very slow", "describe_problem")
        await inside.turn(ActionSearch(), "it's 10115", "nlu_fallback")
        assert "We already know about this outage" in inside.text and inside.cards == []
        assert "Restarting your router" in inside.text

        # The postal code given unasked in the message: told at once, and the code kept.
        unasked = Conversation("incident-unasked")
        await unasked.turn(ActionSearch(), "my internet is very slow here in 10115 Berlin", "describe_problem")
        assert "We already know about this outage" in unasked.text and unasked.slots["postal_code"] == "10115"

        # No postal code in the answer: a new message, and the code is not asked for again.
        ignored = Conversation("incident-no-code")
        await ignored.turn(ActionSearch(), "my internet is very slow", "describe_problem")
        await ignored.turn(ActionSearch(), "my internet is very slow", "describe_problem")
        assert ignored.cards and ignored.slots["incident_waiting"] is None


def test_through_rasa_the_postal_code_the_email_and_a_person(bot_stack):
    """The whole stack, the intents as the trained model classifies what a customer types."""
    with declared(bot_stack.search, postal_prefixes=["101"]) as number:
        me = f"incident-{uuid.uuid4().hex[:8]}"
        reply = talk(
            bot_stack,
            me,
            [
                ("Mein Internet ist seit heute Morgen sehr langsam", ["Postleitzahl"]),
                ("10115", ["bereits bekannt", "Neustart"]),
            ],
        )
        assert '/inform{"choice": "incident_notify"}' in buttons(reply)
        talk(
            bot_stack,
            me,
            [
                ('/inform{"choice": "incident_notify"}', ["E-Mail-Adresse"]),
                ("erika.muster@example.org", ["erika.muster@example.org"]),
            ],
        )
        rows = bot_stack.search.query("SELECT email FROM incident_subscriptions WHERE incident_id = ?", number)
        assert [r["email"] for r in rows] == ["erika.muster@example.org"]
        assert bot_stack.search.query("SELECT id FROM handoffs WHERE conversation_id = ?", me) == []
        reply = bot_stack.say(me, "/request_human")
        assert texts(reply) and bot_stack.slots(me)["incident"]["id"] == number
