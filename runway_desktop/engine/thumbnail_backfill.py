"""Thumbnails for videos another process finished while this one runs (a `runway-desktop`
command has no Qt, so its videos come without one): made here, in the background, once each."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from runway_desktop import paths
from runway_desktop.engine.records import Generation, Stage

log = logging.getLogger(__name__)

Thumbnailer = Callable[[Path, Path], Awaitable[Path]]


class ThumbnailBackfill:
    def __init__(self, thumbnailer: Thumbnailer | None, data_dir: Path,
                 attach: Callable[[int, str], None]) -> None:
        self._thumbnailer = thumbnailer
        self._folder = paths.thumbnails_dir(data_dir)
        self._attach = attach
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def offer(self, generation: Generation) -> None:
        """A row as another process left it: a finished video without a thumbnail gets one."""
        if (self._thumbnailer is None or generation.stage is not Stage.DONE
                or generation.thumbnail_path or not generation.video_path
                or generation.id in self._tasks):
            return
        task = asyncio.ensure_future(self._make(generation.id, Path(generation.video_path)))
        self._tasks[generation.id] = task
        task.add_done_callback(functools.partial(self._done, generation.id))

    def _done(self, generation_id: int, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(generation_id, None)

    async def _make(self, generation_id: int, video: Path) -> None:
        assert self._thumbnailer is not None
        target = self._folder / f"{generation_id}.jpg"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            made = await self._thumbnailer(video, target)
            self._attach(generation_id, str(made))
        except KeyError:  # removed meanwhile
            return
        except Exception as exc:  # a missing thumbnail never costs anyone their video
            log.warning("No thumbnail for generation %s: %s", generation_id, exc)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
