"""Benchmark of whole bot turns: Rasa's REST channel → NLU → policies → action server → web service.

Each simulated customer asks a KB question (a full search turn), answers the
"did this solve it?" buttons (a feedback turn: action server + POST /feedback)
and says thanks (a turn without the action server). ``--concurrency``
conversations run at once; the report gives p50/p99 latency per turn kind and
over all turns, and turns per second.

By default the script starts its own stack on free ports (the web service from
.venv/py311 on the KB in --kb, the action server and Rasa with
bot/models/helpdesk.tar.gz) and stops it afterwards; ``--rasa-url`` measures a
stack that is already running instead. Run it with the bot's venv:

    .venv/py310/bin/python scripts/bench_bot.py --conversations 200 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import httpx
import yaml

from ports import free_port  # scripts/

REPO = Path(__file__).resolve().parents[1]
PY310_BIN = Path(sys.executable).parent



def kb_questions(kb: Path) -> List[str]:
    """The example questions of the KB's front matter (both languages)."""
    questions = []
    for path in sorted(kb.glob("*/*.md")):
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        questions += [str(q) for q in (yaml.safe_load(front) or {}).get("questions") or []]
    if not questions:
        raise SystemExit(f"no questions in the front matter of {kb}/*/*.md")
    return questions


class Stack:
    """Web service + action server + Rasa as subprocesses, logs in a temporary directory."""

    def __init__(self, kb: Path, model: Path, lift_rate_limits: bool = True):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-bot-"))
        self.kb, self.model = kb, model
        self.lift_rate_limits = lift_rate_limits  # scripts/edge_burst.py measures them instead
        self.processes: List[subprocess.Popen] = []
        self.search_url = ""

    def start(self, name: str, command: List[str], env: Dict[str, str], ready: str, cwd: Path = REPO) -> None:
        log = (self.tmp / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(ready, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{name} did not start; see {self.tmp / (name + '.log')}")

    def up(self) -> str:
        search, actions, rasa = free_port(), free_port(), free_port()
        token = secrets.token_urlsafe(24)
        self.start("search_api", [str(REPO / ".venv/py311/bin/python"), "-m", "uvicorn", "--factory",
                                  "helpdesk.app:create_app", "--port", str(search), "--log-level", "warning"],
                   {"HELPDESK_ARTICLES_DIR": str(self.kb), "HELPDESK_INDEX_DIR": str(REPO / "var" / "bench-index"),
                    "DATABASE_URL": f"sqlite:///{self.tmp / 'handoffs.db'}", "HELPDESK_SERVICE_TOKEN": token,
                    "HELPDESK_SECRETS_FILE": str(self.tmp / "none.env")},
                   f"http://127.0.0.1:{search}/health")
        for query in ("Mein Internet ist langsam", "my internet is slow"):  # load both models
            httpx.post(f"http://127.0.0.1:{search}/search", json={"query": query}, timeout=120)
        self.start("actions", [str(PY310_BIN / "rasa"), "run", "actions", "--actions", "actions",
                               "--port", str(actions)],
                   {"HELPDESK_SEARCH_URL": f"http://127.0.0.1:{search}", "HELPDESK_SERVICE_TOKEN": token},
                   f"http://127.0.0.1:{actions}/health", cwd=REPO / "bot")
        # A benchmark is many conversations from one address: the edge's rate limits are lifted.
        lifted = {"HELPDESK_BOT_RATE_LIMIT_ADDRESS": "100000/second",
                  "HELPDESK_BOT_RATE_LIMIT_CONVERSATION": "100000/second"} if self.lift_rate_limits else {}
        self.start("rasa", [str(PY310_BIN / "rasa"), "run", "--model", str(self.model),
                            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                            "--port", str(rasa), "--interface", "127.0.0.1"],
                   {"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions}/webhook",  # bot/endpoints.yml
                    "RASA_TRACKER_STORE_URL": f"sqlite:///{self.tmp / 'rasa-trackers.db'}",
                    "RASA_LOCK_STORE": "in_memory", "RASA_REDIS_HOST": "127.0.0.1", **lifted},
                   f"http://127.0.0.1:{rasa}/", cwd=REPO / "bot")
        self.search_url = f"http://127.0.0.1:{search}"
        return f"http://127.0.0.1:{rasa}"

    def down(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def conversation(client: httpx.AsyncClient, url: str, question: str,
                       latencies: Dict[str, List[float]], errors: List[str]) -> None:
    sender = secrets.token_hex(8)
    turns = [("search", question), ("feedback", "/affirm"), ("control", "thanks")]
    for kind, text in turns:
        started = time.perf_counter()
        try:
            response = await client.post(url, json={"sender": sender, "message": text})
            response.raise_for_status()
            if not response.json():
                errors.append(f"{kind}: empty answer to {text!r}")
        except httpx.HTTPError as exc:
            errors.append(f"{kind}: {type(exc).__name__} {exc}")
            return
        latencies[kind].append((time.perf_counter() - started) * 1000)


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def run(url: str, questions: List[str], conversations: int, concurrency: int, seed: int) -> dict:
    rng = random.Random(seed)
    webhook = f"{url}/webhooks/rest/webhook"
    latencies: Dict[str, List[float]] = {"search": [], "feedback": [], "control": []}
    errors: List[str] = []
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        warm = {"search": [], "feedback": [], "control": []}
        await asyncio.gather(*(conversation(client, webhook, q, warm, []) for q in questions[:concurrency]))
        queue: asyncio.Queue = asyncio.Queue()
        for _ in range(conversations):
            queue.put_nowait(rng.choice(questions))

        async def worker() -> None:
            while not queue.empty():
                await conversation(client, webhook, queue.get_nowait(), latencies, errors)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    every = [v for values in latencies.values() for v in values]

    def stats(values: List[float]) -> dict:
        return {"turns": len(values), "p50_ms": round(statistics.median(values), 1),
                "p99_ms": round(percentile(values, 99), 1), "max_ms": round(max(values), 1)} if values else {}

    return {"conversations": conversations, "concurrency": concurrency, "seconds": round(elapsed, 2),
            "turns_per_second": round(len(every) / elapsed, 1), "all": stats(every),
            **{kind: stats(values) for kind, values in latencies.items()},
            "errors": len(errors), "first_errors": errors[:5],
            "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa-url", help="a running Rasa server (default: start a stack on free ports)")
    parser.add_argument("--kb", type=Path, default=REPO / "kb" / "articles", help="articles for the started stack")
    parser.add_argument("--model", type=Path, default=REPO / "bot" / "models" / "helpdesk.tar.gz")
    parser.add_argument("--conversations", type=int, default=200, help="conversations of 3 turns each")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)

    stack = None
    url = args.rasa_url
    if not url:
        if not args.model.exists():
            raise SystemExit(f"{args.model} is missing: run scripts/train-bot")
        stack = Stack(args.kb, args.model)
        print(f"bench_bot: starting the web service, action server and Rasa (logs in {stack.tmp})", file=sys.stderr)
        url = stack.up()
    try:
        report = asyncio.run(run(url, kb_questions(args.kb), args.conversations, args.concurrency, args.seed))
    finally:
        if stack:
            stack.down()
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
