"""The bot's actions against the real search service (CollectingDispatcher, no Rasa server).

Covers: KB answers in German and English, no bluffing when search says
answerable: false, feedback stored on the article, next candidate / clarifying
question / handoff after two unresolved answers with a prefilled summary, the
form's validation, the handoff stored with an idempotency key (a replay gives
the same ticket), and degradation: search down or slow, handoff store failing.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import Conversation, choice

from actions import profile
from actions.actions import (
    ActionContact,
    ActionGreet,
    ActionNotSolved,
    ActionRequestHuman,
    ActionSearch,
    ActionSolved,
    ActionSwitchLanguage,
)
from actions.backend import SearchUnavailable
from actions.handoff import (
    ActionAskHandoffConfirmed,
    ActionAskHandoffContact,
    ActionPrepareHandoff,
    ActionSubmitHandoff,
    ValidateHandoffForm,
    description,
    find_contact,
    idempotency_key,
)
from channels import nlu_text

FAILED_TEXT = "something went wrong"


# -- KB answers ------------------------------------------------------------------------------------


async def test_german_question_gets_the_german_article(search):
    c = Conversation("de-answer")
    await c.turn(ActionSearch(), "Mein Internet ist sehr langsam", "describe_problem")
    assert c.slots["language"] == "de"
    assert c.slots["flow"] == "feedback"
    assert "/articles/de-internet-langsam" in c.text
    assert "Dieser Artikel sollte helfen" in c.text and "Hat das Ihr Problem gelöst?" in c.text
    # One message: the card with title, passage, link and the buttons.
    assert len(c.messages) == 1 and len(c.cards) == 1
    card = c.cards[0]
    assert card["type"] == "answer" and card["article_id"] == "de-internet-langsam" and card["lang"] == "de"
    assert card["title"] and card["markdown"] and card["url"].endswith(card["url"].split("/articles/")[1])
    assert c.payloads == ["/affirm", "/deny"]
    assert c.slots["articles_shown"][0]["article_id"] == "de-internet-langsam"


async def test_english_question_gets_the_english_article_and_solved_is_recorded(search):
    c = Conversation("en-solved")
    await c.turn(ActionSearch(), "my emails end up in the spam folder", "describe_problem")
    assert c.slots["language"] == "en"
    assert "/articles/en-mail-spam" in c.text and "Did this solve your problem?" in c.text

    await c.turn(ActionSolved(), "/affirm", "affirm")
    assert "glad" in c.text
    assert c.slots["flow"] is None
    assert c.slots["articles_shown"][0]["feedback"] == "solved"
    rows = search.query("SELECT article_id, helpful FROM article_feedback WHERE conversation_id = ?", "en-solved")
    assert [(r["article_id"], bool(r["helpful"])) for r in rows] == [("en-mail-spam", True)]


@pytest.mark.parametrize(
    "text, lang", [("Wie backe ich einen Kuchen?", "de"), ("what is the weather in Paris tomorrow", "en")]
)
async def test_no_article_no_bluff_offers_a_person(search, text, lang):
    c = Conversation(f"no-answer-{lang}")
    await c.turn(ActionSearch(), text, "nlu_fallback")
    assert "/articles/" not in c.text
    assert c.slots["flow"] == "offer_human" and c.slots["handoff_reason"] == "no_answer"
    assert c.slots["language"] == lang
    assert ("keinen passenden Artikel" if lang == "de" else "no article") in c.text
    assert c.payloads == ["/affirm", "/deny"]
    # Kept for the authors' gap list with its conversation: erasing this customer erases it too.
    for _ in range(50):
        rows = search.query("SELECT query FROM unanswered_searches WHERE conversation_id = ?", f"no-answer-{lang}")
        if rows:
            break
        await asyncio.sleep(0.1)
    assert [r["query"] for r in rows] == [text]


@pytest.mark.parametrize(
    "first, second, lang, again",
    [
        ("Wie backe ich einen Kuchen?", "Ich meine einen Apfelkuchen mit Streuseln", "de", "Auch dazu"),
        ("what is the weather in Paris tomorrow", "I mean the weather forecast for the weekend", "en", "either"),
    ],
)
async def test_a_second_description_without_an_article_is_not_answered_with_the_same_sentence(
    search, first, second, lang, again
):
    c = Conversation(f"no-answer-again-{lang}")
    await c.turn(ActionSearch(), first, "nlu_fallback")
    assert c.slots["flow"] == "offer_human" and again not in c.text
    await c.turn(ActionSearch(), second, "nlu_fallback")
    assert "/articles/" not in c.text and again in c.text
    assert ("keinen passenden Artikel, und raten" if lang == "de" else "rather not guess") not in c.text
    assert c.slots["flow"] == "offer_human" and c.payloads == ["/affirm", "/deny"]
    assert c.slots["problem_texts"] == [first, second]  # the colleague sees both


async def test_greeting_detects_the_language(search):
    c = Conversation("greet")
    await c.turn(ActionGreet(), "Guten Tag", "greet")
    assert c.slots["language"] == "de" and c.text.startswith("Guten Tag!")
    c = Conversation("greet-en")
    await c.turn(ActionGreet(), "good morning, I have a question", "greet")
    assert c.slots["language"] == "en" and c.text.startswith("Hello!")


async def test_a_short_greeting_follows_the_chat_pages_language(search):
    c = Conversation("greet-hint")
    await c.user("Hallo", "greet", metadata={"language": "de"}).run(ActionGreet())
    assert c.slots["language"] == "de" and c.text.startswith("Guten Tag!")
    # A whole sentence is detected, whatever the page says.
    c = Conversation("greet-hint-long")
    await c.user("Hello, my internet connection stopped working", "greet", metadata={"language": "de"}).run(
        ActionGreet()
    )
    assert c.slots["language"] == "en"


async def test_a_short_message_does_not_switch_the_conversation_language(search):
    c = Conversation("sticky", slots={"language": "de"})
    await c.turn(ActionSearch(), "WLAN slow", "describe_problem")
    assert c.slots["language"] == "de"


@pytest.mark.parametrize("lang, article", [("de", "de-mail-spam"), ("en", "en-mail-spam")])
async def test_words_of_both_languages_are_answered_in_the_conversations_language(search, lang, article):
    # Four words the detector is unsure of (German at 0.67): searched in both languages, the
    # conversation's wins between two answers, and the conversation keeps its language.
    c = Conversation(f"mixed-{lang}", slots={"language": lang})
    await c.turn(ActionSearch(), "Spam Filter Mails im Junk", "describe_problem")
    assert c.slots["language"] == lang and c.cards[0]["article_id"] == article, (c.slots["language"], c.cards)


# -- not solved ---------------------------------------------------------------------------------------


async def test_not_solved_twice_prefills_what_the_conversation_says(search):
    c = Conversation("de-unresolved")
    await c.turn(ActionSearch(), "Mein Internet ist sehr langsam", "describe_problem")
    await c.turn(ActionNotSolved(), "/deny", "deny")
    # The service was sure of that article and gives no other a real chance: no guess, one
    # question for details; a "no" still counts as "not solved" (flow feedback).
    assert c.slots["flow"] == "feedback" and c.slots["clarify_pending"] is True
    assert "was genau passiert" in c.text and c.cards == []

    await c.turn(ActionNotSolved(), "nein", "deny")  # "no" again instead of details
    assert c.slots["flow"] == "handoff" and c.slots["handoff_reason"] == "unresolved"
    assert "Kollegen" in c.text
    # The topic comes from the articles shown for this problem (the summary shows it for correction);
    # what they tried is asked in their own words (they said nothing of it), the articles are added
    # to it at the summary.
    assert c.slots["handoff_category"] == "network" and c.slots["handoff_tried"] is None
    assert c.slots["handoff_description"] == "Mein Internet ist sehr langsam"
    assert [a["feedback"] for a in c.slots["articles_shown"]] == ["not_solved"]
    # One verdict per article read: the second "no" adds no second feedback row.
    rows = search.query("SELECT article_id, helpful FROM article_feedback WHERE conversation_id = ?", "de-unresolved")
    assert [(r["article_id"], bool(r["helpful"])) for r in rows] == [("de-internet-langsam", False)]


async def test_not_solved_without_candidate_asks_one_clarifying_question(search):
    c = Conversation("en-clarify")
    await c.turn(ActionSearch(), "i got charged twice this month", "describe_problem")
    assert c.slots["flow"] == "feedback"
    # The other plausible hits were read already (shown earlier in the conversation): nothing
    # left to offer, so "not solved" must lead to one clarifying question.
    # (Listed before the article just shown, which stays the last one: "not solved" is about it.)
    shown = list(c.slots["articles_shown"])
    earlier = [
        {"article_id": h["article_id"], "title": h.get("title", ""), "feedback": "none"}
        for h in c.slots["last_search"]["hits"]
        if h["article_id"] not in {a["article_id"] for a in shown}
    ]
    c.slots["articles_shown"] = earlier + shown

    await c.turn(ActionNotSolved(), "no", "deny")
    assert c.slots["clarify_pending"] is True and c.slots["flow"] == "feedback"
    assert "what exactly happens" in c.text
    # The answer refines the previous description: both go into one query.
    await c.turn(
        ActionSearch(), "the same amount was taken from my bank account on the 1st and the 3rd", "describe_problem"
    )
    assert c.slots["last_search"]["query"].startswith("i got charged twice this month the same amount")
    assert c.slots["problem_texts"] == [
        "i got charged twice this month",
        "the same amount was taken from my bank account on the 1st and the 3rd",
    ]
    assert "en-unexpected-charge" not in [card["article_id"] for card in c.cards]  # rejected: never again


# -- robustness -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "👍", "<b></b>", "???"])
async def test_messages_without_words_get_a_rephrase_request(search, text):
    c = Conversation("nothing-to-search")
    await c.turn(ActionSearch(), text, "nlu_fallback")
    assert "describe your problem in a few words" in c.text
    assert FAILED_TEXT not in c.text


@pytest.mark.parametrize(
    "text",
    [
        "router " * 3000,  # 21 000 characters: bounded to the API's 2000
        "<script>alert('x')</script> mein WLAN bricht ab",  # markup is not part of the query
        "Mein WLAN is very slow since yesterday evening",  # mixed language
        '{"json": [1, 2]} \x00 \u202e weird',  # braces, NUL, bidi control
    ],
)
async def test_odd_messages_are_searched_without_breaking_the_turn(search, text):
    c = Conversation("odd")
    await c.turn(ActionSearch(), text, "nlu_fallback")
    assert c.messages and FAILED_TEXT not in c.text
    assert c.slots["flow"] in ("feedback", "offer_human", None)
    assert len(c.slots["last_search"]["query"]) <= 2000
    assert "<script>" not in c.slots["last_search"]["query"]


def pasted(text: str) -> dict:
    """A long message as the channel hands it on: NLU's start as the text, the whole in the metadata."""
    return {"text": nlu_text(text), "metadata": {"full_text": text, "language": "de"}}


