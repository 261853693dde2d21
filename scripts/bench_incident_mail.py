#!/usr/bin/env python
"""Load benchmark of the resolution mails of a known incident: how long until every subscriber
has the mail, and, with ``--kill``, whether a SIGKILL of the sending process loses or repeats one.

Per run: a fresh PostgreSQL schema, one incident with ``--subscribers`` subscriptions, an SMTP
receiver (aiosmtpd) on 127.0.0.1 that counts the mails per recipient, and a separate process that
sends them: the desk's notification outbox worker (helpdesk/handoffs/notifications.py, as every
web replica runs it) configured as production is, with HELPDESK_SMTP_HOST. The incident is resolved
through the incident store, which enqueues one mail per subscriber in the resolving transaction
(helpdesk/incidents/notices.py); the clock runs from that call until every subscriber's mail has
arrived. With ``--kill`` the sending process is killed with SIGKILL once ``--kill-at`` of the mails
have arrived and started again at once; the outbox rows it had leased are sent again when their
lease ends (60 s). The worker leases 20 rows at a time: the default share, 0.505 (1010 of 2000),
kills it in the middle of a lease, as a crash at a random moment mostly does; at a multiple of 20
it would die between two leases.

A run ends when every subscriber has a mail and the outbox holds no pending notice, or after
``--timeout`` seconds. Then each recipient's count at the receiver is checked: none missing, none
twice. Everything runs on loopback; the sizes are bounded.

    PYTHONPATH=$PWD .venv/py311/bin/python scripts/bench_incident_mail.py [--subscribers 2000] \\
        [--runs 3] [--kill] [--kill-at 0.505] [--timeout 300] [--database-url postgresql+psycopg://...] [--json]

Exit status 0 when every run delivered each mail exactly once, 1 otherwise, 2 when a run could
not be set up. tests/incidents/test_bench_incident_mail.py runs a small one with --kill.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpdesk.db import temporary_schema  # noqa: E402
from scripts.handoff_crash_check import Service  # noqa: E402
from scripts.ports import free_port  # noqa: E402

DEFAULT_DATABASE = os.environ.get("DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_SUBSCRIBERS, MAX_RUNS, MAX_TIMEOUT = 10_000, 10, 900


class Receiver:
    """aiosmtpd handler: counts the mails per recipient as they arrive."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.per_recipient: Counter[str] = Counter()
        self.first_complete: float | None = None  # monotonic time when every expected recipient had one
        self.expected = 0

    async def handle_DATA(self, server: Any, _state: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.per_recipient[rcpt] += 1
            if self.first_complete is None and len(self.per_recipient) >= self.expected:
                self.first_complete = time.monotonic()
        return "250 Message accepted for delivery"

    def distinct(self) -> int:
        with self.lock:
            return len(self.per_recipient)


@contextmanager
def receiver() -> Iterator[tuple[Receiver, int]]:
    from aiosmtpd.controller import Controller

    handler = Receiver()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def sender_env(database_url: str, smtp_port: int, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "HELPDESK_SMTP_HOST": "127.0.0.1",
        "HELPDESK_SMTP_PORT": str(smtp_port),
        "HELPDESK_SMTP_FROM": "support@nordwind.example",
        "HELPDESK_SECRETS_FILE": str(work / "no-secrets.env"),
    }


def run_sender() -> int:
    """The sending process (``--sender``): the outbox worker on the settings of the environment,
    until SIGTERM or SIGKILL."""
    from helpdesk.handoffs.notifications import NotificationConfig, NotificationWorker
    from helpdesk.handoffs.store import HandoffStore
    from helpdesk.settings import Settings

    settings = Settings.from_env(os.environ)
    store = HandoffStore.open(settings.database_url, migrate=False)
    worker = NotificationWorker(store, NotificationConfig(settings))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    worker.start()
    print("sender ready", flush=True)
    done.wait()
    worker.stop()
    store.close()
    return 0


class Sender(Service):
    """The sending process (this script with ``--sender``); killed and ended as the crash check's service."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--sender"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the worker runs: the clock then measures the mails, not the start of Python."""
        deadline = time.monotonic() + timeout
        while b"sender ready" not in (self.log.read_bytes() if self.log.exists() else b""):
            assert self.process is not None, "wait before start"
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the sending process did not start (exit status {self.process.poll()})")
            time.sleep(0.05)


def prepare(database_url: str, subscribers: int) -> tuple[Any, int, list[str]]:
    """The schema migrated, one active incident and its subscribers; (store, incident id, addresses)."""
    from helpdesk.db import utcnow
    from helpdesk.handoffs.store import HandoffStore
    from helpdesk.incidents.models import IncidentSubscription
    from helpdesk.incidents.store import IncidentStore

    store = HandoffStore.open(database_url)
    incident = IncidentStore(store).declare(
        title="Fibre outage (benchmark)",
        category="network",
        team="network",
        messages={"de": "Ein Kabel wurde beschädigt.", "en": "A cable was damaged."},
        actor="bench",
    )
    addresses = [f"customer{i:05d}@example.org" for i in range(subscribers)]
    now = utcnow()
    with store.transaction() as s:
        s.add_all(
            IncidentSubscription(
                incident_id=incident["id"],
                email=address,
                language="de" if i % 2 else "en",
                conversation_id=f"bench-conv-{i}",
                created_at=now,
            )
            for i, address in enumerate(addresses)
        )
    return store, incident["id"], addresses


def pending_notices(store: Any, incident_id: int) -> int:
    from sqlalchemy import func, select

    from helpdesk.handoffs.models import OutboxItem

    with store.transaction() as s:
        return s.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.incident_id == incident_id, OutboxItem.state == "pending")
        )


