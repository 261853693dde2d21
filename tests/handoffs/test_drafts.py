"""'Draft an article from this ticket': the draft is written in the KB's format, linted, and linked by gaps.

The inbox button on a resolved ticket writes ``<drafts>/<lang>/<slug>.md``; the file
parses as an article (title and steps from the resolution note, the customer's words
as example questions, the category), customer text cannot become markup on the article
page, ``helpdesk lint`` reports the draft's problems as a draft's, and ``helpdesk gaps``
names the draft next to the unanswered question it covers, by text and by meaning.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from helpdesk.cli import main
from helpdesk.feedback.store import FeedbackStore
from search_api.kb.articles import parse_article, split_sections
from search_api.kb.render import render_markdown
from tests.conftest import csrf_token
from tests.handoffs.conftest import FIXTURE_KB
from tests.handoffs.test_workspace import login, post

RESOLUTION = "Reset the router to factory settings. Enter the access data from the welcome letter again."
EVIL = "Router dead <script>alert(1)</script> [click](javascript:alert(2)) ![x](https://tracker.example/p.gif)"


@pytest.fixture
def desk(make_client, tmp_path):
    client = make_client(drafts_dir=tmp_path / "drafts")
    login(client)
    return client


def resolved(client, description: str = EVIL, customer: tuple[str, ...] = ()) -> str:
    transcript = [{"sender": "customer", "text": text, "timestamp": "2026-11-27T06:58:00Z"} for text in customer]
    transcript.append({"sender": "bot", "text": "Shall I hand you over?", "timestamp": "2026-11-27T06:58:05Z"})
    ticket = post(
        client,
        language="en",
        summary={"description": description, "category": "network", "product": "Nordwind Fiber"},
        transcript=transcript,
    )
    client.app.state.handoffs.resolve(ticket, "anna", RESOLUTION)
    return ticket


def draft(client, ticket: str):
    page = client.get(f"/agent/handoffs/{ticket}")
    return client.post(
        f"/agent/handoffs/{ticket}/draft", data={"csrf_token": csrf_token(page.text)}, follow_redirects=False
    )


def test_draft_from_a_resolved_ticket_is_an_article_in_the_kb_format(desk, tmp_path):
    ticket = resolved(
        desk,
        customer=(
            "My router shows a red light and nothing works",
            "write to erika@example.org please",
            "ok",
            "/deny",
            "My router shows a red light and nothing works!",
        ),
    )
    page = desk.get(f"/agent/handoffs/{ticket}")
    assert "Draft an article from this ticket" in page.text
    response = draft(desk, ticket)
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["done"] == ["draft"] and query["draft"] == ["en/reset-the-router-to-factory-settings.md"]
    shown = desk.get(response.headers["location"]).text
    assert "article draft written to en/reset-the-router-to-factory-settings.md (drafts folder)" in shown
    path = tmp_path / "drafts" / "en" / "reset-the-router-to-factory-settings.md"
    article = parse_article(path, tmp_path / "drafts", ("de", "en"))
    assert (article.id, article.title, article.lang) == (
        "en-reset-the-router-to-factory-settings",
        "Reset the router to factory settings",
        "en",
    )
    assert (article.category, article.product, article.tags, article.audience) == (
        "network",
        "Nordwind Fiber",
        ("network",),
        "public",
    )
    # The customer's own words, once each; nothing with a contact detail, no button clicks or "ok".
    assert article.questions == (" ".join(EVIL.split()), "My router shows a red light and nothing works")
    steps = [s for s in split_sections(article.body) if s.heading == "Steps"][0].markdown
    assert "1. Reset the router to factory settings." in steps
    assert "2. Enter the access data from the welcome letter again." in steps
    assert ticket in path.read_text(encoding="utf-8")  # the comment naming its ticket
    # Customer text is inert on the article page: no script, no link, no tracking image.
    html = render_markdown(article.body)
    assert "<script" not in html and "href=" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "[click](javascript:alert(2))" in html
    # A second draft of the same solution gets its own file; the first is never overwritten.
    assert draft(desk, ticket).status_code == 303
    assert (tmp_path / "drafts" / "en" / "reset-the-router-to-factory-settings-2.md").exists()
    assert parse_article(path, tmp_path / "drafts").content_hash == article.content_hash


def test_only_resolved_tickets_and_a_valid_form_make_drafts(desk, tmp_path):
    ticket = post(desk)
    page = desk.get(f"/agent/handoffs/{ticket}")
    assert "Draft an article from this ticket" not in page.text
    refused = desk.post(f"/agent/handoffs/{ticket}/draft", data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 409 and "only a resolved ticket" in refused.text
    desk.app.state.handoffs.resolve(ticket, "anna", RESOLUTION)
    assert desk.post(f"/agent/handoffs/{ticket}/draft", data={"csrf_token": "forged"}).status_code == 403
    assert not (tmp_path / "drafts").exists() or not list((tmp_path / "drafts").rglob("*.md"))


def test_lint_reports_a_drafts_problems_as_drafts(desk, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HELPDESK_SECRETS_FILE", "/nonexistent")
    assert draft(desk, resolved(desk, customer=("My router shows a red light and nothing works",))).status_code == 303
    (tmp_path / "drafts" / "en" / "broken.md").write_text("---\nid: x\n---\nbody\n", encoding="utf-8")
    status = main(["lint", "--articles", str(FIXTURE_KB), "--drafts", str(tmp_path / "drafts")])
    err = capsys.readouterr().err
    assert status == 0, err  # the articles are fine; drafts never fail the lint
    assert "draft drafts/en/reset-the-router-to-factory-settings.md:" in err
    assert "2 example questions; write at least 3" in err
    assert "draft drafts/en/broken.md:1: missing required field 'title'" in err
    assert "2 drafts checked in" in err and "2 problems (drafts do not fail the lint)" in err


@pytest.mark.parametrize("exact", [True, False], ids=["by text", "by meaning"])
def test_gaps_names_the_draft_that_covers_an_unanswered_question(desk, tmp_path, capsys, monkeypatch, exact):
    question = "How do I reset my router to factory settings?"
    assert (
        draft(desk, resolved(desk, description="router reset needed, red light", customer=(question,))).status_code
        == 303
    )
    settings = desk.app.state.settings
    for key, value in {
        "DATABASE_URL": settings.database_url,
        "HELPDESK_DRAFTS_DIR": str(tmp_path / "drafts"),
        "HELPDESK_INDEX_DIR": str(settings.index_dir),
        "HELPDESK_ARTICLES_DIR": str(FIXTURE_KB),
        "HELPDESK_SECRETS_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(key, value)
    feedback = FeedbackStore(desk.app.state.handoffs.engine)
    now = datetime.now(UTC)
    asked = question.upper() if exact else "how can I reset my router to the factory settings"
    feedback.record_unanswered(asked, "en", 0.2, 0.5, None, now=now - timedelta(minutes=1))
    feedback.record_unanswered("Where is my parcel?", "en", 0.2, 0.5, None, now=now - timedelta(minutes=2))
    assert main(["gaps", "--json", *(["--exact"] if exact else [])]) == 0
    gaps = {g["example"]: g for g in json.loads(capsys.readouterr().out)["gaps"]}
    covered = gaps[asked]["draft"]
    assert covered["id"] == "en-reset-the-router-to-factory-settings"
    assert covered["path"].endswith("drafts/en/reset-the-router-to-factory-settings.md")
    assert gaps["Where is my parcel?"]["draft"] is None
    assert main(["gaps", *(["--exact"] if exact else [])]) == 0
    assert "draft: " + covered["path"] in capsys.readouterr().out


def test_a_draft_keeps_no_personal_detail_of_the_customer(desk, tmp_path):
    ticket = post(
        desk,
        language="de",
        summary={
            "description": "Mein Name ist Erika Probe, Kundennummer 4711-0815: seit heute kein Internet. "
            "Viele Grüße, E. Probe (0171 23 45 678)",
            "category": "network",
            "product": "Nordwind Fiber",
            "contact": {"name": "Erika Probe", "email": "erika.probe@example.org", "phone": "+49 171 2345678"},
        },
        transcript=[
            {"sender": "customer", "text": text, "timestamp": "2026-11-27T06:58:00Z"}
            for text in (
                "Mein Name ist Erika Probe und der Router blinkt rot",
                "Schreiben Sie an erika.probe@example.org",
                "Erika hier, der Router blinkt immer noch",
                "Der Router blinkt seit dem Gewitter rot",
            )
        ],
    )
    desk.app.state.handoffs.resolve(
        ticket,
        "anna",
        "Router zurücksetzen (Kundennummer 4711-0815). Bei Problemen ruft Frau Probe unter Tel. 030 12345 an.",
    )
    assert draft(desk, ticket).status_code == 303
    (path,) = (tmp_path / "drafts").rglob("*.md")
    text = path.read_text(encoding="utf-8")
    for detail in ("Erika", "Probe", "4711", "0815", "example.org", "12345"):
        assert detail not in text, detail
    article = parse_article(path, tmp_path / "drafts", ("de", "en"))
    assert article.questions == ("Der Router blinkt seit dem Gewitter rot",)  # the rest needed masking
    assert "Mein Name ist &lt;name&gt;, Kundennummer &lt;customer-number&gt;" in text
    assert "Viele Grüße, E. &lt;name&gt; (&lt;number&gt;)" in text and "ruft Frau &lt;name&gt; unter" in text
    assert article.title == "Router zurücksetzen (Kundennummer <customer-number>)"
