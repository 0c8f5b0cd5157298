"""Record every outgoing connection, and stop any that would leave this machine.

Tests that hand the app a hostile link (`http://169.254.169.254/…`) must prove the app never
connects there — without sending traffic off the machine even when the app is wrong. A Python
audit hook sees `socket.connect` and `socket.getaddrinfo` (blocking and asyncio alike) before
the system call: inside `guard()` each host is recorded, and one that isn't loopback fails
(ConnectionRefusedError, or gaierror for a name: not even a DNS query goes out).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_active: list[list[str]] = []  # one record per open guard() (nested guards all record)
_installed = False


def _host(address: Any) -> str | None:
    if isinstance(address, tuple) and address and isinstance(address[0], str):
        return address[0]
    return None  # a Unix socket path: local by definition


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in ("socket.connect", "socket.getaddrinfo") or not _active:
        return
    if event == "socket.connect":
        host = _host(args[1])
    else:
        raw = args[0]
        host = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    if not isinstance(host, str):
        return
    with _lock:
        for record in _active:
            record.append(host)
    if _is_loopback(host):
        return
    if event == "socket.getaddrinfo":
        raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no lookup of {host}")
    raise ConnectionRefusedError(f"test network guard: no connection to {host}")


@contextlib.contextmanager
def guard() -> Iterator[list[str]]:
    """Yield the list of hosts connected to while the block runs (loopback ones included)."""
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)  # hooks can't be removed; it is idle outside guard()
            _installed = True
        record: list[str] = []
        _active.append(record)
    try:
        yield record
    finally:
        with _lock:
            _active.remove(record)


def off_machine(hosts: list[str]) -> list[str]:
    return [h for h in hosts if not _is_loopback(h)]
