"""Sample exports as the help centres write them: a few articles each with numbered steps, tables, code."""

from __future__ import annotations

ROUTER_RESET_HTML = """<h1>How do I restart my Nordwind Box?</h1>
<p>If the <strong>Internet</strong> LED of your router stays red, a restart fixes most problems.</p>
<h2>Steps</h2>
<ol>
  <li>Pull the power plug of the router.</li>
  <li>Wait <em>30 seconds</em>.
    <ul><li>DSL: leave the grey cable plugged in.</li><li>Fiber: leave the modem on.</li></ul>
  </li>
  <li>Plug the router in again and wait until the <b>Power</b> LED is steady green.</li>
</ol>
<h2>What the LEDs mean</h2>
<table>
  <thead><tr><th>LED</th><th>State</th><th>Meaning</th></tr></thead>
  <tbody>
    <tr><td>Power</td><td>green</td><td>the router is on</td></tr>
    <tr><td>Internet</td><td>red</td><td>no DSL sync | check the cable</td></tr>
  </tbody>
</table>
<h2>Check the connection from a computer</h2>
<pre><code class="language-shell">ping -c 4 8.8.8.8
ipconfig /flushdns</code></pre>
<p>Then run <code>nslookup nordwind.example</code>.</p>
<script>alert("no")</script>"""

ZENDESK = {
    "articles": [
        {
            "id": 360001,
            "url": "https://nordwind.zendesk.com/api/v2/help_center/en-us/articles/360001.json",
            "html_url": "https://help.nordwind.example/hc/en-us/articles/360001-How-do-I-restart-my-Nordwind-Box",
            "title": "How do I restart my Nordwind Box?",
            "body": ROUTER_RESET_HTML,
            "locale": "en-us",
            "source_locale": "en-us",
            "draft": False,
            "section_id": 11,
            "label_names": ["router", "restart"],
            "created_at": "2025-03-01T09:00:00Z",
            "updated_at": "2026-10-14T08:30:00Z",
        },
        {
            "id": 360002,
            "html_url": "https://help.nordwind.example/hc/de/articles/360002",
            "title": "Rechnung als PDF herunterladen",
            "body": "<p>Ihre Rechnung finden Sie im Kundenportal.</p><ol><li>Melden Sie sich unter "
            '<a href="/hc/de/portal">Mein Nordwind</a> an.</li><li>Wählen Sie <strong>Rechnungen</strong>.'
            "</li><li>Klicken Sie neben dem Monat auf <em>PDF</em>.</li></ol>"
            "<h3>Wie lange werden Rechnungen aufbewahrt?</h3><p>Zehn Jahre.</p>",
            "locale": "de",
            "draft": False,
            "section_id": 12,
            "label_names": [],
            "updated_at": "2026-09-02T12:00:00Z",
        },
        {
            "id": 360003,
            "html_url": "https://help.nordwind.example/hc/en-us/articles/360003",
            "title": "Unfinished: new tariffs",
            "body": "<p>Coming soon.</p>",
            "locale": "en-us",
            "draft": True,
            "section_id": 12,
            "label_names": [],
            "updated_at": "2026-09-02T12:00:00Z",
        },
    ],
    "sections": [{"id": 11, "name": "Internet and router"}, {"id": 12, "name": "Billing"}],
    "page": 1,
    "page_count": 1,
}

FRESHDESK = [
    {
        "id": 5000123,
        "type": 1,
        "category_id": 42,
        "folder_id": 77,
        "title": "Embed the ShopTalk widget in your shop",
        "description": "<div><p>Add the ShopTalk chat widget to every page of your shop.</p>"
        "<ol><li>Open <b>Settings &gt; Widget</b> in the ShopTalk dashboard.</li>"
        '<li>Copy the snippet:<pre>&lt;script src="https://cdn.shoptalk.example/w.js" '
        'data-id="YOUR-ID"&gt;&lt;/script&gt;</pre></li>'
        "<li>Paste it before <code>&lt;/body&gt;</code> in your shop template.</li></ol>"
        "<table><tr><td>Shop system</td><td>Where</td></tr><tr><td>Shopware</td><td>Theme &gt; index.tpl</td></tr>"
        "<tr><td>WooCommerce</td><td>footer.php</td></tr></table></div>",
        "description_text": "Add the ShopTalk chat widget to every page of your shop.",
        "status": 2,
        "agent_id": 9,
        "tags": ["widget", "installation"],
        "seo_data": {"meta_title": "Embed", "meta_keywords": "shoptalk, embed"},
        "created_at": "2025-01-10T10:00:00Z",
        "updated_at": "2026-08-20T16:45:00Z",
        "language": "en",
    },
    {
        "id": 5000124,
        "title": "Which payment methods can I use?",
        "description": "",
        "description_text": "You can pay by direct debit, credit card or invoice.\n\nChange it in the customer portal.",
        "status": 2,
        "tags": [],
        "updated_at": "2026-07-01T08:00:00Z",
    },
    {
        "id": 5000125,
        "title": "Draft article",
        "description": "<p>Not ready.</p>",
        "description_text": "Not ready.",
        "status": 1,
        "updated_at": "2026-07-01T08:00:00Z",
    },
]

