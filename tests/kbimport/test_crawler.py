"""``helpdesk import --url``: a help site of fifteen pages served on loopback by the standard
library's HTTP server, crawled through its sitemap: robots.txt obeyed, redirects kept on the site,
an oversized page dropped unread, the rate limit kept, every refused URL a line in the report."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import frontmatter
import pytest

from tests.kbimport.conftest import by_title

ARTICLES = {
    "/en/restart-router": ("en", "Restart the Nordwind Box", "Unplug the router for thirty seconds, then plug it in."),
    "/en/wifi-password": ("en", "Change the Wi-Fi password", "Open the router's web page and choose Security."),
    "/en/mesh": ("en", "Set up mesh Wi-Fi", "A mesh repeater extends your Wi-Fi to every room of the house."),
    "/en/invoice": ("en", "Read your invoice", "Your invoice lists the monthly fee and every extra charge."),
    "/en/email-setup": ("en", "Set up your e-mail program", "Use the mail servers of Nordwind with port 993."),
    "/en/tv-channels": ("en", "Sort your TV channels", "The channel list of the receiver can be sorted freely."),
    "/de/router-neustart": ("de", "Router neu starten", "Ziehen Sie den Stecker des Routers für dreißig Sekunden."),
    "/de/rechnung": ("de", "Ihre Rechnung verstehen", "Die Rechnung zeigt die monatliche Gebühr und alle Extras."),
    "/de/kuendigung": ("de", "Vertrag kündigen", "Sie können Ihren Vertrag jederzeit zum Monatsende kündigen."),
}


def page_html(lang: str, title: str, text: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Nordwind Help</title>'
        '</head><body><nav class="menu"><a href="/">Home</a> <a href="/en/invoice">Billing</a></nav>'
        f"<main><h1>{title}</h1><p>{text}</p><h2>Steps</h2><ol><li>Open the <b>Settings</b>.</li>"
        "<li>Choose <i>Network</i>.</li></ol><table><tr><th>LED</th><th>Meaning</th></tr>"
        '<tr><td>green</td><td>online</td></tr></table><p>See <a href="/en/mesh">mesh</a>.</p></main>'
        "<footer>Imprint · Privacy · Cookies</footer></body></html>"
    )


@dataclass
class Site:
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, host:port, path)
    huge_bytes_sent: int = 0
    port: int = 0
    other_port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def make_handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # the test reads site.requests instead
            pass

        def send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", **headers) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            address = self.server.server_address
            assert isinstance(address, tuple)
            port = address[1]
            site.requests.append((time.monotonic(), f"{port}", self.path))
            if port == site.other_port:
                return self.send(200, page_html("en", "Elsewhere", "A page of another site.").encode())
            path = self.path
            if path == "/robots.txt":
                return self.send(200, b"User-agent: *\nDisallow: /internal/\n", "text/plain")
            if path == "/sitemap.xml":
                locs = [*ARTICLES, "/internal/staff-only", "/old/restart", "/away", "/huge", "/huge-announced",
                        "/manual.pdf", "/missing"]  # fmt: skip
                entries = "".join(f"<url><loc>{site.url(p)}</loc><lastmod>2026-09-0{i % 9 + 1}</lastmod></url>"
                                  for i, p in enumerate(locs))  # fmt: skip
                entries += f"<url><loc>http://localhost:{site.port}/en/restart-router</loc></url>"
                body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
                return self.send(200, (body + "</urlset>").encode(), "application/xml")
            if path in ARTICLES:
                return self.send(200, page_html(*ARTICLES[path]).encode())
            if path == "/internal/staff-only":
                return self.send(200, page_html("en", "Staff only", "Internal notes.").encode())
            if path == "/old/restart":  # moved within the site
                return self.send(301, b"", Location="/en/restart-router-moved")
            if path == "/en/restart-router-moved":
                return self.send(200, page_html("en", "Restart it the new way", "Hold the reset key.").encode())
            if path == "/away":
                return self.send(302, b"", Location=f"http://127.0.0.1:{site.other_port}/landing")
            if path == "/huge-announced":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(50 * 1024 * 1024))
                self.end_headers()
                return None  # the body would follow; the client must not wait for it
            if path == "/huge":  # 50 MB without a length: the client has to drop it unread to its end
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"<p>" + b"x" * 65_530 + b"</p>"
                try:
                    for _ in range(50 * 1024 * 1024 // len(chunk)):
                        self.wfile.write(chunk)
                        site.huge_bytes_sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
                return None
            if path == "/manual.pdf":
                return self.send(200, b"%PDF-1.4 ...", "application/pdf")
            return self.send(404, b"not found", "text/plain")

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site)) for _ in range(2)]
    site.port, site.other_port = (s.server_address[1] for s in servers)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield site
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_help_site_is_crawled_politely_through_its_sitemap(run_import, site, drafts):
    started = time.monotonic()
    status, report, err = run_import("--url", site.url("/sitemap.xml"), "--rate", "10", "--max-page-mb", "1")
    elapsed = time.monotonic() - started
    assert status == 0, err

    articles = by_title(report)
    restart = frontmatter.load(articles["Restart the Nordwind Box"]["draft"])
    assert restart["source"] == site.url("/en/restart-router") and restart["lang"] == "en"
    assert str(restart["updated"]) == "2026-09-01"  # the sitemap's lastmod
    assert restart.content == (
        "Unplug the router for thirty seconds, then plug it in.\n\n## Steps\n\n1. Open the **Settings**.\n"
        "2. Choose *Network*.\n\n| LED | Meaning |\n|---|---|\n| green | online |\n\n"
        f"See [mesh]({site.url('/en/mesh')})."
    )
    german = frontmatter.load(articles["Vertrag kündigen"]["draft"])
    assert german["lang"] == "de" and german["source"] == site.url("/de/kuendigung")
    moved = frontmatter.load(articles["Restart it the new way"]["draft"])
    assert moved["source"] == site.url("/en/restart-router-moved")  # where the redirect within the site led
    assert report["imported"] == 10

    reasons = {a["origin"]: a["reason"] for a in report["articles"] if a["status"] == "skipped"}
    assert reasons == {
        site.url("/internal/staff-only"): "disallowed by robots.txt: not fetched",
        site.url("/away"): (
            f"redirected to http://127.0.0.1:{site.other_port}/landing, off the site {site.url('')}: not followed"
        ),
        site.url("/huge"): reasons[site.url("/huge")],
        site.url("/huge-announced"): f"larger than 1 MiB ({50 * 1024 * 1024} bytes announced): not read",
        site.url("/manual.pdf"): "not an HTML page (application/pdf)",
        site.url("/missing"): "HTTP 404 Not Found",
        f"http://localhost:{site.port}/en/restart-router": f"on another site than {site.url('')}: not fetched",
    }
    assert reasons[site.url("/huge")].startswith("larger than 1 MiB: dropped after ")
    assert site.huge_bytes_sent < 20 * 1024 * 1024  # the 50 MB page was not read to its end

    paths = [path for _, port, path in site.requests if port == str(site.port)]
    assert paths[:2] == ["/robots.txt", "/sitemap.xml"] and "/internal/staff-only" not in paths
    assert [p for _, port, p in site.requests if port == str(site.other_port)] == []  # never followed off the site
    times = [t for t, _, _ in site.requests]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # 10 requests a second at most: 0.1 s between starts, less the jitter of arrival on a busy machine
    assert len(times) == 18 and min(gaps) >= 0.07 and times[-1] - times[0] >= 1.6
    assert elapsed >= 1.7

    status, again, _ = run_import("--url", site.url("/sitemap.xml"), "--rate", "50", "--max-page-mb", "1")
    assert status == 0 and again["imported"] == 0  # the same site again: every page already imported


def test_a_file_of_urls_stays_on_the_site_of_its_first_url(run_import, site, tmp_path, drafts):
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# the pages to import\n{site.url('/en/wifi-password')}\n\n{site.url('/de/rechnung')}\n"
        f"http://127.0.0.1:{site.other_port}/landing\n",
        encoding="utf-8",
    )
    status, report, err = run_import("--url", listing, "--rate", "20")
    assert status == 0, err
    assert sorted(a["title"] for a in report["articles"] if a["status"] == "imported") == [
        "Change the Wi-Fi password",
        "Ihre Rechnung verstehen",
    ]
    (skipped,) = [a for a in report["articles"] if a["status"] == "skipped"]
    assert skipped["reason"] == f"on another site than {site.url('')}: not fetched"

    written = sorted(drafts.rglob("*.md"))
    listing.write_text("ftp://example.org/file\n", encoding="utf-8")
    status, report, err = run_import("--url", listing, out=tmp_path / "other")
    assert status == 2 and "urls.txt:1: not an http(s) URL: ftp://example.org/file" in err
    assert not (tmp_path / "other").exists() and sorted(drafts.rglob("*.md")) == written
