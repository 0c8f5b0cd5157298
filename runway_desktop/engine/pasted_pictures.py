"""Pictures pasted into the window (`work/pasted/pasted-<time>-<id>.png`) and last frames of
videos from elsewhere dropped on it (`work/pasted/last-frames/*.png`): the app's own copies of
pixels that were never a file of the person's. Each is the start image of the generations made
from it (a Retry after the upload expired, a Re-run, upload it again), so it stays while
anything can still reach it, and is deleted — not sent to the Trash: nobody chose the file, and
screenshots lingering in the Trash help nobody — once nothing can:

- no generation of the data folder's histories names it, in any stage (the live history, the
  demo one, and histories moved aside by `reset-history`, which the person may move back);
- no sequence's shot names it (the first shot of a plan not run yet);
- no window shows or keeps it: `keep` (the window's own composition, the one it restores at
  the next start, what its Undo can still bring back), and `PastedHolds` (each window holds a
  shared lock on the pictures it shows, so another window's sweep leaves them);
- it is older than `min_age_s`: one being written or taken right now is not named anywhere yet;
- it is named as the window names them (`key_of`), a regular file, not a link.

Only the window sweeps (ui/pasted_sweeper.py): a command can't know what a window shows.
Anything not read for sure (a history that can't be read at all) keeps every picture.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from runway_desktop import paths

try:
    import fcntl
except ImportError:  # Windows: an open file can't be deleted there, which holds it as well
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PASTED = "pasted"
DROPPED_FRAMES = "last-frames"  # last frames of videos from elsewhere (ui/video_drop.py)
DEMO_HISTORY = "demo"  # the demo mode's history, beside the live one (ui/controller.py)
UNUSED_PASTED_AGE_S = 10 * 60.0  # longer than writing a picture and taking it takes


class HistoryUnreadable(Exception):
    """A history couldn't be read: what it names is unknown, so nothing is deleted."""


def pasted_dir(data_dir: Path) -> Path:
    return paths.work_dir(data_dir) / PASTED


def pictures(folder: Path) -> list[Path]:
    """The pasted pictures and dropped videos' last frames in `folder` (work/pasted): regular
    files only, never a link (it may point at a file of the person's)."""
    found: list[Path] = []
    for where, pattern in ((folder, "pasted-*.png"), (folder / DROPPED_FRAMES, "*.png")):
        with contextlib.suppress(OSError):
            found += [p for p in where.glob(pattern) if not p.is_symlink() and p.is_file()]
    return found


# How the window names them (ui/drop_zone.py, ui/video_drop.py): the part that tells one from
# another, found in a history's text in one pass however many pictures there are. A file named
# otherwise isn't one the window wrote: it is never deleted.
_KEY = re.compile(r"pasted-\d{8}-\d{6}-[0-9a-f]{6}\.png|-last-[0-9a-f]{8}\.png")


def key_of(picture: Path) -> str | None:
    """What names `picture` in a history (None: not a file the window wrote)."""
    found = [m.group() for m in _KEY.finditer(picture.name)]
    if not found or not picture.name.endswith(found[-1]):
        return None
    if picture.name.startswith("pasted-") and found[-1] != picture.name:
        return None
    return found[-1]


def forget_unused(folder: Path, *, keep: Iterable[str] = (),
                  min_age_s: float = UNUSED_PASTED_AGE_S) -> list[Path]:
    """Delete the pictures in `folder` (a data folder's work/pasted) that nothing can reach
    any more (see the module's docstring); those deleted. `keep`: paths a window still shows or
    may bring back. Never raises for a file: one that can't be deleted now is left."""
    data_dir = folder.parent.parent
    histories = [h for h in (data_dir, data_dir / DEMO_HISTORY)
                 if paths.journal_path(h).exists()]
    if not histories:
        return []  # not a data folder with a history: nothing here is ours to judge
    cutoff = time.time() - min_age_s
    kept = {k for path in keep if (k := key_of(Path(path)))}
    old = [p for p in pictures(folder)
           if (k := key_of(p)) is not None and k not in kept and _older(p, cutoff)]
    if not old:
        return []
    try:
        named = set().union(*(names_in_history(h) for h in histories))
    except HistoryUnreadable as error:
        log.info("Pasted pictures kept: %s", error)
        return []
    forgotten = []
    for picture in old:
        if key_of(picture) not in named and _delete_unheld(picture):
            forgotten.append(picture)
    return forgotten


