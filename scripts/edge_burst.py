"""A bounded request burst against every public endpoint, on loopback: do the services keep answering?

For each public endpoint of the web service (/search, /language, /feedback,
the /chat/api endpoints, an article page, the chat page) and of Rasa (the
REST webhook and the socket.io channel), ``--requests`` requests (at most
1,000) are sent from one loopback source address with ``--concurrency`` in
flight, while a probe asks the web service's ``/health`` and Rasa's ``/``
every 100 ms from another address. The report gives, per endpoint, the answers
by status (socket.io: replies by kind), the burst's duration and latency, and
the slowest probe of each service; it fails (exit 1) when a probe was not
answered within ``--probe-limit`` seconds or a service stopped answering.

By default it starts its own stack with the production limits (scripts/bench_bot.py's
``Stack``) and reports the services' memory too; ``--search-url`` and
``--rasa-url`` measure a running stack instead. Run it with the bot's venv:

    .venv/py310/bin/python scripts/edge_burst.py --requests 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: scripts.*, search_api, helpdesk
from scripts.bench_bot import REPO, Stack

MAX_REQUESTS = 1000


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def endpoints(search: str, rasa: str, article: str) -> list[dict[str, Any]]:
    session = secrets.token_hex(16)
    return [
        {"name": "POST /search", "method": "POST", "url": f"{search}/search", "json": {"query": "router light red"}},
        {"name": "POST /language", "method": "POST", "url": f"{search}/language", "json": {"text": "hello"}},
        {
            "name": "POST /feedback",
            "method": "POST",
            "url": f"{search}/feedback",
            "json": {"article_id": article, "conversation_id": "burst", "query": "q", "helpful": False},
        },
        {"name": "GET /chat/api/live/{key}", "method": "GET", "url": f"{search}/chat/api/live/{session}"},
        {
            "name": "POST /chat/api/live/{key}/messages",
            "method": "POST",
            "url": f"{search}/chat/api/live/{session}/messages",
            "json": {"text": "hello"},
        },
        {"name": "GET /articles/{id}", "method": "GET", "url": f"{search}/articles/{article}"},
        {"name": "GET /chat", "method": "GET", "url": f"{search}/chat"},
        {
            "name": "POST /webhooks/rest/webhook",
            "method": "POST",
            "url": f"{rasa}/webhooks/rest/webhook",
            "json": {"sender": "burst-" + secrets.token_hex(8), "message": "hello"},
        },
    ]


class Probe:
    """Asks each service's health every 100 ms; remembers the slowest answer and any failure."""

    def __init__(self, urls: dict[str, str]):
        self.urls = urls
        self.slowest: dict[str, float] = {name: 0.0 for name in urls}
        self.failures: list[str] = []
        self.running = True

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            while self.running:
                for name, url in self.urls.items():
                    started = time.perf_counter()
                    try:
                        (await client.get(url)).raise_for_status()
                    except httpx.HTTPError as exc:
                        self.failures.append(f"{name}: {type(exc).__name__}")
                    self.slowest[name] = max(self.slowest[name], time.perf_counter() - started)
                await asyncio.sleep(0.1)


async def http_burst(endpoint: dict[str, Any], requests: int, concurrency: int, source: str) -> dict[str, Any]:
    transport = httpx.AsyncHTTPTransport(local_address=source, limits=httpx.Limits(max_connections=concurrency))
    statuses: Counter = Counter()
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for _ in range(requests):
        queue.put_nowait(None)
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                body = endpoint.get("json")
                try:
                    response = await client.request(
                        endpoint["method"], endpoint["url"], json=body() if callable(body) else body
                    )
                    statuses[str(response.status_code)] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "endpoint": endpoint["name"],
        "requests": requests,
        "seconds": round(time.perf_counter() - started, 2),
        "answers": dict(sorted(statuses.items())),
        "p50_ms": round(statistics.median(latencies), 1),
        "max_ms": round(max(latencies), 1),
    }


class ChatSocket:
    """The web chat's socket.io connection to Rasa (engine.io 4 over a websocket), from a chosen address.

    Written on the wire protocol rather than with python-socketio's client,
    whose websocket transport needs a newer aiohttp than Rasa 3.6 pins.
    """

    def __init__(self, rasa_url: str, source: str = "127.0.0.1", origin: str | None = None):
        self.url = rasa_url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.source, self.origin = source, origin
        self.session = secrets.token_hex(16)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.closed = asyncio.Event()

    async def __aenter__(self) -> ChatSocket:
        self.ws = await websockets.connect(
            self.url, origin=self.origin, compression=None, max_size=None, local_addr=(self.source, 0), open_timeout=10
        )
        opened = await self.ws.recv()
        if not opened.startswith("0"):
            raise ConnectionError(f"no engine.io open packet: {opened[:100]}")
        await self.ws.send("40")
        if not (await self.ws.recv()).startswith("40"):
            raise ConnectionError("socket.io connect refused")
        self.reading = asyncio.ensure_future(self._read())
        await self.emit("session_request", {"session_id": self.session})
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.reading.cancel()
        await self.ws.close()

    async def _read(self) -> None:
        try:
            async for packet in self.ws:
                if packet == "2":
                    await self.ws.send("3")  # engine.io ping
                elif packet.startswith("42"):
                    event, *args = json.loads(packet[2:])
                    if event == "bot_uttered":
                        self.replies.put_nowait(args[0] if args else {})
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def emit(self, event: str, data: dict[str, Any]) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    async def say(self, text: str, lang: str = "en") -> None:
        await self.emit("user_uttered", {"message": text, "session_id": self.session, "customData": {"language": lang}})

    async def reply(self, timeout: float = 1.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.replies.get(), timeout)


