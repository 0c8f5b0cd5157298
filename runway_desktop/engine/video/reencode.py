"""Join clips by re-encoding, for clips a remux can't join (other sizes, codecs, settings),
with an optional cross-fade between shots.

QtMultimedia decodes every frame (engine/video/frames.py) and encodes them again through
QMediaRecorder fed by a QVideoFrameInput. The only software video encoder in Qt's LGPL FFmpeg
is MPEG-4 Part 2 (`mpeg4`), so that is what the joined MP4 holds (see
docs/video-toolchain.md): larger than H.264 for the same look, played by QtMultimedia and the
usual players. The picture is silent (the clips' sound is not carried over).

Every clip is fitted into the first clip's picture size (aspect kept, black bars) at the first
clip's frame rate. Decoding runs at normal speed, which the encoder outpaces, so at most a few
frames wait in memory. The file is written beside the destination and renamed over it when
complete; cancelling the task stops the recorder and removes the partial file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QPoint, QSize, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtMultimedia import (
    QMediaCaptureSession,
    QMediaFormat,
    QMediaRecorder,
    QVideoFrame,
    QVideoFrameInput,
)

from runway_desktop.engine.video.frames import FrameError, duration_ms, stream_frames
from runway_desktop.engine.video.metadata import film_settings, save_video_settings
from runway_desktop.engine.video.mp4_join import JoinError, read_clip
from runway_desktop.engine.video.partial_files import create_partial

DECODE_SPEED = 1.0
STOP_WAIT_S = 30.0  # finishing the file after the last frame
SEND_WAIT_S = 30.0  # the encoder taking the next frame
DEFAULT_FPS = Fraction(24)
Quality = QMediaRecorder.Quality
RecorderState = QMediaRecorder.RecorderState
log = logging.getLogger(__name__)


async def reencode_join(
    sources: Sequence[Path],
    dest: Path,
    *,
    crossfade_ms: int = 0,
    quality: QMediaRecorder.Quality = Quality.VeryHighQuality,
    progress: Callable[[float], None] | None = None,
) -> Path:
    """Join `sources` into one MPEG-4 Part 2 MP4 at `dest`, cross-fading `crossfade_ms` between
    shots. Raises JoinError in words; cancel by cancelling the task."""
    if not sources:
        raise JoinError("Nothing to join: no clips were given.")
    sources = [Path(p) for p in sources]
    fps = await asyncio.to_thread(_frame_rate, sources[0])  # reads the clip's index
    lengths: list[int] = []
    for source in sources:
        try:
            lengths.append(await duration_ms(source))
        except FrameError as e:
            raise JoinError(f"Can't join: {e.message}") from None
    fade = round(Fraction(max(0, crossfade_ms), 1000) * fps)
    counts = [max(1, round(Fraction(length, 1000) * fps)) for length in lengths]
    if fade and 2 * fade > min(counts):
        raise JoinError(
            f"A {crossfade_ms / 1000:g} s cross-fade is longer than half the shortest clip "
            f"({min(lengths) / 1000:g} s). Choose a shorter cross-fade."
        )
    total = sum(counts) - fade * (len(sources) - 1)
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = create_partial(dest, ".partial.mp4")
        os.close(fd)
    except OSError as e:
        raise JoinError(f"Can't write in {dest.parent}: {e.strerror or e}.") from None
    encoder = _Encoder(tmp, fps, quality)
    try:
        await encoder.started()
        size: QSize | None = None
        held: list[QImage] = []  # the previous clip's last `fade` frames, to blend into this one
        for index, (source, count) in enumerate(zip(sources, counts, strict=True)):
            times = [float((k + Fraction(1, 2)) * 1000 / fps) for k in range(count)]
            hold_from = count - fade if index < len(sources) - 1 else count
            holding: list[QImage] = []
            try:
                async with contextlib.aclosing(
                    stream_frames(source, times, speed=DECODE_SPEED)
                ) as stream:
                    position = 0
                    async for frame in stream:
                        if size is None:
                            size = _even(frame.image.size())
                        image = _fitted(frame.image, size)
                        if position < len(held):
                            image = _blend(held[position], image, (position + 1) / (fade + 1))
                        if position >= hold_from:
                            holding.append(image)
                        else:
                            await encoder.send(image)
                            if progress is not None:
                                progress(min(0.99, encoder.sent / total))
                        position += 1
            except FrameError as e:
                raise JoinError(f"Can't join: {e.message}") from None
            held = holding
        await encoder.finish()
        # The film's settings (each shot's, in order), before it gets its name.
        film = await asyncio.to_thread(film_settings, sources)
        if film is not None:
            saved = await asyncio.to_thread(save_video_settings, tmp, film, sidecar=False)
            for problem in saved.problems:
                log.info("Joined film: %s", problem)
        os.replace(tmp, dest)
    except BaseException:
        await encoder.abandon()
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    finally:
        encoder.dispose()
    if progress is not None:
        progress(1.0)
    return dest


class _Encoder(QObject):
    """A QMediaRecorder fed frame by frame; its signals arrive through real slots.

    Qt may emit `readyToSendVideoFrame` from its encoder thread: a real slot of this GUI-thread
    object makes Qt queue it, so Python never runs there (see engine/thumbnails.py).
    """

    def __init__(self, path: Path, fps: Fraction, quality: QMediaRecorder.Quality) -> None:
        super().__init__(QCoreApplication.instance())  # C++ owns it; dispose() deletes it
        self.path = path
        self.fps = fps
        self.sent = 0
        self._error = ""
        self._state_changed = asyncio.Event()
        self._ready = asyncio.Event()
        self.session = QMediaCaptureSession(self)
        self.recorder = QMediaRecorder(self)
        self.input = QVideoFrameInput(self)
        # In this order, and the input without a format (it takes the first frame's): built
        # the other way, sendVideoFrame kept returning False (measured, Qt 6.11.3).
        self.session.setRecorder(self.recorder)
        self.session.setVideoFrameInput(self.input)
        media = QMediaFormat(QMediaFormat.FileFormat.MPEG4)
        media.setVideoCodec(QMediaFormat.VideoCodec.MPEG4)
        self.recorder.setMediaFormat(media)
        self.recorder.setQuality(quality)
        self.recorder.setVideoFrameRate(float(fps))
        self.recorder.setOutputLocation(QUrl.fromLocalFile(str(path)))
        self.recorder.recorderStateChanged.connect(self.state_changed)
        self.recorder.errorOccurred.connect(self.error_occurred)
        self.input.readyToSendVideoFrame.connect(self.ready)

    @Slot(QMediaRecorder.RecorderState)
    def state_changed(self, _state: QMediaRecorder.RecorderState) -> None:
        self._state_changed.set()

    @Slot(QMediaRecorder.Error, str)
    def error_occurred(self, _error: QMediaRecorder.Error, text: str) -> None:
        self._error = text or "the encoder stopped"
        self._state_changed.set()
        self._ready.set()

    @Slot()
    def ready(self) -> None:
        self._ready.set()

    async def started(self) -> None:
        self.recorder.record()
        await self._until(lambda: self.recorder.recorderState() == RecorderState.RecordingState)

    async def send(self, image: QImage) -> None:
        frame = QVideoFrame(image.convertToFormat(QImage.Format.Format_RGBA8888))
        start = self.sent * 1_000_000 / self.fps
        frame.setStartTime(round(start))
        frame.setEndTime(round(start + 1_000_000 / self.fps))
        while not self.input.sendVideoFrame(frame):
            self._check()
            self._ready.clear()
            try:
                async with asyncio.timeout(SEND_WAIT_S):  # (wait_for can drop a cancel)
                    await self._ready.wait()
            except TimeoutError:
                raise JoinError(
                    f"The encoder took no frame for {SEND_WAIT_S:g} s; nothing was saved."
                ) from None
        self.sent += 1

    async def finish(self) -> None:
        self.recorder.stop()
        await self._until(lambda: self.recorder.recorderState() == RecorderState.StoppedState)
        self._check()
        actual = Path(self.recorder.actualLocation().toLocalFile())
        if actual != self.path or not self.path.is_file() or self.path.stat().st_size == 0:
            raise JoinError("The encoder wrote no file; nothing was saved.")

    async def abandon(self) -> None:
        """Stop recording after a failure or a cancel (the caller removes the file)."""
        if self.recorder.recorderState() != RecorderState.StoppedState:
            self.recorder.stop()
            with contextlib.suppress(TimeoutError, JoinError):
                await self._until(
                    lambda: self.recorder.recorderState() == RecorderState.StoppedState
                )

    def dispose(self) -> None:
        if shiboken6.isValid(self):  # not already deleted with the application, at the end
            self.deleteLater()

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._check()
            self._state_changed.clear()
            try:
                async with asyncio.timeout(STOP_WAIT_S):
                    await self._state_changed.wait()
            except TimeoutError:
                raise JoinError(
                    f"The encoder didn't answer for {STOP_WAIT_S:g} s; nothing was saved."
                ) from None
        self._check()

    def _check(self) -> None:
        if self._error:
            raise JoinError(f"Re-encoding failed: {self._error}. Nothing was saved.")


def _frame_rate(video: Path) -> Fraction:
    """The first video track's frame rate from the MP4's own tables (24 when unreadable)."""
    try:
        clip = read_clip(video)
    except JoinError:
        return DEFAULT_FPS
    for track in clip.tracks:
        if track.handler == b"vide" and track.media_duration > 0:
            rate = Fraction(track.sample_count * track.timescale, track.media_duration)
            return rate.limit_denominator(1001)
    return DEFAULT_FPS


def _even(size: QSize) -> QSize:
    """MPEG-4 wants even sides (4:2:0 chroma)."""
    return QSize(max(2, size.width() // 2 * 2), max(2, size.height() // 2 * 2))


def _fitted(image: QImage, size: QSize) -> QImage:
    """`image` in a `size` picture: scaled to fit, aspect kept, centred on black."""
    if image.size() == size:
        return image
    scaled = image.scaled(
        size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    canvas = QImage(size, QImage.Format.Format_RGBA8888)
    canvas.fill(QColor(0, 0, 0))
    painter = QPainter(canvas)
    try:
        painter.drawImage(
            QPoint((size.width() - scaled.width()) // 2, (size.height() - scaled.height()) // 2),
            scaled,
        )
    finally:
        painter.end()
    return canvas


def _blend(before: QImage, after: QImage, amount: float) -> QImage:
    """`after` over `before` at opacity `amount` (0 → before, 1 → after)."""
    out = before.convertToFormat(QImage.Format.Format_RGBA8888)
    painter = QPainter(out)
    try:
        painter.setOpacity(amount)
        painter.drawImage(QPoint(0, 0), after)
    finally:
        painter.end()
    return out
