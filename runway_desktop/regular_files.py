"""Read a small file only if it is a regular file: never block on a FIFO, never read a device.

Opening a FIFO for reading waits for a writer for ever, and a device (`/dev/zero`) never ends.
The type is checked on the open descriptor (opened non-blocking), so a file swapped for a FIFO
between a check and the open can't hang the reader either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_NOT_REGULAR = (
    (stat.S_ISDIR, "it's a folder, not a file"),
    (stat.S_ISFIFO, "it's a pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "it's a device, not a regular file"),
    (stat.S_ISBLK, "it's a device, not a regular file"),
    (stat.S_ISSOCK, "it's a socket, not a regular file"),
)


class NotARegularFile(OSError):
    """The path exists but isn't a regular file; `problem` says what it is, in a few words."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(problem)
        self.path = path
        self.problem = problem


def kind_problem(mode: int) -> str | None:
    """None for a regular file, else what it is ("it's a pipe (FIFO), not a regular file")."""
    for test, problem in _NOT_REGULAR:
        if test(mode):
            return problem
    return None if stat.S_ISREG(mode) else "it isn't a regular file"


def read_regular_bytes(path: Path) -> bytes:
    """The bytes of `path`; NotARegularFile for a folder, FIFO, device or socket (without
    blocking on it); other OSErrors (FileNotFoundError, PermissionError) as they come."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    except OSError:
        if path.is_dir():  # Windows refuses to open a folder at all (PermissionError)
            raise NotARegularFile(path, _NOT_REGULAR[0][1]) from None
        raise
    try:
        problem = kind_problem(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if problem:
        os.close(fd)
        raise NotARegularFile(path, problem)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
