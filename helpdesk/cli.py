"""The helpdesk command: the knowledge-base commands of search_api (lint,
build, eval), ``serve`` for the whole web service, and the desk's commands
(migrate, agents and tokens, routing check, gaps).
"""

from __future__ import annotations

import argparse
import os
import sys

from search_api.cli import add_commands as add_kb_commands
from search_api.cli import with_dirs


def cmd_serve(args: argparse.Namespace) -> int:
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
    uvicorn.run("helpdesk.app:create_app", factory=True, host=args.host, port=args.port,
                log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_kb_commands(sub)  # lint, build, eval
    p = with_dirs(sub.add_parser("serve", help="run the HTTP service"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--watch", action="store_true", help="rebuild the index when an article changes (preview)")
    p.set_defaults(func=cmd_serve)
    from helpdesk.handoffs.cli import add_commands as add_handoff_commands

    add_handoff_commands(sub)  # migrate, create-agent, create-agent-token, routing-check
    from helpdesk.feedback.cli import add_commands as add_feedback_commands

    add_feedback_commands(sub)  # gaps
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
