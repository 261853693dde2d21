"""``helpdesk import --url``: a help site's pages fetched politely, each page's main content a draft.

The input is a sitemap (``sitemap.xml``, or a sitemap index of sitemaps), one page's URL, or a
file listing URLs (one a line, ``#`` comments). The crawl keeps to one site, the scheme, host and
port of the sitemap or of the list's first URL, and promises its owner:

* **same site only**: a listed URL on another host is not fetched, and a redirect is followed
  only within the site (at most ``MAX_REDIRECTS``); a redirect elsewhere is refused;
* **robots.txt** is read first (Python's ``urllib.robotparser``) and obeyed for every URL and
  every redirect, under the user agent ``helpdesk-import``; its ``Crawl-delay`` slows the crawl
  further. No robots.txt (404 or another 4xx) allows everything; one that cannot be read (401,
  403, 5xx, a timeout) allows nothing, as the robots convention says;
* **a rate limit**: at most ``rate`` requests a second (2 by default), robots.txt and sitemaps
  counted, one at a time;
* **limits**: a connect and read timeout, a deadline per page, and a size limit (5 MiB by
  default): a larger ``Content-Length`` is refused without reading the body, and a body without
  one is streamed and dropped as soon as it passes the limit; at most ``max_pages`` pages.

Every URL that gives no page is one line in the report (``Unread``) and the crawl goes on. Pages
that are not HTML are reported, not read. Nothing is written while crawling: the importer plans
the drafts when the crawl is over.
"""

from __future__ import annotations

import datetime as dt
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from helpdesk.kbimport.common import meta_charset
from helpdesk.kbimport.files import page_article
from helpdesk.kbimport.model import SourceArticle, SourceError, Unread, parse_date

USER_AGENT = "helpdesk-import"
MAX_REDIRECTS = 5
MAX_SITEMAPS = 50
HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class CrawlLimits:
    rate: float = 2.0  # requests per second at most
    max_page_bytes: int = 5 * 1024 * 1024
    timeout: float = 10.0  # seconds to connect, and between two reads
    page_seconds: float = 60.0  # the most one page (its redirects included) may take
    max_pages: int = 1000


class Refused(Exception):
    """A URL that gives no page: the report's reason."""


@dataclass(frozen=True)
class Response:
    url: str  # after redirects within the site
    content_type: str
    charset: str | None
    body: bytes
    last_modified: dt.date | None


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _site(url: str) -> str:
    scheme, host, port = origin_of(url)
    default = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
    return urlunsplit((scheme, host if default else f"{host}:{port}", "", "", ""))


