"""First-frame thumbnails of finished videos, decoded by QtMultimedia (its bundled FFmpeg).

`extract_thumbnail` runs on the app's qasync loop: QMediaPlayer decodes on its own threads and
hands frames to a QVideoSink; the first valid one resolves an asyncio Future. No audio output
is attached, so nothing is ever heard.

Threads and the GIL — why the code looks the way it does: the sink emits `videoFrameChanged`
on the FFmpeg renderer thread, and QMediaPlayer's stop()/setSource()/destructor wait for that
thread. A Python callable connected to the signal makes the renderer thread take the GIL (to
call it, or to free the connection once disconnected); calling stop() from Python holds the
GIL while waiting for that thread: a deadlock (seen about once in 700 runs). So:
- the signals go to real `@Slot` methods of a QObject on the GUI thread (queued by Qt, no
  Python on the renderer thread);
- Python never calls a blocking player method; the player is handed to `deleteLater()` and
  destroyed by the event loop, which runs with the GIL released.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QSize, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer, QVideoFrame, QVideoSink

from runway_desktop.engine.video.backend import unavailable_reason

DEFAULT_TIMEOUT = 10.0
JPEG_QUALITY = 85

Status = QMediaPlayer.MediaStatus


class ThumbnailError(Exception):
    """No thumbnail could be made; `message` is for people (the video itself may be fine)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration_ms: int