async def test_a_long_paste_is_searched_by_its_start_and_kept_whole_for_the_ticket(search):
    whole = ("Seit dem Update stürzt Outlook beim Senden großer Anhänge mit einer Fehlermeldung ab. " * 100)[
        :7800
    ] + " Meine Kundennummer ist 4711-0815, was kann ich tun?"
    c = Conversation("long-paste")
    message = pasted(whole)
    assert len(message["text"]) <= 1000
    await c.user(message["text"], "describe_problem", metadata=message["metadata"]).run(ActionSearch())
    assert c.messages and FAILED_TEXT not in c.text
    assert c.slots["last_search"]["query"] == message["text"]  # searched by the start NLU got
    assert c.slots["problem_texts"] == [whole]

    await c.turn(ActionPrepareHandoff(), "Ich möchte mit einem Mitarbeiter sprechen", "request_human")
    assert c.slots["handoff_description"] == whole
    # The form takes the start NLU got; the validation keeps the customer's whole answer.
    tried = "Outlook neu installiert, das Profil neu angelegt und den Virenscanner abgeschaltet. " * 80
    tried = tried[:6000].rstrip()
    message = pasted(tried)
    assert validate("handoff_tried", message["text"], c, metadata=message["metadata"]) == {"handoff_tried": tried}

    c.slots.update(
        {
            "handoff_category": "email",
            "handoff_tried": tried,
            "handoff_urgency": "normal",
            "handoff_contact": "anna@example.com",
            "handoff_confirmed": True,
        }
    )
    c.user("ja", "affirm")
    await c.run(ActionSubmitHandoff())
    row = search.query("SELECT * FROM handoffs WHERE ticket_id = ?", c.slots["ticket_id"])[0]
    assert row["description"] == whole and row["tried"].startswith(tried)
    messages = search.query("SELECT text FROM handoff_messages WHERE handoff_id = ? AND sender = 'customer'", row["id"])
    assert [m["text"] for m in messages][:1] == [whole]  # the transcript: what the customer wrote


