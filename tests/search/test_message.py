"""What search reads of a long, hurried chat message: its problem sentences, bounded, and
its misspelled words corrected towards the KB's own (message.py, spelling.py, chat_style.py)."""

from concurrent.futures import ThreadPoolExecutor

from search_api.search import spelling
from search_api.search.chat_style import chat_message
from search_api.search.message import MAX_CHARS, problem_text
from search_api.search.spelling import Speller

KB_TEXTS = [
    "Internet-LED an der Nordwind Box leuchtet rot",
    "Router neu starten",
    "Vertrag kündigen",
    "WLAN bricht ab",
    "Fehler OFF-3022 beim Start",
    "Ihr Router verbindet sich nicht",
]


def test_greeting_thanks_and_sign_off_are_not_searched():
    text = "Hallo zusammen, mein Internet geht seit gestern nicht. Was kann ich tun? Danke im Voraus! LG"
    assert problem_text(text, "de") == "mein Internet geht seit gestern nicht. Was kann ich tun?"
    assert problem_text("hi there, my router blinks red. thanks!", "en") == "my router blinks red."


def test_a_message_of_courtesy_only_is_kept_as_it_is():
    assert problem_text("Guten Abend!", "de") == "Guten Abend!"


def test_a_long_paste_is_bounded_in_whole_sentences_keeping_the_last_question():
    story = " ".join(f"Zeile {i} aus dem Protokoll mit vielen Details." for i in range(400))
    text = story + " Warum bricht das WLAN immer ab?"
    searched = problem_text(text, "de")
    assert len(searched) <= MAX_CHARS
    assert searched.endswith("Warum bricht das WLAN immer ab?")
    assert searched.startswith("Zeile 0 aus dem Protokoll")


def test_misspelled_words_become_the_kb_words():
    speller = Speller("de", KB_TEXTS)
    assert speller.correct("mien routr leuchted rot bei internett") == "mien router leuchtet rot bei internet"
    assert speller.correct("ich will kuendigen") == "ich will kündigen"


def test_right_words_codes_and_short_words_are_never_changed():
    speller = Speller("de", KB_TEXTS)
    # "Kinderzimmer" is no KB word but a German one; "OFF-3022" is a code; "nix" is short
    text = "Im Kinderzimmer kommt OFF-3022, nix geht, 192.168.178.1 antwortet nicht"
    assert speller.correct(text) == text


def test_an_unknown_word_between_two_kb_words_is_not_guessed():
    speller = Speller("en", ["the cable", "the table"])
    assert speller.correction("xable") is None  # one edit from both
    assert speller.correction("cabel") == "cable"


def test_customers_asking_together_wait_for_one_dictionary_load():
    # Five first questions at once: one load of the German dictionary (a second or more),
    # not five loads side by side that each run into the bot's timeout.
    spelling._dictionaries.pop("de", None)
    with ThreadPoolExecutor(5) as pool:
        loaded = list(pool.map(lambda _: spelling.dictionary("de"), range(5)))
    assert len(loaded[0]) > 100_000 and all(words is loaded[0] for words in loaded)


def test_simulated_chat_messages_frame_the_question_and_are_stable():
    question = "Warum leuchtet die Internet-LED an meiner Box rot?"
    message = chat_message(question, "de")
    assert message == chat_message(question, "de")
    assert len(message.split()) >= len(question.split())
    assert chat_message(question, "xx") != ""  # a language without a frame: misspelled only
