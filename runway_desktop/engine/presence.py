"""Whether any process uses a data folder: every running engine holds a *shared* lock on
`engine.lock` (any number of windows and commands at once); moving the history aside
(`runway-desktop reset-history`) needs it *exclusively*, so it never renames a journal that a
running engine — maybe a newer version's, for which the file is fine — has open.

POSIX `flock`; where there is none (Windows) the presence isn't recorded and `sole_user` can't
tell (it says True), as no shared lock exists there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "engine.lock"


class EnginePresence:
    """Held from an engine's start to its stop."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def enter(self) -> None:
        if fcntl is None or self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # Blocks only while a reset-history holds it (the time of a rename).
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd

    def leave(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


@contextlib.contextmanager
def sole_user(data_dir: Path) -> Iterator[bool]:
    """True inside when no engine uses `data_dir` (and none can start until the block ends)."""
    if fcntl is None:
        yield True
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