# -- degradation: search down or slow ------------------------------------------------------------------------


async def test_search_down_apologises_and_offers_a_person(backend_at, closed_port_url):
    backend_at(closed_port_url)
    c = Conversation("search-down", slots={"language": "de"})
    started = time.monotonic()
    await c.turn(ActionSearch(), "Mein Router blinkt rot", "describe_problem")
    assert time.monotonic() - started < 3
    assert "Wissensdatenbank gerade nicht erreichen" in c.text
    assert c.slots["flow"] == "offer_human" and c.slots["handoff_reason"] == "search_unavailable"
    assert c.payloads == ["/affirm", "/deny"]


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: a hanging search service."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


async def test_slow_search_times_out_quickly(backend_at, silent_server):
    backend_at(silent_server, timeout=0.5)
    c = Conversation("search-slow")
    started = time.monotonic()
    await c.turn(ActionSearch(), "my wifi keeps dropping", "describe_problem")
    assert time.monotonic() - started < 2
    assert "can't reach our knowledge base" in c.text
    assert c.slots["handoff_reason"] == "search_unavailable"


# -- the handoff form -------------------------------------------------------------------------------------------


def validate(slot: str, value, c: Conversation, intent: str = "inform", entities=None, metadata=None, dispatcher=None):
    c.user(value if isinstance(value, str) else "", intent, entities, metadata)
    form = ValidateHandoffForm()
    return getattr(form, f"validate_{slot}")(value, dispatcher or _Dispatcher(), c.tracker(), {})


