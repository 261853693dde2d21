"""Escalation and reassignment as two actions, the customer told of a changed response time, and the
inbox's "recently routed elsewhere" list: the real app, its SQLite store, a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy

import pytest
from sqlalchemy import update

from helpdesk.db import utcnow
from helpdesk.handoffs.agents import AgentInfo
from helpdesk.handoffs.models import Handoff
from helpdesk.handoffs.moves import reassign_targets
from helpdesk.handoffs.routing import RoutingConfig
from helpdesk.mail.store import MailStore
from tests.conftest import csrf_token
from tests.handoffs.conftest import SERVICE, handoff_payload, wait_for, write_routing

PASSWORD = "a long enough password"
# Open around the clock; billing answers a high-priority ticket in 90 minutes instead of 30.
SLOW_BILLING = {"label": "Billing", "email": "billing@helpdesk.example", "response_minutes": {"high": 90}}


@pytest.fixture
def routing_file(tmp_path):
    base = RoutingConfig.load(write_routing(tmp_path / "base.yml")).teams
    teams = {name: {"label": t.label, "email": t.email} for name, t in base.items()}
    teams["experts"]["response_minutes"] = {"critical": 30, "high": 60, "normal": 240, "low": 960}
    teams["on-call"]["office_hours"] = "always"
    teams["billing"] = SLOW_BILLING
    return write_routing(tmp_path / "routing.yml", office_hours={"mon-sun": "00:00-24:00"}, teams=teams)


@pytest.fixture
def desk(make_client, routing_file, smtp_server):
    collector, port = smtp_server
    client = make_client(routing_file=routing_file, smtp_host="127.0.0.1", smtp_port=port)
    store = client.app.state.handoffs
    store.create_agent("sue", "Sue", [], PASSWORD, "supervisor")
    store.create_agent("nora", "Nora", ["network", "software"], PASSWORD)
    store.create_agent("bill", "Bill", ["billing"], PASSWORD)
    client.collector = collector
    return client


def token(client, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.app.state.handoffs.create_token(username, secrets.token_hex(3))}"}


def new_ticket(client, lang: str = "de", web_chat: bool = True, **summary) -> tuple[str, str]:
    payload = handoff_payload(**summary)
    payload["language"] = lang
    if web_chat:
        payload["conversation_id"] = secrets.token_hex(16)  # a web chat: 32 hex digits, as the chat page makes its id
    body = client.post("/handoffs", json=payload, headers=SERVICE).json()
    return body["ticket_id"], body["chat_key"]


def log_in(client, username: str) -> str:
    client.cookies.clear()
    page = client.get("/agent/login")
    client.post(
        "/agent/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    return csrf_token(client.get("/agent").text)


def test_reassignment_is_not_an_escalation(desk):
    ticket, _ = new_ticket(desk, web_chat=False)
    nora, sue = token(desk, "nora"), token(desk, "sue")
    url = f"/agent/api/handoffs/{ticket}"
    assert desk.post(f"{url}/claim", headers=nora).status_code == 200
    # An agent moves a ticket between their own teams, not to another team.
    assert desk.post(f"{url}/reassign", json={"team": "billing", "reason": "x"}, headers=nora).status_code == 403
    moved = desk.post(f"{url}/reassign", json={"team": "software", "reason": "Firmware, not the line"}, headers=nora)
    assert moved.status_code == 200, moved.text
    view = moved.json()
    assert (view["status"], view["team"], view["assignee"]) == ("new", "software", None)
    event = view["events"][-1]
    assert (event["action"], event["actor"], event["from_team"], event["to_team"], event["note"]) == (
        "reassigned",
        "nora",
        "network",
        "software",
        "Firmware, not the line",
    )
    # The new team hears of it as a reassignment, with who moved it and why.
    assert wait_for(lambda: any(m.rcpt_tos == ["software@helpdesk.example"] for m in desk.collector.messages))
    team_mail = next(m for m in desk.collector.messages if m.rcpt_tos == ["software@helpdesk.example"])
    team_mail = message_from_bytes(team_mail.content, policy=email_policy)
    assert team_mail["Subject"].startswith(f"[{ticket}] Reassigned high handoff")
    assert "Reassigned by nora: Firmware, not the line" in team_mail.get_content()
    # Bad input is a clear 4xx and changes nothing.
    for body, code in (
        ({"team": "software", "reason": "again"}, 409),
        ({"team": "plumbing", "reason": "x"}, 422),
        ({"team": "software", "reason": "   "}, 422),
        ({"reason": "x"}, 422),
        ({"team": "experts", "reason": "x"}, 422),
    ):
        assert desk.post(f"{url}/reassign", json=body, headers=sue).status_code == code, body
    assert desk.get(url, headers=sue).json()["events"][-1]["action"] == "reassigned"
    # Escalation is still its own action, to the expert team.
    escalated = desk.post(f"{url}/escalate", json={"reason": "Needs the experts"}, headers=sue).json()
    assert (escalated["status"], escalated["team"]) == ("escalated", "experts")
    moved_back = desk.post(f"{url}/reassign", json={"team": "network", "reason": "line fault after all"}, headers=sue)
    assert moved_back.json()["status"] == "new" and moved_back.json()["team"] == "network"


def test_the_workspace_offers_reassignment_to_ordinary_teams_first(desk, routing_file):
    routing = RoutingConfig.load(routing_file)
    sue = AgentInfo(1, "sue", "Sue", (), "supervisor")
    nora = AgentInfo(2, "nora", "Nora", ("network", "software"), "agent")
    ernie = AgentInfo(3, "ernie", "Ernie", ("experts",), "agent")
    assert reassign_targets(routing, sue, "network") == ["billing", "email", "shop-chat", "software", "on-call"]
    assert reassign_targets(routing, nora, "network") == ["software"]
    assert reassign_targets(routing, ernie, "experts") == []  # the expert team is never a target
    ticket, _ = new_ticket(desk)
    csrf = log_in(desk, "sue")
    page = desk.get(f"/agent/handoffs/{ticket}").text
    form = page[page.index('id="reassign-form"') : page.index("</form>", page.index('id="reassign-form"'))]
    options = re.findall(r'<option value="([^"]+)"', form)
    assert options == ["billing", "email", "shop-chat", "software", "on-call"]  # no "selected" experts
    assert "selected" not in form and "Reason for the reassignment" in form and "escalation reason" not in page
    escalate = page[page.index('id="escalate-form"') : page.index("</form>", page.index('id="escalate-form"'))]
    assert "<select" not in escalate and "Escalate to the expert team (experts)" in escalate
    done = desk.post(
        f"/agent/handoffs/{ticket}/reassign", data={"csrf_token": csrf, "team": "billing", "reason": "Rechnung"}
    )
    assert done.status_code == 200 and "Done: reassigned to billing" in done.text
    history = done.text[done.text.index('id="history"') :]
    assert "reassigned → billing" in history and "Rechnung" in history
    missing = desk.post(f"/agent/handoffs/{ticket}/reassign", data={"csrf_token": csrf, "reason": "x"})
    assert missing.status_code == 422 and "choose the team" in missing.text


def test_a_live_chat_customer_is_told_the_new_time_in_the_chat(desk):
    ticket, key = new_ticket(desk, lang="en")
    assert desk.get(f"/chat/api/live/{key}").status_code == 200  # the customer's page is open
    store = desk.app.state.handoffs
    moved = desk.post(
        f"/agent/api/handoffs/{ticket}/reassign",
        json={"team": "billing", "reason": "Invoice question"},
        headers=token(desk, "sue"),
    ).json()
    told = next(e for e in moved["events"] if e["action"] == "customer_told")
    expected = desk.app.state.routing.expected(
        datetime.fromisoformat(told["at"]), datetime.fromisoformat(moved["sla_due_at"])
    )
    assert expected.text["en"] == "within 90 minutes"
    assert told["note"] == "new response time within 90 minutes, in the chat"
    assert moved["told_due_at"] == moved["sla_due_at"] and moved["due_at"] < moved["told_due_at"]
    notice = f"Your ticket {ticket} is now with the team in charge. New expected response: within 90 minutes."
    assert (moved["transcript"][-1]["sender"], moved["transcript"][-1]["text"]) == ("bot", notice)
    assert moved["transcript"][-1]["timestamp"] == told["at"]
    # The chat page gets it as a notice, and its ticket header shows the new time.
    view = desk.get(f"/chat/api/live/{key}").json()
    assert view["messages"][-1]["role"] == "notice" and view["messages"][-1]["text"] == notice
    assert view["ticket"]["expected_response"]["text"]["en"] == "within 90 minutes"
    # No mail went to the customer, and the agents' countdown is measured against the told time now.
    assert not wait_for(lambda: len(desk.collector.messages) > 2, timeout=1.0)
    assert all(m.rcpt_tos != ["erika@example.org"] for m in desk.collector.messages)
    log_in(desk, "sue")
    page = desk.get(f"/agent/handoffs/{ticket}").text
    assert "after the customer&#39;s promise" not in page and "told since:" in page
    assert store.get(ticket)["team"] == "billing"


def test_a_customer_who_left_the_chat_is_told_by_mail_in_their_language(desk):
    ticket, key = new_ticket(desk, lang="de")
    desk.get(f"/chat/api/live/{key}")
    store = desk.app.state.handoffs
    with store.transaction() as s:  # the page was last there five minutes ago
        s.execute(
            update(Handoff).where(Handoff.ticket_id == ticket).values(customer_seen_at=utcnow() - timedelta(minutes=5))
        )
    before = len(store.get(ticket)["transcript"])
    moved = desk.post(
        f"/agent/api/handoffs/{ticket}/reassign",
        json={"team": "billing", "reason": "Rechnung"},
        headers=token(desk, "sue"),
    ).json()
    assert len(moved["transcript"]) == before  # nothing in the chat
    assert wait_for(lambda: any(m.rcpt_tos == ["erika@example.org"] for m in desk.collector.messages))
    envelope = next(m for m in desk.collector.messages if m.rcpt_tos == ["erika@example.org"])
    assert envelope.mail_from in ("", "<>")  # automatic: the null sender, nothing answers it
    mail = message_from_bytes(envelope.content, policy=email_policy)
    assert mail["Subject"] == f"[{ticket}] Neue Antwortzeit für Ihre Anfrage" and mail["Auto-Submitted"]
    text = mail.get_content()
    assert text.startswith("Guten Tag Erika Mustermann,")
    assert f"Ihr Ticket {ticket} liegt jetzt bei dem zuständigen Team" in text
    assert "meldet sich innerhalb von 90 Minuten" in text and "beantworten Sie einfach" not in text
    told = [e for e in moved["events"] if e["action"] == "customer_told"]
    assert told[-1]["note"] == "new response time innerhalb von 90 Minuten, by e-mail to erika@example.org"
    assert MailStore(store).thread(ticket)[-1]["direction"] == "out"  # an answer would thread to the ticket


def test_no_notice_when_the_time_does_not_change_and_none_without_a_way(desk):
    ticket, key = new_ticket(desk)
    desk.get(f"/chat/api/live/{key}")
    sue = token(desk, "sue")
    same = desk.post(f"/agent/api/handoffs/{ticket}/reassign", json={"team": "software", "reason": "x"}, headers=sue)
    assert [e["action"] for e in same.json()["events"]][-1] == "reassigned"  # 30 minutes either way
    assert same.json()["told_due_at"] is None
    # Neither a chat nor an e-mail address: the history says the customer was not told.
    payload = handoff_payload()
    payload["summary"]["contact"] = {"name": "Max", "phone": "+49 30 1234567"}
    phone_only = desk.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    moved = desk.post(
        f"/agent/api/handoffs/{phone_only}/escalate", json={"reason": "needs experts"}, headers=sue
    ).json()
    told = moved["events"][-1]
    assert told["action"] == "customer_told" and told["note"].startswith("the customer could not be told")
    assert moved["told_due_at"] is None


def test_an_email_ticket_gets_the_notice_in_its_thread(desk):
    payload = handoff_payload()
    payload["channel"] = "email"
    ticket = desk.post("/handoffs", json=payload, headers=SERVICE).json()["ticket_id"]
    store = desk.app.state.handoffs
    MailStore(store).take_in(ticket, "<first@example.org>", "Kein Internet", [], [])
    moved = desk.post(
        f"/agent/api/handoffs/{ticket}/escalate", json={"reason": "needs experts"}, headers=token(desk, "sue")
    ).json()
    assert moved["transcript"][-1]["sender"] == "bot" and "unserem Expertenteam" in moved["transcript"][-1]["text"]
    assert wait_for(lambda: any(m.rcpt_tos == ["erika@example.org"] for m in desk.collector.messages))
    envelope = next(m for m in desk.collector.messages if m.rcpt_tos == ["erika@example.org"])
    mail = message_from_bytes(envelope.content, policy=email_policy)
    assert mail["Subject"] == f"[{ticket}] Re: Kein Internet" and mail["In-Reply-To"] == "<first@example.org>"
    assert "innerhalb von 60 Minuten" in mail.get_content() and "beantworten Sie einfach" in mail.get_content()


def test_the_inbox_names_the_teams_tickets_routed_elsewhere(make_client, tmp_path):
    """At night a high-priority network ticket goes to on-call; a supervisor reassigns another to billing.
    The network agent's inbox says where both went and why; billing's inbox does not list network's."""
    closed = write_routing(
        tmp_path / "night.yml",
        holidays=[(utcnow().date() + timedelta(days=d)).isoformat() for d in range(-1, 4)],
    )
    client = make_client(routing_file=closed)
    store = client.app.state.handoffs
    store.create_agent("sue", "Sue", [], PASSWORD, "supervisor")
    store.create_agent("nora", "Nora", ["network"], PASSWORD)
    store.create_agent("bill", "Bill", ["billing"], PASSWORD)
    night, _ = new_ticket(client, urgency="high")
    assert store.get(night)["team"] == "on-call"
    quiet, _ = new_ticket(client, urgency="low")  # not urgent: waits for the network team
    reassigned, _ = new_ticket(client, urgency="low")
    sue = token(client, "sue")
    reason = "Rechnungsfrage <b>nicht</b> Technik"
    client.post(f"/agent/api/handoffs/{reassigned}/reassign", json={"team": "billing", "reason": reason}, headers=sue)
    log_in(client, "nora")
    page = client.get("/agent").text
    section = page[page.index('id="routed-elsewhere"') : page.index("</section>", page.index('id="routed-elsewhere"'))]
    items = re.findall(r'<li data-ticket="([^"]+)">(.*?)</li>', section, re.S)
    assert [t for t, _ in items] == [reassigned, night]
    text = dict(items)
    assert f"{night} → on-call (on-call routing outside office hours, priority high)" in text[night]
    assert f'href="/agent/handoffs/{night}"' not in section  # nora may not open it
    assert (
        f"{reassigned} → billing (reassigned by sue: Rechnungsfrage &lt;b&gt;nicht&lt;/b&gt; Technik"
        in text[reassigned]
    )
    assert quiet not in section and quiet in page
    # Another team's tickets stay out of it, even when nora asks for that team's list.
    billing, _ = new_ticket(client, category="billing", urgency="low")
    sue_moves = {"team": "software", "reason": "billing's own reason"}
    client.post(f"/agent/api/handoffs/{billing}/reassign", json=sue_moves, headers=sue)
    other = client.get("/agent", params={"team": "billing"}).text
    assert billing not in other and "billing&#39;s own reason" not in other
    log_in(client, "bill")
    page = client.get("/agent").text
    assert night not in page[page.index('id="routed-elsewhere"') :]
    log_in(client, "sue")
    filtered = client.get("/agent", params={"team": "network"}).text
    assert f'<a href="/agent/handoffs/{night}">{night}</a> → on-call' in filtered