@dataclass
class PoliteClient:
    """Requests to one site: rate-limited, robots.txt obeyed, redirects kept on the site, bodies bounded."""

    site: str
    limits: CrawlLimits
    client: httpx.Client
    sleep: Callable[[float], None] = time.sleep
    _next_at: float = 0.0
    _robots: RobotFileParser | None = None
    _interval: float = field(init=False)

    def __post_init__(self) -> None:
        self._interval = 1.0 / self.limits.rate

    def _wait_turn(self) -> None:
        now = time.monotonic()
        if self._next_at > now:
            self.sleep(self._next_at - now)
            now = time.monotonic()
        self._next_at = now + self._interval

    def on_site(self, url: str) -> bool:
        return origin_of(url) == origin_of(self.site)

    def robots(self) -> RobotFileParser:
        if self._robots is None:
            robots = RobotFileParser(f"{self.site}/robots.txt")
            try:
                response = self._fetch(f"{self.site}/robots.txt", obey_robots=False, accept_missing=True)
            except Refused:
                robots.parse(["User-agent: *", "Disallow: /"])
            else:
                if response is None:
                    robots.parse([])
                else:
                    text = response.body.decode(response.charset or "utf-8", errors="replace")
                    robots.parse(text.splitlines())
                    delay = robots.crawl_delay(USER_AGENT)
                    if delay:
                        self._interval = max(self._interval, float(delay))
            self._robots = robots
        return self._robots

    def allowed(self, url: str) -> bool:
        return self.robots().can_fetch(USER_AGENT, url)

    def get(self, url: str) -> Response:
        response = self._fetch(url, obey_robots=True, accept_missing=False)
        assert response is not None
        return response

    def _fetch(self, url: str, obey_robots: bool, accept_missing: bool) -> Response | None:
        deadline = time.monotonic() + self.limits.page_seconds
        first = url
        for _ in range(MAX_REDIRECTS + 1):
            if obey_robots and not self.allowed(url):
                where = "" if url == first else f" (redirected to {url})"
                raise Refused(f"disallowed by robots.txt{where}: not fetched")
            self._wait_turn()
            try:
                with self.client.stream("GET", url) as response:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        target = urljoin(url, response.headers["location"])
                        if not self.on_site(target):
                            raise Refused(f"redirected to {target}, off the site {self.site}: not followed")
                        url = target
                        continue
                    if accept_missing and 400 <= response.status_code < 500 and response.status_code not in {401, 403}:
                        return None
                    if response.status_code != 200:
                        raise Refused(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
                    return self._read(url, response, deadline)
            except httpx.TimeoutException:
                raise Refused(f"no answer within {self.limits.timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise Refused(f"cannot be fetched: {type(exc).__name__}: {exc}") from None
        raise Refused(f"more than {MAX_REDIRECTS} redirects")

    def _read(self, url: str, response: httpx.Response, deadline: float) -> Response:
        limit = self.limits.max_page_bytes
        megabytes = f"{limit / (1024 * 1024):g} MiB"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refused(f"larger than {megabytes} ({int(declared)} bytes announced): not read")
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > limit:
                raise Refused(f"larger than {megabytes}: dropped after {len(body)} bytes")
            if time.monotonic() > deadline:
                raise Refused(f"took longer than {self.limits.page_seconds:g} s: dropped")
        content_type, _, params = response.headers.get("content-type", "").partition(";")
        charset = None
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"' ")
        encoding = response.headers.get("content-encoding", "identity").lower()
        if encoding not in {"identity", ""}:
            raise Refused(f"compressed as {encoding}, which the crawler does not ask for")
        modified = response.headers.get("last-modified")
        return Response(url, content_type.strip().lower(), charset, bytes(body), _http_date(modified))


def _http_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sitemap_entries(body: bytes) -> tuple[str, list[tuple[str, dt.date | None]]] | None:
    """("urlset" or "sitemapindex", [(loc, lastmod)]) when ``body`` is a sitemap, else None."""
    if b"<!DOCTYPE" in body[:2048].upper() or b"<!ENTITY" in body.upper():
        return None  # sitemaps have no DTD; entities are how XML bombs work
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    kind = _local(root.tag)
    if kind not in {"urlset", "sitemapindex"}:
        return None
    entries = []
    for entry in root:
        values = {_local(child.tag): (child.text or "").strip() for child in entry}
        if values.get("loc"):
            entries.append((values["loc"], parse_date(values.get("lastmod"))))
    return kind, entries


def _decode(response: Response) -> str:
    for encoding in (response.charset, meta_charset(response.body)):
        if encoding:
            try:
                return response.body.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return response.body.decode("utf-8", errors="replace")


def url_list(path: Path) -> list[str]:
    """The URLs of a file, one a line; blank lines and ``#`` comments left out."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, f"cannot be read as a list of URLs: {exc}") from None
    urls = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    for number, url in enumerate(urls, start=1):
        if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname:
            raise SourceError(path, f"not an http(s) URL: {url}", number)
    if not urls:
        raise SourceError(path, "lists no URLs")
    return urls


class Crawl:
    """One ``--url`` input crawled: its pages as source articles and a report line for each URL that
    gave none."""

    def __init__(self, start: str, limits: CrawlLimits, client: httpx.Client, sleep=time.sleep):
        self.polite = PoliteClient(_site(start), limits, client, sleep)
        self.limits = limits
        self.articles: list[SourceArticle] = []
        self.unread: list[Unread] = []
        self.seen: set[str] = set()

    def skip(self, url: str, reason: str) -> None:
        self.unread.append(Unread(url, reason))

    def pages(self, urls: list[tuple[str, dt.date | None]]) -> None:
        for url, lastmod in urls:
            url = urlunsplit(urlsplit(url)._replace(fragment=""))
            if url in self.seen:
                continue
            self.seen.add(url)
            if not self.polite.on_site(url):
                self.skip(url, f"on another site than {self.polite.site}: not fetched")
                continue
            if len(self.articles) >= self.limits.max_pages:
                self.skip(url, f"over --max-pages {self.limits.max_pages}: not fetched")
                continue
            try:
                response = self.polite.get(url)
            except Refused as exc:
                self.skip(url, str(exc))
                continue
            self.page(url, response, lastmod)

    def page(self, url: str, response: Response, lastmod: dt.date | None) -> None:
        if response.content_type not in HTML_TYPES:
            self.skip(url, f"not an HTML page ({response.content_type or 'no content type'})")
            return
        title = urlsplit(response.url).path.rstrip("/").rsplit("/", 1)[-1].replace("-", " ") or response.url
        article = page_article(
            _decode(response), url, response.url, title, lastmod or response.last_modified, url=response.url
        )
        self.articles.append(article)

    def start(self, start: str) -> None:
        """A sitemap (its pages, and those of the sitemaps an index names) or a single page."""
        try:
            response = self.polite.get(start)
        except Refused as exc:
            self.skip(start, str(exc))
            return
        found = sitemap_entries(response.body) if "html" not in response.content_type else None
        if found is None:
            self.seen.add(start)
            self.page(start, response, None)
            return
        kind, entries = found
        sitemaps = 1
        while kind == "sitemapindex":
            nested: list[tuple[str, dt.date | None]] = []
            for loc, _ in entries:
                if sitemaps >= MAX_SITEMAPS:
                    self.skip(loc, f"more than {MAX_SITEMAPS} sitemaps: not read")
                    continue
                if not self.polite.on_site(loc):
                    self.skip(loc, f"a sitemap on another site than {self.polite.site}: not read")
                    continue
                sitemaps += 1
                try:
                    inner = sitemap_entries(self.polite.get(loc).body)
                except Refused as exc:
                    self.skip(loc, str(exc))
                    continue
                if inner is None:
                    self.skip(loc, "not a sitemap")
                elif inner[0] == "urlset":
                    nested += inner[1]
            kind, entries = "urlset", nested
        self.pages(entries)


def crawl(inputs: list[str], limits: CrawlLimits, sleep=time.sleep) -> tuple[list[SourceArticle], list[Unread]]:
    """Every ``--url`` input: a sitemap or page URL, or a file of URLs; a ``SourceError`` for an input
    that is neither (nothing has been fetched then)."""
    plans: list[tuple[str, list[str] | None]] = []
    for item in inputs:
        if urlsplit(item).scheme in {"http", "https"} and urlsplit(item).hostname:
            plans.append((item, None))
        elif Path(item).is_file():
            listed = url_list(Path(item))
            plans.append((listed[0], listed))
        else:
            raise SourceError(item, "not an http(s) URL nor a file of URLs")
    articles: list[SourceArticle] = []
    unread: list[Unread] = []
    timeout = httpx.Timeout(limits.timeout)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=False, trust_env=False) as client:
        for start, urls in plans:
            run = Crawl(start, limits, client, sleep)
            if urls is None:
                run.start(start)
            else:
                run.pages([(url, None) for url in urls])
            articles += run.articles
            unread += run.unread
    return articles, unread