async def validated(slot: str, value, c: Conversation, intent: str = "inform", entities=None, dispatcher=None):
    """``validate`` for the validators that search (coroutines)."""
    found = validate(slot, value, c, intent, entities, dispatcher=dispatcher)
    return await found if inspect.isawaitable(found) else found


class _Dispatcher:
    def __init__(self):
        self.messages = []

    def utter_message(self, **kwargs):
        self.messages.append(kwargs)


def test_contact_validation_accepts_email_and_phone_and_refuses_the_rest():
    c = Conversation("form", slots={"language": "de"})
    assert validate("handoff_contact", "max.mustermann@example.de", c) == {
        "handoff_contact": "max.mustermann@example.de"
    }
    assert validate("handoff_contact", "Sie erreichen mich unter +49 30 1234567", c) == {
        "handoff_contact": "+49 30 1234567"
    }
    assert validate("handoff_contact", "max@example", c) == {"handoff_contact": None}
    assert validate("handoff_contact", "12", c) == {"handoff_contact": None}
    assert find_contact("call me maybe") is None


async def test_category_and_urgency_from_buttons_or_words():
    c = Conversation("form")
    assert await validated("handoff_category", '/inform{"choice": "billing"}', c, entities=choice("billing")) == {
        "handoff_category": "billing"
    }
    assert await validated("handoff_category", "Es geht um meine Rechnung", c) == {"handoff_category": "billing"}
    assert await validated("handoff_category", "something strange", c) == {"handoff_category": "other"}
    assert validate("handoff_urgency", "/inform", c, entities=choice("critical")) == {"handoff_urgency": "critical"}
    assert validate("handoff_urgency", "dringend, das ganze Büro kann nicht arbeiten", c) == {
        "handoff_urgency": "high",
        "handoff_impact": "dringend, das ganze Büro kann nicht arbeiten",
    }


def test_the_description_keeps_a_long_paste_whole():
    assert description(["Internet langsam", "Router blinkt rot"]) == "Internet langsam / Router blinkt rot"
    paste = "Der Router startet ständig neu, Kundennummer 4711-0815. " * 125  # 7,000 characters
    assert description(["Internet langsam", paste, "seit gestern"]) == f"Internet langsam / {paste} / seit gestern"
    longer = paste + "x" * 990  # 7,990: the others do not fit beside it; the transcript has them
    assert description(["Internet langsam", longer, "Nummer 4711"]) == longer
    assert description(["Internet langsam", longer, "ok"]) == f"{longer} / ok"


def test_confirmation_can_change_a_field():
    c = Conversation("form")
    assert validate("handoff_confirmed", "/affirm", c, intent="affirm") == {"handoff_confirmed": True}
    assert validate("handoff_confirmed", "/deny", c, intent="deny") == {
        "handoff_confirmed": None,
        "handoff_fix_pending": True,
    }
    c.slots["handoff_fix_pending"] = True
    assert validate("handoff_confirmed", "/inform", c, entities=choice("fix_contact")) == {
        "handoff_contact": None,
        "handoff_confirmed": None,
        "handoff_fix_pending": False,
    }
    c.slots["handoff_fix_pending"] = False
    assert validate("handoff_confirmed", "meine Mail ist neu@example.de", c, intent="inform") == {
        "handoff_contact": "neu@example.de",
        "handoff_confirmed": None,
    }


async def test_request_for_a_human_without_history_asks_everything(search):
    c = Conversation("ask-all")
    await c.turn(ActionPrepareHandoff(), "Ich möchte mit einem Mitarbeiter sprechen", "request_human")
    assert c.slots["language"] == "de" and c.slots["handoff_reason"] == "customer_request"
    assert "Support-Team weiter" in c.text
    for slot in ("handoff_category", "handoff_description", "handoff_tried"):
        assert c.slots[slot] is None


# -- a person only when asked for; another language; how to reach the company --------------------------------


@pytest.mark.parametrize(
    "text, article",
    [
        ("I'd like to end my contract. How much notice do I have to give?", "en-cancel-contract"),
        ("Hallo, ich will meinen Vertrag kündigen, wie lange ist da die Frist?", "de-vertrag-kuendigen"),
    ],
)
async def test_a_question_taken_for_a_wish_for_a_person_is_searched(search, text, article):
    c = Conversation("not-a-person")
    await c.turn(ActionRequestHuman(), text, "request_human")
    assert "support team" not in c.text and "Support-Team" not in c.text  # no handoff intro
    assert c.slots["flow"] in ("feedback", None) and c.slots["handoff_reason"] is None
    offered = [card["article_id"] for card in c.cards] + [
        p.split("article:")[1].rstrip('"}') for p in c.payloads if "article:" in p
    ]
    assert article in offered, c.text
    assert c.returned[-1]["name"] == "flow"  # the rules see the flow it leaves


