"""The operator's ClamAV daemon, asked over its own socket protocol (INSTREAM).

clamd listens on a Unix socket or TCP (``LocalSocket`` / ``TCPSocket`` in clamd.conf). A scan
sends ``zINSTREAM``, the bytes in chunks each prefixed by its length (4 bytes, big-endian), a
zero-length chunk, and reads one answer ended by a NUL byte: ``stream: OK`` or
``stream: <signature> FOUND``. Anything else (no daemon, a timeout, ``... ERROR``) is
``ScannerUnavailable``: the caller refuses the file rather than take it unchecked.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd could not check the file (not reachable, timed out, or it answered an error)."""


def parse_address(address: str) -> tuple[str, str | tuple[str, int]]:
    """``unix:/run/clamav/clamd.ctl`` -> ("unix", path); ``tcp:host:port`` or ``host:port`` -> ("tcp", (host, port))."""
    value = address.strip()
    if value.startswith("unix:"):
        path = value[5:]
        if not path.startswith("/"):
            raise ValueError(f"HELPDESK_CLAMD: {address!r}: a Unix socket needs an absolute path (unix:/run/...)")
        return "unix", path
    if value.startswith("tcp:"):
        value = value[4:]
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"HELPDESK_CLAMD: {address!r} is neither unix:/path nor tcp:host:port")
    return "tcp", (host.strip("[]"), int(port))


@dataclass(frozen=True)
class Clamd:
    address: str
    timeout: float = 10.0

    def _connect(self) -> socket.socket:
        kind, where = parse_address(self.address)
        try:
            if kind == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(where)
                return sock
            return socket.create_connection(where, timeout=self.timeout)  # type: ignore[arg-type]  # (host, port)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.address} is not reachable: {exc}") from None

    def _ask(self, command: bytes, body: bytes | None = None) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(b"z" + command + b"\0")
                if body is not None:
                    for start in range(0, len(body), CHUNK):
                        chunk = body[start : start + CHUNK]
                        sock.sendall(struct.pack(">I", len(chunk)) + chunk)
                    sock.sendall(struct.pack(">I", 0))
                answer = b""
                while not answer.endswith(b"\0"):
                    more = sock.recv(4096)
                    if not more:
                        break
                    answer += more
            except OSError as exc:
                raise ScannerUnavailable(f"clamd at {self.address} did not answer: {exc}") from None
        return answer.rstrip(b"\0").decode("utf-8", "replace").strip()

    def ping(self) -> bool:
        try:
            return self._ask(b"PING") == "PONG"
        except ScannerUnavailable:
            return False

    def scan(self, data: bytes) -> str | None:
        """The name of the signature clamd found in ``data``, or None when it is clean."""
        answer = self._ask(b"INSTREAM", data)
        if answer.endswith(" FOUND"):
            return answer.removeprefix("stream:").removesuffix(" FOUND").strip()
        if answer == "stream: OK":
            return None
        raise ScannerUnavailable(f"clamd at {self.address} answered {answer[:200]!r}")
