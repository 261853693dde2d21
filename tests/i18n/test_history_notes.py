"""The history entries the desk writes itself, said in the reader's language (helpdesk/i18n/history.py);
an agent's note stays as written."""

from __future__ import annotations

import pytest

from helpdesk.i18n.history import history_note
from helpdesk.i18n.language import DeskLanguage

GERMAN, ENGLISH = DeskLanguage("de"), DeskLanguage("en")
# In English the stored words read as the desk's terms and a count as a count.
ENGLISH_WORDS = {
    "reason: unresolved; priority high": "reason: not resolved; priority high",
    "reason: no_answer; priority critical; on-call; during incident 7": (
        "reason: no answer found; priority critical; on-call; during incident 7"
    ),
    "1 message(s) added to the transcript": "1 message added to the transcript",
    "3 message(s) added to the transcript": "3 messages added to the transcript",
}


@pytest.mark.parametrize(
    ("note", "german"),
    [
        ("reason: unresolved; priority high", "Grund: nicht gelöst; Priorität hoch"),
        (
            "reason: no_answer; priority critical; on-call; during incident 7",
            "Grund: keine Antwort gefunden; Priorität kritisch; Bereitschaft; während Störung 7",
        ),
        ("1 message(s) added to the transcript", "1 Nachricht zum Gesprächsverlauf hinzugefügt"),
        ("3 message(s) added to the transcript", "3 Nachrichten zum Gesprächsverlauf hinzugefügt"),
        ("new response time Di., 8. Dez., 15:05, in the chat", "neue Reaktionszeit Di., 8. Dez., 15:05, im Chat"),
        (
            "new response time Tue, Dec 8, 15:05, by e-mail to erika@example.org",
            "neue Reaktionszeit Tue, Dec 8, 15:05, per E-Mail an erika@example.org",
        ),
        (
            "the customer was asked to rate the solution by e-mail to erika@example.org",
            "Kunde/Kundin per E-Mail an erika@example.org um eine Bewertung der Lösung gebeten",
        ),
        ("the customer answered by mail: not solved", "Antwort per Mail: nicht gelöst"),
        ("incident 4: Glasfaser Berlin-Mitte", "Störung 4: Glasfaser Berlin-Mitte"),
        ("Called the customer, waiting for logs.", "Called the customer, waiting for logs."),
        (None, ""),
    ],
)
def test_the_desks_own_notes_are_german_for_a_german_reader(note, german):
    assert history_note(GERMAN, note) == german
    assert history_note(ENGLISH, note) == ENGLISH_WORDS.get(note, note or "")  # else exactly what was stored
