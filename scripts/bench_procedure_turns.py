"""Benchmark of a procedure turn: what the bot adds to the time of the company's system.

The customer's "yes" at a procedure's confirmation is the turn that runs it: Rasa (NLU,
policies, the form), the action server, the web service (limits, the call, the audit row) and
the company's system, back to the customer. This measures that turn against the system's own
time: one stack as ``bench_bot.py`` starts it (web service, action server, Rasa with
bot/models/helpdesk.tar.gz), the demo's line check (kb/procedures) against the reference
company system (examples/company_api) whose bench customer answers after ``--system-delay``
seconds, as a real system takes its time. Each run first times the system's own answer to the
same request (``--samples`` direct calls), then ``--conversations`` customers in German and
English (the question, "yes", customer number, postal code, "yes") at ``--concurrency``. The
goal: the median over ``--runs`` runs of the procedure turn's p50 within the system's p50 +
80 ms.

    .venv/py310/bin/python scripts/bench_procedure_turns.py --runs 3 --conversations 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: scripts.*
from scripts.bench_bot import PY311, REPO, Stack, percentile
from scripts.ports import free_port

GOAL_MS = 80.0
BENCH_CUSTOMER = {"number": "NW-100777", "postal_code": "10117"}
# The words of the line check's conversation in each language, and what the answer must contain.
TURNS = {
    "de": ("Können Sie prüfen, ob meine Leitung funktioniert?", "ja", "Leitung DSL-7777"),
    "en": ("Can you check whether my line is working?", "yes", "line DSL-7777"),
}


def company_data(folder: Path, delay: float) -> Path:
    """The reference system's records for the bench: one customer whose answer takes ``delay`` seconds."""
    customer = {
        **BENCH_CUSTOMER,
        "name": "Bench Customer",
        "email": "bench@example.org",
        "line": {
            "id": "DSL-7777-0001",
            "product": "Nordwind DSL 100",
            "status": "up",
            "since": "2026-11-30T06:12:00+01:00",
            "sync_mbit": 98.4,
        },
        "invoices": [],
        **({"simulate": {"delay_seconds": delay}} if delay > 0 else {}),
    }
    path = folder / "company.json"
    path.write_text(json.dumps({"customers": [customer]}), encoding="utf-8")
    return path


def systems_file(folder: Path, url: str) -> Path:
    path = folder / "procedures.yml"
    path.write_text(
        f"systems:\n  nordwind:\n    base_url: {url}\n    auth: {{type: bearer, secret: NORDWIND_API_TOKEN}}\n"
        "limits:\n  runs_per_conversation: 1000\n",
        encoding="utf-8",
    )
    return path


