"""One film from a sequence's clips: joined as they are where they allow it, re-encoded otherwise.

Without a cross-fade the clips are remuxed (engine/video/join_task.py: no quality lost, as fast
as a copy); clips a remux can't join (other sizes, codecs or settings: `NeedsReencode`) and any
cross-fade go through the re-encoder (engine/video/reencode.py). Either way the film is written
beside `dest` and renamed over it only when whole, reports progress from 0 to 1, and stops
(leaving nothing behind) when the awaiting task is cancelled.

Like every saved video, the film carries its settings (each shot's, engine/video/metadata.py)
inside the MP4 and, unless the `settings_sidecar` setting is off, in `<film>.json` beside it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runway_desktop.engine.video import metadata
from runway_desktop.engine.video.join_task import join_clips
from runway_desktop.engine.video.mp4_join import JoinError, NeedsReencode

log = logging.getLogger(__name__)

CROSSFADE_MS = 500  # the window's "cross-fade between shots"


class FilmMethod(enum.Enum):
    JOINED = "joined"  # remuxed: the clips' own pictures
    REENCODED = "reencoded"  # decoded and encoded again (MPEG-4 Part 2)


@dataclass(frozen=True)
class Film:
    path: Path
    method: FilmMethod
    why_reencoded: str = ""  # the remux's reason, when it had to re-encode
    sidecar: Path | None = None  # `<film>.json`, when written


async def join_film(sources: Sequence[Path], dest: Path, *, crossfade_ms: int = 0,
                    progress: Callable[[float], None] | None = None,
                    sidecar: bool = True) -> Film:
    """Join `sources` in order into `dest`; raises JoinError (its `message` in words).
    `sidecar`: the `settings_sidecar` setting (write `<film>.json` beside it)."""
    if not sources:
        raise JoinError("Nothing to join: the sequence has no finished shots.")
    why = ""
    method = FilmMethod.JOINED
    joined = False
    if crossfade_ms <= 0:
        try:
            await join_clips(sources, dest, progress=progress)
            joined = True
        except NeedsReencode as error:
            why = error.message
    if not joined:
        from runway_desktop.engine.video.reencode import reencode_join

        await reencode_join(sources, dest, crossfade_ms=max(0, crossfade_ms),
                            progress=progress)
        method = FilmMethod.REENCODED
    written = await asyncio.to_thread(write_film_sidecar, Path(dest)) if sidecar else None
    return Film(Path(dest), method, why, written)


def write_film_sidecar(film: Path) -> Path | None:
    """`<film>.json` with what the film carries; an earlier film's sidecar of ours goes when
    this one carries nothing. Never raises: the film is whole whatever happens here."""
    try:
        settings = metadata.read_video_settings(film)
        if settings is None:
            if (stale := metadata.sidecar_of(film)) is not None:
                stale.unlink()
            return None
        return metadata.write_sidecar(film, settings)
    except OSError as error:
        log.warning("The film's settings sidecar wasn't written beside %s: %s", film,
                    error.strerror or error)
        return None
