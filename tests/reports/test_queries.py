"""The reports' figures on a small, hand-made history, on SQLite and PostgreSQL (the ``store`` fixture).

Every number asserted here is worked out by hand from the history written below
through the stores, so a wrong definition or a wrong bucket fails the test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.feedback.store import FeedbackStore
from helpdesk.handoffs.schemas import HandoffIn, Message
from helpdesk.reports.activity import ActivityStore
from helpdesk.reports.metrics import compute as compute_metrics
from helpdesk.reports.queries import ReportError, ReportFilter, compute_report, percentile, table
from tests.handoffs.conftest import handoff_payload

BERLIN = ZoneInfo("Europe/Berlin")
MON = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday 10:00 Berlin
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def new_handoff(store, cid: str, at: datetime, team: str, priority: str, due_minutes: int, language: str = "de"):
    payload = handoff_payload(key=f"{cid}-handoff-1")
    payload.update(conversation_id=cid, language=language)
    data = HandoffIn.model_validate(payload)
    view, created = store.create(
        data,
        team=team,
        priority=priority,
        on_call=False,
        expected_minutes=due_minutes,
        due_at=at + timedelta(minutes=due_minutes),
        now=at,
    )
    assert created
    return view["ticket_id"]


def at_clock(store, moment: datetime, action) -> None:
    store.clock = lambda: moment
    action()


def reply(store, ticket: str, moment: datetime) -> None:
    message = Message(sender="agent", text="Hallo, hier ist der Support.", timestamp=moment)
    at_clock(store, moment, lambda: store.append_messages(ticket, [message], actor="anna"))


@pytest.fixture
def history(store):
    activity, feedback = ActivityStore(store.engine), FeedbackStore(store.engine)
    # Monday: c1 answered + solved; c2 answered, not solved, handed off; c3 never answered, handed off.
    activity.record_search("c1", "de", "art-a", now=MON)
    activity.record_search("c1", "de", "art-a", now=MON + timedelta(minutes=1))  # the same article: shown once
    feedback.record_feedback("c1", "art-a", "wlan langsam", True, now=MON + timedelta(minutes=2))
    activity.record_search("c2", "en", "art-b", now=MON + timedelta(hours=1))
    feedback.record_feedback("c2", "art-b", "reset password", False, now=MON + timedelta(hours=1, minutes=1))
    activity.record_search("c3", "de", None, now=MON + timedelta(hours=2))
    feedback.record_unanswered("Kann ich pausieren?", "de", 0.2, 0.5, None, now=MON + timedelta(hours=2))
    # Sunday 23:30 Berlin is still week 47; Monday 00:30 Berlin (Sunday 23:30 UTC) is week 48.
    activity.record_search("c4", "de", None, now=datetime(2026, 11, 22, 22, 30, tzinfo=UTC))
    activity.record_search("c5", "en", "art-b", now=datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    feedback.record_unanswered(
        "kann ich pausieren", "de", 0.2, 0.5, None, now=datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
    )

    t2 = new_handoff(store, "c2", MON + timedelta(hours=1, minutes=5), "network", "high", 30, "en")
    t3 = new_handoff(store, "c3", MON + timedelta(hours=2, minutes=5), "billing", "normal", 120)
    t2_at = MON + timedelta(hours=1, minutes=5)
    at_clock(store, t2_at + timedelta(minutes=20), lambda: store.claim(t2, "anna"))  # a claim is no response
    reply(store, t2, t2_at + timedelta(minutes=25))  # the customer's first answer, in time (30)
    at_clock(store, t2_at + timedelta(minutes=50), lambda: store.add_note(t2, "anna", "n"))
    at_clock(store, t2_at + timedelta(hours=3), lambda: store.resolve(t2, "anna", "done"))
    t3_at = MON + timedelta(hours=2, minutes=5)
    # A customer message appended by the bot is no response, nor is the escalation after 1 h; the
    # experts' reply after 4 h is (late: 120 min).
    customer = Message(sender="customer", text="noch da?", timestamp=t3_at + timedelta(minutes=10))
    at_clock(store, t3_at + timedelta(minutes=10), lambda: store.append_messages(t3, [customer], actor="bot"))
    at_clock(
        store,
        t3_at + timedelta(hours=1),
        lambda: store.escalate(t3, "bill", "experts", "experts", t3_at + timedelta(hours=8)),
    )
    reply(store, t3, t3_at + timedelta(hours=4))
    # Open, never answered, past due: missed; 28 h old at NOW.
    t4_at = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    new_handoff(store, "c6", t4_at, "network", "normal", 60)
    store.clock = lambda: NOW
    return {"t2": t2, "t3": t3}


def test_figures_per_week(store, history):
    report = compute_report(store.engine, ReportFilter(date(2026, 11, 16), date(2026, 11, 25), "week"), BERLIN, now=NOW)
    assert [p.label for p in report.periods] == ["2026-W47", "2026-W48"]
    w47, w48 = report.periods
    # c1 said solved; c2 (not solved) and c3 (no answer) got tickets; c4 had no answer and left.
    assert w47.conversations == 4 and dict(w47.outcomes) == {"confirmed": 1, "handed_off": 2, "unresolved": 1}
    # c5 was answered and asked nothing more: assumed, once 24 h passed without a ticket.
    assert w48.conversations == 1 and dict(w48.outcomes) == {"assumed": 1}
    assert w47.share("handed_off") == 0.5 and w47.share("confirmed") == 0.25 and w47.share("assumed") == 0
    total = report.total
    assert total.conversations == 5 and sum(total.outcomes.values()) == 5 and total.share("handed_off") == 2 / 5
    # A day later than c5's answer is too early for it: no outcome yet.
    early = compute_report(
        store.engine,
        ReportFilter(date(2026, 11, 16), date(2026, 11, 25), "week"),
        BERLIN,
        now=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )
    assert dict(early.periods[1].outcomes) == {"pending": 1}
    # First responses: the agents' first messages to the customer, t2 after 25 min, t3 after 4 h (the claim,
    # the note, the bot's appended customer message and the escalation are none); t4 none.
    assert sorted(w47.first_responses) == [25 * 60, 4 * 3600]
    assert w47.first_response(0.5) == 25 * 60 and w47.first_response(0.9) == 4 * 3600
    assert w47.resolutions == [3 * 3600] and w48.tickets == 1 and w48.first_responses == []
    sla = {(c.team, c.priority): (c.hit, c.missed, c.pending) for c in report.sla}
    # t3 counts for billing, the team it was routed to, though it is with the experts now.
    assert sla == {("network", "high"): (1, 0, 0), ("billing", "normal"): (0, 1, 0), ("network", "normal"): (0, 1, 0)}
    backlog = {label: sum(c.values()) for label, c in report.backlog}
    assert backlog["1-3 days"] == 1 and backlog["over 7 days"] == 1 and sum(backlog.values()) == 2
    articles = {a["article_id"]: (a["shown"], a["solved"], a["not_solved"]) for a in report.articles}
    assert articles == {"art-a": (1, 1, 0), "art-b": (2, 0, 1)}
    assert report.unanswered_searches == 2 and report.gaps[0]["count"] == 2  # grouped by normalised text


def test_a_later_question_or_verdict_decides_the_outcome(store):
    """The last question decides between assumed and unresolved; a "not solved" after the last answer makes
    it unresolved, one before a later answer does not; a ticket wins over everything."""
    activity, feedback = ActivityStore(store.engine), FeedbackStore(store.engine)
    at = MON
    activity.record_search("a", "de", "art-a", now=at)
    activity.record_search("a", "de", None, now=at + timedelta(minutes=2))  # then a question nothing answered
    activity.record_search("b", "de", None, now=at)
    activity.record_search("b", "de", "art-a", now=at + timedelta(minutes=2))  # answered last
    activity.record_search("c", "de", "art-a", now=at)
    feedback.record_feedback("c", "art-a", "q", False, now=at + timedelta(minutes=1))
    activity.record_search("c", "de", "art-b", now=at + timedelta(minutes=2))  # "not solved", then a new answer
    activity.record_search("d", "de", "art-a", now=at)
    feedback.record_feedback("d", "art-a", "q", False, now=at + timedelta(minutes=1))  # "not solved" last
    activity.record_search("e", "de", "art-a", now=at)
    feedback.record_feedback("e", "art-a", "q", True, now=at + timedelta(minutes=1))
    new_handoff(store, "e", at + timedelta(days=3), "network", "normal", 60)  # solved, but a ticket days later
    report = compute_report(store.engine, ReportFilter(date(2026, 11, 16), date(2026, 11, 16)), BERLIN, now=NOW)
    assert dict(report.total.outcomes) == {"unresolved": 2, "assumed": 2, "handed_off": 1}


def test_filters_by_day_language_and_team(store, history):
    days = compute_report(store.engine, ReportFilter(date(2026, 11, 22), date(2026, 11, 23), "day"), BERLIN, now=NOW)
    assert [(p.label, p.conversations) for p in days.periods] == [("2026-11-22", 1), ("2026-11-23", 1)]
    english = compute_report(
        store.engine, ReportFilter(date(2026, 11, 16), date(2026, 11, 25), "week", "en"), BERLIN, now=NOW
    )
    assert english.total.conversations == 2 and english.total.tickets == 1 and english.unanswered_searches == 0
    billing = compute_report(
        store.engine, ReportFilter(date(2026, 11, 16), date(2026, 11, 25), "week", team="billing"), BERLIN, now=NOW
    )
    assert billing.total.tickets == 1 and billing.total.first_responses == [4 * 3600]
    assert sum(sum(c.values()) for _, c in billing.backlog) == 0  # t3 is held by the experts now
    headers, rows = table(billing, "overview", raw=True)
    assert rows[-1][headers.index("first response median (s)")] == 4 * 3600
    assert rows[-1][headers.index("handed off")] == 2 and rows[-1][headers.index("handed off share")] == 0.4


def test_metrics_cover_the_seven_days_before_now(store, history):
    families = {f.name: f for f in compute_metrics(store.engine, now=MON + timedelta(days=1))}
    samples = {(f, tuple(sorted(s.labels.items()))): s.value for f, fam in families.items() for s in fam.samples}
    assert samples[("helpdesk_report_conversations", (("language", "de"),))] == 2  # c1, c3; not c4 (later)
    assert samples[("helpdesk_report_conversation_outcome", (("language", "de"), ("outcome", "confirmed")))] == 1
    assert samples[("helpdesk_report_conversation_outcome", (("language", "de"), ("outcome", "handed_off")))] == 1
    assert samples[("helpdesk_report_conversation_outcome_ratio", (("language", "en"), ("outcome", "handed_off")))] == 1
    assert samples[("helpdesk_report_first_response_seconds", (("quantile", "0.5"), ("team", "network")))] == 1500
    assert samples[("helpdesk_report_sla_hit_ratio", (("priority", "high"), ("team", "network")))] == 1.0
    assert samples[("helpdesk_report_open_tickets", (("age", "4-24 h"), ("team", "experts")))] == 1


def test_bad_filters_and_percentiles():
    with pytest.raises(ReportError):
        ReportFilter(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(ReportError):
        ReportFilter(date(2025, 1, 1), date(2026, 11, 1))
    with pytest.raises(ReportError):
        ReportFilter(date(2026, 11, 1), date(2026, 11, 2), "month")
    assert percentile([], 0.5) is None and percentile([4, 1, 3, 2], 0.5) == 2
    assert percentile(list(range(1, 11)), 0.9) == 9
