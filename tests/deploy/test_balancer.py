"""The balancer of the container deployments (deploy/haproxy.cfg) passes a customer's longest message whole.

HAProxy runs with the deployment's own configuration, its listeners on free
loopback ports and every backend pointed at a small HTTP server that answers a
POST with the body it received. The longest chat message (8,000 characters) in
UTF-8 and in ASCII-escaped JSON reaches Rasa's REST channel and the live chat's
API byte for byte: no body or buffer limit of the balancer stands between the
customer and the channels' own "too long" answer.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from scripts.ports import free_port

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
HAPROXY = Path("/usr/sbin/haproxy")


class Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the health checks
        self.answer(b"{}")

    def do_POST(self) -> None:
        self.answer(self.rfile.read(int(self.headers["Content-Length"])))

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def balancer(tmp_path):
    assert HAPROXY.exists(), "scripts/bootstrap haproxy installs Debian's haproxy"
    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    public = free_port()
    config = CONFIG.read_text()
    config = re.sub(r"^    bind :8080$", f"    bind 127.0.0.1:{public}", config, flags=re.M)
    config = re.sub(r"^    bind :\d+$", lambda _: f"    bind 127.0.0.1:{free_port()}", config, flags=re.M)
    config = re.sub(
        r"^    server-template (\w+) \d+ \S+$", rf"    server \1 127.0.0.1:{echo.server_port}", config, flags=re.M
    )
    config = config.replace(" resolvers dns init-addr none", "")
    (tmp_path / "haproxy.cfg").write_text(config)
    process = subprocess.Popen(
        [str(HAPROXY), "-db", "-f", str(tmp_path / "haproxy.cfg")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{public}"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)
    echo.shutdown()


def test_the_longest_message_passes_the_balancer_whole(balancer):
    message = "🙏" * 7977 + " Kundennummer 4711-0815"  # four bytes a character in UTF-8: the worst case
    assert len(message) == 8000
    for path, body in (
        ("/webhooks/rest/webhook", {"sender": "s", "message": message}),
        ("/chat/api/live/key/messages", {"text": message}),
    ):
        for ensure_ascii in (False, True):  # 32 KB of UTF-8, 96 KB of \u escapes
            raw = json.dumps(body, ensure_ascii=ensure_ascii).encode()
            response = httpx.post(
                f"{balancer}{path}", content=raw, headers={"Content-Type": "application/json"}, timeout=10
            )
            assert response.status_code == 200, (path, response.status_code)
            assert response.content == raw, path