ZAMMAD = {
    "assets": {
        "KnowledgeBaseLocale": {
            "1": {"id": 1, "knowledge_base_id": 1, "system_locale_id": 10, "primary": True},
            "2": {"id": 2, "knowledge_base_id": 1, "system_locale_id": 11, "primary": False},
        },
        "Locale": {"10": {"id": 10, "locale": "de-de", "name": "Deutsch"}, "11": {"id": 11, "locale": "en-us"}},
        "KnowledgeBaseCategoryTranslation": {
            "1": {"id": 1, "title": "E-Mail", "kb_locale_id": 1, "category_id": 3},
        },
        "KnowledgeBaseAnswer": {
            "7": {
                "id": 7,
                "category_id": 3,
                "archived_at": None,
                "internal_at": None,
                "published_at": "2026-05-01T10:00:00Z",
                "updated_at": "2026-06-01T10:00:00Z",
                "translation_ids": [70],
                "tags": ["imap"],
            },
            "8": {
                "id": 8,
                "category_id": 3,
                "archived_at": None,
                "internal_at": "2026-05-01T10:00:00Z",
                "published_at": None,
                "translation_ids": [80],
                "tags": [],
            },
            "9": {
                "id": 9,
                "category_id": 3,
                "archived_at": "2026-01-01T10:00:00Z",
                "internal_at": None,
                "published_at": "2025-01-01T10:00:00Z",
                "translation_ids": [90],
            },
        },
        "KnowledgeBaseAnswerTranslation": {
            "70": {
                "id": 70,
                "title": "IMAP- und SMTP-Server für Ihr Mailprogramm",
                "kb_locale_id": 1,
                "answer_id": 7,
                "content_id": 700,
                "updated_at": "2026-06-02T10:00:00Z",
            },
            "80": {
                "id": 80,
                "title": "Escalating a mailbox restore",
                "kb_locale_id": 2,
                "answer_id": 8,
                "content_id": 800,
                "updated_at": "2026-06-03T10:00:00Z",
            },
            "90": {"id": 90, "title": "Old webmail", "kb_locale_id": 2, "answer_id": 9, "content_id": 900},
        },
        "KnowledgeBaseAnswerTranslationContent": {
            "700": {
                "id": 700,
                "body": "<p>Tragen Sie in Ihrem E-Mail-Programm diese Server ein:</p>"
                "<table><tr><th>Dienst</th><th>Server</th><th>Port</th></tr>"
                "<tr><td>IMAP</td><td>imap.nordwind.example</td><td>993</td></tr>"
                "<tr><td>SMTP</td><td>smtp.nordwind.example</td><td>587</td></tr></table>"
                "<ol><li>Öffnen Sie die Kontoeinstellungen.</li><li>Tragen Sie die Server ein.</li></ol>",
            },
            "800": {"id": 800, "body": "<p>Second level only: ask the mail team for a restore.</p>"},
            "900": {"id": 900, "body": "<p>Retired.</p>"},
        },
    }
}

SAVED_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Set up the Nordwind mesh Wi-Fi | Nordwind Help</title>
  <link rel="canonical" href="https://help.nordwind.example/articles/mesh-setup">
  <meta property="article:modified_time" content="2026-10-05T07:00:00+00:00">
  <link rel="stylesheet" href="page_files/site.css">
</head>
<body>
  <header class="site-header"><a href="/">Nordwind</a><nav><a href="/internet">Internet</a></nav></header>
  <div class="cookie-banner">We use cookies. <button>OK</button></div>
  <div id="wrapper">
    <aside class="sidebar"><ul><li><a href="/a">Related article one</a></li></ul></aside>
    <main>
      <nav class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/wifi">Wi-Fi</a></nav>
      <article>
        <h1>Set up the Nordwind mesh Wi-Fi</h1>
        <p>A mesh repeater extends your Wi-Fi to every room.</p>
        <h2>Steps</h2>
        <ol>
          <li>Plug the repeater in next to the router.</li>
          <li>Press the <strong>Connect</strong> button on the router, then on the repeater.</li>
          <li>Move the repeater halfway to the room without Wi-Fi.</li>
        </ol>
        <h2>Which LED colour is right?</h2>
        <table>
          <tr><th>LED</th><th>Meaning</th></tr>
          <tr><td>white</td><td>good connection</td></tr>
          <tr><td>orange</td><td>move closer to the router</td></tr>
        </table>
        <p>See also <a href="/articles/wifi-drops">Wi-Fi keeps dropping</a>.</p>
      </article>
    </main>
  </div>
  <footer>© Nordwind · <a href="/imprint">Imprint</a></footer>
</body>
</html>
"""