async def socketio_burst(rasa: str, requests: int, source: str) -> dict[str, Any]:
    """One chat session sends ``requests`` messages as fast as it can; replies are counted by kind."""
    replies: Counter = Counter()
    async with ChatSocket(rasa, source) as chat:
        started = time.perf_counter()
        for _ in range(requests):
            await chat.say("hello")
        sent = time.perf_counter() - started
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until replies stop for a second
            try:
                text = str((await chat.reply(timeout=1.0)).get("text", ""))
            except asyncio.TimeoutError:  # not the builtin on Python 3.10, where the bot's tests run this
                break
            replies["refused: too many" if ("wait" in text or "warten" in text) else "answered"] += 1
    return {
        "endpoint": "socket.io user_uttered",
        "requests": requests,
        "seconds": round(sent, 2),
        "answers": dict(sorted(replies.items())),
        "p50_ms": None,
        "max_ms": None,
    }


async def burst(
    search: str, rasa: str, article: str, requests: int, concurrency: int, source: str, probe_limit: float
) -> dict[str, Any]:
    probe = Probe({"web service /health": f"{search}/health", "rasa /": f"{rasa}/"})
    probing = asyncio.ensure_future(probe.run())
    results = []
    try:
        for endpoint in endpoints(search, rasa, article):
            results.append(await http_burst(endpoint, requests, concurrency, source))
        results.append(await socketio_burst(rasa, requests, source))
        await asyncio.sleep(0.3)
    finally:
        probe.running = False
        await probing
    slowest = {name: round(seconds * 1000, 1) for name, seconds in probe.slowest.items()}
    ok = not probe.failures and all(seconds <= probe_limit for seconds in probe.slowest.values())
    return {"results": results, "probe_slowest_ms": slowest, "probe_failures": probe.failures[:10], "ok": ok}


def table(report: dict[str, Any]) -> str:
    lines = ["| endpoint | requests | seconds | answers | p50 / max ms |", "|---|---|---|---|---|"]
    for r in report["results"]:
        answers = ", ".join(f"{k}: {v}" for k, v in r["answers"].items())
        latency = f"{r['p50_ms']} / {r['max_ms']}" if r["p50_ms"] is not None else "–"
        lines.append(f"| {r['endpoint']} | {r['requests']} | {r['seconds']} | {answers} | {latency} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--search-url", help="a running web service (with --rasa-url; default: start a stack)")
    parser.add_argument("--rasa-url")
    parser.add_argument("--article", default="en-reset-password", help="an article id of the served KB")
    parser.add_argument("--kb", type=Path, default=REPO / "kb" / "articles", help="articles for the started stack")
    parser.add_argument("--model", type=Path, default=REPO / "bot" / "models" / "helpdesk.tar.gz")
    parser.add_argument("--requests", type=int, default=500, help=f"per endpoint, at most {MAX_REQUESTS}")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--source", default="127.0.0.9", help="loopback address the burst comes from")
    parser.add_argument("--probe-limit", type=float, default=1.0, help="seconds a health probe may take")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be 1..{MAX_REQUESTS}")
    if not args.source.startswith("127."):
        parser.error("--source must be a loopback address: this is a local load test")

    stack = None
    search, rasa = args.search_url, args.rasa_url
    if not (search and rasa):
        stack = Stack(args.kb, args.model, lift_rate_limits=False)
        print(f"edge_burst: starting the web service, action server and Rasa (logs in {stack.tmp})", file=sys.stderr)
        rasa = stack.up()
        search = stack.search_url
    try:
        before = {p.pid: rss_mb(p.pid) for p in stack.processes} if stack else {}
        report = asyncio.run(
            burst(search, rasa, args.article, args.requests, args.concurrency, args.source, args.probe_limit)
        )
        if stack:
            names = ("web service", "action server", "rasa")
            report["rss_mb"] = {
                name: {"before": before[p.pid], "after": rss_mb(p.pid)}
                for name, p in zip(names, stack.processes, strict=False)
            }
    finally:
        if stack:
            stack.down()
    print(json.dumps(report, indent=2))
    print(table(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
