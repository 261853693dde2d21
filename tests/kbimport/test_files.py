"""Saved HTML pages, markdown and plain-text files: the page's main content without its navigation,
the markdown as written, the text's FAQ questions; the language from the page or detected."""

from __future__ import annotations

import datetime as dt

import frontmatter

from tests.kbimport.conftest import by_title
from tests.kbimport.samples import SAVED_PAGE


def test_a_folder_of_saved_pages_keeps_the_main_content(run_import, tmp_path, drafts):
    pages = tmp_path / "site"
    (pages / "page_files").mkdir(parents=True)
    (pages / "mesh.html").write_text(SAVED_PAGE, encoding="utf-8")
    (pages / "page_files" / "site.css").write_text("body{}", encoding="utf-8")  # passed over silently
    (pages / "manual.odt").write_bytes(b"PK\x03\x04")
    status, report, err = run_import(pages)
    assert status == 0, err
    draft = by_title(report)["Set up the Nordwind mesh Wi-Fi"]
    post = frontmatter.load(draft["draft"])
    meta, body = post.metadata, post.content
    assert meta["source"] == "https://help.nordwind.example/articles/mesh-setup"
    assert meta["lang"] == "en" and "lang" not in meta.get("guessed", [])
    assert meta["updated"] == dt.date(2026, 10, 5) and meta["category"] == "network"
    assert body.startswith("A mesh repeater extends your Wi-Fi to every room.")
    assert "1. Plug the repeater in next to the router.\n2. Press the **Connect** button" in body
    assert "| LED | Meaning |\n|---|---|\n| white | good connection |\n| orange | move closer to the router |" in body
    assert "[Wi-Fi keeps dropping](https://help.nordwind.example/articles/wifi-drops)" in body
    for boilerplate in ("cookies", "Imprint", "Related article one", "Home", "Nordwind Help"):
        assert boilerplate not in body, boilerplate
    assert meta["questions"] == ["Which LED colour is right?"]
    unsupported = [a for a in report["articles"] if a["status"] == "skipped"]
    assert [(a["origin"].endswith("manual.odt"), a["reason"]) for a in unsupported] == [
        (True, "unsupported file type (.odt)")
    ]
    assert report["imported"] == 1


def test_markdown_and_text_files(run_import, tmp_path, drafts):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "vpn.md").write_text(
        "# Connect to the office VPN\n\nInstall the client first.\n\n# Steps\n\n1. Open the client.\n"
        "2. Enter `vpn.nordwind.example`.\n\n```ini\n[vpn]\nport = 443\n```\n\n# Why does it disconnect?\n\n"
        "| Cause | Fix |\n|---|---|\n| idle | keep alive |\n",
        encoding="utf-8",
    )
    (notes / "faq.txt").write_text(
        "Kündigung des Vertrags\n\nSie können Ihren Vertrag jederzeit zum Monatsende kündigen.\n\n"
        "Wie kündige ich meinen Vertrag?\nSo gehen Sie vor:\n\n1. Melden Sie sich im Kundenportal an.\n"
        "2. Wählen Sie Vertrag > Kündigen.\n3. Bestätigen Sie die Kündigung per E-Mail.\n\n"
        "Bekomme ich eine Bestätigung?\nJa, per E-Mail innerhalb von 24 Stunden. *Wichtig*: Spam-Ordner prüfen.\n",
        encoding="utf-8",
    )
    status, report, err = run_import(notes)
    assert status == 0, err
    articles = by_title(report)
    vpn = frontmatter.load(articles["Connect to the office VPN"]["draft"])
    assert vpn["lang"] == "en" and "lang" in vpn["guessed"]
    assert "## Steps\n\n1. Open the client.\n2. Enter `vpn.nordwind.example`." in vpn.content
    assert "```ini\n[vpn]\nport = 443\n```" in vpn.content
    assert "| Cause | Fix |\n|---|---|\n| idle | keep alive |" in vpn.content
    assert vpn["questions"] == ["Why does it disconnect?"]

    faq = frontmatter.load(articles["Kündigung des Vertrags"]["draft"])
    assert faq["lang"] == "de" and faq["category"] == "billing"
    assert faq["questions"] == ["Wie kündige ich meinen Vertrag?", "Bekomme ich eine Bestätigung?"]
    assert "## Wie kündige ich meinen Vertrag?\n\nSo gehen Sie vor:" in faq.content
    assert "1. Melden Sie sich im Kundenportal an.\n2. Wählen Sie Vertrag &gt; Kündigen.\n3. Bestätigen" in faq.content
    assert "\\*Wichtig\\*: Spam-Ordner prüfen." in faq.content  # plain text stays plain


def test_a_language_the_deployment_does_not_serve_is_skipped(run_import, tmp_path, drafts):
    page = tmp_path / "fr.html"
    page.write_text(
        "<html><body><main><h1>Réinitialiser le routeur</h1><p>Débranchez le routeur pendant trente secondes, "
        "puis rebranchez-le et attendez que le voyant soit vert.</p></main></body></html>",
        encoding="utf-8",
    )
    status, report, err = run_import(page)
    assert status == 0, err
    (article,) = report["articles"]
    assert article["status"] == "skipped"
    assert article["reason"] == "detected 'fr', not a served language (de, en)"
    assert not drafts.exists()


def test_a_page_without_main_or_article_uses_the_content_element(run_import, tmp_path):
    page = tmp_path / "mail.html"
    page.write_text(
        '<html><head><title>Mail settings – Nordwind Help</title></head><body><div id="top-menu">'
        '<a href="/">Home</a></div><div class="layout"><div class="sidebar">Categories: Internet, Mail</div>'
        '<div class="article-body"><h2>Mail settings</h2><p>Use these servers:</p><ol start="3"><li>Third step'
        "</li><li>Fourth step</li></ol><pre>imap.nordwind.example:993\n  smtp.nordwind.example:587</pre>"
        '</div></div><div class="promo">Get our newsletter</div><div class="footer">Copyright</div></body></html>',
        encoding="utf-8",
    )
    status, report, err = run_import(page)
    assert status == 0, err
    post = frontmatter.load(by_title(report)["Mail settings"]["draft"])
    assert post.content == (
        "Use these servers:\n\n3. Third step\n4. Fourth step\n\n"
        "```\nimap.nordwind.example:993\n  smtp.nordwind.example:587\n```"
    )
    assert post["category"] == "email" and post["source"] == str(page)


def test_a_saved_page_in_its_declared_encoding(run_import, tmp_path):
    page = tmp_path / "alt.html"
    html = (
        '<html lang="de"><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "<title>Kündigung</title></head><body><main><h1>Vertrag kündigen</h1><p>Kündigen Sie im "
        "Kundenportal unter „Vertrag“.</p></main></body></html>"
    )
    page.write_bytes(html.encode("cp1252"))
    status, report, err = run_import(page)
    assert status == 0, err
    post = frontmatter.load(by_title(report)["Vertrag kündigen"]["draft"])
    assert post.content == "Kündigen Sie im Kundenportal unter „Vertrag“."
