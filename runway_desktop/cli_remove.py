"""`runway-desktop remove N… [--delete-file]`: generations out of the history, as the window's
Remove does (ui/removals.py), saying first what it affects and asking, or taking --yes.

What hasn't reached apiframe is cancelled first (nothing charged); a job apiframe may still be
making is no longer followed (it may still finish and charge it). With --delete-file a video
and its settings file go to the OS trash (ui/trash.py, send2trash), where the person can restore
them; one the Trash refuses keeps its generation as it was. After the answer each is looked at
again: one that moved on meanwhile (sent, finished) is kept, since removing it would do
something else than the person agreed to. Like `cancel`, it starts no engine (cli_queue.py).
"""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runway_desktop.cli_queue import (
    existing,
    generation_ids,
    idle_service,
    quoted,
    result,
    tell,
)
from runway_desktop.engine.lifecycle_table import Command, step
from runway_desktop.engine.records import Generation, Stage

if TYPE_CHECKING:
    from runway_desktop.cli import Context
    from runway_desktop.engine.commands import GenerationService


@dataclass
class _Removal:
    generation: Generation
    video: Path | None  # its video file, when there is one on disk
    trash: bool  # the video goes to the Trash (--delete-file)


async def remove(args: argparse.Namespace, context: Context) -> int:
    from runway_desktop import cli

    ids = generation_ids(args.ids)
    with idle_service(context) as service:
        removals = [_Removal(g, _video_on_disk(g), args.delete_file)
                    for g in existing(service, ids)]
        takes = service.sequence_takes()
        for removal in removals:
            tell(_what_it_affects(removal, removal.generation.id in takes), prefix=False)
        what = _count(len(removals))
        question = f"Remove {what} from the history?{_trash_words(removals)} [y/N] "
        cli.STOP_NOTES.append("stopped before removing anything.")
        if not args.yes and not cli.can_ask():  # a script: never a question nobody answers
            raise cli.CliError(f"Nothing was removed: `remove` asks first and there is no "
                               f"terminal to ask at. Add --yes to remove {what} without "
                               "asking.", cli.EXIT_INPUT)
        if not args.yes and not await cli._confirm(question):
            raise cli.CliError("Nothing was removed.", cli.EXIT_INPUT)
        cli.STOP_NOTES.clear()
        code = cli.EXIT_OK
        for removal in removals:
            now = _as_it_is_now(service, removal, removal.generation.id in takes)
            code = max(code, cli.EXIT_INPUT if now is None else _remove_one(service, now, context))
    return code


def _as_it_is_now(service: GenerationService, asked: _Removal, is_take: bool) -> _Removal | None:
    """The removal as the generation is now, or None (said why) when removing it would do
    something else than the person agreed to: it moved on while they were asked (a waiting one
    reached apiframe and is paid now, a download finished)."""
    current = service.get(asked.generation.id)
    if current is None:
        tell(f"#{asked.generation.id} {quoted(asked.generation)} had already left the history "
             "(the window or another command removed it).")
        return None
    now = _Removal(current, _video_on_disk(current), asked.trash)
    if (_what_it_affects(now, is_take, stage=False)
            != _what_it_affects(asked, is_take, stage=False)):
        tell(f"#{current.id} {quoted(current)} was kept: it moved on while you were asked (it "
             f"is {current.stage.value} now). `runway-desktop remove {current.id}` again says "
             "what removing it does now.")
        return None
    return now


