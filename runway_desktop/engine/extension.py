"""Extend: the pieces of starting a new generation from a finished clip's exact last frame.

- `finished_parent`: the clip, once it is DONE with its file on disk (waiting, bounded, for one
  still running or downloading; a clear ExtendError when it ends any other way);
- `last_frame_png`: its last frame as a PNG in the app's data folder (`paths.last_frames_dir`),
  not the output folder. It is kept while a generation names it as its start image (a retry
  after the upload expired, or a re-run, uploads it again); `forget_unused_last_frames`
  deletes it once none does (after the person removed them).

The typed command is `GenerationService.extend`; sequences (engine/sequences.py) use the same
pieces for each next shot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from runway_desktop import paths
from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Generation, GenerationSettings, Stage

if TYPE_CHECKING:
    from runway_desktop.engine.commands import GenerationService
    from runway_desktop.engine.journal import Journal

DEFAULT_WAIT_S = 30 * 60.0  # how long Extend waits for a clip still being made or downloaded
UNUSED_FRAME_AGE_S = 3600.0  # a last frame nobody names is deleted once this old

# (video, destination PNG) → the PNG; the default decodes with QtMultimedia on the app's loop.
LastFrameTaker = Callable[[Path, Path], Awaitable[Path]]


class ExtendError(Exception):
    """The clip can't be extended (now); `message` says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def finished_parent(service: GenerationService, generation_id: int,
                          wait_s: float = DEFAULT_WAIT_S) -> Generation:
    """The generation once it is DONE with its file present; waits up to `wait_s` seconds for
    one that is still on its way (running, downloading)."""
    generation = service.get(generation_id)
    if generation is None:
        raise ExtendError(f"There is no generation #{generation_id} in the history.")
    if not generation.stage.is_settled:
        try:
            async with asyncio.timeout(wait_s):
                settled = await service.wait_settled([generation_id])
        except TimeoutError:
            raise ExtendError(
                f"#{generation_id} was still {_stage(service, generation_id)} after "
                f"{_duration(wait_s)}; extend it once it has finished.") from None
        generation = settled[0] if settled else service.get(generation_id)
        if generation is None:
            raise ExtendError(f"#{generation_id} was removed while waiting to extend it.")
    if generation.stage != Stage.DONE:
        reason = f": {generation.error}" if generation.error else ""
        raise ExtendError(
            f"#{generation_id} didn't finish ({generation.stage.value}{reason}), so it has no "
            "last frame to extend from. Retry it or make a new take, then extend that.")
    if not allows(generation, Command.EXTEND):
        where = generation.video_path or "never saved"
        raise ExtendError(f"The video of #{generation_id} is not on disk ({where}). Download "
                          "it again (in the window: right-click it, Download Again), then "
                          "extend it.")
    return generation


async def last_frame_png(generation: Generation, data_dir: Path,
                         take: LastFrameTaker | None = None) -> Path:
    """The PNG of the clip's exact last frame in the data folder (`last-frames/<id>.png`),
    written once and reused: the same clip always has the same last frame. One older than the
    clip's video is not reused: it was taken from another file under the same number (a
    history started afresh numbers from 1 again, its last frames left in the folder), or
    before the video was fetched again."""
    assert generation.video_path is not None
    dest = paths.last_frames_dir(data_dir) / f"{generation.id}.png"
    if _taken_from(dest, Path(generation.video_path)):
        with contextlib.suppress(OSError):
            os.utime(dest)  # in use again: not "unused for an hour" (forget_unused_last_frames)
        return dest
    taker = take or _qt_last_frame
    try:
        return await taker(Path(generation.video_path), dest)
    except ExtendError:
        raise
    except Exception as error:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        raise ExtendError(f"Couldn't take the last frame of #{generation.id}: {message}") \
            from error


def _taken_from(frame: Path, video: Path) -> bool:
    """Whether `frame` is a last frame written after `video` was (so taken from it)."""
    try:
        stat = frame.stat()
        return stat.st_size > 0 and stat.st_mtime >= video.stat().st_mtime
    except OSError:
        return False


def forget_unused_last_frames(journal: Journal, data_dir: Path, *,
                              min_age_s: float = UNUSED_FRAME_AGE_S) -> int:
    """Delete last-frame PNGs no generation names as its start image any more (their
    extensions were removed); how many. Only files older than `min_age_s`: an extension being
    made (here or in another process) writes its PNG a moment before its row."""
    folder = paths.last_frames_dir(data_dir)
    try:
        files = list(folder.glob("*.png"))
    except OSError:
        return 0
    if not files:
        return 0
    with journal.snapshot() as db:
        rows = db.execute("SELECT settings_json FROM generations WHERE settings_json LIKE ?",
                          (f"%{folder.name}%",)).fetchall()
    needed = {Path(path) for (text,) in rows
              if (path := GenerationSettings.from_json(_json(text)).image_path)}
    cutoff = time.time() - min_age_s
    forgotten = 0
    for file in files:
        with contextlib.suppress(OSError):
            if file not in needed and file.stat().st_mtime < cutoff:
                file.unlink()
                forgotten += 1
    return forgotten


async def _qt_last_frame(video: Path, dest: Path) -> Path:
    """QtMultimedia's exact last frame (engine/video/exports.py); needs a Qt application and
    its event loop under asyncio (qasync): the window has both, the CLI makes them for
    `extend` and `sequence`."""
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        raise ExtendError("Taking a last frame needs Qt's event loop (QtMultimedia decodes "
                          "it); run it from the window or the runway-desktop command.")
    from runway_desktop.engine.video.exports import export_last_frame

    return await export_last_frame(video, dest)


def _json(text: str | None) -> dict[str, object]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _stage(service: GenerationService, generation_id: int) -> str:
    generation = service.get(generation_id)
    return generation.stage.value if generation else "gone"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
