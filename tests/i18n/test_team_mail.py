"""The team notification mails in each team's language (the routing file's ``language``), over real SMTP."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as email_policy

import pytest
import yaml

from helpdesk.handoffs.routing import RoutingConfig, RoutingConfigError
from tests.handoffs.conftest import DEFAULT_ROUTING, SERVICE, handoff_payload, wait_for, write_routing

PASSWORD = "a long enough password"


def test_each_team_gets_its_mail_in_its_language(make_client, smtp_server, tmp_path):
    collector, smtp_port = smtp_server
    teams = yaml.safe_load(DEFAULT_ROUTING.read_text(encoding="utf-8"))["teams"]
    teams["experts"]["language"] = "en"  # the rest of the desk speaks German
    routing = write_routing(
        tmp_path / "routing-de.yml", office_hours={"mon-sun": "00:00-24:00"}, language="de", teams=teams
    )
    client = make_client(
        routing_file=routing, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_from="helpdesk@helpdesk.example"
    )
    payload = handoff_payload(description="Kein Internet seit 7 Uhr", urgency="high")
    ticket = client.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    assert wait_for(lambda: len(collector.messages) == 1)
    german = message_from_bytes(collector.messages[0].content, policy=email_policy)
    assert collector.messages[0].rcpt_tos == ["network@helpdesk.example"]
    assert f"[{ticket}] Neue Übergabe, Priorität hoch (network): Kein Internet" in german["Subject"]
    text = german.get_content()
    assert f"Neue Übergabe {ticket} für Team network, Priorität hoch" in text
    assert "Reagieren bis: " in text and "(Europe/Berlin)" in text and "Gesprächsverlauf:" in text
    assert "Sprache: Deutsch" in text and "Kunde/Kundin: " in text and "Respond by" not in text

    store = client.app.state.handoffs
    store.create_agent("anna", "Anna", ["network"], PASSWORD)
    headers = {"Authorization": f"Bearer {store.create_token('anna', 't')}"}
    escalated = client.post(
        f"/agent/api/handoffs/{ticket}/escalate", json={"reason": "needs the experts"}, headers=headers
    )
    assert escalated.status_code == 200, escalated.text
    # The experts' mail (the customer may be told the new response time too, in the customer's own words).
    assert wait_for(lambda: any(m.rcpt_tos == ["experts@helpdesk.example"] for m in collector.messages))
    experts = next(m for m in collector.messages if m.rcpt_tos == ["experts@helpdesk.example"])
    english = message_from_bytes(experts.content, policy=email_policy)
    assert f"[{ticket}] Escalated high handoff (network): Kein Internet" in english["Subject"]
    text = english.get_content()
    assert "Escalated by anna: needs the experts" in text and "Respond by: " in text and "Language: German" in text


def test_a_language_the_desk_does_not_speak_stops_the_routing_file(tmp_path):
    bad = write_routing(tmp_path / "routing-fr.yml", language="fr")
    with pytest.raises(RoutingConfigError, match=r"language: 'fr' is not a language of the desk \(en, de\)"):
        RoutingConfig.load(bad)
    teams = yaml.safe_load(DEFAULT_ROUTING.read_text(encoding="utf-8"))["teams"]
    teams["network"]["language"] = "es"
    with pytest.raises(RoutingConfigError, match=r"teams.network.language: 'es'"):
        RoutingConfig.load(write_routing(tmp_path / "routing-es.yml", teams=teams))
    assert RoutingConfig.load(DEFAULT_ROUTING).teams["network"].language == "en"
