"""The knowledge-base commands of ``helpdesk``: build, lint and evaluate.

Every command can be pointed at any articles and index directory (flags, or
HELPDESK_ARTICLES_DIR / HELPDESK_INDEX_DIR), so authors and evaluators can
work on their own copy. ``helpdesk.cli`` adds these to the ``helpdesk``
command next to the desk's commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from search_api.settings import SearchSettings


def settings_from_args(args: argparse.Namespace) -> SearchSettings:
    settings = SearchSettings.from_env()
    changes: dict[str, Any] = {}
    if getattr(args, "articles", None):
        changes["articles_dir"] = Path(args.articles)
    if getattr(args, "index", None):
        changes["index_dir"] = Path(args.index)
    if getattr(args, "procedures", None):
        changes["procedures_dir"] = Path(args.procedures)
    return settings.model_copy(update=changes) if changes else settings


def cmd_lint(args: argparse.Namespace) -> int:
    from search_api.kb.articles import load_articles
    from search_api.kb.lint import lint, lint_procedures

    settings = settings_from_args(args)
    problems, count = lint(settings.articles_dir, settings.languages)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{count} articles checked, {len(problems)} problems", file=sys.stderr)
    article_ids = {a.id for a in load_articles(settings.articles_dir, settings.languages).articles}
    procedure_problems, procedures = lint_procedures(settings.procedures_root, settings.languages, article_ids)
    for problem in procedure_problems:
        print(f"{settings.procedures_root.parent}/{problem}", file=sys.stderr)
    print(
        f"{procedures} procedures checked in {settings.procedures_root}, {len(procedure_problems)} problems",
        file=sys.stderr,
    )
    return 1 if problems or procedure_problems else 0


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


def cmd_eval(args: argparse.Namespace) -> int:
    from search_api.evaluation import evaluate_set

    report = evaluate_set(
        Path(args.set_dir),
        models=args.models,
        work_dir=Path(args.work) if args.work else None,
        progress=not args.quiet,
        limit=args.limit,
        kb_dir=Path(args.kb) if args.kb else None,
        given_lang=args.given_lang,
        only=dict(args.only or []),
    )
    print(json.dumps(report, indent=2) if args.json else report["text"])
    return 0


def with_dirs(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--articles", help="articles directory (default: HELPDESK_ARTICLES_DIR or kb/articles)")
    p.add_argument("--index", help="index directory (default: HELPDESK_INDEX_DIR or var/index)")
    p.add_argument(
        "--procedures",
        help="procedures directory (default: HELPDESK_PROCEDURES_DIR or 'procedures' beside the articles)",
    )
    return p


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The knowledge-base commands of ``helpdesk``: lint, build, eval."""
    p = with_dirs(sub.add_parser("lint", help="check every article; file:line for each problem"))
    p.set_defaults(func=cmd_lint)
    p = with_dirs(sub.add_parser("build", help="build or update the index (only changed articles are embedded)"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--strict", action="store_true", help="exit 1 when an article was skipped")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("eval", help="retrieval quality on an evaluation set (articles.jsonl + queries.jsonl)")
    p.add_argument("set_dir", help="e.g. ../shared/eval/data/faq_de")
    p.add_argument("--models", help="HELPDESK_MODELS-style map, default: the configured one")
    p.add_argument("--work", help="keep the generated KB and index here (default: a temp dir)")
    p.add_argument("--limit", type=int, help="only the first N queries")
    p.add_argument(
        "--kb", help="run the set's queries.jsonl against this articles directory instead of its articles.jsonl"
    )
    p.add_argument(
        "--given-lang",
        action="store_true",
        help="search each query in its 'lang' field instead of detecting the language",
    )
    p.add_argument(
        "--only",
        action="append",
        type=field_value,
        metavar="FIELD=VALUE",
        help="only the queries whose FIELD is VALUE, e.g. --only split=dev --only kind=typos (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="the report as JSON (stable keys, for CI)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_eval)


def field_value(text: str) -> tuple[str, str]:
    """``split=dev`` -> ("split", "dev"), for ``eval --only``."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    return name, value
