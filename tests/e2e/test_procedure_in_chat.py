"""End to end, in headless Chromium: a procedure from the customer's question to the agent's workspace.

The customer asks in the web chat whether their line works; search finds the line check
(kb/procedures) like an article, the bot offers it, asks for the customer number and the postal
code (a wrong one corrected with its button at the confirmation), the desk calls the reference
company system and the bot says what it found: a fault, so it offers a person. The handoff's
ticket shows the run in the agent's workspace as a panel of its own: the answers, the outcome and
the system's answer. Real processes throughout (see conftest), the company system included.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.chat import choose, open_chat, say, turn

pytestmark = pytest.mark.browser


def test_a_line_check_in_the_chat_ends_in_the_agents_procedure_panel(contexts, stack, shoot, agent_account):
    customer = open_chat(contexts, stack, "de-DE")
    answer = turn(customer, lambda: say(customer, "Können Sie prüfen, ob meine Leitung funktioniert?"))
    assert "Das kann ich gleich für Sie erledigen" in answer and "Leitungsprüfung" in answer, answer
    assert "Kundennummer, Postleitzahl" in answer
    answer = turn(customer, lambda: choose(customer, "Ja, bitte"))
    assert "Wie lautet Ihre Kundennummer?" in answer
    assert "Abbrechen" in customer.locator(".msg-buttons button:enabled").all_inner_texts()
    answer = turn(customer, lambda: say(customer, "nw 100571"))
    assert "Postleitzahl" in answer
    answer = turn(customer, lambda: say(customer, "10115"))
    assert "Bitte prüfen Sie Ihre Angaben" in answer and "Kundennummer: NW100571" in answer
    # The wrong postal code is corrected with its button; only it is asked again.
    answer = turn(customer, lambda: choose(customer, "Postleitzahl ändern"))
    assert "Postleitzahl" in answer and "Kundennummer?" not in answer
    answer = turn(customer, lambda: say(customer, "20095"))
    assert "Postleitzahl: 20095" in answer
    answer = turn(customer, lambda: choose(customer, "Ja, bitte loslegen"))
    assert "Ich habe Ihre Leitung DSL-2203-4410 geprüft: Sie ist seit 08.12.2026, 07:40 Uhr gestört" in answer
    assert "Soll ich Ihr Anliegen an einen Kollegen" in answer
    replies = [
        ("Soll ich Ihr Anliegen", lambda: choose(customer, "Ja, bitte")),
        ("Was haben Sie schon versucht", lambda: say(customer, "Router neu gestartet")),
        ("Wie dringend ist es", lambda: choose(customer, "Normal – ich kann mir behelfen")),
        ("Wie kann unser Support-Team Sie erreichen", lambda: say(customer, "jonas.wolf@example.net")),
        ("Ist das so richtig", lambda: choose(customer, "Ja, absenden")),
    ]
    for _ in range(8):
        if "Ihre Ticketnummer ist" in answer:
            break
        last = customer.locator(".msg-bot").last.inner_text()
        step = next((reply for question, reply in replies if question in last), None)
        assert step, f"unexpected answer on the way to the handoff: {last}"
        if "Ist das so richtig" in last:  # the summary names the run before it is sent
            assert "Der Bot hat „Leitungsprüfung" in answer and "Kundennummer: NW100571" in answer
        answer = turn(customer, step)
    ticket = re.search(r"HD-[0-9A-Z]{6}", answer).group(0)
    shoot(customer, "procedure-customer")

    agent = contexts(locale="en-US").new_page()
    agent.goto(f"{stack.search_url}/agent")
    agent.get_by_label("User name").fill(agent_account["username"])
    agent.get_by_label("Password").fill(agent_account["password"])
    agent.get_by_role("button", name="Log in").click()
    agent.locator(f'tr[data-ticket="{ticket}"]').get_by_role("link", name=ticket).click()
    panel = agent.locator("#procedure-run")
    text = panel.inner_text()
    assert "Procedure the bot ran" in text and "Leitungsprüfung: Funktioniert Ihre Nordwind-Leitung?" in text
    assert "answered, a person goes on" in text and "HTTP 200" in text
    assert "Sie ist seit 08.12.2026, 07:40 Uhr gestört" in text
    rows = [r.locator("td").all_inner_texts() for r in panel.locator("tbody tr").all()]
    assert rows == [["Kundennummer", "NW100571"], ["Postleitzahl", "20095"]]
    shoot(agent, "procedure-agent")
    # The company system's token reaches neither page; the procedures' routes are the action server's only.
    token = stack.env["NORDWIND_API_TOKEN"]
    assert token not in agent.content() and token not in customer.content()
    assert httpx.get(f"{stack.search_url}/procedures/de-leitung-pruefen", timeout=10).status_code == 401