def _remove_one(service: GenerationService, removal: _Removal, context: Context) -> int:
    """Move its video to the Trash if asked, then stop it and take it out of the history (as
    the window's Remove does, ui/removals.py); a video the Trash refuses keeps its row as it
    was. The video goes first: a video on disk is a finished one's, nothing of it runs."""
    from runway_desktop import cli
    from runway_desktop.ui import trash

    generation = removal.generation
    trashed: Path | None = None
    if removal.trash and removal.video is not None:
        try:
            trash.move_to_trash(removal.video)
        except trash.TrashError as error:
            tell(f"#{generation.id} was kept: its video {removal.video} couldn't be moved to "
                 f"the {trash.TRASH_NAME} ({error.reason}). Nothing of it was removed; "
                 f"`runway-desktop remove {generation.id}` without --delete-file takes it out "
                 "of the history and leaves the video where it is.")
            return cli.EXIT_NETWORK  # disk trouble
        trashed = removal.video
        _trash_sidecar(removal.video)
    # What never reached apiframe is cancelled first; if the process driving it sent it at
    # that very moment, the cancel isn't written (engine: it may be paid now) and it stays.
    if step(generation, Command.CANCEL) is not None and not service.cancel([generation.id]):
        tell(f"#{generation.id} {quoted(generation)} was kept: the window or another command "
             "sent it to apiframe at that very moment, so it may be charged now. "
             f"`runway-desktop remove {generation.id}` again says what removing it does now.")
        return cli.EXIT_INPUT
    service.stop_following(generation.id)
    service.remove(generation.id)
    _drop_partial_download(generation)
    if trashed is not None and generation.thumbnail_path:  # only our cache of its first frame
        Path(generation.thumbnail_path).unlink(missing_ok=True)
    where = (f"; its video went to the {trash.TRASH_NAME}: {trashed}" if trashed is not None
             else f"; its video stays: {removal.video}" if removal.video is not None else "")
    result(f"Removed #{generation.id} {quoted(generation)} from the history{where}.",
           {"id": generation.id, "removed": True, "status": generation.stage.value,
            "video_path": str(removal.video) if removal.video else None,
            "video_trashed": trashed is not None}, context)
    return cli.EXIT_OK


def _what_it_affects(removal: _Removal, is_take: bool, *, stage: bool = True) -> str:
    """What removing it does, in words (`stage`: with the stage it is in now)."""
    from runway_desktop.ui.trash import TRASH_NAME

    generation = removal.generation
    parts = [f"#{generation.id} {quoted(generation)}"
             + (f" ({generation.stage.value})" if stage else "")]
    if step(generation, Command.CANCEL) is not None:
        parts.append("is cancelled first: it hasn't reached apiframe, nothing is charged")
    elif generation.stage is Stage.DOWNLOADING:
        parts.append("apiframe has made it (paid): its download stops and its video isn't saved")
    elif step(generation, Command.STOP_FOLLOWING) is not None:
        parts.append("apiframe may still be making it and has no cancel: it may still "
                     "finish and charge the credits, and its video won't be saved")
    if removal.video is not None:
        parts.append(f"its video goes to the {TRASH_NAME}: {removal.video}" if removal.trash
                     else f"its video stays in the folder: {removal.video}")
    elif removal.trash and generation.stage is Stage.DONE and generation.video_path:
        parts.append(f"its video is already gone from {generation.video_path}")
    if is_take:
        parts.append("it is a take of a sequence: its shot loses it (`runway-desktop sequence "
                     "show` shows what is left)")
    return "; ".join(parts) + "."


def _trash_words(removals: list[_Removal]) -> str:
    from runway_desktop.ui.trash import TRASH_NAME

    videos = sum(1 for r in removals if r.trash and r.video is not None)
    if not videos:
        return ""
    return (f" {'Its video goes' if videos == 1 else f'{videos} videos go'} to the "
            f"{TRASH_NAME} (restore {'it' if videos == 1 else 'them'} from there).")


def _video_on_disk(generation: Generation) -> Path | None:
    video = Path(generation.video_path) if generation.video_path else None
    return video if video is not None and video.is_file() else None


def _trash_sidecar(video: Path) -> None:
    """The video's settings file (`<name>.json`, ours only) goes where the video went."""
    from runway_desktop.engine.video.metadata import sidecar_of
    from runway_desktop.ui import trash

    sidecar = sidecar_of(video)
    if sidecar is not None:
        with contextlib.suppress(trash.TrashError):  # a settings file left behind is no loss
            trash.move_to_trash(sidecar)


def _drop_partial_download(generation: Generation) -> None:
    """A download it cut short leaves no `.part` (nor the note of what it was cut from) beside
    the videos, where nothing would ever finish or remove it."""
    if generation.stage is Stage.DONE or not generation.video_path:
        return
    from runway_desktop.engine.part_origin import discard_origin, part_path

    part = part_path(Path(generation.video_path))
    with contextlib.suppress(OSError):
        part.unlink(missing_ok=True)
    discard_origin(part)


def _count(count: int) -> str:
    return "1 generation" if count == 1 else f"{count} generations"
