"""The dialogue's decisions on a search result (actions/answers.py) and the summary's parts
(actions/handoff.py) as plain functions: vague or not, which buttons, never a rejected article,
the problem inside a request for a person, "already tried" without duplicates."""

from __future__ import annotations

import pytest

from actions import answers
from actions.handoff import problem_part, shown_category, tried_text


def hit(article_id, category, product=None, score=0.9, **extra):
    return {
        "article_id": article_id,
        "title": article_id.replace("-", " "),
        "category": category,
        "product": product,
        "score": score,
        "snippet": f"snippet of {article_id}",
        "url": f"/a/{article_id}",
        **extra,
    }


def result(hits, answerable=True, threshold=0.5, **extra):
    return {"lang": "en", "answerable": answerable, "threshold": threshold, "hits": hits, **extra}


@pytest.mark.parametrize(
    "text, vague",
    [
        ("internet kaputt!!!", True),
        ("wifi not working", True),
        ("Frage zur Rechnung", True),
        ("office is broken", True),
        ("Emails gehen nicht", True),
        ("OFF-1040", False),
        ("error 535", False),
        ("my emails end up in the spam folder", False),
        ("router blinkt rot, kein internet seit heute morgen", False),
    ],
)
def test_vague_messages_name_a_thing_but_not_what_is_wrong(text, vague):
    assert answers.is_vague(text, answers.ANSWER) is vague


def test_two_content_words_are_vague_only_when_the_search_found_several_possible_articles():
    assert not answers.is_vague("Mein Internet ist sehr langsam", answers.ANSWER)
    assert answers.is_vague("Mein Internet ist sehr langsam", answers.SUGGEST)
    assert not answers.is_vague("Wie backe ich einen Kuchen?", answers.NONE)


def test_decision_falls_back_to_answerable_and_passage_to_snippet():
    assert answers.decision({"answerable": True}) == answers.ANSWER
    assert answers.decision({"answerable": False}) == answers.NONE
    assert answers.decision({"answerable": True, "decision": "suggest"}) == answers.SUGGEST
    assert answers.passage(hit("a", "x"))["markdown"] == "snippet of a"
    with_answer = hit("a", "x", answer={"markdown": "1. Do this", "text": "Do this", "section": "Steps", "url": "/a#s"})
    assert answers.passage(with_answer) == {
        "markdown": "1. Do this",
        "text": "Do this",
        "section": "Steps",
        "url": "/a#s",
    }


def test_a_vague_message_over_several_categories_gets_topic_buttons_from_the_hits():
    hits = [hit("reset", "billing", "Account"), hit("send", "email", "Mail"), hit("spam", "email", "Mail")]
    step = answers.plan(result(hits), "Emails gehen nicht", [], {"email": "E-Mail"}, may_clarify=True)
    assert step.kind == "clarify"
    assert [(t.label, t.key) for t in step.topics] == [("Billing", "topic:billing"), ("E-Mail", "topic:email")]
    assert step.topics[1].payload() == '/inform{"choice": "topic:email"}'


def test_a_described_problem_gets_the_options_not_a_topic_question():
    """Options over several topics for a message that says what is wrong: the articles are shown."""
    hits = [hit("red-led", "network", "DSL"), hit("wifi-drops", "wifi", "DSL"), hit("leds", "hardware", "DSL")]
    text = "hallo, bei der nordwindbox ist das licht bei internet rot, die handys sind im wlan aber nix laedt"
    step = answers.plan(result(hits, decision="suggest"), text, [], {}, may_clarify=True)
    assert step.kind == "suggest" and [h["article_id"] for h in step.hits] == ["red-led", "wifi-drops", "leds"]
    short = answers.plan(result(hits, decision="suggest"), "Frage zu Router und WLAN", [], {}, may_clarify=True)
    assert short.kind == "clarify"


def test_one_category_with_several_products_asks_for_the_product():
    hits = [hit("internet-dsl", "network", "DSL", 0.4), hit("internet-fiber", "network", "Fiber", 0.4)]
    step = answers.plan(result(hits, answerable=False), "internet kaputt", [], {}, may_clarify=True)
    assert step.kind == "clarify" and [t.key for t in step.topics] == ["product:DSL", "product:Fiber"]


def test_products_are_not_asked_for_when_the_service_found_plausible_articles():
    # "wifi not working": two Wi-Fi articles filed under different products. The articles
    # are the question; "DSL or Fiber?" is not what the customer can answer best.
    hits = [hit("wifi-drops", "network", "DSL"), hit("router", "network", "DSL"), hit("mesh", "network", "Fiber")]
    for verdict in (answers.SUGGEST, answers.ANSWER):
        step = answers.plan(result(hits, decision=verdict), "wifi not working", [], {}, may_clarify=True)
        assert step.kind == answers.SUGGEST and [h["article_id"] for h in step.hits] == ["wifi-drops", "router", "mesh"]


