"""The data folder's `work/`: images converted for an upload, each kept only until it is sent.

Many processes share one data folder (the window and any number of commands), so each keeps its
converted images in a folder of its own, `work/run-<pid>-<token>/`, and holds a lock on its
`.lock` file for as long as it lives. A run folder whose lock nobody holds belonged to a process
that has ended — even by SIGKILL in the middle of an upload — and `sweep` deletes it: at every
engine start and after every upload attempt. `pasted/` (pictures pasted into the window, kept as
the source of their generations) is not touched here: the window deletes those nothing can reach
any more (engine/pasted_pictures.py). Loose files older than an upload may take (left by
versions before run folders) are deleted.

The image of one generation is prepared once: the command line checks a picture by preparing it
before anything is journaled and hands the result over (`remember`); the engine takes it
(`take`) instead of preparing the same file again, if the file hasn't changed since.

POSIX `flock`. Without it (Windows) a run folder counts as ended once it is a day old.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

from runway_desktop import paths
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.images import PreparedImage

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

RUN_PREFIX = "run-"
LOCK_NAME = ".lock"
KEEP = frozenset({"pasted"})  # folders in work/ that hold the person's own pictures
LOOSE_FILE_SECONDS = 2 * 3600.0  # longer than any upload (30 min deadline) and its retries
UNLOCKED_RUN_SECONDS = 24 * 3600.0  # without flock: a run folder this old has surely ended

_lock = threading.Lock()
_own: dict[Path, tuple[Path, int | None]] = {}  # work folder → (this process's run folder, fd)
_Key = tuple[str, int, int, int, bool, ImageFrame | None]
_handed: dict[_Key, PreparedImage] = {}


def own_dir(data_dir: Path) -> Path:
    """This process's run folder in `data_dir`'s work folder, created and locked on first use."""
    work = paths.work_dir(data_dir).absolute()
    with _lock:
        mine = _own.get(work)
        if mine is not None and mine[0].is_dir():
            return mine[0]
        if mine is not None and mine[1] is not None:
            os.close(mine[1])
        run = work / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        run.mkdir(parents=True, exist_ok=True)
        fd = None
        if fcntl is not None:
            fd = os.open(run / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: nobody else can hold it
        _own[work] = (run, fd)
        return run


def write_trouble(data_dir: Path, error: OSError) -> str:
    """What a picture that couldn't be converted into the work folder means for a person (the
    drive holding the data folder is full, or can't be written), and what to do."""
    folder = paths.work_dir(data_dir)
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        what = f"the drive holding {folder} is full. Free some space on it"
    else:
        what = (f"{folder} can't be written ({error.strerror or error}). Make it writable "
                "again")
    return (f"The picture couldn't be prepared for upload: {what}, then press Retry. The "
            "generation is kept.")


def sweep(data_dir: Path) -> int:
    """Delete the run folders of processes that have ended, and stale loose files; returns how
    many entries were deleted. Never raises: a folder that can't be swept now is swept later."""
    work = paths.work_dir(data_dir).absolute()
    with _lock:
        mine = {run for run, _fd in _own.values()}
    removed = 0
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in list(work.iterdir()):
            try:
                if entry.name.startswith(RUN_PREFIX) and entry.is_dir():
                    if entry.absolute() in mine or not _ended(entry, now):
                        continue
                    shutil.rmtree(entry)
                    removed += 1
                elif entry.is_file() and entry.name not in KEEP and (
                    now - entry.stat().st_mtime > LOOSE_FILE_SECONDS
                ):
                    entry.unlink()
                    removed += 1
            except OSError as exc:
                log.info("Couldn't clear %s from the work folder yet: %s", entry, exc)
    return removed


def _ended(run: Path, now: float) -> bool:
    """Whether the process that made `run` has ended (nobody holds its lock)."""
    if fcntl is None:
        return now - run.stat().st_mtime > UNLOCKED_RUN_SECONDS
    try:
        fd = os.open(run / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        # Killed between making the folder and its lock: a folder that old has no owner.
        return now - run.stat().st_mtime > 60
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: its process is alive
    finally:
        os.close(fd)  # drops the lock we may have taken
    return True


def remember(source: Path, prepared: PreparedImage, *, keep_metadata: bool = False,
             frame: ImageFrame | None = None) -> None:
    """Keep a preparation of `source` (made with these options) for the generation about to be
    made from it."""
    key = _key(source, keep_metadata, frame)
    if key is None:
        discard(prepared)
        return
    with _lock:
        previous = _handed.pop(key, None)
        _handed[key] = prepared
    if previous is not None and previous.path != prepared.path:
        discard(previous)


def take(source: Path, *, keep_metadata: bool = False,
         frame: ImageFrame | None = None) -> PreparedImage | None:
    """The preparation `remember`ed for `source` with these options, if the file is unchanged
    since (each is taken once)."""
    key = _key(source, keep_metadata, frame)
    with _lock:
        prepared = _handed.pop(key, None) if key is not None else None
    if prepared is not None and not prepared.path.is_file():
        return None
    return prepared


def discard(prepared: PreparedImage) -> None:
    """Delete a converted copy (never the person's original)."""
    if prepared.converted:
        prepared.path.unlink(missing_ok=True)


def _key(source: Path, keep_metadata: bool, frame: ImageFrame | None) -> _Key | None:
    try:
        stat = Path(source).stat()
    except OSError:
        return None
    return (str(Path(source).absolute()), stat.st_ino, stat.st_size, stat.st_mtime_ns,
            keep_metadata, frame)


@atexit.register
def _leave() -> None:
    """At a normal exit the run folders go at once (a killed process's go at the next sweep)."""
    with _lock:
        owned = list(_own.values())
        _own.clear()
        _handed.clear()
    for run, fd in owned:
        shutil.rmtree(run, ignore_errors=True)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
