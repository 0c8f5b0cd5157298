"""Decoded frames of a video through QtMultimedia (its bundled LGPL FFmpeg): a still at a
position, the exact last frame, and frames sampled over a range (for GIF/WebP exports).

Everything here runs on the app's qasync loop and never blocks it: QMediaPlayer decodes on its
own threads and hands frames to a QVideoSink; the coroutines await them. Cancelling the
awaiting task stops the work (the player is disposed in a `finally`). Every wait is bounded.

The player is handled as in engine/thumbnails.py, for the same reason (see its docstring): the
sink's signals reach Python only through real `@Slot`s of a QObject on the GUI thread, and the
player is destroyed by the event loop (`deleteLater`), never stopped from Python.

What QtMultimedia does, measured with PySide6 6.11.3 (FFmpeg 7.1.5) on the repo's clips:
- paused, `setPosition(t)` delivers one frame: the one on screen at t, i.e. start < t <= end
  (t = 1000 ms on a 24 fps clip gives the frame [958.3, 1000.0] ms; t = 0 the first);
- paused, `setPosition(duration)` delivers the final frame, decoded from the last key frame:
  pixel for pixel the last of every frame played at 1×, in 2–10 ms for the simulator's
  Motion-JPEG clips and 0.2–0.35 s for 5–10 s 720p H.264 with one key frame (playing the last
  second took about 1 s); also with B-frames and for clips of one or two frames;
- playing delivers every frame in order, each with its start and end time in µs; at 8× speed
  all 48 frames of a 2 s clip arrived in 0.25 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QSize, Qt, QUrl, Slot
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink

from runway_desktop.engine.video.backend import unavailable_reason
from runway_desktop.engine.video.mp4_boxes import Mp4FormatError, read_moov
from runway_desktop.engine.video.mp4_tables import read_mdhd, read_track

Status = QMediaPlayer.MediaStatus

DEFAULT_TIMEOUT = 20.0  # seconds without progress before giving up
TAIL_MS = 1000  # when a seek can't prove the last frame, this much is played to the end
SAMPLE_RATE = 4.0  # playback speed while sampling frames for an animation
END_GRACE = 0.25  # after EndOfMedia, frames still queued from the renderer may arrive


class FrameError(Exception):
    """No frame could be had; `message` is for people (what happened and what to do)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Frame:
    image: QImage  # a deep copy, safe to keep and to use from another thread
    start_us: int  # when it is shown, microseconds from the start of the video
    end_us: int

    @property
    def start_ms(self) -> float:
        return self.start_us / 1000


async def frame_at(video: Path, position_ms: int, *, wait_s: float = DEFAULT_TIMEOUT) -> Frame:
    """The frame QtMultimedia shows at `position_ms` (the preview's frame there)."""
    video = _existing(video)
    found: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()

    with _decoding(_failing(video, found)) as (watcher, player):
        target_us: list[int] = []

        def on_loaded() -> None:
            target = max(0, min(position_ms, player.duration()))
            target_us.append(target * 1000)
            player.pause()
            player.setPosition(target)

        def on_frame(frame: Frame) -> None:
            # Only the frame on screen at the target (±1 ms: positions are whole ms), not one
            # left over from before the seek.
            on_screen = target_us and frame.start_us - 1000 <= target_us[0] <= frame.end_us + 1000
            if on_screen and not found.done():
                found.set_result(frame)

        watcher.on_loaded, watcher.on_frame = on_loaded, on_frame
        watcher.start(video)
        return await _bounded(found, wait_s, video)


async def duration_ms(video: Path, *, wait_s: float = DEFAULT_TIMEOUT) -> int:
    """The video's length in milliseconds, as QtMultimedia plays it."""
    video = _existing(video)
    found: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    with _decoding(_failing(video, found)) as (watcher, player):

        def on_loaded() -> None:
            if not found.done():
                found.set_result(player.duration())

        watcher.on_loaded = on_loaded
        watcher.start(video)
        try:
            async with asyncio.timeout(wait_s):
                return await found
        except TimeoutError:
            raise FrameError(f"“{video.name}” didn't open within {wait_s:g} s.") from None


