"""The preview's poster at the video's own size: its first frame, decoded in the background.

The poster was the history's thumbnail (320 px at most) stretched over the stage: soft at any
size (~3× on a laptop) and blurry on a 2× screen (~6×). The thumbnail shows at once; the first
frame replaces it when decoded (QtMultimedia's own threads, a few ms for the simulator's clips,
~0.3 s for a 720p H.264 one). A decode that fails or outlasts its bound leaves the thumbnail.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)
FRAME_WAIT_S = 10.0  # the decode's bound; the thumbnail stays meanwhile


class SharpPoster(QObject):
    """`load(video)` decodes its first frame; `ready(video, image)` when it has; a new `load`
    (the next row) cancels the one before."""

    ready = Signal(str, QImage)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        running: list[asyncio.Task[None]] = []  # the decode under way, stopped with this object
        self._running = running
        self.destroyed.connect(lambda _o=None: [task.cancel() for task in running])

    def load(self, video: str | None) -> None:
        for task in self._running:
            task.cancel()
        self._running.clear()
        if not video:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a bare widget in a test): the thumbnail stays
        task = asyncio.ensure_future(self._decode(video))
        self._running.append(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        if task in self._running:
            self._running.remove(task)

    async def _decode(self, video: str) -> None:
        from runway_desktop.engine.video.frames import FrameError, frame_at

        try:
            frame = await frame_at(Path(video), 0, wait_s=FRAME_WAIT_S)
        except FrameError as error:
            log.info("The poster stays the thumbnail: %s", error.message)
            return
        if shiboken6.isValid(self):
            self.ready.emit(video, frame.image)