def one_run(base_url: str, subscribers: int, kill: bool, kill_at: float, timeout: float, work: Path) -> dict:
    from helpdesk.incidents.notices import Sender as NoticeSender
    from helpdesk.incidents.store import IncidentStore

    with temporary_schema(base_url, prefix="bench_mail") as url, receiver() as (handler, port):
        store, incident_id, addresses = prepare(url, subscribers)
        handler.expected = subscribers
        sender = Sender(sender_env(url, port, work), work / "sender.log")
        try:
            sender.start()
            sender.wait_ready()
            incidents = IncidentStore(
                store, NoticeSender("Nordwind", "support@nordwind.example", "http://127.0.0.1:8000")
            )
            started = time.monotonic()
            incidents.update(incident_id, "bench", {"status": "resolved"})
            enqueued = time.monotonic() - started
            deadline = started + timeout
            killed_after = None
            while time.monotonic() < deadline:
                arrived = handler.distinct()
                if kill and killed_after is None and arrived >= max(1, int(subscribers * kill_at)):
                    sender.kill()
                    killed_after = arrived
                    sender.start()
                if arrived >= subscribers and pending_notices(store, incident_id) == 0:
                    break
                time.sleep(0.01)
            time.sleep(0.5)  # a mail still on the wire is counted too
        finally:
            sender.stop()
            store.close()
        with handler.lock:
            counts = dict(handler.per_recipient)
            complete = handler.first_complete
    missing = [a for a in addresses if a not in counts]
    twice = {a: n for a, n in counts.items() if n > 1}
    unknown = [a for a in counts if a not in set(addresses)]
    seconds = None if complete is None else complete - started
    return {
        "subscribers": subscribers,
        "killed_after": killed_after,
        "sender_starts": sender.starts,
        "enqueue_seconds": round(enqueued, 3),
        "deliver_all_seconds": None if seconds is None else round(seconds, 3),
        "mails_per_second": None if not seconds else round(subscribers / seconds, 1),
        "mails_received": sum(counts.values()),
        "missing": len(missing),
        "sent_twice": len(twice),
        "unknown_recipients": len(unknown),
        "ok": not missing and not twice and not unknown and (not kill or killed_after is not None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--kill", action="store_true", help="SIGKILL the sending process partway, then restart it")
    parser.add_argument("--kill-at", type=float, default=0.505, help="share of the mails arrived at the kill")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run at most")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="a PostgreSQL server on this machine")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sender:
        return run_sender()
    if not 1 <= args.subscribers <= MAX_SUBSCRIBERS:
        parser.error(f"--subscribers: 1 to {MAX_SUBSCRIBERS}")
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs: 1 to {MAX_RUNS}")
    if not 0 < args.timeout <= MAX_TIMEOUT:
        parser.error(f"--timeout: up to {MAX_TIMEOUT} seconds")
    if not 0 < args.kill_at < 1:
        parser.error("--kill-at: a share between 0 and 1")
    from sqlalchemy.engine import make_url

    url = make_url(args.database_url)
    if url.get_backend_name() != "postgresql" or (url.host or "127.0.0.1") not in LOOPBACK:
        parser.error("--database-url: a PostgreSQL server on this machine (127.0.0.1)")

    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-incident-mail-") as tmp:
        for _ in range(args.runs):
            try:
                runs.append(
                    one_run(args.database_url, args.subscribers, args.kill, args.kill_at, args.timeout, Path(tmp))
                )
            except Exception as exc:  # set-up failed: the log of the sending process says why
                log = Path(tmp) / "sender.log"
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                print(f"benchmark failed: {type(exc).__name__}: {exc}\n{tail}", file=sys.stderr)
                return 2
    times = [r["deliver_all_seconds"] for r in runs if r["deliver_all_seconds"] is not None]
    summary = {
        "subscribers": args.subscribers,
        "runs": runs,
        "kill": args.kill,
        "median_deliver_all_seconds": round(statistics.median(times), 3) if len(times) == len(runs) else None,
        "median_enqueue_seconds": round(statistics.median(r["enqueue_seconds"] for r in runs), 3),
        "ok": all(r["ok"] for r in runs),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for i, r in enumerate(runs, start=1):
            kill_text = f", sender killed after {r['killed_after']} and restarted" if args.kill else ""
            print(
                f"run {i}: {r['subscribers']} subscribers{kill_text}: enqueued in {r['enqueue_seconds']} s, "
                f"all delivered after {r['deliver_all_seconds']} s ({r['mails_per_second']} mails/s); "
                f"{r['mails_received']} mails received, missing {r['missing']}, sent twice {r['sent_twice']}"
            )
        print(
            f"median over {len(runs)} run(s): all delivered after {summary['median_deliver_all_seconds']} s "
            f"(enqueue {summary['median_enqueue_seconds']} s)"
        )
        print("RESULT:", "OK" if summary["ok"] else "FAILED")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
