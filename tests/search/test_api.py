"""The search service through the real app (real models, real index)."""

import pytest
from fastapi.testclient import TestClient

from helpdesk.app import create_app
from tests.conftest import ADMIN_TOKEN


@pytest.fixture(scope="module")
def client(built_kb):
    with TestClient(create_app(built_kb)) as c:
        yield c


@pytest.mark.parametrize(
    "query, lang, article",
    [
        ("The light on my router is red and nothing loads", "en", "fx-en-router-no-internet"),
        ("I can't remember my password", "en", "fx-en-reset-password"),
        ("Das WLAN im Wohnzimmer ist total langsam", "de", "fx-de-wlan-langsam"),
        ("Wo kann ich meine Rechnung als PDF bekommen?", "de", "fx-de-rechnung-herunterladen"),
    ],
)
def test_answers_german_and_english_with_links(client, query, lang, article):
    r = client.post("/search", json={"query": query})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lang"] == lang
    assert body["answerable"] is True and body["decision"] == "answer"
    top = body["hits"][0]
    assert top["article_id"] == article
    assert top["url"].startswith(f"http://testserver/articles/{article}")
    assert top["confidence"] >= body["threshold"] and body["confidence"] == top["confidence"]
    assert all(0.0 <= h["confidence"] <= 1.0 for h in body["hits"])
    assert all(
        h["answer"]["text"] and h["answer"]["url"].startswith("http://testserver/articles/") for h in body["hits"]
    )
    assert top["category"] and top["snippet"]


def test_links_point_at_the_best_section(client):
    body = client.post("/search", json={"query": "where do I paste the chat widget snippet", "lang": "en"}).json()
    hit = body["hits"][0]
    assert hit["article_id"] == "fx-en-chat-widget"
    page = client.get(hit["url"].replace("http://testserver", "")).text
    if "#" in hit["url"]:
        assert f'id="{hit["url"].split("#")[1]}"' in page


@pytest.mark.parametrize("query", ["What is the capital of Australia?", "Wie backe ich einen Apfelkuchen?"])
def test_out_of_scope_is_not_answerable(client, query):
    body = client.post("/search", json={"query": query}).json()
    assert body["answerable"] is False and body["decision"] in ("suggest", "none")
    assert body["confidence"] < body["threshold"]
    assert body["hits"] and all("confidence" in h for h in body["hits"])


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"query": ""}, 422),
        ({"query": "   \n "}, 422),
        ({"query": "x" * 100_000}, 422),
        ({"query": "ok", "top_k": 0}, 422),
        ({"query": "ok", "lang": "<script>"}, 422),
        ({"query": "ok", "conversation_lang": "deutsch"}, 422),
        ({}, 422),
    ],
)
def test_bad_search_input_is_a_clear_4xx(client, payload, status):
    r = client.post("/search", json=payload)
    assert r.status_code == status
    assert "detail" in r.json()
    assert len(r.content) < 2000  # the 100 KB input is not echoed back


def test_invalid_utf8_body_is_a_clear_400(client):
    r = client.post("/search", content=b'{"query": "caf\xc3\x28 \xff"}', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["detail"]


def test_markup_in_query_gives_safe_results(client):
    r = client.post("/search", json={"query": "<script>alert(1)</script><img src=x onerror=alert(2)> router red"})
    assert r.status_code == 200
    for hit in r.json()["hits"]:
        assert "<script" not in hit["snippet"] and "onerror" not in hit["snippet"]


def test_emoji_only_query_is_safe(client):
    r = client.post("/search", json={"query": "🙂🙂🙂"})
    assert r.status_code == 200 and r.json()["answerable"] is False


@pytest.mark.parametrize("conversation_lang", ["de", "en"])
def test_a_query_without_words_keeps_the_conversations_language(client, conversation_lang):
    body = client.post("/search", json={"query": "12345 🙂", "conversation_lang": conversation_lang}).json()
    assert body["lang"] == conversation_lang and body["decision"] == "none", body


def test_article_page_is_sanitized_html(client):
    r = client.get("/articles/fx-en-chat-widget")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Embed the ShopTalk chat widget in your shop</h1>" in r.text
    assert "<script" not in r.text.lower()
    assert "onclick" not in r.text and "javascript:" not in r.text


def test_article_json_with_accept_header(client):
    r = client.get("/articles/fx-de-wlan-langsam", headers={"Accept": "application/json"})
    data = r.json()
    assert data["id"] == "fx-de-wlan-langsam" and data["lang"] == "de"
    assert '<h2 id="so-gehen-sie-vor">' in data["html"]
    assert "path" not in data


def test_unknown_article_is_404(client):
    r = client.get("/articles/nope")
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_language_endpoint(client):
    assert client.post("/language", json={"text": "Ich möchte mit einem Mitarbeiter sprechen"}).json()["lang"] == "de"
    assert client.post("/language", json={"text": "I want to talk to a human"}).json()["lang"] == "en"
    empty = client.post("/language", json={"text": "👍"}).json()
    assert empty == {"lang": "en", "confidence": 0.0, "detected": False}


def test_health_and_docs(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["articles"] == 5
    assert set(health["languages"]) == {"de", "en"}
    assert client.get("/openapi.json").json()["paths"]["/search"]
    assert client.get("/metrics").status_code == 403  # no HELPDESK_METRICS_TOKEN: refused (tests/edge)


def test_reindex_needs_the_admin_token(client):
    assert client.post("/admin/reindex").status_code == 401
    assert client.post("/admin/reindex", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = client.post("/admin/reindex", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200
    assert r.json()["reused_articles"] == 5 and r.json()["embedded_articles"] == 0


def test_reindex_is_refused_when_no_admin_token_is_configured(built_kb):

    with TestClient(create_app(built_kb.model_copy(update={"admin_token": None}))) as c:
        r = c.post("/admin/reindex", headers={"Authorization": "Bearer anything"})
        assert r.status_code == 403
