"""Whole conversations through Rasa's REST channel: Rasa + action server + web service.

The issue's "done" check, in both languages: question → article → "not solved"
→ handoff form → a stored handoff with a complete summary, the ticket number in
the bot's answer, and silence afterwards. Plus an explicit request for a human
and the control intents, all classified by the trained model.
"""

from __future__ import annotations

import re
import uuid

import pytest

pytestmark = pytest.mark.usefixtures("bot_stack")


def texts(messages):
    return "\n".join(m.get("text") or "" for m in messages)


def buttons(messages):
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stored(bot_stack, ticket: str):
    rows = bot_stack.search.query("SELECT * FROM handoffs WHERE ticket_id = ?", ticket)
    assert len(rows) == 1, f"ticket {ticket} not in the handoff store"
    row = rows[0]
    articles = bot_stack.search.query(
        "SELECT article_id, feedback FROM handoff_articles WHERE handoff_id = ? ORDER BY position", row["id"])
    messages = bot_stack.search.query("SELECT sender, text FROM handoff_messages WHERE handoff_id = ?", row["id"])
    return row, [(a["article_id"], a["feedback"]) for a in articles], messages


def ticket_in(text: str) -> str:
    match = re.search(r"HD-[A-Z0-9]{4,}", text)
    assert match, f"no ticket number in {text!r}"
    return match.group(0)


def test_german_conversation_from_question_to_stored_handoff(bot_stack):
    me = sender("de")
    reply = bot_stack.say(me, "Guten Tag")
    assert texts(reply).startswith("Guten Tag!")

    reply = bot_stack.say(me, "Mein Internet ist sehr langsam")
    assert "/articles/de-internet-langsam" in texts(reply)
    assert buttons(reply) == ["/affirm", "/deny"]

    reply = bot_stack.say(me, "nein, das hat nicht geholfen")  # typed, not the button
    assert "Dann passt vielleicht dieser Artikel besser" in texts(reply)

    reply = bot_stack.say(me, "/deny")
    # Category, product, description and what was tried are prefilled: urgency is asked first.
    assert "Kollegen aus unserem Support" in texts(reply) and "Wie dringend ist es?" in texts(reply)

    reply = bot_stack.say(me, '/inform{"choice": "high"}')
    assert "Wie kann unser Support-Team Sie erreichen?" in texts(reply)
    reply = bot_stack.say(me, "max.mustermann@example")
    assert "nicht nach einer E-Mail-Adresse" in texts(reply)
    reply = bot_stack.say(me, "max.mustermann@example.de")
    summary = texts(reply)
    assert "Thema: Internet / Netzwerk" in summary and "Problem: Mein Internet ist sehr langsam" in summary
    assert "Dringlichkeit: Hoch" in summary and "max.mustermann@example.de" in summary

    reply = bot_stack.say(me, "ja")
    ticket = ticket_in(texts(reply))
    assert "Ein Kollege aus unserem Support meldet sich" in texts(reply)

    row, articles, messages = stored(bot_stack, ticket)
    assert (row["language"], row["reason"], row["category"], row["urgency"]) == ("de", "unresolved", "network", "high")
    assert row["description"] == "Mein Internet ist sehr langsam"
    assert row["tried"].count("nicht gelöst") == 2
    assert row["contact_email"] == "max.mustermann@example.de" and row["conversation_id"] == me
    assert row["product"]
    assert [a[1] for a in articles] == ["not_solved", "not_solved"] and articles[0][0] == "de-internet-langsam"
    assert {"customer", "bot"} <= {m["sender"] for m in messages} and len(messages) >= 10

    assert bot_stack.slots(me)["ticket_id"] == ticket
    assert bot_stack.say(me, "Hallo? Ist da jemand?") == []  # a person has the conversation now


