"""Routing decisions and promised response times, on fixed instants (Europe/Berlin office hours)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from helpdesk.handoffs.routing import RoutingConfig, RoutingConfigError
from tests.handoffs.conftest import DEFAULT_ROUTING

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def routing() -> RoutingConfig:
    return RoutingConfig.load(DEFAULT_ROUTING)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_default_file_declares_the_agreed_teams(routing):
    assert {"network", "software", "shop-chat", "billing", "email", "experts"} <= set(routing.teams)
    assert set(routing.categories) == {"network", "software", "shop-chat", "billing", "email", "other"}
    assert routing.escalation_team == "experts" and routing.on_call is not None
    assert routing.tz.key == "Europe/Berlin"


def test_inside_office_hours_the_team_answers_in_its_time(routing):
    decision = routing.route("network", "high", "unresolved", at("2026-11-27T10:00"))  # a Friday
    assert (decision.team, decision.priority, decision.on_call) == ("network", "high", False)
    assert decision.expected.minutes == 30
    assert decision.expected.text == {"en": "within 30 minutes", "de": "innerhalb von 30 Minuten"}
    assert decision.expected.due_at == at("2026-11-27T10:30")


def test_office_minutes_carry_over_the_weekend(routing):
    # Low priority at 17:50 on Friday: 10 minutes on Friday, the other 470 from Monday 08:00.
    decision = routing.route("billing", "low", "unresolved", at("2026-11-27T17:50"))
    assert decision.team == "billing" and not decision.on_call
    assert decision.expected.due_at.astimezone(BERLIN) == at("2026-11-30T15:50")
    assert "Mon 30 Nov, 15:50" in decision.expected.text["en"]
    assert "Mo., 30.11., 15:50" in decision.expected.text["de"]


def test_urgent_outside_office_hours_goes_to_on_call(routing):
    decision = routing.route("software", "critical", "unresolved", at("2026-11-28T03:00"))  # Saturday night
    assert (decision.team, decision.on_call, decision.expected.minutes) == ("on-call", True, 30)
    normal = routing.route("software", "normal", "unresolved", at("2026-11-28T03:00"))
    assert normal.team == "software" and not normal.on_call
    assert normal.expected.due_at.astimezone(BERLIN) == at("2026-11-30T10:00")


def test_urgent_just_before_closing_goes_to_on_call(routing):
    decision = routing.route("network", "critical", "unresolved", at("2026-11-27T17:55"))
    assert decision.team == "on-call" and decision.expected.minutes == 30


def test_frustration_raises_the_priority_one_step(routing):
    assert routing.priority_for("normal", "frustration") == "high"
    assert routing.priority_for("normal", "unresolved") == "normal"
    assert routing.priority_for("critical", "frustration") == "critical"


def test_holidays_close_the_office():
    data = yaml.safe_load(DEFAULT_ROUTING.read_text())
    data["holidays"] = ["2026-12-25"]
    routing = RoutingConfig.from_dict(data)
    decision = routing.route("email", "normal", "unresolved", at("2026-12-25T10:00"))  # a Friday
    assert decision.expected.due_at.astimezone(BERLIN) == at("2026-12-28T10:00")


def test_invalid_files_name_every_problem(tmp_path):
    data = yaml.safe_load(DEFAULT_ROUTING.read_text())
    data["time_zone"] = "Mars/Olympus"
    data["office_hours"] = {"mon-fri": "18:00-08:00"}
    data["categories"]["network"] = "netwrok"
    del data["categories"]["other"]
    data["categories"]["Bad Name"] = "network"
    data["on_call"]["priorities"] = ["urgent"]
    data["teams"]["network"]["email"] = "not-an-address"
    data["colour"] = "blue"
    path = tmp_path / "routing.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(RoutingConfigError) as info:
        RoutingConfig.load(path)
    message = str(info.value)
    for expected in [
        "Mars/Olympus",
        "'18:00-08:00' is not a window",
        "unknown team 'netwrok'",
        "no team for category 'other'",
        "'Bad Name': category names",
        "unknown priorities ['urgent']",
        "not-an-address",
        "unknown key 'colour'",
        str(path),
    ]:
        assert expected in message
    with pytest.raises(RoutingConfigError, match="not valid YAML"):
        path.write_text("teams: [unclosed")
        RoutingConfig.load(path)


def test_a_window_until_midnight_runs_into_the_next_day_without_a_gap():
    data = yaml.safe_load(DEFAULT_ROUTING.read_text())
    data["office_hours"] = {"mon-sun": "00:00-24:00"}
    data.pop("on_call", None)
    routing = RoutingConfig.from_dict(data)
    decision = routing.route("email", "normal", "unresolved", at("2026-11-27T23:20"))
    minutes = routing.teams["email"].response_minutes["normal"]
    assert decision.expected.minutes == minutes
    assert decision.expected.due_at == at("2026-11-27T23:20") + timedelta(minutes=minutes)
