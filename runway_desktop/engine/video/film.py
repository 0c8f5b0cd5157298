"""One film from a sequence's clips: joined as they are where they allow it, re-encoded otherwise.

Without a cross-fade the clips are remuxed (engine/video/join_task.py: no quality lost, as fast
as a copy); clips a remux can't join (other sizes, codecs or settings: `NeedsReencode`) and any
cross-fade go through the re-encoder (engine/video/reencode.py). Either way the film is written
beside `dest` and renamed over it only when whole, reports progress from 0 to 1, and stops
(leaving nothing behind) when the awaiting task is cancelled.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runway_desktop.engine.video.join_task import join_clips
from runway_desktop.engine.video.mp4_join import JoinError, NeedsReencode

CROSSFADE_MS = 500  # the window's "cross-fade between shots"


class FilmMethod(enum.Enum):
    JOINED = "joined"  # remuxed: the clips' own pictures
    REENCODED = "reencoded"  # decoded and encoded again (MPEG-4 Part 2)


@dataclass(frozen=True)
class Film:
    path: Path
    method: FilmMethod
    why_reencoded: str = ""  # the remux's reason, when it had to re-encode


async def join_film(sources: Sequence[Path], dest: Path, *, crossfade_ms: int = 0,
                    progress: Callable[[float], None] | None = None) -> Film:
    """Join `sources` in order into `dest`; raises JoinError (its `message` in words)."""
    if not sources:
        raise JoinError("Nothing to join: the sequence has no finished shots.")
    why = ""
    if crossfade_ms <= 0:
        try:
            await join_clips(sources, dest, progress=progress)
            return Film(Path(dest), FilmMethod.JOINED)
        except NeedsReencode as error:
            why = error.message
    from runway_desktop.engine.video.reencode import reencode_join

    await reencode_join(sources, dest, crossfade_ms=max(0, crossfade_ms), progress=progress)
    return Film(Path(dest), FilmMethod.REENCODED, why)
