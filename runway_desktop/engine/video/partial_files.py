"""A new file's partial twin beside it (`.<name>.<random>.partial`), renamed over the name when
whole: what every export, film and sidecar is written through.

Unlike `tempfile.mkstemp` (mode 0600, right for /tmp) the partial file gets the mode any new
file of the person's gets (0666 less the umask), like the downloaded videos beside it: a GIF,
a film or a sidecar made private by mkstemp couldn't be read by the web server, the NAS share
or the other account the person shares the folder with.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["create_partial", "sweep_partials"]

_TRIES = 100
# A partial file untouched this long was left by a process that ended mid-write (killed, a
# crash, a power cut): one being written is touched at every write.
STALE_AFTER_S = 3600.0


def create_partial(dest: Path, suffix: str = ".partial") -> tuple[int, Path]:
    """(an open descriptor, the path) of a new, empty file beside `dest`, created exclusively
    (never an existing file or a link); OSError when the folder can't take it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(_TRIES):
        path = dest.parent / f".{dest.name}.{secrets.token_hex(4)}{suffix}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"No free name beside {dest.name} for its partial file")


def sweep_partials(folders: Iterable[Path], *, older_than_s: float = STALE_AFTER_S) -> int:
    """Delete the partial files (`.<name>.<random>.partial`) an ended process left in these
    folders (not below them); how many went. Never raises."""
    cutoff = time.time() - older_than_s
    removed = 0
    for folder in folders:
        with contextlib.suppress(OSError):
            for leftover in folder.glob(".*.partial"):
                with contextlib.suppress(OSError):
                    if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                        leftover.unlink()
                        removed += 1
    return removed
