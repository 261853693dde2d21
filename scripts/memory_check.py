"""Memory of Rasa, the action server and the web service over many conversations.

The resident memory of each process must level off instead of growing
with every conversation held. This starts one of each (``scripts/cluster.py`` with one
replica each: PostgreSQL tracker store, Redis lock store, HAProxy in front) on databases
of its own, runs ``--conversations`` new conversations (default 10,000; each a question
that searches the KB and a "thanks"), and prints each process's RSS (/proc/PID/status
VmRSS, children included for Rasa's and uvicorn's workers) every ``--every``
conversations, then drops its databases. Loopback only, bounded by the count.

    PYTHONPATH=$PWD .venv/py311/bin/python scripts/memory_check.py --conversations 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: scripts.*, search_api, helpdesk
from scripts.cluster import REPO, Cluster, drop_database
from scripts.ports import free_ports

QUESTIONS = [
    "Mein Internet ist sehr langsam",
    "my internet is slow",
    "Wie ändere ich mein Passwort?",
    "I get a lot of spam e-mails",
    "Der Router zeigt kein Internet an",
]
PROCESSES = ("rasa1", "actions1", "web1")


def rss_mib(pid: int) -> float:
    """RSS of a process and its children, in MiB."""
    total_kib = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total_kib += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
        pids.extend(int(child) for child in children)
    return total_kib / 1024


async def converse(client: httpx.AsyncClient, index: int, statuses: Counter) -> bool:
    """One conversation; False when a turn was not answered with 200 and a bot message."""
    sender = f"mem-{index}-{secrets.token_hex(4)}"
    ok = True
    for text in (QUESTIONS[index % len(QUESTIONS)], "thanks"):
        response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        statuses[response.status_code] += 1
        ok = ok and response.status_code == 200 and bool(response.json())
    return ok


async def run(cluster: Cluster, conversations: int, every: int, concurrency: int) -> tuple[list[dict[str, int]], int]:
    samples: list[dict[str, int]] = []
    started = time.monotonic()
    failures = 0
    statuses: Counter = Counter()

    def pid(name: str) -> int:
        popen = cluster.processes[name].popen
        assert popen is not None, f"{name} is not running"
        return popen.pid

    def sample(done: int) -> None:
        row = {
            "conversations": done,
            "seconds": round(time.monotonic() - started),
            **{name: round(rss_mib(pid(name))) for name in PROCESSES},
        }
        samples.append(row)
        print(json.dumps(row), flush=True)

    sample(0)
    async with httpx.AsyncClient(base_url=cluster.public_url, timeout=60) as client:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(i: int) -> bool:
            async with semaphore:
                return await converse(client, i, statuses)

        for start in range(0, conversations, every):
            batch = range(start, min(conversations, start + every))
            failures += sum(not ok for ok in await asyncio.gather(*(one(i) for i in batch)))
            sample(batch[-1] + 1)
    print(
        f"memory_check: {conversations} conversations, {failures} with a failed turn; "
        f"answers by status: {dict(sorted(statuses.items()))}",
        flush=True,
    )
    return samples, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    suffix = secrets.token_hex(4)
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/hd_memory_{suffix}"
    tracker_url = f"postgresql://postgres@127.0.0.1:5432/rasa_memory_{suffix}"
    out = REPO / "test-artifacts" / "memory"
    cluster = Cluster(
        rasa=1,
        actions=1,
        web=1,
        public_port=free_ports(1)[0],
        database_url=database_url,
        tracker_store_url=tracker_url,
        index_dir=out / "index",
        articles_dir=REPO / "tests" / "cluster" / "kb",
        run_dir=out,
        bot_rate_limit_address="1000/second",
    )  # the whole load comes from one address
    try:
        cluster.prepare()
        cluster.start()
        samples, failures = asyncio.run(run(cluster, args.conversations, args.every, args.concurrency))
        (out / "rss.json").write_text(json.dumps(samples, indent=2))
    finally:
        cluster.stop()
        drop_database(database_url)
        drop_database(tracker_url)
    return 1 if failures else 0  # memory of failed turns measures nothing


if __name__ == "__main__":
    sys.exit(main())