def system_times(url: str, token: str, samples: int) -> list[float]:
    """The system's own time (ms) for the line check's request, called directly."""
    times = []
    headers = {"Authorization": f"Bearer {token}"}
    params = {"postal_code": BENCH_CUSTOMER["postal_code"]}
    with httpx.Client(timeout=30) as client:
        client.get(f"{url}/v1/customers/{BENCH_CUSTOMER['number']}/line", params=params, headers=headers)
        for _ in range(samples):
            started = time.perf_counter()
            response = client.get(f"{url}/v1/customers/{BENCH_CUSTOMER['number']}/line", params=params, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return times


async def customer(
    client: httpx.AsyncClient, webhook: str, lang: str, latencies: dict[str, list[float]], errors: list[str]
) -> None:
    """One conversation of the line check; the last "yes" is the procedure turn."""
    question, yes, expected = TURNS[lang]
    sender = f"bench-{secrets.token_hex(8)}"
    turns = [
        ("offer", question),
        ("start", yes),
        ("input", BENCH_CUSTOMER["number"]),
        ("input", BENCH_CUSTOMER["postal_code"]),
        ("procedure", yes),
    ]
    for kind, text in turns:
        started = time.perf_counter()
        try:
            response = await client.post(webhook, json={"sender": sender, "message": text})
            response.raise_for_status()
            said = " ".join(m.get("text") or "" for m in response.json())
        except httpx.HTTPError as exc:
            errors.append(f"{kind}: {type(exc).__name__} {exc}")
            return
        latencies[kind].append((time.perf_counter() - started) * 1000)
        if kind == "procedure" and expected not in said:
            errors.append(f"{lang}: no answer from the system in {said[:200]!r}")


async def conversations(url: str, count: int, concurrency: int) -> tuple[dict[str, list[float]], list[str]]:
    webhook = f"{url}/webhooks/rest/webhook"
    latencies: dict[str, list[float]] = {"offer": [], "start": [], "input": [], "procedure": []}
    errors: list[str] = []
    queue: asyncio.Queue = asyncio.Queue()
    for n in range(count):
        queue.put_nowait("de" if n % 2 else "en")
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                await customer(client, webhook, queue.get_nowait(), latencies, errors)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "bot" / "models" / "helpdesk.tar.gz")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=30, help="customers per run, 5 turns each")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--samples", type=int, default=30, help="direct calls of the system per run")
    parser.add_argument("--system-delay", type=float, default=0.2, help="seconds the system takes to answer")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if not args.model.exists():
        raise SystemExit(f"{args.model} is missing: run scripts/train-bot")

    token = secrets.token_urlsafe(24)
    company_port = free_port()
    company_url = f"http://127.0.0.1:{company_port}"
    stack = Stack(REPO / "kb" / "articles", args.model, web_env={"NORDWIND_API_TOKEN": token})
    stack.web_env["HELPDESK_PROCEDURES_FILE"] = str(systems_file(stack.tmp, company_url))
    runs: list[dict] = []
    overheads: list[float | None] = []  # per run: the procedure turn's p50 minus the system's, ms
    try:
        print(f"bench_procedure_turns: starting the stack (logs in {stack.tmp})", file=sys.stderr)
        stack.start(
            "company",
            [str(PY311), "-m", "examples.company_api", "--port", str(company_port)]
            + ["--customers", str(company_data(stack.tmp, args.system_delay))],
            {"NORDWIND_API_TOKEN": token, "HELPDESK_SECRETS_FILE": str(stack.tmp / "none.env")},
            f"{company_url}/health",
        )
        url = stack.up()
        asyncio.run(conversations(url, 2, 1))  # warm-up: both languages once
        for number in range(1, args.runs + 1):
            system = system_times(company_url, token, args.samples)
            latencies, errors = asyncio.run(conversations(url, args.conversations, args.concurrency))
            turn = latencies["procedure"]
            overheads.append(statistics.median(turn) - statistics.median(system) if turn else None)
            runs.append(
                {
                    "run": number,
                    "system_p50_ms": p50(system),
                    "procedure_turn_p50_ms": p50(turn),
                    "procedure_turn_p95_ms": round(percentile(turn, 95), 1) if turn else None,
                    "overhead_p50_ms": round(overheads[-1], 1) if overheads[-1] is not None else None,
                    "input_turn_p50_ms": p50(latencies["input"]),
                    "offer_turn_p50_ms": p50(latencies["offer"]),
                    "procedure_turns": len(turn),
                    "errors": len(errors),
                    "first_errors": errors[:3],
                    "load_average_1m": round(os.getloadavg()[0], 2),
                }
            )
            print(f"run {number}: {json.dumps(runs[-1])}", file=sys.stderr)
    finally:
        stack.down()
    measured = [o for o in overheads if o is not None]
    overhead = round(statistics.median(measured), 1) if measured else None
    report = {
        "runs": runs,
        "system_delay_s": args.system_delay,
        "conversations": args.conversations,
        "concurrency": args.concurrency,
        "goal": {"overhead_p50_ms": overhead, "limit_ms": GOAL_MS, "met": overhead is not None and overhead <= GOAL_MS},
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
    }
    print(table(report))
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["errors"] for r in runs) else 0


def table(report: dict) -> str:
    """The runs as a markdown table, the goal's line below it."""
    lines = [
        "| run | system p50 | procedure turn p50 / p95 | turn − system (p50) "
        "| input turn p50 | offer turn p50 | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        lines.append(
            f"| {r['run']} | {r['system_p50_ms']} | {r['procedure_turn_p50_ms']} / {r['procedure_turn_p95_ms']} "
            f"| {r['overhead_p50_ms']} | {r['input_turn_p50_ms']} | {r['offer_turn_p50_ms']} | {r['load_average_1m']} |"
        )
    goal = report["goal"]
    lines.append(
        f"\nmedian over the runs: turn − system = {goal['overhead_p50_ms']} ms "
        f"[≤ {goal['limit_ms']:.0f}]: {'met' if goal['met'] else 'not met'}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