def test_english_conversation_clarifying_question_then_handoff(bot_stack):
    me = sender("en")
    reply = bot_stack.say(me, "how do I reset my password")
    assert "/articles/en-reset-password" in texts(reply)

    reply = bot_stack.say(me, "no")
    assert "tell me a bit more" in texts(reply)  # no second good candidate: one clarifying question

    reply = bot_stack.say(me, "I never get the e-mail with the reset link")
    assert "Did this solve your problem?" in texts(reply)
    reply = bot_stack.say(me, "/deny")  # the second unresolved answer: handoff, topic prefilled
    assert "pass your request to a colleague" in texts(reply) and "How urgent is it?" in texts(reply)
    reply = bot_stack.say(me, "not urgent")
    assert "How can our support team reach you?" in texts(reply)
    reply = bot_stack.say(me, "+49 30 1234567")
    assert "Here is what I'll pass on" in texts(reply) and "Urgency: Low" in texts(reply)

    reply = bot_stack.say(me, "/deny")
    assert "What would you like to change?" in texts(reply)
    reply = bot_stack.say(me, '/inform{"choice": "fix_contact"}')
    assert "How can our support team reach you?" in texts(reply)
    reply = bot_stack.say(me, "anna.berger@example.com")
    assert "anna.berger@example.com" in texts(reply)
    reply = bot_stack.say(me, "yes")
    ticket = ticket_in(texts(reply))

    row, articles, _ = stored(bot_stack, ticket)
    assert row["language"] == "en" and row["urgency"] == "low"
    assert row["contact_email"] == "anna.berger@example.com" and row["contact_phone"] is None
    assert "how do I reset my password" in row["description"]
    assert "reset link" in row["description"]
    assert articles[0] == ("en-reset-password", "not_solved")


def test_explicit_request_for_a_human_in_english(bot_stack):
    me = sender("human")
    reply = bot_stack.say(me, "I want to talk to a human")
    assert "What is your request about?" in texts(reply)
    bot_stack.say(me, '/inform{"choice": "billing"}')
    reply = bot_stack.say(me, "I was charged twice for November")
    assert "What have you already tried" in texts(reply)
    bot_stack.say(me, "nothing")
    bot_stack.say(me, '/inform{"choice": "normal"}')
    reply = bot_stack.say(me, "anna@example.com")
    assert "Topic: Bill / contract" in texts(reply)
    ticket = ticket_in(texts(bot_stack.say(me, "/affirm")))
    row, articles, _ = stored(bot_stack, ticket)
    assert (row["reason"], row["category"], row["description"]) == (
        "customer_request", "billing", "I was charged twice for November")
    assert articles == []


def test_out_of_scope_in_german_then_handoff_accepted(bot_stack):
    me = sender("oos")
    reply = bot_stack.say(me, "Wie backe ich einen Kuchen?")
    assert "leider nicht helfen" in texts(reply) and buttons(reply) == ["/affirm", "/deny"]
    reply = bot_stack.say(me, "ja bitte")
    assert "Worum geht es bei Ihrem Anliegen?" in texts(reply)


def test_greeting_follows_the_chat_pages_language(bot_stack):
    # The web chat sends its language as metadata (socket.io customData); REST takes it too.
    reply = bot_stack.say(sender("hint"), "Hallo", metadata={"language": "de"})
    assert texts(reply).startswith("Guten Tag!")


@pytest.mark.parametrize("message, expected", [
    ("are you a bot?", "automated assistant"),
    ("Sind Sie ein Mensch?", "automated assistant"),  # language not known yet: English default
    ("thanks", "You're welcome"),
])
def test_control_intents(bot_stack, message, expected):
    assert expected in texts(bot_stack.say(sender("ctl"), message))


@pytest.mark.parametrize("message", ["", "😀😀😀", "a" * 5000, "<img src=x onerror=alert(1)>",
                                     "Mein router is broken seit gestern", "/unknown_intent", "/inform{bad json"])
def test_nothing_the_customer_types_breaks_a_turn(bot_stack, message):
    reply = bot_stack.say(sender("odd"), message)
    assert reply, f"no answer to {message[:40]!r}"
    assert "something went wrong" not in texts(reply)