def test_one_topic_several_articles_is_a_list_not_a_guess():
    hits = [hit("crash", "software", "Office"), hit("update", "software", "Office"), hit("x", "software", "Office")]
    step = answers.plan(result(hits), "office is broken", [], {}, may_clarify=True)
    assert step.kind == answers.SUGGEST and [h["article_id"] for h in step.hits] == ["crash", "update", "x"]


def test_a_vague_message_the_kb_is_about_gets_a_list_even_when_no_article_is_sure():
    hits = [
        hit("office-crash", "software", "Office", 0.3),
        hit("office-update", "software", "Office", 0.3),
        hit("office-install", "software", "Office", 0.2),
    ]
    step = answers.plan(result(hits, answerable=False, decision="none"), "office is broken", [], {}, may_clarify=True)
    assert step.kind == answers.SUGGEST and [h["article_id"] for h in step.hits] == [
        "office-crash",
        "office-update",
        "office-install",
    ]
    # Once the customer answered the one question, "none" is the honest answer again.
    step = answers.plan(result(hits, answerable=False, decision="none"), "office is broken", [], {}, may_clarify=False)
    assert step.kind == answers.NONE


def test_after_the_one_question_the_bot_answers():
    hits = [hit("reset", "billing"), hit("send", "email")]
    step = answers.plan(result(hits), "Emails gehen nicht", [], {}, may_clarify=False)
    assert step.kind == answers.ANSWER and step.hits[0]["article_id"] == "reset"


def test_a_chosen_topic_narrows_the_hits():
    hits = [hit("reset", "billing"), hit("send", "email"), hit("spam", "email", score=0.4)]
    topic = answers.Topic("email", None, "E-Mail")
    step = answers.plan(result(hits), "Emails gehen nicht E-Mail", [], {}, may_clarify=False, topic=topic)
    assert step.kind == answers.SUGGEST and [h["article_id"] for h in step.hits] == ["send"]


def test_a_rejected_article_is_never_shown_again_and_the_bot_says_why():
    hits = [hit("slow", "network"), hit("dns", "network", score=0.6), hit("weak", "network", score=0.1)]
    step = answers.plan(result(hits), "my internet is still slow today", ["slow"], {}, may_clarify=False)
    assert step.kind == answers.SUGGEST and [h["article_id"] for h in step.hits] == ["dns"]
    assert [h["article_id"] for h in step.skipped] == ["slow"]
    only = answers.plan(result(hits[:1] + hits[2:]), "my internet is still slow today", ["slow"], {}, False)
    assert only.kind == "rejected_only" and only.hits == []
    # The service is sure of the rejected article and gives the others no real chance: no list of guesses.
    sure = [
        hit("slow", "network", confidence=0.99),
        hit("box", "network", confidence=0.02),
        hit("red-led", "network", confidence=0.01),
    ]
    step = answers.plan(result(sure, decision="answer"), "my internet is slow, box 7, 20 mbit", ["slow"], {}, False)
    assert step.kind == "rejected_only" and [h["article_id"] for h in step.skipped] == ["slow"]


def test_no_answer_stays_no_answer():
    step = answers.plan(
        result([hit("a", "x", score=0.1)], answerable=False), "can I get a static IP address", [], {}, may_clarify=True
    )
    assert step.kind == answers.NONE


def test_topic_from_choice_only_accepts_what_was_offered():
    offered = [{"category": "email", "product": None, "label": "E-Mail"}]
    assert answers.topic_from_choice("topic:email", offered).label == "E-Mail"
    assert answers.topic_from_choice("topic:billing", offered) is None
    assert answers.topic_from_choice(None, offered) is None


@pytest.mark.parametrize(
    "text, problem",
    [
        ("I want to talk to a human, the office program crashes on start", "the office program crashes on start"),
        ("kann mich jemand zurueckrufen? meine rechnung stimmt nicht", "meine rechnung stimmt nicht"),
        ("ich will jetzt sofort mit nem echten mitarbeiter reden. keine lust auf chatbot", ""),
        ("talk to a human", ""),
    ],
)
def test_the_problem_inside_a_request_for_a_person(text, problem):
    assert problem_part(text) == problem


def test_tried_lists_each_article_once_with_its_latest_verdict_after_the_customers_words():
    shown = [
        {"article_id": "a", "title": "Slow internet", "feedback": "none"},
        {"article_id": "b", "title": "DNS", "feedback": "not_relevant"},
        {"article_id": "a", "title": "Slow internet", "feedback": "not_solved"},
    ]
    text = tried_text("restarted the router", shown, "en")
    assert text.startswith("restarted the router. ")
    assert text.count("Slow internet") == 1 and '"Slow internet" (not solved)' in text
    assert '"DNS" (not what I meant)' in text
    assert tried_text(None, [], "de") == ""
    assert "„Slow internet“ (nicht gelöst)" in tried_text("nichts", shown, "de")