async def last_frame(video: Path, *, wait_s: float = DEFAULT_TIMEOUT) -> Frame:
    """The video's final frame, exactly: what "Extend" starts the next shot from.

    A paused seek to the end decodes from the last key frame on and shows the final frame (a
    few milliseconds, where playing the last second took a second). It counts only if it reaches
    the end of the movie; when it doesn't (a sound track that runs on past the picture), the
    last second of the picture is played to the movie's end and the final frame kept.
    """
    video = _existing(video)
    try:
        async with asyncio.timeout(wait_s):  # one bound for both ways
            frame = await _frame_at_the_end(video)
            if frame is not None:
                return frame
            picture_end = await asyncio.to_thread(_picture_end_ms, video)
            return await _last_played_frame(video, picture_end)
    except TimeoutError:
        raise FrameError(f"“{video.name}” gave no picture within {wait_s:g} s.") from None


async def _frame_at_the_end(video: Path) -> Frame | None:
    """The frame a paused seek to the end shows if it lasts to the end of the movie, else None.

    Only the first frame that arrives is looked at: frames follow one another, so the one
    that lasts to the end is the final one, and any other (one shown before the seek landed,
    or the picture of a clip whose sound runs on) is not proof of anything.
    """
    found: asyncio.Future[Frame | None] = asyncio.get_running_loop().create_future()

    with _decoding(_failing(video, found)) as (watcher, player):

        def on_loaded() -> None:
            watcher.duration_us = player.duration() * 1000
            if watcher.duration_us <= 0:
                found.set_result(None)  # no end to seek to
                return
            player.pause()
            player.setPosition(player.duration())

        def on_frame(frame: Frame) -> None:
            if not found.done():  # ±1 ms: positions are whole milliseconds
                found.set_result(frame if frame.end_us + 1000 >= watcher.duration_us else None)

        def on_end() -> None:
            def settle() -> None:
                if not found.done():
                    found.set_result(None)  # the end came without a picture

            _after_grace(found.get_loop(), settle)

        watcher.on_loaded, watcher.on_frame, watcher.on_end = on_loaded, on_frame, on_end
        watcher.start(video)
        return await found  # bounded by the caller


async def _last_played_frame(video: Path, picture_end_ms: int | None) -> Frame:
    """The final frame that playing from a second before the picture's end (where the MP4's
    tables say it ends; else the movie's end) to the movie's end delivers."""
    found: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
    latest: list[Frame] = []

    with _decoding(_failing(video, found)) as (watcher, player):

        def on_loaded() -> None:
            watcher.duration_us = player.duration() * 1000
            end = player.duration() if picture_end_ms is None else picture_end_ms
            # From the movie's end, a picture that ends over a second earlier never shows.
            player.setPosition(max(0, min(end, player.duration()) - TAIL_MS))
            player.play()

        def on_frame(frame: Frame) -> None:
            if not latest or frame.start_us >= latest[-1].start_us:
                latest[:] = [frame]
            # The frame that reaches the end of the movie is the last one: no need to wait.
            if frame.end_us >= watcher.duration_us > 0 and not found.done():
                found.set_result(frame)

        def on_end() -> None:
            def settle() -> None:
                if found.done():
                    return
                if latest:
                    found.set_result(latest[-1])
                else:
                    found.set_exception(FrameError(f"“{video.name}” has no picture to take."))

            _after_grace(found.get_loop(), settle)

        watcher.on_loaded, watcher.on_frame, watcher.on_end = on_loaded, on_frame, on_end
        watcher.start(video)
        return await found  # bounded by the caller


def _picture_end_ms(video: Path) -> int | None:
    """Where the video track ends on the movie's timeline (ms), by the MP4's own tables; None
    when they can't be read. Only where to start playing: the frame kept is the last that
    plays, so a table that is off by less than TAIL_MS changes nothing."""
    try:
        _ftyp, moov, _size = read_moov(video)
        movie_timescale, _ = read_mdhd(moov.child(b"mvhd").payload)
        tracks = [read_track(trak) for trak in moov.all(b"trak")]
    except (Mp4FormatError, OSError):
        return None
    track = next((t for t in tracks if t.handler == b"vide"), None)
    if track is None or movie_timescale <= 0:
        return None
    if track.edits:  # the edit list places the media on the movie's timeline
        return sum(edit.segment_duration for edit in track.edits) * 1000 // movie_timescale
    return track.media_duration * 1000 // track.timescale


