"""Every user path in one place (platformdirs), overridable for tests, scripts and portable use."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from runway_desktop import APP_ID, APP_NAME

DATA_DIR_ENV = "RUNWAY_DESKTOP_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where the journal, thumbnails and settings live.

    `override` (the `--data-dir` option) wins, then `RUNWAY_DESKTOP_DATA_DIR`, then the platform's
    per-user data folder.
    """
    chosen = override or os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def write_problem(folder: Path) -> str | None:
    """Why `folder` can't take a small file now (read-only, full, no permission), or None.
    Blocks on the disk: for a command that already met an OSError, not for every start."""
    probe = folder / f".write-check-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, bytes(4096))
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as error:
        return error.strerror or str(error)
    return None


def journal_path(base: Path) -> Path:
    return base / "journal.sqlite3"


def settings_path(base: Path) -> Path:
    return base / "settings.json"


def thumbnails_dir(base: Path) -> Path:
    return base / "thumbnails"


def last_frames_dir(base: Path) -> Path:
    """Last frames of clips that were extended (`<id>.png`): the start images of their
    extensions, kept while any generation may upload them again (a retry, a re-run)."""
    return base / "last-frames"


def work_dir(base: Path) -> Path:
    """Converted images waiting to be uploaded."""
    return base / "work"


def log_dir(base: Path | None = None) -> Path:
    if base is not None and (os.environ.get(DATA_DIR_ENV) or base != data_dir()):
        return base / "logs"
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def default_output_dir() -> Path:
    """The user's Videos folder, sub-folder `Runway Desktop`."""
    return Path(platformdirs.user_videos_dir()) / APP_NAME
