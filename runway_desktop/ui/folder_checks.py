"""Whether a folder can take files, asked before the work that needs it (all block on the disk:
call `write_problem` and `ready_for_videos` off the GUI thread; `can_write_in` and `lacks_room`
are a stat)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_problem(folder: Path, size: int = 0) -> str | None:
    """Why a file of `size` bytes can't be written in `folder` (read-only, full: a size makes
    the drive's free space count), or None. The file goes again at once."""
    try:
        with tempfile.TemporaryFile(dir=folder) as probe:
            if size:
                probe.write(b"\0" * size)
                probe.flush()
                os.fsync(probe.fileno())
    except OSError as error:
        return error.strerror or str(error)
    return None


def ready_for_videos(folder: Path) -> None:
    """Make `folder` (and its parents) if needed and check a file can be written in it;
    NotADirectoryError for a file, OSError for why it can't be used."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except NotADirectoryError as error:  # a file higher up: not this folder's own fault
        raise OSError(error.errno, error.strerror) from None
    with tempfile.TemporaryFile(dir=folder):
        pass


def lacks_room(folder: Path, size: int) -> bool:
    """The drive holding `folder` has less than `size` bytes free (a stat: no file made)."""
    try:
        return shutil.disk_usage(folder).free < size
    except OSError:
        return False


def can_write_in(folder: Path) -> bool:
    """The folder is there and this user may write in it (permissions only: no file made)."""
    try:
        return folder.is_dir() and os.access(folder, os.W_OK)
    except OSError:
        return False
