"""The whole system for the end-to-end browser test: real processes on free ports.

Starts what the README's run command starts (the Procfile's processes), with
the same programs, each on a free port and with its own database and tokens:

- Rasa server (``.venv/py310``) with the newest model in ``bot/models`` (the
  bot's test script trains it first), the limited socket.io and REST channels
  and the private channel the inbox's hand-back uses (bot/channels.py), without
  Rasa's HTTP API, as the Procfile runs it;
- the action server (``rasa run actions``), pointed at this search service;
- the web service (``helpdesk serve``) on a copy of the starter KB (``kb/articles``,
  ``Stack.articles``; drafts in ``Stack.drafts``, the procedures of ``kb/procedures``),
  with an index built into ``var/e2e/index`` (incremental by content: only the first
  run embeds every article) and an SQLite handoff store in a temporary directory;
- the reference company system (``python -m examples.company_api``) the starter KB's
  procedures call, with this run's token, named in a procedures configuration of its port;
- one agent account, made with ``helpdesk create-agent``;
- an SMTP receiver (aiosmtpd) that takes every mail the web service sends
  (``Stack.mail``).

Each process writes its log to ``test-artifacts/e2e/logs``; a process that
dies or does not become ready fails the run with its last log lines.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from scripts.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
LOGS = ARTIFACTS / "logs"
PY311 = ROOT / ".venv" / "py311" / "bin"
PY310 = ROOT / ".venv" / "py310" / "bin"
BOT = ROOT / "bot"
INDEX_DIR = ROOT / "var" / "e2e" / "index"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AGENT = {"username": "e2e-agent", "name": "Alex Agent", "password": "e2e-agent-password", "team": "network"}


class TcpProxy:
    """A TCP relay between the browser and Rasa that the test can cut, like a dropped connection.

    While cut, it closes every relayed connection and every new one at once
    (the client sees a disconnect, then refused reconnects), until restored.
    """

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.passing = True
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.passing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.passing = False
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets.clear()

    def restore(self) -> None:
        self.passing = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Process:
    """One service as a child process in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log = LOGS / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        LOGS.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("w")
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{tail(self.log)}")

    def wait_until(self, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"{self.name} not ready after {timeout:.0f} s:\n{tail(self.log)}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def run(argv: list[str], env: dict[str, str], name: str, timeout: float) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    with log.open("w") as handle:
        result = subprocess.run(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"{name} failed ({result.returncode}):\n{tail(log)}")


def newest_model() -> Path:
    if os.environ.get("E2E_BOT_MODEL"):  # a model trained elsewhere, e.g. while changing the bot
        model = Path(os.environ["E2E_BOT_MODEL"])
        if not model.is_file():
            pytest.fail(f"E2E_BOT_MODEL={model} is not a file")
        return model
    models = sorted((BOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail(
            "no trained bot model in bot/models: the README's test command trains it first "
            "(scripts/test-bot); alone, run scripts/train-bot"
        )
    return models[-1]


class Mailbox:
    """The SMTP receiver's mails, as aiosmtpd's envelopes (``mail_from``, ``rcpt_tos``, ``content``)."""

    def __init__(self):
        self.envelopes: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def received(self) -> list:
        with self.lock:
            return list(self.envelopes)


@dataclass
class Stack:
    search_url: str
    rasa_url: str
    rasa_token: str
    service_token: str
    database_url: str
    tmp: Path
    proxy: TcpProxy
    processes: dict
    env: dict[str, str]  # the environment the services run with (for the ``helpdesk`` commands of a test)
    mail: Mailbox
    articles: Path  # the knowledge base the web service serves: this run's copy of kb/articles
    drafts: Path  # its drafts directory (HELPDESK_DRAFTS_DIR)

    def reindex(self) -> dict:
        """``POST /admin/reindex``: the web service rebuilds its index from ``articles`` while serving."""
        response = httpx.post(
            f"{self.search_url}/admin/reindex",
            headers={"Authorization": f"Bearer {self.env['HELPDESK_ADMIN_TOKEN']}"},
            timeout=300,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    started = time.monotonic()
    for stale in ARTIFACTS.glob("failed-*"):
        stale.unlink()
    tmp = tmp_path_factory.mktemp("e2e")
    search_port, rasa_port, actions_port, company_port = free_port(), free_port(), free_port(), free_port()
    search_url, rasa_url = f"http://127.0.0.1:{search_port}", f"http://127.0.0.1:{rasa_port}"
    rasa_token, service_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    database_url = f"sqlite:///{tmp / 'handoffs.db'}"
    proxy = TcpProxy(rasa_port)  # the browser reaches Rasa through it
    articles, drafts = tmp / "kb" / "articles", tmp / "kb" / "drafts"
    shutil.copytree(ROOT / "kb" / "articles", articles)
    mail, smtp_port = Mailbox(), free_port()
    smtp = Controller(mail, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    procedures = tmp / "procedures.yml"
    procedures.write_text(
        f"systems:\n  nordwind:\n    base_url: http://127.0.0.1:{company_port}\n"
        "    auth: {type: bearer, secret: NORDWIND_API_TOKEN}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "HELPDESK_SECRETS_FILE": str(tmp / "no-secrets.env"),  # this run's tokens only, not var/secrets.env
        "HELPDESK_INDEX_DIR": str(INDEX_DIR),
        "HELPDESK_ARTICLES_DIR": str(articles),
        "HELPDESK_PROCEDURES_DIR": str(ROOT / "kb" / "procedures"),
        "HELPDESK_DRAFTS_DIR": str(drafts),
        "HELPDESK_PUBLIC_URL": search_url,
        "DATABASE_URL": database_url,
        "HELPDESK_SERVICE_TOKEN": service_token,
        "HELPDESK_ADMIN_TOKEN": secrets.token_urlsafe(24),
        "HELPDESK_SESSION_SECRET": secrets.token_urlsafe(24),
        "HELPDESK_RASA_URL": rasa_url,
        "HELPDESK_RASA_TOKEN": rasa_token,
        "HELPDESK_RASA_PUBLIC_URL": f"http://127.0.0.1:{proxy.port}",
        "HELPDESK_SEARCH_URL": search_url,
        "HELPDESK_SMTP_HOST": "127.0.0.1",
        "HELPDESK_SMTP_PORT": str(smtp_port),
        "HELPDESK_SMTP_FROM": "support@nordwind.example",
        "HELPDESK_PROCEDURES_FILE": str(procedures),
        "NORDWIND_API_TOKEN": secrets.token_urlsafe(24),
        # read by bot/endpoints.yml: the action server, conversations in SQLite, locks in memory
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
        "RASA_TRACKER_STORE_URL": f"sqlite:///{tmp / 'rasa-trackers.db'}",
        "RASA_LOCK_STORE": "in_memory",
        "RASA_REDIS_HOST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    model = newest_model()
    processes = [
        Process(
            "rasa",
            [
                str(PY310 / "rasa"),
                "run",
                "--port",
                str(rasa_port),
                "--model",
                str(model),
                "--credentials",
                "credentials.yml",
                "--endpoints",
                "endpoints.yml",
            ],
            env,
            cwd=BOT,
        ),
        Process(
            "actions",
            [str(PY310 / "rasa"), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
            env,
            cwd=BOT,
        ),
        Process(
            "company",
            [str(PY311 / "python"), "-m", "examples.company_api", "--port", str(company_port)],
            env,
        ),
    ]
    try:
        for process in processes:
            process.start()
        # While Rasa loads: the index (incremental) and the agent account. The first build of a checkout
        # embeds every article and calibrates both languages: minutes on two busy cores.
        run([str(PY311 / "helpdesk"), "build", "--quiet"], env, "build-index", timeout=900)
        password_file = tmp / "agent-password"
        password_file.write_text(AGENT["password"] + "\n")
        run(
            [
                str(PY311 / "helpdesk"),
                "create-agent",
                AGENT["username"],
                "--name",
                AGENT["name"],
                "--team",
                AGENT["team"],
                "--password-file",
                str(password_file),
            ],
            env,
            "create-agent",
            timeout=60,
        )
        search = Process(
            "search", [str(PY311 / "helpdesk"), "serve", "--host", "127.0.0.1", "--port", str(search_port)], env
        ).start()
        processes.append(search)
        search.wait_until(lambda: httpx.get(f"{search_url}/chat", timeout=5).status_code == 200, 180)
        processes[1].wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{actions_port}/health", timeout=5).status_code == 200, 120
        )
        processes[2].wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{company_port}/health", timeout=5).status_code == 200, 60
        )
        # Rasa serves only once its model is loaded.
        processes[0].wait_until(lambda: httpx.get(f"{rasa_url}/", timeout=5).status_code == 200, 240)
        print(f"e2e stack ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
        yield Stack(
            search_url,
            rasa_url,
            rasa_token,
            service_token,
            database_url,
            tmp,
            proxy,
            {process.name: process for process in processes},
            env,
            mail,
            articles,
            drafts,
        )
    finally:
        proxy.close()
        smtp.stop()
        for process in reversed(processes):
            process.stop()


# Module scope, not session: Playwright's sync API allows one instance at a time, and
# other test directories start their own.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("the end-to-end test needs Debian's chromium at /usr/bin/chromium: scripts/bootstrap browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
def contexts(browser, request):
    """Factory of fresh browser contexts (own storage and cookies), closed after the test.

    After a failed test every page it opened is saved (screenshot and text) as
    test-artifacts/e2e/failed-<test>-<n>.png/.txt, to see where it stopped.
    """
    made = []

    def make(**kwargs):
        context = browser.new_context(**{"viewport": {"width": 1100, "height": 800}, **kwargs})
        context.set_default_timeout(30_000)
        made.append(context)
        return context

    yield make
    if getattr(request.node, "failed_call", False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pages = [page for context in made for page in context.pages]
        for n, page in enumerate(pages):
            base = ARTIFACTS / f"failed-{request.node.name}-{n}"
            try:
                page.screenshot(path=f"{base}.png", full_page=True)
                base.with_suffix(".txt").write_text(page.locator("body").inner_text())
            except Exception as exc:  # a crashed page must not hide the test's own failure
                base.with_suffix(".txt").write_text(f"could not save the page: {exc}")
    for context in made:
        context.close()


@pytest.fixture(scope="session")
def agent_account() -> dict[str, str]:
    return AGENT


@pytest.fixture(scope="session")
def shoot():
    """``shoot(page, name)``: a screenshot of the page's end state in test-artifacts/e2e/."""

    def screenshot(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return screenshot
