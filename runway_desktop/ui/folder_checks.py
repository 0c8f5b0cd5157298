"""Whether a folder can take files, asked before the work that needs it (all block on the disk:
call `write_problem` and `ready_for_videos` off the GUI thread; `can_write_in` and `lacks_room`
are a stat)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)


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


# Less free than this and no video fits: the drive counts as full (videos are megabytes).
FULL_BELOW = 1024 * 1024


def output_folder_problem(folder: Path, *, may_make_parents: bool = False) -> str | None:
    """Why videos can't be saved in the output folder `folder`, in the person's words with what
    to do, or None. Asked before a paid job is sent (it blocks on the disk: off the GUI
    thread). A missing folder the engine will make when the video comes (its parent is there,
    or `may_make_parents` for the default folder) is no problem; nothing is made here."""
    try:
        if folder.exists() and not folder.is_dir():
            return (f"The output folder {folder} is a file, not a folder. Choose another "
                    "folder.")
        if not folder.is_dir():
            parent = folder.parent
            if may_make_parents or (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
                return None
            return (f"The output folder {folder} isn't there (deleted, or on a drive that isn't "
                    "connected). Reconnect the drive or choose another folder.")
        if (reason := write_problem(folder)) is not None:
            return (f"Can't write to the output folder {folder} ({reason}). Make it writable "
                    "or choose another folder.")
        if shutil.disk_usage(folder).free < FULL_BELOW:
            return (f"The drive of the output folder {folder} is full. Free some space on it "
                    "or choose another folder.")
    except OSError as error:
        return (f"Can't use the output folder {folder} ({error.strerror or error}). Reconnect "
                "the drive or choose another folder.")
    return None


# How long Generate waits to hear about the output folder: a stat of an unplugged network
# drive can hang for minutes. Past this the work goes as it would have (the row says later).
CHECK_SECONDS = 3.0


async def output_folder_problem_soon(folder: Path, *, may_make_parents: bool = False,
                                     seconds: float | None = None) -> str | None:
    """`output_folder_problem` on a thread of its own, or None when it doesn't answer within
    `seconds` (CHECK_SECONDS by default; a hung drive: don't hold the person's Generate; the
    thread may stay stuck, but not in the pool every other disk wait shares)."""
    seconds = CHECK_SECONDS if seconds is None else seconds
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def settle(result: str | None) -> None:
        if not answer.done():
            answer.set_result(result)

    def check() -> None:
        result = output_folder_problem(folder, may_make_parents=may_make_parents)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (the app quit)
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=check, name="output-folder-check", daemon=True).start()
    try:
        return await asyncio.wait_for(answer, seconds)
    except TimeoutError:
        log.info("The output folder %s didn't answer in %.0f s: the work goes on", folder,
                 seconds)
        return None
