"""The desk in the agent's language: the choice (profile, browser, switch), the formats, the messages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import HTTPException
from pydantic import ValidationError

from helpdesk.handoffs.errors import InvalidTransition
from helpdesk.handoffs.schemas import NoteIn
from helpdesk.handoffs.store import HandoffStore
from helpdesk.i18n import DeskLanguage, msg, negotiate, term
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload
from tests.handoffs.test_cli import helpdesk

PASSWORD = "a long enough password"
BERLIN = ZoneInfo("Europe/Berlin")
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found is not None
    return found.group(1)


def log_in(client, username: str, lang: str = "", headers: dict[str, str] | None = None):
    page = client.get("/agent/login", headers=headers)
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text), "next": "/agent"}
    if lang:
        data["lang"] = lang
    response = client.post("/agent/login", data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR, de-AT;q=0.7, en;q=0.5", "de"),
        ("EN-gb", "en"),
        ("de;q=0, en", "en"),
        ("fr, pt-BR", "en"),
        ("", "en"),
        (None, "en"),
        ("de;q=abc, en;q=0.3", "en"),
    ],
)
def test_the_browser_language_is_negotiated_with_english_as_the_fallback(header, language):
    assert negotiate(header) == language


def test_dates_numbers_and_durations_in_each_language():
    moment = datetime(2026, 11, 2, 14, 5, tzinfo=UTC)  # 15:05 in Berlin
    de, en = DeskLanguage("de", BERLIN), DeskLanguage("en", BERLIN)
    assert de.moment(moment) == "Mo., 2. Nov., 15:05" and en.moment(moment) == "Mon, Nov 2, 15:05"
    assert de.timestamp(moment) == "02.11.2026, 15:05" and en.timestamp(moment) == "11/2/2026, 15:05"
    assert de.percent(0.125) == "12,5\xa0%" and en.percent(0.125) == "12.5%" and de.percent(None) == "-"
    assert de.percent(0.25, digits=0) == "25\xa0%" and en.percent(1.0, digits=0) == "100%"
    assert de.number(12345.5) == "12.345,5" and en.number(12345.5) == "12,345.5"
    assert de.duration(59) == "59 Min." and en.duration(59) == "59 min"
    assert de.duration(3 * 60 + 5) == "3 Std. 05 Min." and en.duration(3 * 60 + 5) == "3 h 05 min"
    assert de.duration(2 * 1440 + 4 * 60) == "2 Tg. 4 Std." and en.duration(2 * 1440 + 4 * 60) == "2 d 4 h"
    assert de.day(date(2026, 11, 2)) == "2. Nov. 2026" and en.week(date(2026, 11, 2)) == "2026-W45"
    assert de.week(date(2026, 11, 2)) == "KW 45/2026" and de.week(date(2026, 11, 2), with_year=False) == "KW 45"


def test_a_message_of_the_code_is_english_for_the_api_and_german_on_the_page():
    refusal = InvalidTransition(
        msg("%(ticket)s is %(status)s: cannot escalate it", ticket="HD-ABC123", status=term("status", "resolved"))
    )
    assert str(refusal) == "HD-ABC123 is resolved: cannot escalate it"
    de = DeskLanguage("de")
    assert de.problem(refusal) == "HD-ABC123 ist gelöst: Eskalieren nicht möglich"
    assert de.problem(HTTPException(404, msg("no incident %(id)s", id=7))) == "keine Störung 7"
    assert de.problem(HTTPException(404, "plain detail")) == "plain detail"
    with pytest.raises(ValidationError) as blank:
        NoteIn(text="   ")
    with pytest.raises(ValidationError) as long:
        NoteIn(text="x" * 5000)
    assert de.problem(blank.value) == "Text: darf nicht leer sein"
    assert de.problem(long.value) == "Text: höchstens 4000 Zeichen"
    assert DeskLanguage("en").problem(long.value) == "text: at most 4000 characters"


def test_pages_follow_the_browser_until_the_agent_chooses(client):
    store = client.app.state.handoffs
    store.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
    ticket = client.post("/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
    login = client.get("/agent/login", headers=GERMAN)
    assert html_lang(login.text) == "de" and "Anmeldung für Bearbeiter/innen" in login.text
    assert login.headers["content-language"] == "de"
    assert html_lang(client.get("/agent/login").text) == "en"  # no Accept-Language: English
    log_in(client, "anna", headers=GERMAN)
    inbox = client.get("/agent", headers=GERMAN)
    assert html_lang(inbox.text) == "de"
    assert "Übergaben" in inbox.text and "Abmelden" in inbox.text and ">neu<" in inbox.text
    page = client.get(f"/agent/handoffs/{ticket}", headers=GERMAN).text
    assert "Zusammenfassung" in page and "Übernehmen" in page and "Gesprächsverlauf" in page
    assert client.get("/agent", headers={"Accept-Language": "en-US"}).text.count("Handoffs") >= 1
    # The switch: kept in the profile, and then it wins over the browser.
    token = csrf_token(inbox.text)
    switched = client.post(
        "/agent/language",
        data={"csrf_token": token, "language": "en", "next": f"/agent/handoffs/{ticket}"},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == f"/agent/handoffs/{ticket}"
    assert store.agents()[0].language == "en"
    page = client.get(f"/agent/handoffs/{ticket}", headers=GERMAN).text
    assert html_lang(page) == "en" and "Summary" in page and 'aria-pressed="true">English' in page


def test_the_switch_refuses_a_bad_language_a_forged_form_and_nobody(client):
    store = client.app.state.handoffs
    store.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
    nobody = client.post("/agent/language", data={"language": "de"}, follow_redirects=False)
    assert nobody.status_code == 303 and nobody.headers["location"].startswith("/agent/login")
    log_in(client, "anna")
    token = csrf_token(client.get("/agent").text)
    bad = client.post("/agent/language", data={"csrf_token": token, "language": "fr<script>"})
    assert bad.status_code == 400 and "Unknown language" in bad.text and "<script>" not in bad.text
    forged = client.post("/agent/language", data={"csrf_token": "forged", "language": "de"})
    assert forged.status_code == 403
    away = client.post(
        "/agent/language",
        data={"csrf_token": token, "language": "de", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/agent"  # no open redirect
    assert store.agents()[0].language == "de"


def test_the_login_page_switch_is_kept_at_the_login(client):
    store = client.app.state.handoffs
    store.create_agent("sue", "Sue Supervisor", [], PASSWORD, "supervisor")
    page = client.get("/agent/login", params={"lang": "de", "next": "/agent/reports"})
    assert html_lang(page.text) == "de" and 'name="lang" value="de"' in page.text
    assert "/agent/login?lang=en&amp;next=%2Fagent%2Freports" in page.text  # the switch keeps the target
    wrong = client.post(
        "/agent/login",
        data={"username": "sue", "password": "nope", "csrf_token": csrf_token(page.text), "lang": "de"},
    )
    assert wrong.status_code == 401 and "Unbekannter Benutzer oder falsches Passwort." in wrong.text
    assert html_lang(client.get("/agent/login", params={"lang": "xx"}).text) == "en"
    log_in(client, "sue", lang="de")
    assert store.agents()[0].language == "de"
    assert html_lang(client.get("/agent").text) == "de"


def test_a_refusal_of_the_store_reads_in_german_on_the_workspace(client):
    store = client.app.state.handoffs
    store.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
    store.set_language("anna", "de")
    ticket = client.post("/handoffs", json=handoff_payload(), headers=SERVICE).json()["ticket_id"]
    store.resolve(ticket, "bob", "fixed")
    log_in(client, "anna")
    token = csrf_token(client.get("/agent").text)
    claim = client.post(f"/agent/handoffs/{ticket}/claim", data={"csrf_token": token})
    assert claim.status_code == 409 and f"{ticket} ist gelöst: Übernehmen nicht möglich" in claim.text
    referer = {"Referer": f"http://testserver/agent/handoffs/{ticket}"}
    note = client.post(f"/agent/handoffs/{ticket}/note", data={"csrf_token": token, "text": " "}, headers=referer)
    assert note.status_code == 422 and "Text: darf nicht leer sein" in note.text
    # The switch on a form's answer comes back to the page the form was on, not to the form's address.
    assert f'name="next" value="/agent/handoffs/{ticket}"' in note.text
    assert (
        'name="next" value="/agent"' in client.post(f"/agent/handoffs/{ticket}/claim", data={"csrf_token": token}).text
    )
    done = client.post(f"/agent/handoffs/{ticket}/note", data={"csrf_token": token, "text": "Rückruf erledigt"})
    assert "Erledigt: Notiz hinzugefügt." in done.text
    # The JSON API keeps the English words.
    api = client.app.state.handoffs
    with pytest.raises(InvalidTransition, match="is resolved by|is resolved: cannot claim it"):
        api.claim(ticket, "anna")


def test_the_stored_language_survives_and_is_checked(store):
    store.create_agent("anna", "Anna Agent", ["network"], PASSWORD)
    assert store.agents()[0].language is None
    assert store.set_language("anna", "de").language == "de"
    assert store.authenticate("anna", PASSWORD).language == "de"
    with pytest.raises(Exception, match="unknown language 'fr'"):
        store.set_language("anna", "fr")
    assert store.set_language("anna", None).language is None


def test_an_admin_sets_an_agents_language_through_the_api(client):
    store = client.app.state.handoffs
    store.create_agent("ada", "Ada Admin", [], PASSWORD, "admin")
    admin = {"Authorization": f"Bearer {store.create_token('ada', 'tests')}"}
    body = {"username": "gerd", "teams": ["network"], "password": PASSWORD, "language": "de"}
    created = client.post("/agent/api/admin/agents", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["language"] == "de"
    gerd = {"Authorization": f"Bearer {store.create_token('gerd', 'tests')}"}
    assert client.get("/agent/api/me", headers=gerd).json()["language"] == "de"
    changed = client.patch("/agent/api/admin/agents/gerd", json={"language": "en"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["language"] == "en"
    kept = client.patch("/agent/api/admin/agents/gerd", json={"role": "supervisor"}, headers=admin)
    assert kept.json()["language"] == "en" and kept.json()["role"] == "supervisor"
    browser = client.patch("/agent/api/admin/agents/gerd", json={"language": None}, headers=admin)
    assert browser.json()["language"] is None
    assert client.patch("/agent/api/admin/agents/gerd", json={"language": "fr"}, headers=admin).status_code == 422
    assert client.patch("/agent/api/admin/agents/nobody", json={"language": "de"}, headers=admin).status_code == 404
    refused = client.patch("/agent/api/admin/agents/gerd", json={"language": "de"}, headers=gerd)
    assert refused.status_code == 403 and refused.json()["detail"] == "only an admin may manage accounts and tokens"


def test_the_command_line_sets_an_agents_language(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert helpdesk(database_url, "migrate").returncode == 0
    (tmp_path / "password").write_text(PASSWORD + "\n")
    made = helpdesk(
        database_url,
        "create-agent",
        "gerd",
        "--team",
        "network",
        "--language",
        "de",
        "--password-file",
        str(tmp_path / "password"),
    )
    assert made.returncode == 0, made.stderr
    done = helpdesk(database_url, "set-language", "gerd", "browser")
    assert done.returncode == 0 and "gerd reads the desk in the browser's language" in done.stderr
    done = helpdesk(database_url, "set-language", "gerd", "en")
    assert done.returncode == 0 and "gerd reads the desk in en" in done.stderr
    assert helpdesk(database_url, "set-language", "gerd", "fr").returncode == 2
    store = HandoffStore.open(database_url, migrate=False)
    try:
        assert store.agents()[0].language == "en"
    finally:
        store.close()
