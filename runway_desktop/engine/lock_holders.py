"""Which process holds the journal's write lock, when a write found it locked (Linux only).

A process stopped in the middle of a journal write (Ctrl+Z in a terminal, `kill -STOP`, a
debugger; about 1 stop in 100 of a busy command lands there) keeps SQLite's write lock until
it is continued: every other process's write waits, then fails. Naming that process tells the
person what to do. SQLite holds it as a POSIX lock on byte 120 of the `-shm` file (WAL mode)
or on the database file itself (its other journal modes); /proc/locks lists both with the pid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WAL_WRITE_LOCK_BYTE = 120  # SQLite's WAL_WRITE_LOCK offset in the -shm file


@dataclass(frozen=True)
class LockHolder:
    pid: int
    stopped: bool  # stopped (state T): it holds the lock until continued or ended
    command: str  # its command line, shortened, for people ("runway-desktop generate …")


def write_lock_holder(database: Path) -> LockHolder | None:
    """The other process holding a write lock on `database` (or its `-shm`), if /proc says."""
    wanted = {}
    for path, byte in ((Path(f"{database}-shm"), WAL_WRITE_LOCK_BYTE), (database, None)):
        try:
            stat = path.stat()
        except OSError:
            continue
        wanted[(os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino)] = byte
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            lines = locks.read().splitlines()
    except OSError:
        return None
    for line in lines:
        pid = _writer_of(line, wanted)
        if pid is not None and pid != os.getpid():
            return LockHolder(pid, _state(pid) in ("T", "t"), _command(pid))
    return None


def _writer_of(line: str, wanted: dict[tuple[int, int, int], int | None]) -> int | None:
    """The pid of a POSIX write lock in one /proc/locks line on a wanted file (and byte)."""
    fields = line.split()
    if fields and fields[1] == "->":  # a waiter on the lock before it: not a holder
        return None
    try:
        kind, mode, pid, device, start = fields[1], fields[3], int(fields[4]), fields[5], fields[6]
        major, minor, inode = device.split(":")
        key = (int(major, 16), int(minor, 16), int(inode))
    except (IndexError, ValueError):
        return None
    if kind != "POSIX" or mode != "WRITE" or key not in wanted:
        return None
    byte = wanted[key]
    return pid if byte is None or start == str(byte) else None


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return None


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().split(b"\0")
    except OSError:
        return ""
    text = " ".join(w.decode("utf-8", "replace") for w in words if w)
    return text if len(text) <= 80 else text[:79] + "…"
