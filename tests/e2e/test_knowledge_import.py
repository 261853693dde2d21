"""End to end: a company's help site becomes answers of the bot.

A small help site (three German pages about the TV box, robots.txt, a sitemap) is served on
loopback. ``helpdesk import --url`` crawls it into drafts; the test publishes them as an author
does (docs/importing.md, docs/authoring.md): confirms what the import guessed, deletes the
import's comment, adds example questions, moves each file into the articles directory the web
service serves, and has the service re-index (``POST /admin/reindex``). Then a customer asks the
bot (Rasa, the action server and the web service of tests/e2e/conftest.py, through Rasa's REST
channel) a question one of the pages answers, and the bot answers with that article: a passage of
the page and the link to it. The published articles are removed and the index rebuilt afterwards, so the
other end-to-end tests see the starter KB.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import frontmatter
import httpx
import pytest

from tests.e2e.conftest import PY311

pytestmark = pytest.mark.browser  # with the other end-to-end tests: the whole stack, a trained bot

LAYOUT = (
    '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{title} | Nordwind Hilfe</title></head>'
    '<body><header><a href="/">Nordwind</a> <nav class="menu"><a href="/hilfe">Hilfe</a> <a href="/kontakt">'
    'Kontakt</a></nav></header><div class="cookie-banner">Wir verwenden Cookies. <button>OK</button></div>'
    "<main><h1>{title}</h1>{body}</main><footer>Impressum · Datenschutz</footer></body></html>"
)
PAGES = {
    "/hilfe/tv-box-fernbedienung": (
        "Fernbedienung mit der TV-Box koppeln",
        "<p>Reagiert die TV-Box nicht mehr auf die Fernbedienung, ist die Kopplung meist verloren gegangen, "
        "zum Beispiel nach einem Batteriewechsel.</p>"
        "<h2>Wie kopple ich die Fernbedienung neu?</h2><ol>"
        "<li><strong>Batterien prüfen:</strong> Legen Sie zwei neue AAA-Batterien ein.</li>"
        "<li><strong>Kopplung starten:</strong> Halten Sie die Tasten <b>OK</b> und <b>Zurück</b> fünf Sekunden "
        "lang gedrückt, bis die LED der Fernbedienung blau blinkt.</li>"
        "<li><strong>Bestätigen:</strong> Wählen Sie am Fernseher <i>Fernbedienung koppeln</i> und bestätigen "
        "Sie mit OK.</li></ol>"
        "<h2>Die LED blinkt rot</h2><p>Die Fernbedienung ist zu weit entfernt: Gehen Sie näher an die TV-Box.</p>",
    ),
    "/hilfe/tv-box-aufnahmen": (
        "Sendungen mit der TV-Box aufnehmen",
        "<p>Die TV-Box nimmt Sendungen auf einer angeschlossenen USB-Festplatte auf.</p>"
        "<h2>So nehmen Sie eine Sendung auf</h2><ol><li>Schließen Sie eine USB-Festplatte mit mindestens 32 GB "
        "an.</li><li>Öffnen Sie den Programmführer und wählen Sie die Sendung.</li>"
        "<li>Drücken Sie die rote Aufnahmetaste.</li></ol>",
    ),
    "/hilfe/tv-box-senderliste": (
        "Senderliste der TV-Box sortieren",
        "<p>Die Reihenfolge der Sender legen Sie in den Einstellungen fest.</p>"
        "<h2>Sender verschieben</h2><ol><li>Öffnen Sie Einstellungen, dann Senderliste.</li>"
        "<li>Markieren Sie einen Sender mit OK und verschieben Sie ihn mit den Pfeiltasten.</li></ol>",
    ),
}
# What an author writes before publishing: how customers ask for each page.
QUESTIONS = {
    "Fernbedienung mit der TV-Box koppeln": [
        "Meine Fernbedienung reagiert nicht mehr auf die TV-Box",
        "TV-Box Fernbedienung geht nicht nach Batteriewechsel",
        "Fernbedienung neu verbinden",
    ],
    "Sendungen mit der TV-Box aufnehmen": [
        "Wie kann ich mit der TV-Box eine Sendung aufnehmen?",
        "Aufnahme auf USB-Festplatte",
        "Film aufzeichnen mit der TV-Box",
    ],
    "Senderliste der TV-Box sortieren": [
        "Wie ändere ich die Reihenfolge der Sender?",
        "Sender auf der TV-Box umsortieren",
        "Senderliste bearbeiten",
    ],
}


def handler(port: list[int]):
    class Site(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{port[0]}"
            if self.path == "/robots.txt":
                body, kind = b"User-agent: *\nDisallow: /intern/\n", "text/plain"
            elif self.path == "/sitemap.xml":
                urls = "".join(f"<url><loc>{base}{path}</loc><lastmod>2026-10-01</lastmod></url>" for path in PAGES)
                body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
                kind = "application/xml"
            elif self.path in PAGES:
                title, text = PAGES[self.path]
                body, kind = LAYOUT.format(title=title, body=text).encode(), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Site


@pytest.fixture
def help_site() -> Iterator[str]:
    port: list[int] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(port))
    port.append(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port[0]}"
    server.shutdown()
    server.server_close()


def test_a_crawled_help_site_is_published_and_the_bot_answers_from_it(stack, help_site):
    imported = subprocess.run(
        [str(PY311 / "helpdesk"), "import", "--url", f"{help_site}/sitemap.xml", "--rate", "20", "--json"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    assert report["imported"] == 3 and report["skipped"] == 0, report
    drafts = {a["title"]: a for a in report["articles"]}
    assert set(drafts) == set(QUESTIONS)
    published, ids = [], {}
    try:
        for title, entry in drafts.items():
            draft = stack.drafts / "de" / entry["draft"].rsplit("/", 1)[-1]
            post = frontmatter.load(draft)
            assert post["lang"] == "de" and post["source"].startswith(help_site), post.metadata
            assert "Cookies" not in post.content and "Impressum" not in post.content  # the page's chrome is gone
            # The author's part: confirm the guesses, write example questions, move the file.
            ids[title] = post["id"]
            post.metadata.pop("guessed", None)
            post["questions"] = [*post.get("questions", []), *QUESTIONS[title]]
            target = stack.articles / "de" / draft.name
            target.write_text(frontmatter.dumps(post) + "\n", encoding="utf-8")
            draft.unlink()
            published.append(target)
        remote = ids["Fernbedienung mit der TV-Box koppeln"]
        built = stack.reindex()
        assert not built.get("errors"), built

        reply = httpx.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={
                "sender": "import-e2e-1",
                "message": "Hallo, wie kopple ich die Fernbedienung neu mit meiner TV-Box?",
            },
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        # The answer card (a custom payload of the chat): the imported article, a passage of the page, its link.
        cards = [m["custom"]["data"] for m in reply.json() if isinstance(m.get("custom"), dict)]
        assert [c.get("article_id") for c in cards] == [remote], reply.json()
        said = cards[0].get("text") or ""
        assert "Fernbedienung mit der TV-Box koppeln" in said, said
        assert "Halten Sie die Tasten" in said or "Gehen Sie näher an die TV-Box" in said, said
        assert f"/articles/{remote}" in said, said
    finally:
        for path in published:
            path.unlink(missing_ok=True)
        if published:
            stack.reindex()