async def test_a_person_asked_for_starts_the_handoff(search):
    c = Conversation("person")
    await c.turn(ActionRequestHuman(), "can someone call me back, my router keeps restarting", "request_human")
    assert c.slots["flow"] == "handoff" and c.slots["handoff_reason"] == "customer_request"
    assert c.slots["handoff_description"] == "my router keeps restarting" and not c.cards


async def test_a_person_asked_for_inside_a_problem_description_starts_the_form_at_once(search):
    c = Conversation("person-in-problem")
    await c.turn(
        ActionSearch(),
        "Kann mich bitte jemand zurückrufen? Outlook verschickt seit heute früh keine "
        "Mails mehr, Passwort hab ich schon geändert",
        "describe_problem",
    )
    assert not c.cards and "Support-Team weiter" in c.text
    assert c.returned[-1] == {**c.returned[-1], "event": "followup", "name": "handoff_form"}
    assert c.slots["flow"] == "handoff" and c.slots["handoff_reason"] == "customer_request"
    assert (
        c.slots["handoff_description"] == "Outlook verschickt seit heute früh keine Mails mehr, "
        "Passwort hab ich schon geändert"
    )
    assert c.slots["handoff_tried"] == "Passwort hab ich schon geändert"
    # A problem that mentions people but asks for none is searched.
    c = Conversation("colleague")
    await c.turn(ActionSearch(), "my colleague can't send emails since this morning, error 535", "describe_problem")
    assert c.cards or c.slots["flow"] != "handoff"


async def test_the_hotline_and_its_hours_come_from_the_deployment_not_an_article(search):
    c = Conversation("contact", slots={"language": "en"})
    await c.turn(
        ActionSearch(), "Wie erreiche ich euch telefonisch und ist die Hotline auch nachts besetzt?", "describe_problem"
    )
    values = profile.values("de")
    assert values["hotline"] and values["hours"] and values["support_email"]
    assert not c.cards and "/articles/" not in c.text
    assert f"telefonisch unter {values['hotline']} ({values['hours']})" in c.text
    assert values["support_email"] in c.text and c.slots["language"] == "de"
    c = Conversation("contact-en")
    await c.turn(ActionContact(), "what's the support email?", "ask_contact")
    assert profile.values("en")["support_email"] in c.text and "phone" in c.text and not c.cards


async def test_a_phone_problem_taken_for_a_contact_question_is_searched(search):
    c = Conversation("contact-not", slots={"language": "en"})
    await c.turn(ActionContact(), "my landline phone has no dial tone", "ask_contact")
    hotline = profile.values("en")["hotline"]
    assert hotline and hotline not in c.text and c.slots["flow"] == "offer_human"  # searched: no article for it


async def test_without_a_hotline_or_address_the_bot_says_so(search, monkeypatch):
    monkeypatch.setattr(profile, "values", lambda lang: {"hotline": "", "hours": "", "support_email": ""})
    c = Conversation("contact-none", slots={"language": "en"})
    await c.turn(ActionContact(), "what's your hotline number?", "ask_contact")
    assert "no phone number or e-mail address" in c.text and "describe your problem here" in c.text


async def test_a_request_for_another_language_switches_and_confirms_in_it(search):
    c = Conversation("switch", slots={"language": "en", "flow": "offer_human"})
    await c.turn(ActionRequestHuman(), "können wir bitte auf deutsch weitermachen?", "request_human")
    assert c.slots["language"] == "de" and "ab jetzt schreibe ich auf Deutsch" in c.text
    # The question the bot waits for, again in the new language.
    assert "Soll ich Ihr Anliegen" in c.text and c.slots["flow"] == "offer_human"
    await c.turn(ActionSwitchLanguage(), "can we continue in English please", "switch_language")
    assert c.slots["language"] == "en" and "from now on I'll write in English" in c.text
    # Asked for, the language stays, whatever the next message is written in.
    await c.turn(
        ActionSearch(), "Wo finde ich die Rechnung vom letzten Monat als PDF für die Steuer?", "describe_problem"
    )
    assert c.slots["language"] == "en" and ("This article should help" in c.text or "Did you mean" in c.text)
    await c.turn(ActionSearch(), "auf französisch bitte", "nlu_fallback")
    assert c.slots["language"] == "en" and "only help in English and German" in c.text


async def test_two_problems_in_one_message_one_answered_the_other_offered_next(search):
    c = Conversation("two-problems", slots={"language": "de"})
    await c.turn(
        ActionSearch(),
        "Hallo, meine Mails landen bei den Empfängern ständig im Spam. Außerdem wollte "
        "ich fragen, wo ich die Rechnung vom letzten Monat als PDF herunterladen kann",
        "describe_problem",
    )
    assert [card["article_id"] for card in c.cards] == ["de-mail-spam"]
    assert "außerdem nach „wo ich die Rechnung vom letzten Monat als…“ gefragt" in c.text
    assert '/inform{"choice": "next_problem"}' in c.payloads and c.slots["problem_texts"] == [
        "Hallo, meine Mails landen bei den Empfängern ständig im Spam"
    ]
    await c.turn(ActionSolved(), "/affirm", "affirm")  # solved: the other one is offered again
    assert c.payloads == ['/inform{"choice": "next_problem"}']
    await c.turn(ActionSearch(), '/inform{"choice": "next_problem"}', "inform", choice("next_problem"))
    assert [card["article_id"] for card in c.cards] == ["de-rechnung-herunterladen"]
    assert c.slots["next_problem"] is None and len(c.slots["problem_texts"]) == 1


