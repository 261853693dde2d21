"""Free TCP ports for the processes that tests, benchmarks and the local cluster start.

Why not ``bind(("127.0.0.1", 0))``: the kernel hands out a port from the ephemeral range
(``/proc/sys/net/ipv4/ip_local_port_range``), the same range every outgoing connection takes
its local port from. Between choosing the port and the server binding it (seconds, while a
Rasa model loads), a client connection of another test can take it, and the server fails with
"address already in use" (a CI run failed so). Ports are chosen here below that range, where
no outgoing connection lands, and checked free on all interfaces (servers such as the action
server bind 0.0.0.0). Ports chosen by this process are never handed out twice.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOWEST = 20000
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port no one listens on, outside the ephemeral range, not yet handed out here."""
    ceiling = max(_ephemeral_floor() - 1, _LOWEST + 1000)
    for _ in range(500):
        port = random.randint(_LOWEST, ceiling)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free TCP port between {_LOWEST} and {ceiling}")


def free_ports(count: int) -> list[int]:
    return [free_port() for _ in range(count)]