def test_an_article_passed_over_in_a_list_comes_back_only_as_the_clear_answer_with_a_reason():
    hits = [hit("wifi", "network"), hit("router", "network", score=0.6)]
    again = answers.plan(result(hits), "the wifi drops every few minutes upstairs", [], {}, False, dismissed=["wifi"])
    assert again.kind == "answer_again" and again.hits[0]["article_id"] == "wifi"
    unsure = answers.plan(result(hits, decision="suggest"), "the wifi drops", [], {}, False, dismissed=["wifi"])
    assert unsure.kind == answers.SUGGEST and [h["article_id"] for h in unsure.hits] == ["router"]
    read = answers.plan(
        result(hits), "the wifi drops every few minutes upstairs", ["wifi"], {}, False, dismissed=["wifi"]
    )
    assert read.kind == answers.SUGGEST and read.skipped[0]["article_id"] == "wifi"  # "not solved" wins


def test_a_vague_message_about_something_the_kb_does_not_mention_is_refused_not_asked():
    hits = [hit("invoice", "billing", "Account", 0.3), hit("widget", "shop-chat", "Shop", 0.3)]
    step = answers.plan(result(hits, answerable=False), "Gibt es einen Studentenrabatt?", [], {}, may_clarify=True)
    assert step.kind == answers.NONE
    hits = [hit("router-no-internet", "network", "DSL", 0.3), hit("slow-internet", "network", "Fiber", 0.3)]
    step = answers.plan(result(hits, answerable=False), "internet kaputt!!!", [], {}, may_clarify=True)
    assert step.kind == "clarify"


def test_after_not_solved_only_a_plausible_next_article_is_offered():
    sure = [
        hit("wifi-drops", "network", confidence=0.99),
        hit("mesh", "network", confidence=0.0001),
        hit("slow", "network", confidence=0.00005),
    ]
    # The service was sure of the first; the others are guesses: ask for details instead.
    assert answers.next_after_rejection(result(sure, decision="answer"), ["wifi-drops"]) is None
    sure[1]["confidence"] = 0.3
    assert answers.next_after_rejection(result(sure, decision="answer"), ["wifi-drops"])["article_id"] == "mesh"
    # Picked from a list: the customer saw the others there, so no repeat of the list.
    listed = [hit("crash", "software", confidence=0.2), hit("new-pc", "software", confidence=0.18)]
    assert answers.next_after_rejection(result(listed, decision="suggest"), ["crash"]) is None
    assert answers.next_after_rejection(result(listed, decision="none"), ["crash"]) is None
    # An older service without confidences: its threshold, as before.
    old = [hit("a", "x", score=0.9), hit("b", "x", score=0.7), hit("c", "x", score=0.3)]
    assert answers.next_after_rejection(result(old), ["a"])["article_id"] == "b"


def test_one_clear_leader_among_topics_is_a_suggestion_not_a_question_of_topic():
    # "I'd like to end my contract. How much notice do I have to give?": the contract article and
    # two the service gives no real chance, from other topics.
    hits = [
        hit("cancel-contract", "billing", confidence=0.62),
        hit("move", "network", confidence=0.007),
        hit("offline", "shop-chat", confidence=0.005),
    ]
    step = answers.plan(
        result(hits, decision="suggest"), "how much notice do I have to give for my contract", [], {}, may_clarify=True
    )
    assert step.kind == answers.SUGGEST and [h["article_id"] for h in step.hits] == ["cancel-contract"]
    # Two plausible articles of two topics are still a question of topic.
    hits[1]["confidence"] = 0.3
    step = answers.plan(
        result(hits, decision="suggest"), "how much notice do I have to give for my contract", [], {}, may_clarify=True
    )
    assert step.kind == "clarify"


def test_the_category_a_search_points_to_without_an_answer():
    same = [hit("codes", "software", confidence=0.05), hit("crash", "software", confidence=0.03)]
    assert answers.likely_category(result(same, decision="none")) == "software"
    leader = [hit("codes", "software", confidence=0.23), hit("slow", "network", confidence=0.01)]
    assert answers.likely_category(result(leader, decision="none")) == "software"
    leader[0]["confidence"] = 0.05
    assert answers.likely_category(result(leader, decision="none")) is None
    assert answers.likely_category({}) is None


def test_the_handoffs_topic_comes_from_the_articles_shown_for_the_open_problem():
    shown = [
        {"article_id": "spam", "category": "email", "feedback": "solved"},
        {"article_id": "slow", "category": "network", "feedback": "not_solved"},
        {"article_id": "invoice", "category": "billing", "feedback": "not_relevant"},
    ]
    assert shown_category(shown) == "network"
    assert shown_category(shown[:1]) is None  # it solved an earlier problem
    assert shown_category([]) is None
