"""What a message asks of the conversation itself (actions/wishes.py), as plain functions: a person
only in so many words, another language, how to reach the company, what was already tried."""

from __future__ import annotations

import pytest

from actions import wishes


@pytest.mark.parametrize(
    "text",
    [
        "I'd like to end my contract. How much notice do I have to give?",
        "is something going on with your network in berlin mitte? my neighbour and me both lost internet",
        "our shoptalk chat bubble vanished from the shop, already cleared the cache",
        "can i get a refund if my internet was down for two days?",
        "Ich möchte kündigen, wie lange ist die Frist?",
        "Wie erreiche ich euch telefonisch und ist die Hotline auch nachts besetzt?",
        "können wir bitte auf deutsch weitermachen?",
    ],
)
def test_a_question_that_names_no_person_is_no_wish_for_one(text):
    assert not wishes.wants_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human, the office program crashes on start",
        "can someone call me back?",
        "open a ticket",
        "kann mich jemand zurueckrufen? meine rechnung stimmt nicht",
        "mitarbeiter bitte",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "no bot please, i want a person",
        "pls connect me to support",
        "Bitte an den Support weiterleiten",
        "kann ich mit jemandem telefonieren",
        "rufen sie mich bitte zurück",
        "ich will keinen bot sondern einen menschen",
        "get me a live agent",
        "transfer me to customer service",
        "/request_human",
    ],
)
def test_a_person_asked_for_in_everyday_words(text):
    assert wishes.wants_person(text)


@pytest.mark.parametrize(
    "text, lang",
    [
        ("können wir bitte auf deutsch weitermachen?", "de"),
        ("can we continue in English please", "en"),
        ("English?", "en"),
        ("auf deutsch bitte", "de"),
        ("sprechen Sie Deutsch?", "de"),
        ("can we switch from german to english", "en"),
        ("Koennen wir von Englisch auf Deutsch wechseln", "de"),
        ("auf französisch bitte", "other"),
        ("Word zeigt die Menüs auf Englisch statt Deutsch an", None),
        ("kann ich die Sprache von Office auf Deutsch umstellen?", None),
        ("my router manual is only in german, where can I get an english one", None),
        ("mein Internet geht nicht", None),
    ],
)
def test_a_request_to_go_on_in_another_language(text, lang):
    assert wishes.language_asked(text) == lang


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("Wie erreiche ich euch telefonisch und ist die Hotline auch nachts besetzt?", {"phone", "hours"}),
        ("what's your hotline number?", {"phone"}),
        ("what is the email address of your support?", {"email"}),
        ("wann seid ihr erreichbar?", {"hours"}),
        ("an welche Mailadresse kann ich euch schreiben?", {"email"}),
        ("Ihre E-Mail-Adresse ist falsch hinterlegt", set()),
        ("I called your hotline three times and my internet is still down, what now?", set()),
        ("how do I change my email address?", set()),
        ("my emails do not arrive, can you help?", set()),
        ("is port 587 open?", set()),
    ],
)
def test_a_question_how_to_reach_the_company(text, kinds):
    assert wishes.contact_asked(text) == kinds


@pytest.mark.parametrize(
    "texts, tried",
    [
        (
            ["Hallo, seit gestern kein Internet, router schon neu gestartet, was kann ich tun?"],
            "router schon neu gestartet",
        ),
        (
            ["our chat bubble vanished. already cleared the cache and tried another browser"],
            "already cleared the cache and tried another browser",
        ),
        (["my emails end up in spam, checked the filter already"], "checked the filter already"),
        (
            ["Ich habe den Router zweimal neu gestartet und die Kabel geprüft."],
            "Ich habe den Router zweimal neu gestartet und die Kabel geprüft",
        ),
        (
            ["Outlook schickt keine Mails mehr, Passwort hab ich schon neu eingegeben"],
            "Passwort hab ich schon neu eingegeben",
        ),
        (["how do I reset my password", "meine Mails wurden gelöscht", "the update fails"], ""),
    ],
)
def test_what_was_tried_in_the_customers_own_words(texts, tried):
    assert wishes.tried_in(texts) == tried


@pytest.mark.parametrize(
    "text, problem",
    [
        ("Word zeigt beim Öffnen den Fehler OFF-5015", True),
        ("OFF-5015", True),
        ("my emails end up in spam", True),
        ("meine Rechnung", False),
        ("Internet", False),
    ],
)
def test_a_typed_answer_describes_a_problem_or_names_a_topic(text, problem):
    assert wishes.describes_problem(text) is problem


@pytest.mark.parametrize(
    "text, asks",
    [
        ("Kann mich bitte jemand zurückrufen? Outlook verschickt seit heute früh keine Mails mehr", True),
        ("ich brauche einen Mitarbeiter, mein Router blinkt rot", True),
        ("Mitarbeiter bitte", True),
        ("agent", True),
        ("I need an agent, I was charged twice", True),
        ("no bot please, my internet is down", True),
        ("my colleague can't send mails since this morning", False),
        ("unsere Mitarbeiter können nicht drucken", False),
        ("employees cannot log in since monday", False),
        ("I called the hotline yesterday and they said wait", False),
        ("der Techniker hat gesagt, ich soll den Router tauschen", False),
    ],
)
def test_a_person_asked_for_in_so_many_words_whatever_else_the_message_says(text, asks):
    assert wishes.asks_for_person(text) is asks
    assert not asks or wishes.wants_person(text)  # every such wish is one where NLU heard it too


@pytest.mark.parametrize(
    "text, parts",
    [
        (
            "Hallo, mein WLAN bricht abends ständig ab. Außerdem wollte ich fragen, wo ich meine Rechnung finde",
            ["Hallo, mein WLAN bricht abends ständig ab", "wo ich meine Rechnung finde"],
        ),
        (
            "my emails end up in spam, and another question: how do I change my bank details?",
            ["my emails end up in spam", "how do I change my bank details?"],
        ),
        (
            "the router restarts every hour. btw where can I download my invoice?",
            ["the router restarts every hour", "where can I download my invoice?"],
        ),
        (
            "Zwei Sachen, erstens bricht mein WLAN dauernd ab und zweitens möchte ich die Zahlungsart ändern",
            ["Zwei Sachen, erstens bricht mein WLAN dauernd ab", "möchte ich die Zahlungsart ändern"],
        ),
        (
            "my wifi drops all the time and by the way, where do I find my invoices?",
            ["my wifi drops all the time", "where do I find my invoices?"],
        ),
        ("ich habe den Router neu gestartet und außerdem", None),  # nothing after it
        ("Außerdem geht mein Internet seit gestern Abend nicht mehr", None),  # nothing before it
        ("mein Internet ist langsam, außerdem", None),  # nothing after it
        ("Also, mein Internet geht seit gestern nicht mehr und der Router blinkt rot", None),
    ],
)
def test_a_second_problem_announced_in_the_message(text, parts):
    assert wishes.problems_in(text) == (parts or [text])


@pytest.mark.parametrize(
    "text, speaks_of_the_company",
    [
        ("what's your hotline number?", True),
        ("wo finde ich eure Kontaktdaten", True),
        ("hotline nummer?", True),
        ("my landline phone has no dial tone", False),
        ("welcher port fuer imap bei meinem mailprogramm", False),
    ],
)
def test_a_contact_question_speaks_of_the_company(text, speaks_of_the_company):
    assert wishes.addresses_company(text) is speaks_of_the_company
