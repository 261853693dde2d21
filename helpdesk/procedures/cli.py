"""``helpdesk procedure-runs``: the procedures' audit log, summed up for operators.

``helpdesk/cli.py`` owns the ``helpdesk`` command and calls ``add_commands``. It reads
DATABASE_URL like the service does: per procedure and outcome the number of runs and their
median and slowest duration, over the last ``--days`` days. The log holds nothing of the
customers, so neither does this.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta


def cmd_procedure_runs(args: argparse.Namespace) -> int:
    from helpdesk.db import open_engine, utcnow
    from helpdesk.procedures.store import run_summary
    from helpdesk.settings import Settings

    if args.days < 1:
        print("procedure-runs: --days must be at least 1", file=sys.stderr)
        return 2
    engine = open_engine(Settings.from_env().database_url)  # migrates; the engine setup of the service
    try:
        summary = run_summary(engine, utcnow() - timedelta(days=args.days))
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"procedure runs in the last {args.days} days: {sum(row['runs'] for row in summary)}")
    for row in summary:
        print(
            f"{row['procedure_id']:<32} {row['outcome']:<16} {row['runs']:>6} runs"
            f"  median {row['median_ms']} ms, slowest {row['max_ms']} ms"
        )
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "procedure-runs", help="the procedures' audit log: runs per procedure and outcome, durations (DATABASE_URL)"
    )
    p.add_argument("--days", type=int, default=7, help="look back this many days (default 7)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_procedure_runs)
