"""The several-machine topology on one machine: N Rasa, N action servers, N web replicas, HAProxy.

``make cluster`` (``scripts/cluster``) runs it in the foreground until Ctrl-C; the
failover test (tests/cluster) drives the same ``Cluster`` object. Each process that
would be its own machine listens on its own loopback port (docs/cluster.md maps them onto
hosts); they share only what separate machines would share:

- PostgreSQL at 127.0.0.1:5432: the handoff store (``DATABASE_URL``) and, in a database
  of its own, Rasa's SQL tracker store; live-takeover change notices go through it
  (LISTEN/NOTIFY), so every web replica wakes its streams;
- Redis at 127.0.0.1:6379: Rasa's lock store, so two Rasa servers never run turns of one
  conversation at the same time;
- the index directory, built once and read by every web replica.

HAProxy is the only public listener. Public: the chat page and its assets, the article
pages, the agent inbox, the public API (search, handoffs, chat API) of the web replicas,
and Rasa's input channels (``/socket.io/`` with a sticky cookie, ``/webhooks/``). Rasa's
HTTP API and the action servers are reached only through HAProxy's internal listeners
(bound to 127.0.0.1, in production a private network): the web replicas' hand-back to the
bot, Rasa's calls to the action servers, the action servers' calls to the web service.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: scripts.*, search_api, helpdesk
from scripts.ports import free_ports
from scripts.tracker_db import ensure_database, tracker_store_url

REPO = Path(__file__).resolve().parents[1]
PY311 = REPO / ".venv" / "py311" / "bin"
PY310 = REPO / ".venv" / "py310" / "bin"
HAPROXY = os.environ.get("HAPROXY", "/usr/sbin/haproxy")
DEPLOY_HAPROXY = REPO / "deploy" / "haproxy.cfg"


def drop_database(url_text: str) -> None:
    url = make_url(url_text)
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def run_checked(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    ready_url: str
    cwd: Path = REPO
    popen: subprocess.Popen | None = None

    def start(self, log_dir: Path) -> None:
        log = (log_dir / f"{self.name}.log").open("ab")
        self.popen = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        popen = self.popen
        if popen is not None and popen.poll() is None:
            popen.terminate()
            try:
                popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()


@dataclass
class Cluster:
    rasa: int = 2
    actions: int = 2
    web: int = 2
    public_port: int = 8080
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/helpdesk"
    tracker_store_url: str = "postgresql://postgres@127.0.0.1:5432/rasa"
    redis_host: str = "127.0.0.1"
    # Messages per client address on Rasa's channels; a load test from one address lifts it.
    bot_rate_limit_address: str = "5/second;300/minute"
    index_dir: Path = REPO / "var" / "index"
    articles_dir: Path = REPO / "kb" / "articles"
    model: Path = REPO / "bot" / "models" / "helpdesk.tar.gz"
    run_dir: Path = REPO / "var" / "cluster"
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.rasa_api_port, self.actions_port, self.web_internal_port, self.stats_port, *self.ports) = free_ports(
            4 + self.rasa + self.actions + self.web
        )
        self.stats_url = f"http://127.0.0.1:{self.stats_port}/"
        self.rasa_token = secrets.token_urlsafe(24)
        self.service_token = secrets.token_urlsafe(24)
        self.public_url = f"http://127.0.0.1:{self.public_port}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ports = iter(self.ports)
        web_env = {
            "DATABASE_URL": self.database_url,
            "HELPDESK_INDEX_DIR": str(self.index_dir),
            "HELPDESK_ARTICLES_DIR": str(self.articles_dir),
            "HELPDESK_PUBLIC_URL": self.public_url,
            "HELPDESK_RASA_URL": f"http://127.0.0.1:{self.rasa_api_port}",
            "HELPDESK_RASA_PUBLIC_URL": self.public_url,
            "HELPDESK_RASA_TOKEN": self.rasa_token,
            "HELPDESK_SERVICE_TOKEN": self.service_token,
            "HELPDESK_REDIS_URL": f"redis://{self.redis_host}:6379/0",
            "HELPDESK_SESSION_SECRET": os.environ.get("HELPDESK_SESSION_SECRET") or secrets.token_urlsafe(24),
        }
        for i in range(1, self.web + 1):
            port = next(ports)
            self._add(
                Process(
                    f"web{i}",
                    [
                        str(PY311 / "python"),
                        "-m",
                        "uvicorn",
                        "--factory",
                        "helpdesk.app:create_app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    web_env,
                    f"http://127.0.0.1:{port}/health",
                )
            )
        for i in range(1, self.actions + 1):
            port = next(ports)
            self._add(
                Process(
                    f"actions{i}",
                    [str(PY310 / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
                    {
                        "HELPDESK_SEARCH_URL": f"http://127.0.0.1:{self.web_internal_port}",
                        "HELPDESK_SERVICE_TOKEN": self.service_token,
                        "SANIC_HOST": "127.0.0.1",  # Rasa SDK's bind address (no --host option): loopback
                    },
                    f"http://127.0.0.1:{port}/health",
                    cwd=REPO / "bot",
                )
            )
        for i in range(1, self.rasa + 1):
            port = next(ports)
            # As the Procfile runs it: no HTTP API, the channels of bot/credentials.yml, bot/ as working
            # directory; the web service's hand-back uses the private channel with HELPDESK_RASA_TOKEN.
            self._add(
                Process(
                    f"rasa{i}",
                    [
                        str(PY310 / "rasa"),
                        "run",
                        "--model",
                        str(self.model),
                        "--endpoints",
                        "endpoints.yml",
                        "--credentials",
                        "credentials.yml",
                        "--interface",
                        "127.0.0.1",
                        "--port",
                        str(port),
                    ],
                    {
                        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                        "RASA_TRACKER_STORE_URL": self.tracker_store_url,
                        "RASA_LOCK_STORE": "redis",
                        "RASA_REDIS_HOST": self.redis_host,
                        "TF_CPP_MIN_LOG_LEVEL": "2",
                        "HELPDESK_RASA_TOKEN": self.rasa_token,
                        "HELPDESK_CHAT_ORIGINS": self.public_url,
                        "HELPDESK_REDIS_URL": f"redis://{self.redis_host}:6379/0",
                        # Load tests come from one address (the balancer forwards 127.0.0.1).
                        "HELPDESK_BOT_RATE_LIMIT_ADDRESS": self.bot_rate_limit_address,
                        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                        "PYTHONWARNINGS": "ignore",
                    },
                    f"http://127.0.0.1:{port}/",
                    cwd=REPO / "bot",
                )
            )
        config = self.run_dir / "haproxy.cfg"
        self._add(Process("haproxy", [HAPROXY, "-db", "-f", str(config)], {}, f"{self.public_url}/health"))

    def _add(self, process: Process) -> None:
        self.processes[process.name] = process

    def port_of(self, name: str) -> int:
        return int(self.processes[name].ready_url.split(":")[2].split("/")[0])

    def haproxy_config(self) -> str:
        """deploy/haproxy.cfg (the routes of every deployment) with this machine's loopback ports."""
        config = DEPLOY_HAPROXY.read_text()
        binds = {
            "8080": self.public_port,
            "5005": self.rasa_api_port,
            "5055": self.actions_port,
            "8000": self.web_internal_port,
        }
        config = re.sub(r"^    bind :(\d+)$", lambda m: f"    bind 127.0.0.1:{binds[m.group(1)]}", config, flags=re.M)

        def servers(match: re.Match) -> str:
            prefix = match.group(1)
            count = {"rasa": self.rasa, "actions": self.actions, "web": self.web}[prefix]
            return "\n".join(
                f"    server {prefix}{i} 127.0.0.1:{self.port_of(f'{prefix}{i}')}" for i in range(1, count + 1)
            )

        config = re.sub(r"^    server-template (\w+) \d+ \S+$", servers, config, flags=re.M)
        config = config.replace(" resolvers dns init-addr none", "")
        stats = f"    stats socket {self.run_dir / 'haproxy.sock'} mode 600 level admin\n"
        config = config.replace("global\n", f"global\n{stats}", 1)
        return (
            f"# Generated by scripts/cluster.py from deploy/haproxy.cfg.\n{config}"
            f"\nlisten stats\n    bind 127.0.0.1:{self.stats_port}\n    stats enable\n    stats uri /\n"
        )

    # -- life cycle ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Databases and the shared index; before any replica starts."""
        for url in (self.database_url, self.tracker_store_url):
            if url.startswith("postgresql"):
                ensure_database(url)
        index_env = {"HELPDESK_INDEX_DIR": str(self.index_dir), "HELPDESK_ARTICLES_DIR": str(self.articles_dir)}
        run_checked([str(PY311 / "helpdesk"), "build"], index_env)
        # One migration before the replicas start; they then find the schema current.
        run_checked([str(PY311 / "helpdesk"), "migrate"], {"DATABASE_URL": self.database_url})
        (self.run_dir / "haproxy.cfg").write_text(self.haproxy_config())
        run_checked([HAPROXY, "-c", "-q", "-f", str(self.run_dir / "haproxy.cfg")], {})

    def start(self, names: list[str] | None = None, timeout: float = 600) -> None:
        names = names or list(self.processes)
        for name in names:
            self.processes[name].start(self.run_dir)
        for name in names:
            self.wait_ready(name, timeout)
        if "haproxy" in names:
            self.wait_balanced(timeout=60)

    def wait_ready(self, name: str, timeout: float = 600) -> None:
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.alive():
                raise RuntimeError(f"{name} exited; see {self.run_dir / (name + '.log')}")
            try:
                response = httpx.get(process.ready_url, timeout=3)
                # Rasa serves (GET / answers) only once its model is loaded.
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} not ready within {timeout:.0f}s; see {self.run_dir / (name + '.log')}")

    def wait_balanced(self, timeout: float = 60) -> None:
        """Until HAProxy's health checks show every server that is running as UP: a replica that
        answers its own port is not yet in rotation (the first checks take a few seconds), and
        traffic sent before gets 503 from the balancer."""
        deadline = time.monotonic() + timeout
        while True:
            rows = [
                row.split(",")
                for row in self.haproxy_command("show stat").splitlines()
                if row and not row.startswith("#")
            ]
            waiting = {
                f"{row[0]}/{row[1]}"
                for row in rows
                if row[1] in self.processes
                and self.processes[row[1]].alive()
                and row[17] != "UP"
                and not row[17].startswith("MAINT")
            }
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy shows {sorted(waiting)} not UP after {timeout:.0f}s")
            time.sleep(0.5)

    def haproxy_command(self, command: str) -> str:
        """One command of HAProxy's runtime API, e.g. ``set server rasa_channels/rasa2 state maint``."""
        with socket.socket(socket.AF_UNIX) as connection:
            connection.connect(str(self.run_dir / "haproxy.sock"))
            connection.sendall(command.encode() + b"\n")
            return b"".join(iter(lambda: connection.recv(65536), b"")).decode()

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa", type=int, default=2)
    parser.add_argument("--actions", type=int, default=2)
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--port", type=int, default=int(os.environ.get("HELPDESK_CLUSTER_PORT", 8080)))
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/helpdesk")
    cluster = Cluster(
        args.rasa,
        args.actions,
        args.web,
        args.port,
        database_url,
        tracker_store_url({**os.environ, "DATABASE_URL": database_url}),
        os.environ.get("RASA_REDIS_HOST", "127.0.0.1"),
    )
    cluster.prepare()
    try:
        cluster.start()
        url = cluster.public_url
        print(
            f"cluster: up at {url} (chat {url}/chat, inbox {url}/agent); logs in {cluster.run_dir}; Ctrl-C stops it",
            flush=True,
        )
        while all(p.alive() for p in cluster.processes.values()):
            time.sleep(1)
        dead = [name for name, p in cluster.processes.items() if not p.alive()]
        print(f"cluster: {', '.join(dead)} exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