async def extract_thumbnail(
    video: Path, dest: Path, *, max_size: int = 320, frame_timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Save the first frame of `video`, scaled to fit max_size × max_size, as `dest`.

    The format follows dest's suffix: `.png` → PNG, anything else → JPEG. Never upscales.
    Returns `dest`; raises ThumbnailError (missing, undecodable, or no frame in time).
    """
    video, dest = Path(video), Path(dest)
    if not video.is_file():
        raise ThumbnailError(f"Can't make a thumbnail: “{video.name}” doesn't exist.")
    image = await _first_frame(video, frame_timeout)
    if image.width() > max_size or image.height() > max_size:
        image = image.scaled(
            QSize(max_size, max_size),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    fmt = "PNG" if dest.suffix.lower() == ".png" else "JPEG"
    # Write beside, then rename: a half-written thumbnail is never shown.
    tmp = dest.with_name(f".{dest.name}.tmp")
    quality = JPEG_QUALITY if fmt == "JPEG" else -1
    if not image.save(str(tmp), fmt, quality):  # type: ignore[call-overload]  # PySide6's stub wants bytes; it takes str
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ThumbnailError(f"Couldn't save the thumbnail in {dest.parent}.")
    os.replace(tmp, dest)
    return dest


async def _first_frame(video: Path, frame_timeout: float) -> QImage:
    found: asyncio.Future[QImage] = asyncio.get_running_loop().create_future()

    def fail(reason: str) -> None:
        if not found.done():
            message = f"Can't make a thumbnail of “{video.name}”: {reason}"
            found.set_exception(ThumbnailError(message))

    def on_frame(frame: QVideoFrame) -> None:
        if found.done() or not frame.isValid():
            return
        image = frame.toImage()
        if not image.isNull():
            found.set_result(image.copy())  # a deep copy: the frame's buffer goes back

    def on_status(status: Status) -> None:
        if status == Status.InvalidMedia:
            fail("it isn't a video that can be decoded.")
        elif status == Status.EndOfMedia:
            fail("it has no picture.")

    with _playing(video, on_frame, on_status, lambda text: fail(text or "it can't be decoded.")):
        try:
            return await asyncio.wait_for(found, frame_timeout)
        except TimeoutError:
            raise ThumbnailError(
                f"Can't make a thumbnail of “{video.name}”: no picture after {frame_timeout:g} s."
            ) from None


def probe_video_sync(video: Path, timeout: float = DEFAULT_TIMEOUT) -> VideoInfo:
    """Width, height and duration of `video`, spinning a local Qt event loop.

    For tests and the command line: it blocks, so never call it from a coroutine on the app's
    loop. Raises ThumbnailError when the file can't be opened in time.
    """
    video = Path(video)
    waiter = QEventLoop()
    outcome: dict[str, object] = {}

    def on_status(status: Status) -> None:
        if status in (Status.LoadedMedia, Status.InvalidMedia):
            outcome.setdefault("status", status)
            waiter.quit()

    def on_error(text: str) -> None:
        outcome.setdefault("error", text)
        waiter.quit()

    timer = QTimer(singleShot=True, interval=int(timeout * 1000))
    timer.timeout.connect(waiter.quit)
    with _playing(video, None, on_status, on_error, play=False) as player:
        if not outcome:  # it may have settled already, while the source was set
            timer.start()
            waiter.exec()  # releases the GIL while Qt works
            timer.stop()
        if outcome.get("status") != Status.LoadedMedia:
            reason = outcome.get("error") or "it isn't a video that can be decoded"
            raise ThumbnailError(f"Can't read “{video.name}”: {reason}.")
        size = player.metaData().value(QMediaMetaData.Key.Resolution)
        return VideoInfo(size.width(), size.height(), player.duration())


class _Watcher(QObject):
    """Owns the player and sink, and receives their signals through real Qt slots.

    Real slots (not Python callables) let Qt queue the renderer thread's frames to the GUI
    thread without touching Python there; see the module docstring.
    """

    def __init__(
        self,
        on_frame: Callable[[QVideoFrame], None] | None,
        on_status: Callable[[Status], None],
        on_error: Callable[[str], None],
    ) -> None:
        # Parented to the application, so C++ owns it: were Python to own it, the cyclic
        # garbage collector could delete it (and the player's timers) from whichever thread
        # happens to run a collection — a crash. `dispose()` deletes it on the GUI thread.
        super().__init__(QCoreApplication.instance())
        self._on_frame, self._on_status, self._on_error = on_frame, on_status, on_error
        self.player = QMediaPlayer(self)
        self.player.mediaStatusChanged.connect(self.status_changed)
        self.player.errorOccurred.connect(self.error_occurred)
        if on_frame is not None:
            self.sink = QVideoSink(self.player)  # a child: destroyed after the player
            self.player.setVideoSink(self.sink)
            self.sink.videoFrameChanged.connect(self.frame_changed)

    @Slot(QVideoFrame)
    def frame_changed(self, frame: QVideoFrame) -> None:
        if self._on_frame is not None:
            self._on_frame(frame)

    @Slot(QMediaPlayer.MediaStatus)
    def status_changed(self, status: Status) -> None:
        self._on_status(status)

    @Slot(QMediaPlayer.Error, str)
    def error_occurred(self, _error: QMediaPlayer.Error, text: str) -> None:
        self._on_error(text)

    def dispose(self) -> None:
        # Forget the callbacks (late frames become no-ops) and let the event loop destroy
        # the player: its destructor waits for the decoder threads, which must not find the
        # GIL held by us.
        self._on_frame = None
        self._on_status = self._on_error = _ignore
        if shiboken6.isValid(self):  # not already deleted with the application, at the end
            self.deleteLater()


def _ignore(*_args: object) -> None:
    pass


@contextlib.contextmanager
def _playing(
    video: Path,
    on_frame: Callable[[QVideoFrame], None] | None,
    on_status: Callable[[Status], None],
    on_error: Callable[[str], None],
    *,
    play: bool = True,
) -> Iterator[QMediaPlayer]:
    watcher = _Watcher(on_frame, on_status, on_error)
    try:
        if (reason := unavailable_reason(watcher.player)) is not None:
            on_error(reason)  # at once: no picture would ever come
        else:
            watcher.player.setSource(QUrl.fromLocalFile(str(video)))
            if play:
                watcher.player.play()  # no audio output is attached: silent
        yield watcher.player
    finally:
        watcher.dispose()
