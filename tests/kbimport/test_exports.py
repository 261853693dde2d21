"""Help-centre exports (Zendesk, Freshdesk, Zammad) become drafts in the KB's format: the markdown keeps
numbered steps, nested lists, tables and code; language, category and product come from the source or
are guessed and marked so; unpublished articles are skipped with the reason."""

from __future__ import annotations

import datetime as dt

import frontmatter

from search_api.kb.articles import parse_article
from tests.kbimport.conftest import by_title, write_json
from tests.kbimport.samples import FRESHDESK, ZAMMAD, ZENDESK


def read(path):
    post = frontmatter.load(path)
    return post.metadata, post.content


def test_zendesk_articles_keep_steps_tables_and_code(run_import, tmp_path, drafts):
    status, report, err = run_import(write_json(tmp_path / "zendesk.json", ZENDESK))
    assert status == 0, err
    assert (report["imported"], report["skipped"]) == (2, 1)
    articles = by_title(report)
    restart = articles["How do I restart my Nordwind Box?"]
    assert restart["draft"] == str(drafts / "en" / "how-do-i-restart-my-nordwind-box.md")
    meta, body = read(restart["draft"])
    assert meta["id"] == "en-how-do-i-restart-my-nordwind-box" and meta["lang"] == "en"
    assert meta["source"] == ZENDESK["articles"][0]["html_url"]
    assert meta["updated"] == dt.date(2026, 10, 14)
    assert meta["tags"] == ["router", "restart"]
    assert meta["category"] == "network" and meta["product"] == "Nordwind DSL"
    assert meta["guessed"] == ["category", "product"]
    assert meta["questions"] == ["How do I restart my Nordwind Box?"]
    assert "How do I restart" not in body.split("\n")[0]  # the title heading is not repeated
    assert "1. Pull the power plug of the router.\n2. Wait *30 seconds*.\n    - DSL: leave" in body
    assert "\n3. Plug the router in again and wait until the **Power** LED is steady green." in body
    assert "## Steps" in body and "## What the LEDs mean" in body
    assert "| LED | State | Meaning |\n|---|---|---|\n| Power | green | the router is on |" in body
    assert "| Internet | red | no DSL sync \\| check the cable |" in body
    assert "```shell\nping -c 4 8.8.8.8\nipconfig /flushdns\n```" in body
    assert "`nslookup nordwind.example`" in body
    assert "alert" not in body and "<" not in body.replace("&lt;", "")
    article = parse_article(drafts / "en" / "how-do-i-restart-my-nordwind-box.md", drafts, ("de", "en"))
    assert [s.heading for s in article.sections][1:] == [
        "Steps",
        "What the LEDs mean",
        "Check the connection from a computer",
    ]

    invoice = articles["Rechnung als PDF herunterladen"]
    meta, body = read(invoice["draft"])
    assert meta["lang"] == "de" and meta["category"] == "billing"
    assert "tags" in meta["guessed"] and meta["tags"]
    assert "1. Melden Sie sich unter [Mein Nordwind](https://help.nordwind.example/hc/de/portal) an." in body
    assert meta["questions"] == ["Wie lange werden Rechnungen aufbewahrt?"]  # the source's own FAQ heading

    skipped = articles["Unfinished: new tariffs"]
    assert skipped["status"] == "skipped" and "a draft in Zendesk" in skipped["reason"]
    assert not (drafts / "en" / "unfinished-new-tariffs.md").exists()


def test_unpublished_articles_are_imported_when_asked(run_import, tmp_path, drafts):
    status, report, _ = run_import(write_json(tmp_path / "zendesk.json", ZENDESK), "--include-unpublished")
    assert status == 0 and report["imported"] == 3
    assert (drafts / "en" / "unfinished-new-tariffs.md").is_file()


def test_freshdesk_solution_articles(run_import, tmp_path, drafts):
    status, report, err = run_import(write_json(tmp_path / "freshdesk.json", FRESHDESK))
    assert status == 0, err
    articles = by_title(report)
    widget = articles["Embed the ShopTalk widget in your shop"]
    meta, body = read(widget["draft"])
    assert meta["lang"] == "en" and "lang" not in meta["guessed"]  # the record's language
    assert meta["category"] == "shop-chat" and meta["product"] == "ShopTalk"
    assert meta["tags"] == ["widget", "installation", "shoptalk", "embed"]
    assert meta["source"].endswith("freshdesk.json#5000123")
    assert "1. Open **Settings &gt; Widget** in the ShopTalk dashboard." in body
    # code inside a list item is indented (Python-Markdown renders no fence there)
    assert '2. Copy the snippet:\n\n        <script src="https://cdn.shoptalk.example/w.js" data-id="YOUR-ID">' in body
    assert "3. Paste it before `</body>` in your shop template." in body
    assert "| Shop system | Where |\n|---|---|\n| Shopware | Theme &gt; index.tpl |" in body

    payment = articles["Which payment methods can I use?"]
    meta, body = read(payment["draft"])
    assert meta["lang"] == "en" and "lang" in meta["guessed"]  # no language in the record: detected
    assert body == "You can pay by direct debit, credit card or invoice.\n\nChange it in the customer portal."
    assert meta["questions"] == ["Which payment methods can I use?"]
    assert articles["Draft article"]["status"] == "skipped"
    assert "status 1" in articles["Draft article"]["reason"]


def test_zammad_answers(run_import, tmp_path, drafts):
    status, report, err = run_import(write_json(tmp_path / "zammad.json", ZAMMAD))
    assert status == 0, err
    articles = by_title(report)
    imap = articles["IMAP- und SMTP-Server für Ihr Mailprogramm"]
    meta, body = read(imap["draft"])
    assert meta["lang"] == "de" and meta["category"] == "email" and meta["audience"] == "public"
    assert meta["tags"] == ["imap"] and meta["updated"] == dt.date(2026, 6, 2)
    assert "| Dienst | Server | Port |\n|---|---|---|\n| IMAP | imap.nordwind.example | 993 |" in body
    assert "1. Öffnen Sie die Kontoeinstellungen.\n2. Tragen Sie die Server ein." in body
    internal = articles["Escalating a mailbox restore"]
    assert read(internal["draft"])[0]["audience"] == "internal"
    assert articles["Old webmail"]["status"] == "skipped" and "archived" in articles["Old webmail"]["reason"]


def test_zammad_answer_list_without_locales_is_read_too(run_import, tmp_path):
    answers = [
        {
            "id": 1,
            "published_at": "2026-01-01T00:00:00Z",
            "translations": [
                {
                    "title": "Passwort vergessen",
                    "content": {
                        "body": "<ol><li>Öffnen Sie die Anmeldeseite.</li><li>Klicken Sie auf "
                        "<em>Passwort vergessen</em> und folgen Sie der E-Mail.</li></ol>"
                    },
                }
            ],
        }
    ]
    status, report, err = run_import(write_json(tmp_path / "answers.json", answers), "--format", "zammad")
    assert status == 0, err
    draft = by_title(report)["Passwort vergessen"]
    assert draft["lang"] == "de" and "lang" in draft["guessed"]