# -- the handoff form asks only what it does not know -----------------------------------------------------------


async def test_a_problem_typed_at_the_first_question_is_searched_and_kept_as_the_description(search):
    c = Conversation("form-typed", slots={"language": "en", "flow": "handoff", "requested_slot": "handoff_category"})
    dispatcher = _Dispatcher()
    slots = await validated(
        "handoff_category",
        "my emails end up in spam all the time, checked the filter already",
        c,
        "nlu_fallback",
        dispatcher=dispatcher,
    )
    card = dispatcher.messages[0]["json_message"]["data"]
    assert card["article_id"] == "en-mail-spam" and "pass it on to a person" in card["question"]
    assert [b["payload"] for b in card["buttons"]] == ["/affirm", "/deny"]
    # The form pauses for the answer (flow feedback); the text is the description either way.
    assert slots["requested_slot"] is None and slots["flow"] == "feedback" and slots["unresolved_count"] == 1
    assert slots["problem_texts"] == ["my emails end up in spam all the time, checked the filter already"]
    assert slots["handoff_tried"] == "checked the filter already"
    c.slots.update(slots)
    await c.turn(ActionNotSolved(), "/deny", "deny")  # "on to a person": the form goes on
    assert c.slots["flow"] == "handoff" and c.slots["handoff_category"] == "email"
    assert c.slots["handoff_description"].startswith("my emails end up in spam")


async def test_a_problem_the_kb_does_not_answer_goes_on_with_its_topic(search):
    c = Conversation("form-typed-none", slots={"language": "de", "flow": "handoff"})
    dispatcher = _Dispatcher()
    slots = await validated(
        "handoff_category",
        "Word zeigt beim Öffnen den Fehler OFF-5015 und schließt sich",
        c,
        "nlu_fallback",
        dispatcher=dispatcher,
    )
    if dispatcher.messages:  # the service may answer it: then the form pauses, as above
        assert slots["requested_slot"] is None
        return
    assert slots["handoff_category"] == "software"
    assert slots["handoff_description"] == "Word zeigt beim Öffnen den Fehler OFF-5015 und schließt sich"


async def test_a_request_for_another_language_inside_the_form_asks_again_in_it(search):
    c = Conversation("form-lang", slots={"language": "de", "flow": "handoff", "requested_slot": "handoff_tried"})
    c.user("can we continue in English please", "switch_language")
    dispatcher = _Dispatcher()
    events = await ValidateHandoffForm().run(dispatcher, c.tracker(), {})
    assert {(e["name"], e["value"]) for e in events} == {
        ("handoff_tried", None),
        ("language", "en"),
        ("language_chosen", True),
    }
    assert "from now on I'll write in English" in dispatcher.messages[0]["text"]


async def test_topic_and_what_was_tried_come_from_the_conversation(search):
    c = Conversation("prefill")
    await c.turn(
        ActionSearch(),
        "Guten Morgen, seit gestern Abend geht das Internet nicht, Router schon zweimal "
        "neu gestartet, die LED leuchtet rot",
        "describe_problem",
    )
    assert c.cards
    await c.turn(ActionRequestHuman(), "ich möchte bitte mit einem Mitarbeiter sprechen", "request_human")
    assert c.slots["handoff_category"] == "network"
    assert c.slots["handoff_tried"] == "Router schon zweimal neu gestartet"
    assert c.slots["handoff_description"].startswith("Guten Morgen, seit gestern Abend")


async def test_solved_ends_the_problem_and_a_paused_handoffs_summary(search):
    c = Conversation(
        "solved-clears",
        slots={
            "language": "en",
            "flow": "feedback",
            "handoff_tried": "restarted",
            "problem_texts": ["my emails end up in spam"],
        },
    )
    await c.turn(ActionSolved(), "/affirm", "affirm")
    assert c.slots["handoff_tried"] is None and c.slots["problem_texts"] == [] and c.slots["flow"] is None


# -- submitting the handoff ----------------------------------------------------------------------------------------


def filled(c: Conversation, contact: str = "anna@example.com") -> Conversation:
    c.slots.update(
        {
            "language": "en",
            "handoff_reason": "unresolved",
            "handoff_category": "email",
            "handoff_product": "Webmail",
            "handoff_description": "Outlook cannot send mail",
            "handoff_tried": "restarted Outlook",
            "handoff_urgency": "high",
            "handoff_impact": "whole office",
            "handoff_contact": contact,
            "handoff_confirmed": True,
            "articles_shown": [
                {"article_id": "en-mail-spam", "title": "Spam", "score": 0.7, "url": "", "feedback": "not_solved"}
            ],
        }
    )
    return c


