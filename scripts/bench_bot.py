"""Benchmark of whole bot turns: Rasa's REST channel → NLU → policies → action server → web service.

Each simulated customer asks a KB question (a full search turn), answers the
"did this solve it?" buttons (a feedback turn: action server + POST /feedback)
and says thanks (a turn without the action server). ``--concurrency``
conversations run at once; the report gives p50/p99 latency per turn kind and
over all turns, and turns per second.

By default the script starts its own stack on free ports (the web service from
.venv/py311 on the KB in --kb, the action server and Rasa with
bot/models/helpdesk.tar.gz) and stops it afterwards; ``--rasa-url`` measures a
stack that is already running instead.

The same run measures the floors that a turn cannot go below, so that the report
reads as ratios on any machine: a bare Rasa with the same model, conversations in
memory and an action server that answers at once (what Rasa's NLU, policies and one
action round trip cost), and the query encoder of each language's model in the
process (what a search must spend). The goals: a turn without search within
floor + 10 ms (p50), a search turn within floor + encoder + 25 ms, p99 at most
twice the p50. Run it with the bot's venv:

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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: scripts.*, search_api, helpdesk
from scripts.ports import free_port

REPO = Path(__file__).resolve().parents[1]
PY310_BIN = Path(sys.executable).parent
PY311 = REPO / ".venv" / "py311" / "bin" / "python"
# The floor's Rasa: the action endpoint only, so conversations live in memory and the lock store
# is Rasa's in-memory default.
FLOOR_ENDPOINTS = "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n"
# ... and Rasa's own REST channel: no edge limits, no message length checks.
FLOOR_CREDENTIALS = "rest:\n"
# Times the query encoder in the web service's own way (one math thread, the model of each
# question's language); reads {"lang": [questions]} on stdin, prints {"p50_ms", "p99_ms"}.
ENCODER_TIMING = """
import json, statistics, sys, time
import torch
from search_api.search.embedding import load_embedder
from search_api.settings import SearchSettings
torch.set_num_threads(1)
questions = json.load(sys.stdin)
models = SearchSettings.from_env().models
times = []
for lang, texts in questions.items():
    embedder = load_embedder(models.get(lang) or models["*"])
    embedder.encode_queries(texts[:3])
    for text in texts:
        started = time.perf_counter()
        embedder.encode_queries([text])
        times.append((time.perf_counter() - started) * 1000)
times.sort()
print(json.dumps({"p50_ms": round(statistics.median(times), 1),
                  "p99_ms": round(times[min(len(times) - 1, round(0.99 * len(times)) - 1)], 1)}))
