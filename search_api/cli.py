"""The ``helpdesk`` command: build, lint, serve and evaluate the knowledge base.

Every command can be pointed at any articles and index directory (flags, or
HELPDESK_ARTICLES_DIR / HELPDESK_INDEX_DIR), so authors and evaluators can
work on their own copy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from search_api.settings import Settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    changes = {}
    if getattr(args, "articles", None):
        changes["articles_dir"] = Path(args.articles)
    if getattr(args, "index", None):
        changes["index_dir"] = Path(args.index)
    return dataclasses.replace(settings, **changes) if changes else settings


def cmd_lint(args: argparse.Namespace) -> int:
    from search_api.kb.lint import lint

    settings = settings_from_args(args)
    problems, count = lint(settings.articles_dir, settings.languages)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{count} articles checked, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_build(args: argparse.Namespace) -> int:
    from search_api.search.service import SearchService

    settings = settings_from_args(args)
    report = SearchService.build(settings, progress=not args.quiet)
    for error in report.errors:
        print(f"skipped: {error}", file=sys.stderr)
    for path in report.kept_previous:
        print(f"kept the last good version of {path}", file=sys.stderr)
    print(
        f"index {report.version}: {report.articles} articles, {report.units} units; "
        f"embedded {report.embedded_articles}, reused {report.reused_articles} in {report.seconds:.1f} s",
        file=sys.stderr,
    )
    return 1 if report.errors and args.strict else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    # One math thread per request: a query encode gains little from two threads,
    # and OpenMP workers spinning between requests made HTTP p50 73 ms instead of
    # 14 ms on 2 cores (README, "Speed"). Concurrent requests still use every core.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.articles:
        os.environ["HELPDESK_ARTICLES_DIR"] = args.articles
    if args.index:
        os.environ["HELPDESK_INDEX_DIR"] = args.index
    if args.watch:
        os.environ["HELPDESK_WATCH"] = "1"
    uvicorn.run("search_api.app:create_app", factory=True, host=args.host, port=args.port,
                log_level=args.log_level)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from search_api.evaluation import evaluate_set

    report = evaluate_set(Path(args.set_dir), models=args.models, work_dir=Path(args.work) if args.work else None,
                          progress=not args.quiet, limit=args.limit, kb_dir=Path(args.kb) if args.kb else None,
                          given_lang=args.given_lang)
    print(json.dumps(report, indent=2) if args.json else report["text"])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def with_dirs(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--articles", help="articles directory (default: HELPDESK_ARTICLES_DIR or kb/articles)")
        p.add_argument("--index", help="index directory (default: HELPDESK_INDEX_DIR or var/index)")
        return p

    p = with_dirs(sub.add_parser("lint", help="check every article; file:line for each problem"))
    p.set_defaults(func=cmd_lint)
    p = with_dirs(sub.add_parser("build", help="build or update the index (only changed articles are embedded)"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--strict", action="store_true", help="exit 1 when an article was skipped")
    p.set_defaults(func=cmd_build)
    p = with_dirs(sub.add_parser("serve", help="run the HTTP service"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--watch", action="store_true", help="rebuild the index when an article changes (preview)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("eval", help="retrieval quality on an evaluation set (articles.jsonl + queries.jsonl)")
    p.add_argument("set_dir", help="e.g. ../shared/eval/data/faq_de")
    p.add_argument("--models", help="HELPDESK_MODELS-style map, default: the configured one")
    p.add_argument("--work", help="keep the generated KB and index here (default: a temp dir)")
    p.add_argument("--limit", type=int, help="only the first N queries")
    p.add_argument("--kb", help="run the set's queries.jsonl against this articles directory instead of its articles.jsonl")
    p.add_argument("--given-lang", action="store_true",
                   help="search each query in its 'lang' field instead of detecting the language")
    p.add_argument("--json", action="store_true", help="the report as JSON (stable keys, for CI)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_eval)
    from search_api.handoffs.cli import add_commands as add_handoff_commands

    add_handoff_commands(sub)  # migrate, create-agent, create-agent-token, routing-check
    from search_api.feedback.cli import add_commands as add_feedback_commands

    add_feedback_commands(sub)  # gaps
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
