"""`runway-desktop export seq:N --format mp4`: a sequence's chosen takes joined into one MP4.

Joined without re-encoding where the clips allow it (engine/video/join_task.py), re-encoded
(MPEG-4 Part 2, engine/video/reencode.py) when they differ or a `--crossfade` is asked for.
Either way the file is written beside its final name and renamed when whole; its settings
(each shot's) are inside it and, unless the `settings_sidecar` setting is off, in `<film>.json`.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from runway_desktop.cli import EXIT_INPUT, CliError, Context, _open_journal
from runway_desktop.cli_export import Target, destination, notice, progress_line, seconds
from runway_desktop.engine.records import Stage
from runway_desktop.engine.sequence_store import SequenceStore

log = logging.getLogger(__name__)
T = TypeVar("T")
RunQt = Callable[[Callable[[], Awaitable[Path]], Context], Path]


def export_sequence(
    args: argparse.Namespace, context: Context, target: Target, run_qt: RunQt
) -> Path:
    name, folder, videos = chosen_videos(context, target.number)
    crossfade_ms = seconds("--crossfade", args.crossfade) or 0
    dest = destination(args.to, folder, f"{name}.mp4")

    async def join() -> Path:
        from runway_desktop.engine.video.join_task import join_clips
        from runway_desktop.engine.video.mp4_join import NeedsReencode
        from runway_desktop.engine.video.reencode import reencode_join

        if not crossfade_ms:
            try:
                await join_clips(videos, dest, progress=progress_line("joining"))
                return _with_sidecar(dest, context)
            except NeedsReencode as why:
                log.info("Sequence %s is re-encoded: %s", target.number, why)
                notice(f"re-encoding (MPEG-4): {why}")
        await reencode_join(videos, dest, crossfade_ms=crossfade_ms,
                            progress=progress_line("re-encoding"))
        return _with_sidecar(dest, context)

    return run_qt(join, context)


def _with_sidecar(film: Path, context: Context) -> Path:
    """The film's settings in `<film>.json` beside it too, unless the setting is off (as for
    every saved video: engine/video/film.py)."""
    if context.settings.settings_sidecar:
        from runway_desktop.engine.video.film import write_film_sidecar

        write_film_sidecar(film)
    return film


def chosen_videos(context: Context, number: int) -> tuple[str, Path, list[Path]]:
    """The sequence's file name, its folder and its chosen takes' videos in shot order; a
    CliError naming the first shot that has none to give."""
    journal = _open_journal(context)
    try:
        sequence = SequenceStore(journal).get(number)
        if sequence is None:
            raise CliError(f"There is no sequence {number} in the history.", EXIT_INPUT)
        videos: list[Path] = []
        for index, shot in enumerate(sequence.shots, 1):
            what = f"Shot {index} of sequence {number}"
            if shot.chosen_id is None:
                raise CliError(f"{what} has no take yet. Run the sequence (or choose a "
                               "take) first.", EXIT_INPUT)
            take = journal.get(shot.chosen_id)
            if take is None or take.stage is not Stage.DONE or not take.video_path:
                stage = take.stage.value if take is not None else "removed"
                raise CliError(f"{what}: its take, generation #{shot.chosen_id}, isn't "
                               f"finished (it is {stage}). Let it finish or choose another "
                               "take.", EXIT_INPUT)
            video = Path(take.video_path)
            if not video.is_file():
                raise CliError(f"{what}: the video of generation #{shot.chosen_id} isn't there "
                               f"any more: {video} (moved or deleted).", EXIT_INPUT)
            videos.append(video)
    finally:
        journal.close()
    if not videos:
        raise CliError(f"Sequence {number} has no shots to export.", EXIT_INPUT)
    folder = Path(sequence.output_dir) if sequence.output_dir else context.settings.output_path
    return _file_name(sequence.name, number), folder, videos


def _file_name(name: str, number: int) -> str:
    """A file name from the sequence's name: no path separators or control characters."""
    cleaned = re.sub(r'[\x00-\x1f/\\:*?"<>|\s]+', " ", name).strip(" .")[:80].strip()
    return cleaned or f"sequence-{number}"
