"""A private clamd for the tests: Debian's clamav-daemon on a signature database the test writes.

No signature download (freshclam) is needed or used: the database is one .ndb line that
recognises the EICAR test string anywhere in a file. clamd runs in the foreground on a Unix
socket in a temporary folder, is asked PING until it answers, and is stopped at the end.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpdesk.attachments.clamd import Clamd

CLAMD = Path("/usr/sbin/clamd")
# The anti-virus industry's harmless test file (eicar.org): every scanner reports it, none is harmed.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Helpdesk.Test.EICAR"


@contextmanager
def private_clamd(directory: Path) -> Iterator[str]:
    """clamd on ``directory``/clamd.sock with the EICAR signature only; yields HELPDESK_CLAMD's value."""
    if not CLAMD.exists():
        pytest.fail("needs Debian's clamd at /usr/sbin/clamd: run scripts/bootstrap clamav")
    database = directory / "db"
    database.mkdir(parents=True)
    (database / "helpdesk-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n", encoding="ascii")
    socket_path = directory / "clamd.sock"
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {socket_path}",
                "Foreground yes",
                f"DatabaseDirectory {database}",
                f"LogFile {directory / 'clamd.log'}",
                f"PidFile {directory / 'clamd.pid'}",
                "StreamMaxLength 20M",
                "SelfCheck 0",
            ]
        )
        + "\n",
        encoding="ascii",
    )
    process = subprocess.Popen([str(CLAMD), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    address = f"unix:{socket_path}"
    try:
        deadline = time.monotonic() + 60
        while not Clamd(address, timeout=2).ping():
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "clamd.log"
                said = [process.stderr.read().decode() if process.stderr else ""]
                said.append(log.read_text(errors="replace") if log.exists() else "")
                pytest.fail(f"clamd did not start ({process.poll()}):\n" + "\n".join(said))
            time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
