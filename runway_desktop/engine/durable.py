"""Making a finished write survive a crash: the folder's entry for a renamed file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Flush `folder` so a rename into it survives a crash or power cut. POSIX only: Windows
    can't open a folder for this (nor needs to); a folder that can't be flushed is left be."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
