"""First-frame thumbnails of finished videos, decoded by QtMultimedia (its bundled FFmpeg).

`extract_thumbnail` runs on the app's qasync loop: QMediaPlayer decodes on its own threads and
hands frames to a QVideoSink; the first valid one resolves an asyncio Future. No audio output
is attached, so nothing is ever heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QMetaObject, QObject, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer, QVideoFrame, QVideoSink

DEFAULT_TIMEOUT = 10.0
JPEG_QUALITY = 85


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

    The format follows dest's suffix: `.png` → PNG, anything else → JPEG. Returns `dest`.
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
    if not image.save(str(tmp), fmt, JPEG_QUALITY if fmt == "JPEG" else -1):
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ThumbnailError(f"Couldn't save the thumbnail in {dest.parent}.")
    os.replace(tmp, dest)
    return dest


async def _first_frame(video: Path, frame_timeout: float) -> QImage:
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    found: asyncio.Future[QImage] = loop.create_future()

    def settle(image: QImage | None, error: str | None = None) -> None:
        if found.done():
            return
        if error is not None:
            found.set_exception(
                ThumbnailError(f"Can't make a thumbnail of “{video.name}”: {error}")
            )
        else:
            found.set_result(image)

    def report(image: QImage | None, error: str | None = None) -> None:
        if threading.get_ident() == loop_thread:
            settle(image, error)  # the usual case: Qt delivers these on the GUI thread
            return
        # From a decoder thread, hop to the loop. (Not by default: with PySide6 6.12 on
        # Python 3.11 every qasync call_soon_threadsafe, a signal emit, leaks a ref to True.)
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody waits
            loop.call_soon_threadsafe(settle, image, error)

    def on_frame(frame: QVideoFrame) -> None:
        if found.done() or not frame.isValid():
            return
        image = frame.toImage()
        if not image.isNull():
            report(image.copy())  # a deep copy: the frame's buffer goes back to the decoder

    def on_error(_error: QMediaPlayer.Error, text: str) -> None:
        report(None, text or "the file can't be decoded.")

    def on_status(status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.InvalidMedia:
            report(None, "it isn't a video that can be decoded.")
        elif status == QMediaPlayer.MediaStatus.EndOfMedia:
            report(None, "it has no picture.")

    with _Player() as (player, sink):
        player.connect_(sink.videoFrameChanged, on_frame)
        player.connect_(player.qt.errorOccurred, on_error)
        player.connect_(player.qt.mediaStatusChanged, on_status)
        player.qt.setSource(QUrl.fromLocalFile(str(video)))
        player.qt.play()
        try:
            return await asyncio.wait_for(found, frame_timeout)
        except TimeoutError:
            raise ThumbnailError(
                f"Can't make a thumbnail of “{video.name}”: no picture after {frame_timeout:g} s."
            ) from None


class _Player:
    """A QMediaPlayer + QVideoSink pair that is always stopped, disconnected and deleted."""

    def __init__(self) -> None:
        self.qt = QMediaPlayer()
        self.sink = QVideoSink()
        self.qt.setVideoSink(self.sink)
        self._connections: list[QMetaObject.Connection] = []

    def connect_(self, signal: Any, slot: Callable[..., None]) -> None:
        self._connections.append(signal.connect(slot))

    def __enter__(self) -> tuple[_Player, QVideoSink]:
        return self, self.sink

    def __exit__(self, *exc: object) -> None:
        # QObject.disconnect(connection), not signal.disconnect(slot): in PySide6 6.12 every
        # SignalInstance.disconnect() drops a reference to True, and enough of them crash
        # the interpreter at exit ("bool_dealloc: deallocating True or False").
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections.clear()
        self.qt.stop()
        self.qt.setSource(QUrl())  # closes the file and stops the decoder threads
        self.qt.setVideoSink(None)
        self.qt.deleteLater()
        self.sink.deleteLater()


def probe_video_sync(video: Path, timeout: float = DEFAULT_TIMEOUT) -> VideoInfo:
    """Width, height and duration of `video`, spinning a local Qt event loop.

    For tests and the command line: it blocks, so never call it from a coroutine on the app's
    loop. Raises ThumbnailError when the file can't be opened in time.
    """
    video = Path(video)
    waiter = QEventLoop()
    outcome: dict[str, Any] = {}

    def on_status(status: QMediaPlayer.MediaStatus) -> None:
        if status in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.InvalidMedia):
            outcome.setdefault("status", status)
            waiter.quit()

    def on_error(_error: QMediaPlayer.Error, text: str) -> None:
        outcome.setdefault("error", text)
        waiter.quit()

    timer = QTimer(singleShot=True, interval=int(timeout * 1000))
    timer.timeout.connect(waiter.quit)
    with _Player() as (player, _sink):
        player.connect_(player.qt.mediaStatusChanged, on_status)
        player.connect_(player.qt.errorOccurred, on_error)
        player.qt.setSource(QUrl.fromLocalFile(str(video)))
        if not outcome:  # not already settled while setting the source
            timer.start()
            waiter.exec()
            timer.stop()
        if outcome.get("status") != QMediaPlayer.MediaStatus.LoadedMedia:
            reason = outcome.get("error") or "it isn't a video that can be decoded"
            raise ThumbnailError(f"Can't read “{video.name}”: {reason}.")
        size = player.qt.metaData().value(QMediaMetaData.Key.Resolution)
        return VideoInfo(size.width(), size.height(), player.qt.duration())
