"""What `make run` starts listens where it should: only the web service and Rasa's public channels
beyond loopback, by default.

``scripts/run`` starts the processes of ``Procfile`` with honcho; this test starts the same
processes (the list ``scripts/run`` names) from the same ``Procfile`` with honcho, on free
ports (``HELPDESK_PORT``, ``HELPDESK_ACTIONS_PORT``, ``HELPDESK_RASA_PORT``) and with the
stores in a temporary directory, and reads the real listening sockets of the whole process
tree from ``/proc``: the web service, the action server and the demo's reference company system on
127.0.0.1, Rasa (the socket.io and REST channels customers reach) on every interface, nothing else
listening. Where the
machine has an address besides loopback, a connection to it is refused by the action server
and accepted by Rasa.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE_KB = REPO / "tests" / "fixtures" / "kb"
MODEL = REPO / "bot" / "models" / "helpdesk.tar.gz"  # the Procfile's --model, as scripts/train-bot leaves it
HONCHO = REPO / ".venv" / "py311" / "bin" / "honcho"

sys.path.insert(0, str(REPO))
from scripts.ports import free_ports  # noqa: E402

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
LOOPBACK = {"127.0.0.1", "::1"}
ANY = {"0.0.0.0", "::"}


def default_processes() -> list[str]:
    """The Procfile processes ``scripts/run`` starts without a mailbox (the e-mail channel's
    process starts only with one; its inbound SMTP listens on 127.0.0.1 unless configured), and in
    the demo setup the reference company system (without HELPDESK_PROCEDURES_FILE)."""
    script = (REPO / "scripts" / "run").read_text()
    match = re.search(r"^processes=\(([^)]*)\)", script, re.M)
    assert match, "scripts/run no longer names its processes as processes=(...)"
    demo = re.search(r'^\[ -n "\$\{HELPDESK_PROCEDURES_FILE:-\}" \] \|\| processes\+=\((\w+)\)$', script, re.M)
    assert demo, "scripts/run no longer adds the demo's reference company system as processes+=(...)"
    return match.group(1).split() + [demo.group(1)]


def procfile() -> dict[str, str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def tree(root: int) -> set[int]:
    """``root`` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier += children
    return found


def socket_inodes(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # /proc/net/tcp6: four 32-bit words, each in the host's (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    text = socket.inet_ntop(socket.AF_INET6, words)
    return text.removeprefix("::ffff:") if text.startswith("::ffff:") and "." in text else text


def listening(pids: set[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state the processes hold."""
    inodes = socket_inodes(pids)
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:
                host, port = local.split(":")
                found.add((address(host), int(port, 16)))
    return found


def outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the route's source address
            own = probe.getsockname()[0]
        except OSError:
            return None
    return None if own.startswith("127.") else own


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def wait_for(check, what: str, log: Path, deadline: float, honcho: subprocess.Popen) -> None:
    while time.monotonic() < deadline and honcho.poll() is None:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:]
    pytest.fail(f"{what} did not come up (honcho exit status {honcho.poll()}); honcho's log:\n{tail}")


def test_make_run_listens_beyond_loopback_only_with_the_web_service_and_rasas_channels(tmp_path):
    names = default_processes()
    assert set(names) == {"web", "actions", "rasa", "purge", "company"} and set(names) <= set(procfile())
    if not MODEL.is_file():
        pytest.fail(f"no trained bot model at {MODEL}: scripts/test-bot trains it first; alone, run scripts/train-bot")
    web, actions, rasa, company = free_ports(4)
    env = {
        **os.environ,
        "HELPDESK_PORT": str(web),
        "HELPDESK_ACTIONS_PORT": str(actions),
        "HELPDESK_RASA_PORT": str(rasa),
        "HELPDESK_COMPANY_API_PORT": str(company),
        "NORDWIND_API_TOKEN": secrets.token_urlsafe(24),
        "HELPDESK_ARTICLES_DIR": str(FIXTURE_KB),
        "HELPDESK_INDEX_DIR": str(tmp_path / "index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'handoffs.db'}",
        "HELPDESK_SECRETS_FILE": str(tmp_path / "no-secrets.env"),
        "HELPDESK_SERVICE_TOKEN": secrets.token_urlsafe(24),
        "HELPDESK_RASA_TOKEN": secrets.token_urlsafe(24),
        # as scripts/run sets them: conversations in SQL, turn locks in memory
        "RASA_TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'rasa-trackers.db'}",
        "RASA_LOCK_STORE": "in_memory",
        "RASA_REDIS_HOST": "127.0.0.1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
    }
    hosts = ("HELPDESK_HOST", "HELPDESK_ACTIONS_HOST", "HELPDESK_RASA_HOST", "HELPDESK_COMPANY_API_HOST", "SANIC_HOST")
    for name in hosts:
        env.pop(name, None)  # the defaults are under test
    log = tmp_path / "honcho.log"
    with log.open("wb") as out:
        honcho = subprocess.Popen(
            [str(HONCHO), "start", "-f", "Procfile", *names],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,  # a process group of its own: ended whole in the finally block
        )
    try:
        deadline = time.monotonic() + 600  # Rasa loads its model in minutes on a busy machine
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{web}/health", timeout=5).status_code == 200,
            "web",
            log,
            deadline,
            honcho,
        )
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{actions}/health", timeout=5).status_code == 200,
            "actions",
            log,
            deadline,
            honcho,
        )
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{rasa}/", timeout=5).status_code == 200, "rasa", log, deadline, honcho
        )
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{company}/health", timeout=5).status_code == 200,
            "company",
            log,
            deadline,
            honcho,
        )
        assert honcho.poll() is None, log.read_text(errors="replace")[-4000:]
        sockets = listening(tree(honcho.pid))
        by_port: dict[int, set[str]] = {}
        for host, port in sockets:
            by_port.setdefault(port, set()).add(host)
        assert by_port.get(web) and by_port[web] <= LOOPBACK, sockets
        assert by_port.get(actions) and by_port[actions] <= LOOPBACK, sockets
        assert by_port.get(company) and by_port[company] <= LOOPBACK, sockets
        assert by_port.get(rasa) and by_port[rasa] & ANY, sockets  # the public channels, for customers
        beyond = {(host, port) for host, port in sockets if host not in LOOPBACK}
        assert {port for _, port in beyond} <= {web, rasa}, f"listening beyond loopback: {sorted(beyond)}"
        assert set(by_port) == {web, actions, rasa, company}, f"unexpected listeners: {sorted(sockets)}"
        outside = outside_address()
        if outside is not None:  # the same from the network's side: real connections
            assert not reachable(outside, actions), f"the action server answers on {outside}:{actions}"
            assert reachable(outside, rasa)
    finally:
        try:
            os.killpg(honcho.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
