"""Fixtures of the bot's tests: the real web service (search_api + helpdesk), the action server and Rasa, as processes.

Nothing here is mocked. ``search_service`` starts the web service from the Python
3.11 venv on a free port with the starter KB ``kb/articles`` (the conversation
suite needs all of it: codes, billing, software, the shop widget; the KB's own CI
checks keep its example questions finding their articles), a SQLite handoff store
in a temporary directory and a random service token. ``bot_stack`` adds the
action server and Rasa (with the model scripts/train-bot built, its
conversations in a SQLite tracker store) for whole conversations through the
REST channel; ``start_rasa`` starts further Rasa servers (restarts, other
tracker stores). ``company_system`` is the reference company system
(examples/company_api) the starter KB's procedures call; the web service is
configured with its URL and token. Each process's log is written
under test-artifacts/bot/ and its tail is shown when it does not start.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BOT_DIR = Path(__file__).resolve().parents[1]
REPO = BOT_DIR.parent
ARTIFACTS = REPO / "test-artifacts" / "bot"
PY311 = Path(os.environ.get("HELPDESK_PY311", REPO / ".venv" / "py311" / "bin" / "python"))
PY310_BIN = Path(sys.executable).parent
BOT_KB = REPO / "kb" / "articles"
COMPANY_TOKEN = "reference-system-token-of-the-bot-tests"

sys.path.insert(0, str(BOT_DIR))  # the action package is imported as `actions`, as the server does
sys.path.insert(0, str(REPO))  # scripts.*

from scripts.ports import free_port  # noqa: E402


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_service(
    name: str, command: list[str], env: dict[str, str], ready_url: str, cwd: Path = REPO, timeout: float = 600.0
) -> Service:
    # Generous: loading the Rasa model takes seconds on an idle machine, minutes on a loaded CI box.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    service = Service(name, ready_url.rsplit("/", 1)[0] if ready_url.endswith("/health") else ready_url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(ready_url, timeout=2).status_code < 500:
                return service
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    service.stop()
    tail = log.read_text(errors="replace")[-3000:]
    pytest.fail(f"{name} did not start within {timeout:.0f}s ({' '.join(command)}); log tail:\n{tail}")


@dataclass
class SearchService:
    url: str
    token: str
    db_path: Path

    def query(self, sql: str, *args) -> list[sqlite3.Row]:
        """Read the real handoff store (SQLite) to check what was stored."""
        with sqlite3.connect(self.db_path) as db:
            db.row_factory = sqlite3.Row
            return db.execute(sql, args).fetchall()


_built: set = set()


def build_index_once(env: dict[str, str]) -> None:
    """``helpdesk build`` of the service's index once per session, as ``make run`` does before it
    serves: the index is kept between runs, and a build recalibrates the answer decision with
    the current code (unchanged articles keep their vectors). Without it a checkout with a new
    decision model was tested with the model of the run that first built the index."""
    key = (env["HELPDESK_ARTICLES_DIR"], env["HELPDESK_INDEX_DIR"])
    if key in _built:
        return
    done = subprocess.run(
        [str(PY311), "-m", "helpdesk.cli", "build"],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        pytest.fail(f"helpdesk build failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    _built.add(key)


def start_web_service(
    name: str,
    port: int,
    db_path: Path,
    token: str,
    env: dict[str, str] | None = None,
    warm_up: tuple = ("Mein Internet ist langsam", "my internet is slow"),
) -> Service:
    """The web service as a process on ``port``: the starter KB (``env`` may name another company's
    files), its handoffs in the SQLite file ``db_path``; returned once it serves, with both
    languages' models loaded by the ``warm_up`` queries."""
    env = {
        "HELPDESK_ARTICLES_DIR": str(BOT_KB),
        # Kept between runs (git-ignored): the index is rebuilt only for changed articles.
        "HELPDESK_INDEX_DIR": str(ARTIFACTS / "index"),
        "DATABASE_URL": f"sqlite:///{db_path}",
        "HELPDESK_SERVICE_TOKEN": token,
        "HELPDESK_SECRETS_FILE": str(db_path.parent / "no-secrets.env"),
        "HELPDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **(env or {}),
    }
    build_index_once(env)
    service = start_service(
        name,
        [
            str(PY311),
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
        env,
        f"http://127.0.0.1:{port}/health",
    )
    # The first query per language loads that language's model (seconds, more than the
    # actions' timeout): warm up as a deployment would, so the tests see the steady state.
    for query in warm_up:
        httpx.post(f"http://127.0.0.1:{port}/search", json={"query": query}, timeout=120)
    return service


def start_action_server(
    name: str, port: int, search_url: str, token: str, env: dict[str, str] | None = None
) -> Service:
    """The action server against the web service at ``search_url``."""
    return start_service(
        name,
        [str(PY310_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
        {"HELPDESK_SEARCH_URL": search_url, "HELPDESK_SERVICE_TOKEN": token, **(env or {})},
        f"http://127.0.0.1:{port}/health",
        cwd=BOT_DIR,
    )


@dataclass
class CompanySystem:
    """The reference company system as a process on a fixed port; ``stop`` and ``start`` take it down
    and bring it back (the web service keeps its URL). ``data``: another company's records (its
    ``--customers`` file), served with the token of the secret ``token_env``."""

    port: int
    service: Service | None = None
    data: Path | None = None
    token_env: str = "NORDWIND_API_TOKEN"
    name: str = "company_api"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        data = ["--customers", str(self.data), "--token-env", self.token_env] if self.data else []
        self.service = start_service(
            self.name,
            [str(PY311), "-m", "examples.company_api", "--port", str(self.port), *data],
            {self.token_env: COMPANY_TOKEN, "HELPDESK_SECRETS_FILE": "/nonexistent"},
            f"{self.url}/health",
            timeout=60,
        )

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def outbox(self) -> list[dict]:
        headers = {"Authorization": f"Bearer {COMPANY_TOKEN}"}
        return httpx.get(f"{self.url}/v1/outbox", headers=headers, timeout=10).json()["mails"]


@pytest.fixture(scope="session")
def company_system() -> Iterator[CompanySystem]:
    system = CompanySystem(free_port())
    system.start()
    try:
        yield system
    finally:
        system.stop()


def procedures_file(folder: Path, company_url: str) -> Path:
    """The procedures' configuration of the tests: the system ``nordwind`` is the running reference."""
    path = folder / "procedures.yml"
    path.write_text(
        f"systems:\n  nordwind:\n    base_url: {company_url}\n    auth: {{type: bearer, secret: NORDWIND_API_TOKEN}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def search_service(tmp_path_factory, company_system) -> Iterator[SearchService]:
    if not PY311.exists():
        pytest.fail(f"{PY311} is missing: run scripts/bootstrap py311 (test-bot needs the search service)")
    db_path = tmp_path_factory.mktemp("search") / "handoffs.db"
    port, token = free_port(), secrets.token_urlsafe(24)
    company = {
        "HELPDESK_PROCEDURES_FILE": str(procedures_file(db_path.parent, company_system.url)),
        "NORDWIND_API_TOKEN": COMPANY_TOKEN,
    }
    service = start_web_service("search_api", port, db_path, token, company)
    try:
        yield SearchService(f"http://127.0.0.1:{port}", token, db_path)
    finally:
        service.stop()


@pytest.fixture
def backend_at(monkeypatch):
    """Points the actions' backend client at a URL (a fresh client per test and event loop)."""
    from actions import backend as backend_module

    def configure(url: str, token: str | None = None, timeout: float = 2.0):
        monkeypatch.setenv("HELPDESK_SEARCH_URL", url)
        monkeypatch.setenv("HELPDESK_SEARCH_TIMEOUT", str(timeout))
        monkeypatch.setenv("HELPDESK_SERVICE_TOKEN", token or "no-token")
        backend_module._backend = None
        client = backend_module.backend()
        client.retry_delays = (0.05, 0.1)  # the retries themselves are what is tested, not the waits
        return client

    yield configure
    backend_module._backend = None


@pytest.fixture
def search(search_service, backend_at):
    """The actions talk to the real search service."""
    backend_at(search_service.url, search_service.token)
    return search_service


@pytest.fixture
def closed_port_url() -> str:
    """A URL where nothing listens: the web service is down."""
    return f"http://127.0.0.1:{free_port()}"


def start_rasa(
    name: str, port: int, action_url: str, tracker_store_url: str, token: str, env: dict[str, str] | None = None
) -> Service:
    """Rasa as the Procfile runs it (no HTTP API, the channels of credentials.yml, bot/ as its
    working directory) with the trained model on a free port, its conversations in
    ``tracker_store_url`` (bot/endpoints.yml); returned once it serves, which is after its
    model is loaded."""
    model = REPO / os.environ.get("BOT_MODEL", "bot/models/helpdesk.tar.gz")
    if not model.exists():
        pytest.fail(f"{model} is missing: run scripts/train-bot (scripts/test-bot does)")
    return start_service(
        name,
        [
            str(PY310_BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
        ],
        {
            "ACTION_ENDPOINT_URL": action_url,
            "RASA_TRACKER_STORE_URL": tracker_store_url,
            "RASA_LOCK_STORE": "in_memory",
            "RASA_REDIS_HOST": "127.0.0.1",
            "HELPDESK_RASA_TOKEN": token,
            "HELPDESK_SECRETS_FILE": str(ARTIFACTS / "no-secrets.env"),
            # Every conversation test sends from 127.0.0.1: more per second than the default (5),
            # and a minute budget that test_edge.py reaches quickly.
            "HELPDESK_BOT_RATE_LIMIT_ADDRESS": "20/second;200/minute",
            **(env or {}),
        },
        f"http://127.0.0.1:{port}/",
        cwd=BOT_DIR,
        timeout=360.0,
    )  # TensorFlow loads slowly on a busy machine


@dataclass
class BotStack:
    rasa_url: str
    search: SearchService
    rasa_token: str
    process: Service
    trackers: Path | None = None  # Rasa's SQL tracker store (SQLite), where a test reads it

    def user_events(self, sender: str) -> list[dict]:
        """The conversation's user events as Rasa stored them: the text NLU got, its parse, the metadata."""
        with sqlite3.connect(self.trackers) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
        for _ in range(3):
            response = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
            if response.status_code != 429:
                break
            # Every conversation test sends from 127.0.0.1: on a fast machine the suite reaches
            # the address's minute budget. A 429 is refused before NLU, so the client waits as
            # told and sends again, as a well-behaved REST client does (the limits: test_edge.py).
            time.sleep(min(int(response.headers.get("Retry-After", "1")), 60))
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> dict:
        """The conversation's slots, through the private channel the web service uses (channels.py)."""
        response = httpx.get(
            f"{self.rasa_url}/webhooks/helpdesk/conversations/{sender}/slots",
            headers={"Authorization": f"Bearer {self.rasa_token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["slots"]


@pytest.fixture(scope="session")
def action_server(search_service) -> Iterator[str]:
    """The action server against the real web service; yields its webhook URL for Rasa."""
    action_port = free_port()
    actions = start_action_server("action_server", action_port, search_service.url, search_service.token)
    try:
        yield f"http://127.0.0.1:{action_port}/webhook"
    finally:
        actions.stop()


@pytest.fixture(scope="session")
def bot_stack(search_service, action_server, tmp_path_factory) -> Iterator[BotStack]:
    trackers = tmp_path_factory.mktemp("rasa") / "trackers.db"
    rasa_port, rasa_token = free_port(), secrets.token_urlsafe(24)
    rasa = start_rasa("rasa", rasa_port, action_server, f"sqlite:///{trackers}", rasa_token)
    try:
        yield BotStack(f"http://127.0.0.1:{rasa_port}", search_service, rasa_token, rasa, trackers)
    finally:
        rasa.stop()


OUTCOMES = pytest.StashKey[dict[str, set]]()


@pytest.fixture(scope="session")
def conversation_outcomes(request) -> dict[str, set]:
    """Which scenarios of the conversation suite ended how: ``solved`` (the customer confirmed
    that an article solved it), ``ticket`` (a handoff was made); printed after the run."""
    return request.config.stash.setdefault(OUTCOMES, {"played": set(), "solved": set(), "ticket": set()})


def pytest_terminal_summary(terminalreporter, config) -> None:
    outcomes = config.stash.get(OUTCOMES, None)
    if outcomes is None:
        return
    terminalreporter.write_line(
        f"conversation suite: {len(outcomes['played'])} conversations, solved in chat "
        f"{len(outcomes['solved'])}, handed to a person with a ticket {len(outcomes['ticket'])}"
    )
