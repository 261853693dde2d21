#!/usr/bin/env python
"""Crash check of the handoff store: SIGKILL the service mid-stream, restart it, count.

Fires a stream of handoffs (POST /handoffs, as the bot does, from several
clients at once) at a real web service process, kills that process with SIGKILL
after a number of them were acknowledged, starts it again on the same
database and re-sends every handoff with its idempotency key. It then shows:

- every handoff that got a 201 before the kill is in the store, same ticket;
- retries of the same keys created no duplicates (one ticket per key);
- handoffs that were committed but whose answer was lost in the kill are
  found by their key (200, created false) instead of being stored twice.

    .venv/py311/bin/python scripts/handoff_crash_check.py [--handoffs 300] [--clients 8] \\
        [--kill-after 100] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--json]

Exit status 0 when every check holds. tests/handoffs/test_crash.py runs a
small stream of it in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.ports import free_port  # noqa: E402


def payload(run: str, i: int) -> dict:
    """Deterministic per key, so a re-send is the same handoff."""
    return {
        "idempotency_key": f"crash-{run}-{i:06d}",
        "conversation_id": f"crash-{run}-conv-{i}",
        "channel": "rest",
        "language": "en" if i % 2 else "de",
        "reason": "unresolved",
        "summary": {
            "category": ["network", "software", "shop-chat", "billing", "email", "other"][i % 6],
            "product": None,
            "description": f"crash check handoff {i}",
            "tried": "restarted the device",
            "urgency": ["low", "normal", "high", "critical"][i % 4],
            "impact": None,
            "contact": {"email": f"customer{i}@example.org"},
        },
        "transcript": [{"sender": "customer", "text": f"message {i}", "timestamp": "2026-11-27T08:00:00Z"}],
        "articles_shown": [],
    }


class Service:
    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "helpdesk.app:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/agent/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the service did not start in {timeout} s; see {self.log}")

    def kill(self) -> None:
        assert self.process is not None, "kill before start"
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def run_check(handoffs: int, clients: int, kill_after: int, database_url: str | None, work: Path) -> dict:
    run = secrets.token_hex(3)
    token = secrets.token_urlsafe(16)
    database_url = database_url or f"sqlite:///{work / 'handoffs.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HELPDESK_SERVICE_TOKEN": token,
        "HELPDESK_SECRETS_FILE": str(work / "no-secrets.env"),
        "HELPDESK_SESSION_SECRET": secrets.token_hex(16),
        "HELPDESK_ARTICLES_DIR": os.environ.get("HELPDESK_ARTICLES_DIR", str(ROOT / "tests" / "fixtures" / "kb")),
        "HELPDESK_INDEX_DIR": os.environ.get("HELPDESK_INDEX_DIR", str(work / "index")),
    }
    for name in ("HELPDESK_WEBHOOK_URL", "HELPDESK_SMTP_HOST"):
        env.pop(name, None)  # no notifications: this is about the store
    headers = {"Authorization": f"Bearer {token}"}
    service = Service(env, work / "service.log")
    service.start()

    # Phase 1: the stream, killed mid-way.
    todo: queue.Queue[int] = queue.Queue()
    for i in range(handoffs):
        todo.put(i)
    acked: dict[int, str] = {}
    failed: set[int] = set()
    lock = threading.Lock()
    killed = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=15) as http:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    response = http.post(f"{service.url}/handoffs", json=payload(run, i), headers=headers)
                    ok = response.status_code == 201
                except httpx.HTTPError:
                    ok = False
                with lock:
                    if ok:
                        acked[i] = response.json()["ticket_id"]
                    else:
                        failed.add(i)
                    if len(acked) >= kill_after and not killed.is_set():
                        killed.set()
                        service.kill()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not killed.is_set():
        service.kill()

    # Phase 2: restart on the same database, re-send every key.
    service.start()
    replay_same = replay_other = created_now = found_stored = errors = 0
    tickets_after: dict[int, str] = {}
    with httpx.Client(timeout=30) as http:
        for i in range(handoffs):
            response = http.post(f"{service.url}/handoffs", json=payload(run, i), headers=headers)
            if response.status_code not in (200, 201):
                errors += 1
                continue
            ticket = response.json()["ticket_id"]
            tickets_after[i] = ticket
            if i in acked:
                if response.status_code == 200 and ticket == acked[i]:
                    replay_same += 1
                else:
                    replay_other += 1
            elif response.status_code == 201:
                created_now += 1
            else:
                found_stored += 1
    service.stop()

    # The store itself, read directly.
    from sqlalchemy import func, select

    from helpdesk.handoffs.models import Handoff
    from helpdesk.handoffs.store import HandoffStore

    store = HandoffStore.open(database_url, migrate=False)
    try:
        stored = {key: ticket for key, ticket in store.ticket_ids().items() if key.startswith(f"crash-{run}-")}
        with store.transaction() as s:
            # Rows per conversation: a duplicate would be a second ticket for one conversation.
            per_conversation = s.execute(
                select(Handoff.conversation_id, func.count())
                .where(Handoff.conversation_id.like(f"crash-{run}-%"))
                .group_by(Handoff.conversation_id)
            ).all()
    finally:
        store.close()
    rows = sum(n for _, n in per_conversation)
    missing_acked = sum(1 for i, t in acked.items() if stored.get(payload(run, i)["idempotency_key"]) != t)
    distinct_tickets = len(set(stored.values()))
    report = {
        "database": database_url.split("?")[0].split("://")[0],
        "handoffs_sent": handoffs,
        "clients": clients,
        "kill_after": kill_after,
        "acknowledged_201_before_kill": len(acked),
        "failed_or_unanswered_before_kill": len(failed),
        "replays_of_acknowledged_same_ticket": replay_same,
        "replays_of_acknowledged_other_result": replay_other,
        "unacknowledged_created_after_restart": created_now,
        "unacknowledged_already_stored_before_kill": found_stored,
        "errors_after_restart": errors,
        "stored_for_this_run": rows,
        "distinct_tickets": distinct_tickets,
        "acknowledged_missing_from_store": missing_acked,
        "duplicates": sum(n - 1 for _, n in per_conversation),
    }
    report["ok"] = (
        len(acked) >= min(kill_after, handoffs)
        and missing_acked == 0
        and replay_other == 0
        and errors == 0
        and rows == handoffs
        and len(stored) == handoffs
        and distinct_tickets == handoffs
        and report["duplicates"] == 0
        and all(stored[payload(run, i)["idempotency_key"]] == t for i, t in tickets_after.items())
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handoffs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kill-after", type=int, default=100, help="SIGKILL after this many 201s")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handoff-crash-") as tmp:
        try:
            report = run_check(args.handoffs, args.clients, args.kill_after, args.database_url, Path(tmp))
        except RuntimeError as exc:
            log = Path(tmp) / "service.log"
            print(
                f"crash check failed: {exc}\n{log.read_text(errors='replace')[-3000:] if log.exists() else ''}",
                file=sys.stderr,
            )
            return 2
    if args.json:
        print(json.dumps(report))
    else:
        r = report
        print(
            f"{r['handoffs_sent']} handoffs from {r['clients']} clients to a service on {r['database']}, "
            f"killed with SIGKILL after {r['kill_after']} acknowledgements"
        )
        print(
            f"before the kill: {r['acknowledged_201_before_kill']} got 201, "
            f"{r['failed_or_unanswered_before_kill']} failed or got no answer"
        )
        print(
            f"after restart, every key sent again: {r['replays_of_acknowledged_same_ticket']} acknowledged ones "
            f"came back 200 with their ticket ({r['replays_of_acknowledged_other_result']} otherwise); "
            f"of the unacknowledged, {r['unacknowledged_already_stored_before_kill']} were already stored "
            f"(committed, answer lost) and {r['unacknowledged_created_after_restart']} were created now; "
            f"{r['errors_after_restart']} errors"
        )
        print(
            f"store: {r['stored_for_this_run']} handoffs, {r['distinct_tickets']} distinct tickets for "
            f"{r['handoffs_sent']} keys; acknowledged but missing: {r['acknowledged_missing_from_store']}; "
            f"duplicates: {r['duplicates']}"
        )
        print("RESULT:", "OK" if r["ok"] else "FAILED")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