async def sample_frames(
    video: Path,
    times_ms: Sequence[float],
    *,
    max_width: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    wait_s: float = DEFAULT_TIMEOUT,
) -> list[Frame]:
    """For each time (ascending, ms), the frame on screen then; images scaled to max_width.

    Plays from the first time to the last at SAMPLE_RATE× and picks, for each time, the last
    frame that started at or before it. `wait_s` bounds the wait for each next frame.
    """
    frames: list[Frame] = []
    async with contextlib.aclosing(
        stream_frames(video, times_ms, max_width=max_width, wait_s=wait_s)
    ) as stream:
        async for frame in stream:
            frames.append(frame)
            if progress is not None:
                progress(len(frames), len(times_ms))
    return frames


async def stream_frames(
    video: Path,
    times_ms: Sequence[float],
    *,
    max_width: int | None = None,
    speed: float = SAMPLE_RATE,
    wait_s: float = DEFAULT_TIMEOUT,
) -> AsyncGenerator[Frame, None]:
    """Like sample_frames, one frame at a time as playback reaches it (nothing is kept).

    Use it with `contextlib.aclosing` so that leaving early stops the decoder at once.
    """
    video = _existing(video)
    targets = list(times_ms)
    if any(b < a for a, b in itertools.pairwise(targets)):
        raise ValueError("times_ms must be ascending")
    if not targets:
        return
    queue: asyncio.Queue[Frame | FrameError | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()  # Qt's signals may come when no loop runs (at quit)
    chosen = [0]  # how many targets have their frame
    previous: list[Frame] = []
    arrived = [0]  # frames so far: a wait times out only when none came in it
    finished = [False]

    def finish() -> None:
        if finished[0]:
            return
        finished[0] = True
        if not previous:
            queue.put_nowait(FrameError(f"“{video.name}” has no picture to take."))
            return
        for _ in range(chosen[0], len(targets)):
            queue.put_nowait(previous[-1])
        queue.put_nowait(None)

    def fail(reason: str) -> None:
        if not finished[0]:
            finished[0] = True
            queue.put_nowait(FrameError(f"Can't read “{video.name}”: {reason}."))

    with _decoding(fail) as (watcher, player):
        watcher.scale_to = max_width

        def on_loaded() -> None:
            start = max(0, min(int(targets[0]), player.duration()))
            player.setPosition(start)
            player.setPlaybackRate(speed)
            player.play()

        def on_frame(frame: Frame) -> None:
            arrived[0] += 1
            if finished[0] or (previous and frame.start_us < previous[-1].start_us):
                return  # a frame from before the seek landed
            while chosen[0] < len(targets) and frame.start_us > targets[chosen[0]] * 1000:
                queue.put_nowait(previous[-1] if previous else frame)
                chosen[0] += 1
            previous[:] = [frame]
            if chosen[0] == len(targets):
                finish()

        def on_end() -> None:
            _after_grace(loop, finish)

        watcher.on_loaded, watcher.on_frame, watcher.on_end = on_loaded, on_frame, on_end
        watcher.start(video)
        seen = 0
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
                # arrives as the queue hands over an item (the sampling then ran to its end).
                async with asyncio.timeout(wait_s):
                    item = await queue.get()
            except TimeoutError:
                if arrived[0] == seen:
                    raise FrameError(
                        f"“{video.name}” stopped delivering pictures (nothing for {wait_s:g} s)."
                    ) from None
                seen = arrived[0]
                continue
            if item is None:
                return
            if isinstance(item, FrameError):
                raise item
            yield item


def scaled(image: QImage, max_width: int | None) -> QImage:
    """`image` no wider than max_width (aspect kept, never enlarged)."""
    if max_width is None or image.width() <= max_width:
        return image
    height = max(2, round(image.height() * max_width / image.width()))
    return image.scaled(
        QSize(max_width, height),
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


def _existing(video: Path) -> Path:
    video = Path(video)
    if not video.is_file():
        raise FrameError(f"“{video.name}” doesn't exist any more.")
    return video


async def _bounded(future: asyncio.Future[Frame], wait_s: float, video: Path) -> Frame:
    try:
        async with asyncio.timeout(wait_s):
            return await future
    except TimeoutError:
        raise FrameError(f"“{video.name}” gave no picture within {wait_s:g} s.") from None


class _Watcher(QObject):
    """Owns the player and sink; their signals arrive here through real slots (GUI thread)."""

    def __init__(self, failed: Callable[[str], None]) -> None:
        # Parented to the application so that C++ owns it (see engine/thumbnails.py).
        super().__init__(QCoreApplication.instance())
        self.failed = failed
        self.on_loaded: Callable[[], None] = _nothing
        self.on_frame: Callable[[Frame], None] = _ignore_frame
        self.on_end: Callable[[], None] = _nothing
        self.scale_to: int | None = None
        self.duration_us = 0
        self._loaded = False
        self.player = QMediaPlayer(self)
        self.sink = QVideoSink(self.player)
        self.player.setVideoSink(self.sink)
        self.player.mediaStatusChanged.connect(self.status_changed)
        self.player.errorOccurred.connect(self.error_occurred)
        self.sink.videoFrameChanged.connect(self.frame_changed)

    def start(self, video: Path) -> None:
        """Open `video`; call after the callbacks are set (loading may finish right away)."""
        if (reason := unavailable_reason(self.player)) is not None:
            self.failed(reason)  # at once: no picture would ever come
            return
        self.player.setSource(QUrl.fromLocalFile(str(video)))

    @Slot(QVideoFrame)
    def frame_changed(self, frame: QVideoFrame) -> None:
        if not self._loaded or not frame.isValid():
            return
        image = frame.toImage()
        if image.isNull():
            return
        image = scaled(image, self.scale_to).copy()  # a deep copy: the buffer goes back
        self.on_frame(Frame(image, frame.startTime(), frame.endTime()))

    @Slot(QMediaPlayer.MediaStatus)
    def status_changed(self, status: Status) -> None:
        if status == Status.LoadedMedia and not self._loaded:
            self._loaded = True
            self.on_loaded()
        elif status == Status.EndOfMedia:
            self.on_end()
        elif status == Status.InvalidMedia:
            self.failed("it isn't a video that can be decoded")

    @Slot(QMediaPlayer.Error, str)
    def error_occurred(self, _error: QMediaPlayer.Error, text: str) -> None:
        self.failed(text or "it can't be decoded")

    def dispose(self) -> None:
        self.on_loaded = self.on_end = _nothing
        self.on_frame = _ignore_frame
        self.failed = _ignore_text
        # Already gone when a reader is closed at the end of a run, after the application
        # (its parent) has deleted it: nothing left to delete.
        if shiboken6.isValid(self):
            self.deleteLater()


@contextlib.contextmanager
def _decoding(fail: Callable[[str], None]) -> Iterator[tuple[_Watcher, QMediaPlayer]]:
    watcher = _Watcher(fail)
    try:
        yield watcher, watcher.player
    finally:
        watcher.dispose()


def _after_grace(loop: asyncio.AbstractEventLoop, settle: Callable[[], None]) -> None:
    """Call `settle` once frames still queued after EndOfMedia have had END_GRACE to arrive.
    Qt's signals may come when no loop runs any more (at quit): then nothing."""
    if not loop.is_closed():
        loop.call_later(END_GRACE, settle)


def _failing(video: Path, outcome: asyncio.Future[Any]) -> Callable[[str], None]:
    """A failure callback that ends `outcome` with a FrameError in words."""

    def failed(reason: str) -> None:
        if not outcome.done():
            outcome.set_exception(FrameError(f"Can't read “{video.name}”: {reason}."))

    return failed


def _nothing() -> None:
    pass


def _ignore_frame(_frame: Frame) -> None:
    pass


def _ignore_text(_text: str) -> None:
    pass