def names_in_history(history: Path) -> set[str]:
    """The pictures (`key_of`) the history in `history` names anywhere: its generations'
    settings (any stage), its sequences' shots and plans; and its copies moved aside
    (`journal.sqlite3.bad-*`, read as bytes: they may be damaged). Raises HistoryUnreadable."""
    import sqlite3  # here, not at the top: the window's drop zone imports this module, and
    # SQLite must not load before the window has painted (tests/ui/test_startup_shell.py)

    journal = paths.journal_path(history)
    try:
        found = _named_in_rows(journal)
    except sqlite3.Error as error:  # damaged, or a newer version's: read it as bytes
        log.info("Reading %s as bytes for pasted pictures (%s)", journal, error)
        found = _named_in_bytes([journal, journal.with_name(journal.name + "-wal")])
    aside = list(history.glob(f"{journal.name}.bad-*"))
    return found | _named_in_bytes(aside)


def _named_in_rows(journal: Path) -> set[str]:
    import sqlite3

    db = sqlite3.connect(f"{journal.absolute().as_uri()}?mode=ro", uri=True)
    try:
        db.execute("PRAGMA busy_timeout=5000")
        tables = {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        # Every column of the rows (a schema's columns come and go): a name anywhere counts.
        wanted = [t for t in ("generations", "shots", "sequences") if t in tables]
        found: set[str] = set()
        db.execute("BEGIN")  # one consistent read of all of them
        for table in wanted:
            for row in db.execute(f"SELECT * FROM {table}"):
                for text in row:
                    if isinstance(text, str):
                        found.update(_KEY.findall(text))
        return found
    finally:
        db.close()


def _named_in_bytes(files: Iterable[Path]) -> set[str]:
    binary = re.compile(_KEY.pattern.encode())
    found: set[str] = set()
    for file in files:
        try:
            with file.open("rb") as stream:
                if os.fstat(stream.fileno()).st_size == 0:
                    continue
                with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    found.update(m.decode() for m in binary.findall(data))
        except FileNotFoundError:
            continue
        except OSError as error:
            raise HistoryUnreadable(f"{file} can't be read ({error.strerror or error})") \
                from error
    return found


def _older(picture: Path, cutoff: float) -> bool:
    try:
        return picture.stat().st_mtime < cutoff
    except OSError:
        return False


def _delete_unheld(picture: Path) -> bool:
    """Delete the picture unless a window holds it (PastedHolds); whether it went."""
    try:
        fd = os.open(picture, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a window shows it
            if os.fstat(fd).st_ino != picture.lstat().st_ino:
                return False  # replaced meanwhile: not the file judged
        if fcntl is None:
            os.close(fd)  # Windows deletes no open file: ours would hold it too
            fd = -1
        picture.unlink()
        return True
    except OSError as error:  # held open by a window (Windows), or the folder is read-only
        log.info("Couldn't delete the unused pasted picture %s yet: %s", picture, error)
        return False
    finally:
        if fd >= 0:
            os.close(fd)


class PastedHolds:
    """The pasted pictures a window shows, held open with a shared lock: another window's
    sweep (`forget_unused`) leaves a held picture, though it can't know that window's
    composition."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._fds: dict[Path, int] = {}

    @property
    def held(self) -> set[Path]:
        return set(self._fds)

    def hold(self, sources: Iterable[str]) -> None:
        """Hold exactly these of `sources` that are pictures in the folder; let go of others."""
        wanted = {p for s in sources if (p := Path(s)).parent in (
            self._folder, self._folder / DROPPED_FRAMES)}
        for path in set(self._fds) - wanted:
            os.close(self._fds.pop(path))
        for path in wanted - set(self._fds):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue  # gone: nothing to hold
            if fcntl is not None:
                with contextlib.suppress(OSError):  # a sweep deleting it this moment
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            self._fds[path] = fd

    def release(self) -> None:
        self.hold([])
