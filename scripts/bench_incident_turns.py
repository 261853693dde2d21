"""Benchmark of bot turns during a known incident: the same customers with and without one.

The bot asks the desk for active incidents on every search turn (GET /api/incidents/active)
and, for a customer the incident concerns, records that it told them and answers with the
outage instead of an article. This measures what that costs under load: one stack (web
service, action server, Rasa, as ``bench_bot.py`` starts it), ``--conversations`` customers
of three turns each (a KB question, "yes", "thanks") at ``--concurrency``, first without an
incident, then with one that concerns every customer of the network category everywhere.
The goal: the p95 of all turns with the incident within 1.5 x the p95 without it, and the
run with the incident within ``--within`` seconds (2,000 customers in 10 minutes).

    .venv/py310/bin/python scripts/bench_incident_turns.py --conversations 2000 --concurrency 8
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: scripts.*
from scripts.bench_bot import PY311, REPO, Stack, kb_questions, run, stack_arguments

GOAL_RATIO = 1.5
# Declares the incident in the started web service's database, as a supervisor would.
DECLARE = """
import sys
from datetime import datetime, timedelta, timezone
from helpdesk.handoffs.store import HandoffStore
from helpdesk.incidents.store import IncidentStore
store = IncidentStore(HandoffStore.open(sys.argv[1], migrate=False))
incident = store.declare(
    actor="bench", title="Network outage", category="network", team="network",
    messages={"de": "Ein Glasfaserkabel ist beschädigt.", "en": "A fibre cable is damaged."},
    expected_resolution_at=datetime.now(timezone.utc) + timedelta(hours=3),
)
print(incident["id"])
"""
COUNT_TOLD = """
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as db:
    print(db.execute(text("SELECT count(*) FROM incident_conversations")).scalar_one())
"""


def py311(script: str, *args: str) -> str:
    done = subprocess.run([str(PY311), "-c", script, *args], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the desk's database script failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = stack_arguments(__doc__.split("\n\n")[0], conversations=2000)
    parser.add_argument("--within", type=float, default=600.0, help="seconds the run with the incident may take")
    args = parser.parse_args(argv)

    questions = kb_questions(args.kb)
    every_question = [q for texts in questions.values() for q in texts]
    if not args.model.exists():
        raise SystemExit(f"{args.model} is missing: run scripts/train-bot")
    stack = Stack(args.kb, args.model)
    try:
        print(f"bench_incident_turns: starting the stack (logs in {stack.tmp})", file=sys.stderr)
        url = stack.up()
        database = f"sqlite:///{stack.tmp / 'handoffs.db'}"
        without = asyncio.run(run(url, every_question, args.conversations, args.concurrency, args.seed))
        incident = py311(DECLARE, database)
        during = asyncio.run(run(url, every_question, args.conversations, args.concurrency, args.seed))
        told = int(py311(COUNT_TOLD, database))
    finally:
        stack.down()
    ratio: float | None = during["all"]["p95_ms"] / without["all"]["p95_ms"] if without["all"] else None
    met = ratio is not None and ratio <= GOAL_RATIO and during["seconds"] <= args.within
    report = {
        "without_incident": without,
        "with_incident": {**during, "incident": int(incident), "customers_told": told},
        "p95_ratio": round(ratio, 2) if ratio else None,
        "goals": {
            "p95_ratio": {"value": round(ratio, 2) if ratio else None, "limit": GOAL_RATIO},
            "seconds": {"value": during["seconds"], "limit": args.within},
            "met": met,
        },
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if without["errors"] or during["errors"] or told == 0:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
