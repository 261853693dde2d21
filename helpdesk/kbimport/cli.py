"""``helpdesk import SOURCE... [--url URL]``: drafts from help-centre exports, saved pages, files,
documents and a help site's pages.

Exit status: 0 when the inputs were read (whatever was skipped, the report says why), 2 when an
input cannot be read (malformed JSON, an unknown format, a missing file) or the drafts directory
is inside the articles directory; then nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_commands(sub: argparse._SubParsersAction) -> None:
    from helpdesk.kbimport.sources import FORMATS

    p = sub.add_parser(
        "import",
        help="import help-centre exports, saved pages, markdown and text files as article drafts",
        description="Write each article of the sources as a draft (kb/drafts/<lang>/<slug>.md), never overwriting one.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="exports (.json), pages, files, documents or folders")
    web = p.add_argument_group("crawling a help site (docs/importing.md#crawling-a-help-site)")
    web.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="URL_OR_FILE",
        help="a sitemap.xml's URL, a page's URL or a file of URLs (one a line); repeatable",
    )
    web.add_argument("--rate", type=_positive, default=2.0, help="requests per second at most (default 2)")
    web.add_argument("--max-page-mb", type=_positive, default=5.0, help="refuse larger pages (default 5 MiB)")
    web.add_argument("--timeout", type=_positive, default=10.0, help="seconds to connect and between reads (10)")
    web.add_argument("--max-pages", type=int, default=1000, help="pages per site at most (default 1000)")
    p.add_argument("--format", choices=FORMATS, default="auto", help="what the sources are (default: by suffix/shape)")
    p.add_argument("--out", help="drafts directory (default: HELPDESK_DRAFTS_DIR or kb/drafts)")
    p.add_argument("--articles", help="articles directory (default: HELPDESK_ARTICLES_DIR or kb/articles)")
    p.add_argument("--lang", help="the language of sources that do not name theirs (default: detect it)")
    p.add_argument("--include-unpublished", action="store_true", help="import drafts and unpublished answers too")
    p.add_argument("--skip-duplicates", action="store_true", help="skip probable duplicates instead of importing")
    p.add_argument("--dry-run", action="store_true", help="report what would be imported, write nothing")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(func=cmd_import)


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value}: must be more than 0")
    return number


def vocabulary(settings, articles_dir: Path):
    """The words and products the guesses use: routing.yml's categories, the deployment's topic names and
    the existing articles (helpdesk.profile.category_words)."""
    from helpdesk.handoffs.routing import RoutingConfig
    from helpdesk.kbimport.guess import Vocabulary
    from helpdesk.profile import category_words, public_by_category
    from search_api.kb.articles import load_articles

    articles = load_articles(articles_dir, settings.languages).articles if articles_dir.is_dir() else []
    routing = RoutingConfig.load(settings.routing_file)
    words = category_words(routing, settings.deployment, public_by_category(articles))
    return Vocabulary.build(words, articles, settings.deployment.company)


def cmd_import(args: argparse.Namespace) -> int:

    from helpdesk.handoffs.routing import RoutingConfigError
    from helpdesk.kbimport.crawler import CrawlLimits, crawl
    from helpdesk.kbimport.importer import DraftsDirError, ImportOptions, run_import
    from helpdesk.kbimport.model import SourceError
    from helpdesk.kbimport.sources import read_sources
    from helpdesk.settings import Settings

    settings = Settings.from_env()
    if args.articles:
        settings = settings.model_copy(update={"articles_dir": Path(args.articles)})
    drafts_dir = Path(args.out) if args.out else settings.drafts_dir
    if args.lang and args.lang not in settings.languages:
        print(f"--lang {args.lang}: not a served language ({', '.join(settings.languages)})", file=sys.stderr)
        return 2
    if not args.sources and not args.url:
        print("helpdesk import: give a SOURCE or --url", file=sys.stderr)
        return 2
    try:
        sources, unread = read_sources([Path(s) for s in args.sources], args.format)
        if args.url:
            limits = CrawlLimits(
                rate=args.rate,
                max_page_bytes=int(args.max_page_mb * 1024 * 1024),
                timeout=args.timeout,
                max_pages=args.max_pages,
            )
            pages, refused = crawl(args.url, limits)
            sources, unread = sources + pages, unread + refused
        options = ImportOptions(
            articles_dir=settings.articles_dir,
            drafts_dir=drafts_dir,
            languages=tuple(settings.languages),
            vocabulary=vocabulary(settings, settings.articles_dir),
            lang=args.lang,
            include_unpublished=args.include_unpublished,
            skip_duplicates=args.skip_duplicates,
            dry_run=args.dry_run,
        )
        report = run_import(sources, unread, options)
    except (SourceError, DraftsDirError, RoutingConfigError) as exc:
        print(f"helpdesk import: {exc}; nothing was written", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.table())
    return 0