async def test_confirmed_summary_is_shown_in_the_customers_language(search):
    c = filled(Conversation("summary"))
    c.slots["language"] = "de"
    c.slots["handoff_confirmed"] = None
    await c.user("x@y.de", "inform").run(ActionAskHandoffConfirmed())
    assert "Thema: " in c.text and " (Webmail)" in c.text
    assert "Bereits versucht: restarted Outlook. Vom Bot gezeigte Artikel: „Spam“ (nicht gelöst)" in c.text
    assert "Dringlichkeit: Hoch – ich kann nicht arbeiten – whole office" in c.text
    assert c.payloads == ["/affirm", "/deny"]


async def test_handoff_is_stored_once_and_the_ticket_shown(search):
    c = filled(Conversation("handoff-store"))
    c.user("I have a problem with Outlook", "describe_problem")
    sent_events = list(c.events)
    await c.run(ActionSubmitHandoff())
    ticket = c.slots["ticket_id"]
    assert ticket and ticket.startswith("HD-")
    assert ticket in c.text and "will get back to you" in c.text
    assert not any(m.get("custom") for m in c.messages)  # no chat key outside the web chat
    assert c.slots["handoff_count"] == 1
    assert c.slots["handoff_contact"] == "anna@example.com"  # kept for a later ticket
    assert c.slots["handoff_description"] is None

    row = search.query("SELECT * FROM handoffs WHERE ticket_id = ?", ticket)[0]
    assert row["idempotency_key"] == idempotency_key("handoff-store", 1)
    assert (row["language"], row["reason"], row["category"], row["urgency"]) == ("en", "unresolved", "email", "high")
    assert row["description"] == "Outlook cannot send mail" and row["contact_email"] == "anna@example.com"
    assert row["channel"] == "rest" and row["conversation_id"] == "handoff-store"
    articles = search.query("SELECT article_id, feedback FROM handoff_articles WHERE handoff_id = ?", row["id"])
    assert [(a["article_id"], a["feedback"]) for a in articles] == [("en-mail-spam", "not_solved")]

    # The same request again (a retry after a lost answer) gives the same ticket, not a second one.
    replay = filled(Conversation("handoff-store"))
    replay.events, replay.latest = sent_events, c.latest
    await replay.run(ActionSubmitHandoff())
    assert replay.slots["ticket_id"] == ticket
    assert len(search.query("SELECT id FROM handoffs WHERE conversation_id = ?", "handoff-store")) == 1


async def test_web_chat_handoff_sends_the_chat_key_and_button_titles(search):
    """The chat page gets the ticket's own chat key (not the sender id); the transcript shows what the
    customer clicked as the button's title, not its payload."""
    import hashlib

    c = filled(Conversation("0123456789abcdef0123456789abcdef", channel="socketio"))
    c.events.append(
        {
            "event": "bot",
            "text": "Did this solve it?",
            "timestamp": time.time(),
            "data": {
                "buttons": [{"title": "No, still broken", "payload": "/deny"}, {"title": "Yes", "payload": "/affirm"}]
            },
        }
    )
    c.user("/deny", "deny")
    await c.run(ActionSubmitHandoff())
    custom = [m["custom"] for m in c.messages if m.get("custom")]
    assert len(custom) == 1
    handoff = custom[0]["data"]["helpdesk_chat"]
    assert handoff["ticket_id"] == c.slots["ticket_id"] and handoff["key"].startswith("hdck_")
    row = search.query("SELECT * FROM handoffs WHERE ticket_id = ?", c.slots["ticket_id"])[0]
    assert row["chat_key_hash"] == hashlib.sha256(handoff["key"].encode()).hexdigest()
    texts = [
        m["text"]
        for m in search.query("SELECT text FROM handoff_messages WHERE handoff_id = ? ORDER BY position", row["id"])
    ]
    assert "No, still broken" in texts and "/deny" not in texts


async def test_a_click_on_an_answer_cards_button_reaches_the_ticket_as_its_title(search):
    """The solved / not-solved buttons come with the answer card, not as a text's buttons: the
    transcript shows the click as "No, not solved" and keeps the buttons the card offered."""
    c = Conversation("card-click")
    await c.turn(ActionSearch(), "my emails end up in the spam folder", "describe_problem")
    assert c.payloads == ["/affirm", "/deny"] and len(c.cards) == 1
    await c.turn(ActionNotSolved(), "/deny", "deny")
    c = filled(c)
    await c.run(ActionSubmitHandoff())
    row = search.query("SELECT id FROM handoffs WHERE ticket_id = ?", c.slots["ticket_id"])[0]
    stored = search.query(
        "SELECT sender, text, buttons FROM handoff_messages WHERE handoff_id = ? ORDER BY position", row["id"]
    )
    texts = [m["text"] for m in stored]
    assert "No, not solved" in texts and "/deny" not in texts
    card = next(m for m in stored if m["sender"] == "bot" and m["buttons"])
    assert json.loads(card["buttons"]) == [
        {"title": "Yes, solved", "payload": "/affirm"},
        {"title": "No, not solved", "payload": "/deny"},
    ]