"""


def kb_questions(kb: Path) -> dict[str, list[str]]:
    """The example questions of the KB's front matter, by language (the article's folder)."""
    questions: dict[str, list[str]] = {}
    for path in sorted(kb.glob("*/*.md")):
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        questions.setdefault(path.parent.name, []).extend(
            str(q) for q in (yaml.safe_load(front) or {}).get("questions") or []
        )
    if not any(questions.values()):
        raise SystemExit(f"no questions in the front matter of {kb}/*/*.md")
    return questions


def encoder_latency(questions: dict[str, list[str]]) -> dict:
    """The query encoder's p50/p99 (ms), measured in a Python 3.11 process with search_api."""
    done = subprocess.run(
        [str(PY311), "-c", ENCODER_TIMING],
        input=json.dumps(questions),
        text=True,
        capture_output=True,
        cwd=REPO,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"timing the encoder failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class InstantActions(BaseHTTPRequestHandler):
    """An action server that answers every action at once with one text and no events."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(b'{"events": [], "responses": [{"text": "ok"}]}')

    def do_GET(self) -> None:
        self.reply(b'{"status": "ok"}')

    def reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Stack:
    """Web service + action server + Rasa as subprocesses, logs in a temporary directory; ``web_env``:
    more environment of the web service (scripts/bench_procedure_turns.py: the company's systems)."""

    def __init__(self, kb: Path, model: Path, lift_rate_limits: bool = True, web_env: dict[str, str] | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-bot-"))
        self.kb, self.model = kb, model
        self.lift_rate_limits = lift_rate_limits  # scripts/edge_burst.py measures them instead
        self.web_env = web_env or {}
        self.processes: list[subprocess.Popen] = []
        self.search_url = ""
        self.floor_actions: ThreadingHTTPServer | None = None

    def start(self, name: str, command: list[str], env: dict[str, str], ready: str, cwd: Path = REPO) -> None:
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
        self.start(
            "search_api",
            [
                str(REPO / ".venv/py311/bin/python"),
                "-m",
                "uvicorn",
                "--factory",
                "helpdesk.app:create_app",
                "--port",
                str(search),
                "--log-level",
                "warning",
            ],
            {
                "HELPDESK_ARTICLES_DIR": str(self.kb),
                "HELPDESK_INDEX_DIR": str(REPO / "var" / "bench-index"),
                "DATABASE_URL": f"sqlite:///{self.tmp / 'handoffs.db'}",
                "HELPDESK_SERVICE_TOKEN": token,
                "HELPDESK_SECRETS_FILE": str(self.tmp / "none.env"),
                **self.web_env,
            },
            f"http://127.0.0.1:{search}/health",
        )
        for query in ("Mein Internet ist langsam", "my internet is slow"):  # load both models
            httpx.post(f"http://127.0.0.1:{search}/search", json={"query": query}, timeout=120)
        self.start(
            "actions",
            [str(PY310_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions)],
            {"HELPDESK_SEARCH_URL": f"http://127.0.0.1:{search}", "HELPDESK_SERVICE_TOKEN": token},
            f"http://127.0.0.1:{actions}/health",
            cwd=REPO / "bot",
        )
        # A benchmark is many conversations from one address: the edge's rate limits are lifted.
        lifted = (
            {
                "HELPDESK_BOT_RATE_LIMIT_ADDRESS": "100000/second",
                "HELPDESK_BOT_RATE_LIMIT_CONVERSATION": "100000/second",
            }
            if self.lift_rate_limits
            else {}
        )
        self.start(
            "rasa",
            [
                str(PY310_BIN / "rasa"),
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--port",
                str(rasa),
                "--interface",
                "127.0.0.1",
            ],
            {
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions}/webhook",  # bot/endpoints.yml
                "RASA_TRACKER_STORE_URL": f"sqlite:///{self.tmp / 'rasa-trackers.db'}",
                "RASA_LOCK_STORE": "in_memory",
                "RASA_REDIS_HOST": "127.0.0.1",
                **lifted,
            },
            f"http://127.0.0.1:{rasa}/",
            cwd=REPO / "bot",
        )
        self.search_url = f"http://127.0.0.1:{search}"
        return f"http://127.0.0.1:{rasa}"

    def floor(self) -> str:
        """A bare Rasa with the same model: conversations in memory, actions answered at once."""
        actions = ThreadingHTTPServer(("127.0.0.1", free_port()), InstantActions)
        threading.Thread(target=actions.serve_forever, daemon=True).start()
        self.floor_actions = actions
        endpoints = self.tmp / "floor-endpoints.yml"
        endpoints.write_text(FLOOR_ENDPOINTS, encoding="utf-8")
        credentials = self.tmp / "floor-credentials.yml"
        credentials.write_text(FLOOR_CREDENTIALS, encoding="utf-8")
        rasa = free_port()
        self.start(
            "rasa-floor",
            [
                str(PY310_BIN / "rasa"),
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
                "--port",
                str(rasa),
                "--interface",
                "127.0.0.1",
            ],
            {"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions.server_port}/webhook"},
            f"http://127.0.0.1:{rasa}/",
            cwd=REPO / "bot",
        )
        return f"http://127.0.0.1:{rasa}"

    def down(self) -> None:
        if self.floor_actions:
            self.floor_actions.shutdown()
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def conversation(
    client: httpx.AsyncClient, url: str, question: str, latencies: dict[str, list[float]], errors: list[str]
) -> None:
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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def run(url: str, questions: list[str], conversations: int, concurrency: int, seed: int) -> dict:
    rng = random.Random(seed)
    webhook = f"{url}/webhooks/rest/webhook"
    latencies: dict[str, list[float]] = {"search": [], "feedback": [], "control": []}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        warm: dict[str, list[float]] = {"search": [], "feedback": [], "control": []}
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

    def stats(values: list[float]) -> dict:
        return (
            {
                "turns": len(values),
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 95), 1),
                "p99_ms": round(percentile(values, 99), 1),
                "max_ms": round(max(values), 1),
            }
            if values
            else {}
        )

    return {
        "conversations": conversations,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "turns_per_second": round(len(every) / elapsed, 1),
        "all": stats(every),
        **{kind: stats(values) for kind, values in latencies.items()},
        "errors": len(errors),
        "first_errors": errors[:5],
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
    }


def stack_arguments(description: str, conversations: int) -> argparse.ArgumentParser:
    """The options of every benchmark that drives customers through a started Stack."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--kb", type=Path, default=REPO / "kb" / "articles", help="articles for the started stack")
    parser.add_argument("--model", type=Path, default=REPO / "bot" / "models" / "helpdesk.tar.gz")
    parser.add_argument(
        "--conversations", type=int, default=conversations, help="conversations of 3 turns each, per run"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the report here")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = stack_arguments(__doc__.split("\n\n")[0], conversations=200)
    parser.add_argument("--rasa-url", help="a running Rasa server (default: start a stack on free ports)")
    args = parser.parse_args(argv)

    questions = kb_questions(args.kb)
    every_question = [q for texts in questions.values() for q in texts]
    if not args.model.exists():
        raise SystemExit(f"{args.model} is missing: run scripts/train-bot")
    stack = Stack(args.kb, args.model)
    try:
        url = args.rasa_url
        if not url:
            print(f"bench_bot: starting the web service, action server and Rasa (logs in {stack.tmp})", file=sys.stderr)
            url = stack.up()
        floor_url = stack.floor()
        encoder = encoder_latency(questions)
        floor = asyncio.run(run(floor_url, every_question, args.conversations, args.concurrency, args.seed))
        report = asyncio.run(run(url, every_question, args.conversations, args.concurrency, args.seed))
    finally:
        stack.down()
    report["floor"] = {kind: floor[kind] for kind in ("search", "feedback", "control", "errors", "first_errors")}
    report["encoder"] = encoder
    if not (report["errors"] or floor["errors"]):
        report["goals"] = goals(report, floor, encoder)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if report["errors"] or floor["errors"] else 0


def goals(report: dict, floor: dict, encoder: dict) -> dict:
    """Each speed goal with its measured value and limit (ms), from one run's turns and floors."""

    def goal(value: float, limit: float) -> dict:
        return {"ms": value, "limit_ms": round(limit, 1), "met": value <= limit}

    control, search = report["control"], report["search"]
    return {
        "control_p50": goal(control["p50_ms"], floor["control"]["p50_ms"] + 10),
        "search_p50": goal(search["p50_ms"], floor["search"]["p50_ms"] + encoder["p50_ms"] + 25),
        **{
            f"{kind}_p99": goal(report[kind]["p99_ms"], 2 * report[kind]["p50_ms"])
            for kind in ("search", "feedback", "control")
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
