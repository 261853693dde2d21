"""POST /feedback, the /search hook and GET /admin/gaps through the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.feedback.store import FeedbackStore
from tests.feedback.conftest import ADMIN


def verdict(
    conversation_id="conv-1", article_id="fx-en-reset-password", helpful=False, query="I forgot my password"
) -> dict:
    return {"article_id": article_id, "conversation_id": conversation_id, "query": query, "helpful": helpful}


def app_store(client) -> FeedbackStore:
    return FeedbackStore(client.app.state.handoffs.engine)  # the engine the app writes with


def stats(client) -> dict[str, dict]:
    store = app_store(client)
    return {s["article_id"]: s for s in store.article_stats(datetime(2000, 1, 1, tzinfo=UTC))}


def test_feedback_is_recorded_once_per_conversation_and_article(client):
    # Public, like /search: the bot's action server sends no credentials.
    first = client.post("/feedback", json=verdict(helpful=False))
    assert first.status_code == 204 and first.content == b""
    assert client.post("/feedback", json=verdict(helpful=False)).status_code == 204  # a retry
    assert stats(client)["fx-en-reset-password"] | {"last_feedback": None} == {
        "article_id": "fx-en-reset-password",
        "helpful": 0,
        "not_helpful": 1,
        "last_feedback": None,
        "not_helpful_queries": ["I forgot my password"],
    }

    # The customer changes their mind: the latest verdict of the conversation counts, still once.
    assert client.post("/feedback", json=verdict(helpful=True, query="forgot password")).status_code == 204
    assert (stats(client)["fx-en-reset-password"]["helpful"], stats(client)["fx-en-reset-password"]["not_helpful"]) == (
        1,
        0,
    )
    store = app_store(client)
    row = store.feedback("conv-1", "fx-en-reset-password")
    assert row["helpful"] is True and row["query"] == "forgot password" and row["updated_at"] >= row["created_at"]

    # Another conversation, or another article of the same conversation, is another verdict.
    client.post("/feedback", json=verdict(conversation_id="conv-2", helpful=False))
    client.post("/feedback", json=verdict(article_id="fx-en-router-no-internet", helpful=False))
    counted = stats(client)
    assert (counted["fx-en-reset-password"]["helpful"], counted["fx-en-reset-password"]["not_helpful"]) == (1, 1)
    assert counted["fx-en-router-no-internet"]["not_helpful"] == 1


def test_unknown_article_is_404_and_not_recorded(client):
    response = client.post("/feedback", json=verdict(article_id="no-such-article"))
    assert response.status_code == 404
    assert "no-such-article" in response.json()["detail"] and "knowledge base" in response.json()["detail"]
    assert stats(client) == {}


@pytest.mark.parametrize(
    "change",
    [
        {"helpful": None},
        {"helpful": "yes"},
        {"helpful": 1},
        {"article_id": ""},
        {"conversation_id": ""},
        {"conversation_id": "c" * 201},
        {"query": ""},
        {"query": "  \n "},
        {"query": "q" * 2001},
        {"article_id": 42},
    ],
)
def test_bad_input_is_422(client, change):
    body = verdict() | change
    response = client.post("/feedback", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 422, response.text
    assert stats(client) == {}


def test_not_json_is_422(client):
    response = client.post("/feedback", content=b"helpful=true", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_unanswered_searches_are_recorded_answered_ones_not(client):
    answered = client.post("/search", json={"query": "I forgot my password"}).json()
    missed = client.post("/search", json={"query": "What is the capital of Australia?"}).json()
    assert answered["answerable"] is True and missed["answerable"] is False
    store = app_store(client)
    rows = store.unanswered_since(datetime(2000, 1, 1, tzinfo=UTC), 100)
    assert len(rows) == 1
    row = rows[0]
    assert (row.query, row.lang, row.top_article_id) == (
        "What is the capital of Australia?",
        "en",
        missed["hits"][0]["article_id"],
    )
    assert row.confidence == pytest.approx(missed["confidence"], abs=1e-4)
    assert (datetime.now(UTC) - row.asked_at).total_seconds() < 60


def test_personal_details_are_masked_before_they_are_stored(client):
    query = (
        "Please call me on +49 30 1234567 or write to erika.mustermann@example.org, "
        "my customer number is 123456789, IBAN DE89 3704 0044 0532 0130 00; "
        "error 0x80070005 since 27.11.2026 on 192.168.178.1"
    )
    assert client.post("/search", json={"query": query, "lang": "en"}).json()["answerable"] is False
    assert client.post("/feedback", json=verdict(query=query)).status_code == 204
    store = app_store(client)
    stored = store.unanswered_since(datetime(2000, 1, 1, tzinfo=UTC), 1)[0].query
    assert stored == (
        "Please call me on <number> or write to <email>, my customer number is <customer-number>, "
        "IBAN <iban>; error 0x80070005 since 27.11.2026 on 192.168.178.1"
    )
    assert store.feedback("conv-1", "fx-en-reset-password")["query"] == stored


def test_gaps_needs_the_admin_token(client):
    assert client.get("/admin/gaps").status_code == 401
    assert client.get("/admin/gaps", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/admin/gaps", headers=ADMIN).status_code == 200


def test_gaps_ranks_grouped_questions_and_failing_articles(client):
    asked = [
        ("How do I cancel my contract?", "en"),
        ("how do i cancel my contract", "en"),
        ("How do I cancel my contract?", "en"),  # the most frequent wording is the example
        ("  HOW do I cancel my contract!!", "en"),
        ("cancel contract please", "en"),  # same meaning
        ("Wie backe ich einen Apfelkuchen?", "de"),
        ("wie backe ich einen apfelkuchen", "de"),
        ("What is the capital of Australia?", "en"),
        ("I forgot my password", "en"),  # answered: not a gap
    ]
    for query, lang in asked:
        client.post("/search", json={"query": query, "lang": lang})
    client.post("/feedback", json=verdict("c1", "fx-en-reset-password", True))
    client.post("/feedback", json=verdict("c2", "fx-en-reset-password", False, "can't log in since the update"))
    client.post("/feedback", json=verdict("c3", "fx-en-router-no-internet", False, "router light is blue"))
    client.post("/feedback", json=verdict("c4", "fx-en-chat-widget", True, "add chat to my shop"))

    report = client.get("/admin/gaps", headers=ADMIN, params={"days": 7, "limit": 10}).json()
    assert report["unanswered_searches"] == 8 and report["grouped_by"] == "meaning"
    gaps = [(g["example"], g["count"], g["languages"]) for g in report["gaps"]]
    assert gaps == [
        ("How do I cancel my contract?", 5, ["en"]),
        ("wie backe ich einen apfelkuchen", 2, ["de"]),  # a tie: the newest wording
        ("What is the capital of Australia?", 1, ["en"]),
    ]
    top = report["gaps"][0]
    assert set(top["variants"]) == {
        "how do i cancel my contract",
        "  HOW do I cancel my contract!!".strip(),
        "cancel contract please",
    }
    assert top["last_seen"].endswith("Z") and top["closest_article_id"] == "fx-en-reset-password"

    articles = [(a["article_id"], a["not_helpful"], a["helpful"], a["not_helpful_ratio"]) for a in report["articles"]]
    assert articles == [
        ("fx-en-router-no-internet", 1, 0, 1.0),
        ("fx-en-reset-password", 1, 1, 0.5),
        ("fx-en-chat-widget", 0, 1, 0.0),
    ]
    assert report["articles"][0]["title"].startswith("No internet") and report["articles"][0]["in_kb"] is True
    assert report["articles"][0]["not_helpful_queries"] == ["router light is blue"]

    # Without the models only the normalised text groups: the paraphrase stands alone.
    exact = client.get("/admin/gaps", headers=ADMIN, params={"cluster": "false"}).json()
    assert exact["grouped_by"] == "text"
    assert [(g["count"], g["example"]) for g in exact["gaps"]][:2] == [
        (4, "How do I cancel my contract?"),
        (2, "wie backe ich einen apfelkuchen"),
    ]
    assert {g["example"] for g in exact["gaps"]} >= {"cancel contract please"}
    # Limits apply to both lists; bad parameters are 422.
    small = client.get("/admin/gaps", headers=ADMIN, params={"limit": 1}).json()
    assert len(small["gaps"]) == 1 and len(small["articles"]) == 1
    assert client.get("/admin/gaps", headers=ADMIN, params={"days": 0}).status_code == 422


def test_concurrent_duplicates_count_once(client):
    # The bot retrying while the first request is still in flight: the unique key settles it in the database.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda i: client.post("/feedback", json=verdict(helpful=i % 2 == 0)).status_code, range(16))
        )
    assert codes == [204] * 16
    counted = stats(client)["fx-en-reset-password"]
    assert counted["helpful"] + counted["not_helpful"] == 1