async def test_privacy_note_with_the_policy_link_comes_once_right_before_the_contact_question(search):
    c = Conversation("privacy-note", slots={"language": "de"})
    await c.user("Bitte einen Menschen", "inform").run(ActionAskHandoffContact())
    policy = "https://www.nordwind.example/privacy"  # config/deployment.yml's urls.privacy_policy
    assert [m["text"].split(":")[0] for m in c.messages] == [
        "Datenschutz",
        "Wie kann unser Support-Team Sie erreichen? Bitte geben Sie eine E-Mail-Adresse oder eine Telefonnummer an.",
    ]
    assert c.messages[0]["text"].endswith(f"Mehr dazu: {policy}") and "Löschung" in c.messages[0]["text"]
    # Asked again (an invalid answer, or "change the contact" in the summary): no second note.
    await c.user("keine ahnung", "inform").run(ActionAskHandoffContact())
    assert len(c.messages) == 1 and c.messages[0]["text"].startswith("Wie kann unser Support-Team")
    english = Conversation("privacy-note-en", slots={"language": "en"})
    await english.user("a human please", "inform").run(ActionAskHandoffContact())
    assert english.messages[0]["text"].startswith("Privacy: your contact details and this conversation")
    assert english.messages[0]["text"].endswith(f"Details: {policy}") and "How can our support team" in english.text


async def test_contact_refused_by_the_ticket_system_is_asked_again(search):
    c = filled(Conversation("handoff-422"), contact="not a contact")
    c.user("yes", "affirm")
    await c.run(ActionSubmitHandoff())
    assert c.slots["ticket_id"] is None
    assert c.slots["flow"] == "handoff" and c.slots["handoff_contact"] is None
    assert "did not accept that contact" in c.text


class _Failing(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self):
        type(self).calls += 1
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def failing_store():
    _Failing.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_handoff_store_failing_is_retried_and_never_claimed(backend_at, failing_store):
    backend_at(failing_store)
    c = filled(Conversation("handoff-503"))
    c.slots["language"] = "de"
    c.user("ja", "affirm")
    await c.run(ActionSubmitHandoff())
    assert _Failing.calls == 3
    assert c.slots["ticket_id"] is None
    assert "kein Ticket angelegt" in c.text
    assert "Ticketnummer" not in c.text
    # The summary is kept: asking again later submits it without asking everything again.
    assert c.slots["handoff_description"] == "Outlook cannot send mail" and c.slots["handoff_confirmed"] is None


async def test_handoff_with_search_api_down_is_never_claimed(backend_at, closed_port_url):
    backend_at(closed_port_url)
    c = filled(Conversation("handoff-down"))
    c.user("yes", "affirm")
    await c.run(ActionSubmitHandoff())
    assert c.slots["ticket_id"] is None and "no ticket was created" in c.text


def test_idempotency_key_is_stable_and_valid():
    key = idempotency_key("a sender id with spaces and ü", 2)
    assert key == idempotency_key("a sender id with spaces and ü", 2) != idempotency_key("other", 2)
    assert 8 <= len(key) <= 200 and all(0x21 <= ord(ch) <= 0x7E for ch in key)
    assert key != idempotency_key("a sender id with spaces and ü", 3)


async def test_concurrent_searches_share_one_client(search):
    conversations = [Conversation(f"parallel-{i}") for i in range(8)]
    await asyncio.gather(
        *(c.turn(ActionSearch(), "my router shows a red light", "describe_problem") for c in conversations)
    )
    assert all(c.slots["flow"] in ("feedback", "offer_human", None) for c in conversations)
    assert all(FAILED_TEXT not in c.text for c in conversations)


class _ReplicaGoneOnce(BaseHTTPRequestHandler):
    """A proxy whose first replica went away mid-request (502), then one that answers."""

    calls = 0

    def do_POST(self):
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"lang": "en", "decision": "none", "answerable": false, "hits": []}'
        self.send_response(502 if type(self).calls == 1 else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def test_search_is_tried_once_more_when_a_replica_went_away(backend_at, failing_store):
    _ReplicaGoneOnce.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReplicaGoneOnce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = await backend_at(f"http://127.0.0.1:{server.server_address[1]}").search("wifi drops")
        assert result["decision"] == "none" and _ReplicaGoneOnce.calls == 2
    finally:
        server.shutdown()
    # A service that keeps failing: two tries, then the bot says search is unavailable.
    _Failing.calls = 0
    with pytest.raises(SearchUnavailable):
        await backend_at(failing_store).search("wifi drops")
    assert _Failing.calls == 2
