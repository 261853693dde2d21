"""``helpdesk gaps``: the authors' list of unanswered questions and failing articles, in the terminal.

``helpdesk/cli.py`` owns the ``helpdesk`` command and calls ``add_commands``.
It reads DATABASE_URL like the service does; grouping by meaning loads the
configured embedding model of each language that occurs (a few seconds),
``--exact`` groups by normalised text only and loads nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping

from helpdesk.settings import Settings
from search_api.search.embedding import Embedder


class ConfiguredEmbedders(Mapping):
    """lang -> the configured model, loaded on first use (only languages that occur cost anything)."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def __getitem__(self, lang: str) -> Embedder:
        from search_api.search.service import SearchService

        return SearchService.embedder_for(self.settings, lang)

    def __iter__(self) -> Iterator[str]:
        return iter(self.settings.languages)

    def __len__(self) -> int:
        return len(self.settings.languages)


def article_titles(settings: Settings) -> dict[str, str] | None:
    from search_api.search.index import IndexNotBuilt, load_index

    try:
        return {aid: article.title for aid, article in load_index(settings.index_dir).articles.items()}
    except IndexNotBuilt:
        return None  # the report still lists article ids


def draft_arguments(settings: Settings) -> dict:
    """``gaps_report``'s drafts (kb/drafts) and how to name one: its file, for the author to open."""
    from helpdesk.inbox.drafts import draft_summary, load_drafts

    drafts = load_drafts(settings.drafts_dir, settings.languages).articles
    return {"drafts": drafts, "describe_draft": lambda d: draft_summary(d, settings.drafts_dir)}


def cmd_gaps(args: argparse.Namespace) -> int:
    from helpdesk.db import open_engine
    from helpdesk.feedback.gaps import format_report, gaps_report
    from helpdesk.feedback.store import FeedbackStore

    if args.days < 1 or args.limit < 1:
        print("gaps: --days and --limit must be at least 1", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    engine = open_engine(settings.database_url)  # migrates; the engine setup of the service
    try:
        report = gaps_report(
            FeedbackStore(engine),
            args.days,
            args.limit,
            embedders=None if args.exact else ConfiguredEmbedders(settings),
            titles=article_titles(settings),
            **draft_arguments(settings),
        )
    finally:
        engine.dispose()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else format_report(report))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "gaps",
        help="what customers asked that nothing answered, and articles customers marked 'not solved' (DATABASE_URL)",
    )
    p.add_argument("--days", type=int, default=30, help="look back this many days (default 30)")
    p.add_argument("--limit", type=int, default=20, help="rows per list (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output (same as GET /admin/gaps)")
    p.add_argument(
        "--exact", action="store_true", help="group by normalised text only; do not load the embedding models"
    )
    p.set_defaults(func=cmd_gaps)
