"""Exports of one clip: an animated GIF or WebP, or a WebM video (size and frame-rate presets,
in/out trim), a PNG still of a position, and the PNG of the exact last frame (what "Extend"
starts from).

QtMultimedia decodes (engine/video/frames.py, on the app's loop); Pillow encodes GIF, animated
WebP and the VP8 key frames of a WebM in a worker thread (GIF: LZW, public since 2004; WebP and
VP8: libwebp, BSD; the WebM container: engine/video/webm_writer.py). Files are written beside
the destination and renamed over it only when whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

from PIL import Image
from PySide6.QtGui import QImage

from runway_desktop.engine.video.export_options import (
    DEFAULT_QUALITY,
    MAX_FRAMES,
    SIZE_PRESETS,
    WHOLE_CLIP,
    AnimationFormat,
    SizePreset,
    Trim,
)
from runway_desktop.engine.video.frames import (
    FrameError,
    frame_at,
    last_frame,
    stream_frames,
)
from runway_desktop.engine.video.frames import duration_ms as video_duration_ms
from runway_desktop.engine.video.partial_files import create_partial
from runway_desktop.engine.video.webm_writer import WebmWriter, frame_size, vp8_key_frame

__all__ = [  # the export choices live in export_options.py (no Qt there); offered here too
    "DEFAULT_QUALITY",
    "MAX_FRAMES",
    "SIZE_PRESETS",
    "AnimationFormat",
    "ExportError",
    "SizePreset",
    "Trim",
    "export_animation",
    "export_last_frame",
    "export_still",
    "to_pil",
]

Progress = Callable[[float], None]  # 0.0 … 1.0


class ExportError(Exception):
    """The export didn't happen; `message` says what and what to do. Nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def export_animation(
    video: Path,
    dest: Path,
    *,
    preset: SizePreset = SIZE_PRESETS["medium"],
    fmt: AnimationFormat = AnimationFormat.GIF,
    trim: Trim = WHOLE_CLIP,
    duration_ms: int | None = None,
    quality: int = DEFAULT_QUALITY,
    progress: Progress | None = None,
) -> Path:
    """Write `video` (its trimmed range) as a looping GIF or WebP, or a WebM video, at
    `preset`'s width and fps. `quality` (0–100) is libwebp's, for WebP and WebM.

    `duration_ms` is the clip's length when known; otherwise QtMultimedia is asked.
    Decoding runs at 4× speed; cancel by cancelling the task (no file is left behind).
    """
    if duration_ms is None:
        try:
            duration_ms = await video_duration_ms(video)
        except FrameError as e:
            raise ExportError(f"Couldn't export: {e.message}") from None
    start, end = _checked_range(trim, duration_ms)
    step = 1000 / preset.fps
    times = [start + i * step for i in range(int((end - start) / step + 0.5))] or [start]
    if not 0 <= quality <= 100:
        raise ExportError(f"Quality {quality} isn't between 0 and 100. Choose one in that range.")
    if len(times) > MAX_FRAMES:
        raise ExportError(
            f"That range makes {len(times):,} frames; an animation takes at most "
            f"{MAX_FRAMES:,}. Trim it shorter or pick a lower frame rate."
        )

    # Frames go to the encoder (a worker thread) as they are decoded, so only the few in
    # flight are held as full pictures; the GIF writer keeps 1 byte per pixel per frame.
    feed: queue.SimpleQueue[QImage | None] = queue.SimpleQueue()
    abandoned = threading.Event()  # stop now, even with frames still waiting in `feed`
    feeding = asyncio.get_running_loop()
    writer = asyncio.ensure_future(asyncio.to_thread(
        _write_animation, feed, Path(dest), fmt, preset.fps, quality, abandoned,
        feeding.is_running))
    try:
        async with contextlib.aclosing(
            stream_frames(video, times, max_width=preset.width)
        ) as stream:
            done = 0
            async for frame in stream:
                if writer.done():
                    break  # the writer failed (e.g. the folder can't be written): say so now
                feed.put(frame.image)
                done += 1
                if progress is not None:
                    progress(0.9 * done / len(times))
        feed.put(None)
        await asyncio.shield(writer)
    except GeneratorExit:  # closed unfinished, its loop gone: stop the writer, await nothing
        abandoned.set()
        feed.put(_ABANDON)
        raise
    except BaseException as e:
        abandoned.set()
        feed.put(_ABANDON)  # the writer stops and removes its partial file
        await asyncio.gather(writer, return_exceptions=True)
        if isinstance(e, FrameError):
            raise ExportError(f"Couldn't export: {e.message}") from None
        raise
    if progress is not None:
        progress(1.0)
    return Path(dest)


async def export_still(video: Path, dest: Path, position_ms: int) -> Path:
    """A PNG of the frame shown at `position_ms` (the preview's current frame)."""
    try:
        frame = await frame_at(video, position_ms)
    except FrameError as e:
        raise ExportError(f"Couldn't save the still: {e.message}") from None
    await asyncio.to_thread(_write_png, frame.image, Path(dest))
    return Path(dest)


async def export_last_frame(video: Path, dest: Path) -> Path:
    """A PNG of the clip's exact last frame, full size: the start image of an extension."""
    try:
        frame = await last_frame(video)
    except FrameError as e:
        raise ExportError(f"Couldn't take the last frame: {e.message}") from None
    await asyncio.to_thread(_write_png, frame.image, Path(dest))
    return Path(dest)


def to_pil(image: QImage) -> Image.Image:
    """A Pillow RGB copy of a QImage (safe in any thread: QImage isn't tied to the GUI)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data = bytes(rgb.constBits())
    return Image.frombytes(
        "RGB", (rgb.width(), rgb.height()), data, "raw", "RGB", rgb.bytesPerLine()
    )


def _checked_range(trim: Trim, duration_ms: int) -> tuple[int, int]:
    end = duration_ms if trim.end_ms is None else trim.end_ms
    if trim.start_ms < 0 or end > duration_ms:
        raise ExportError(
            f"The range {trim.start_ms / 1000:g}–{end / 1000:g} s is outside the clip "
            f"(0–{duration_ms / 1000:g} s). Move the in and out points inside it."
        )
    if end <= trim.start_ms:
        raise ExportError("The out point is at or before the in point. Move it later.")
    return trim.start_ms, end


class _Abandoned(Exception):
    """The export was cancelled or failed while the writer was at work."""


_ABANDON = QImage()  # a sentinel: a null image never comes from the decoder
FEEDER_CHECK_SECONDS = 0.25  # how often a writer waiting for a frame checks its feeder


def _write_animation(
    feed: queue.SimpleQueue[QImage | None],
    dest: Path,
    fmt: AnimationFormat,
    fps: int,
    quality: int,
    abandoned: threading.Event,
    feeding: Callable[[], bool] = lambda: True,
) -> None:
    """Encode frames from `feed` until None (done), or until `abandoned` is set (stop before
    the next frame, nothing written). `feeding()`: whether the loop that feeds it still runs.

    The writer never outlives its feeder: a loop stopped with the export still pending (the
    app quitting mid-export) never resumes it to say "abandon", and closing that loop waits
    for this thread — it waited on `feed` forever (the app hung at quit)."""
    delay = round(1000 / fps)

    def next_image() -> QImage | None:
        while True:
            try:
                return feed.get(timeout=FEEDER_CHECK_SECONDS)
            except queue.Empty:
                if abandoned.is_set() or not feeding():
                    raise _Abandoned from None

    def frames() -> Iterator[Image.Image]:
        while True:
            image = next_image()
            if abandoned.is_set() or image is _ABANDON:
                raise _Abandoned
            if image is None:
                return
            picture = to_pil(image)
            if fmt is AnimationFormat.GIF:
                # Its own 256 colours per frame, dithered; much faster than Pillow's default
                # median cut (measured: 10 vs 54 ms for a 720×405 frame) and smaller files.
                picture = picture.quantize(
                    256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG
                )
            yield picture

    pictures = frames()

    def write(path: Path) -> None:
        first = next(pictures, None)
        if first is None:
            raise _Abandoned
        if fmt is AnimationFormat.WEBM:
            _write_webm(path, itertools.chain([first], pictures), Fraction(fps), quality)
        elif fmt is AnimationFormat.GIF:
            first.save(
                path,
                format="GIF",
                save_all=True,
                append_images=pictures,
                duration=delay,
                loop=0,
                disposal=1,
            )
        else:
            first.save(
                path,
                format="WEBP",
                save_all=True,
                append_images=pictures,
                duration=delay,
                loop=0,
                quality=quality,
                method=4,
            )

    with contextlib.suppress(_Abandoned):
        _atomic(dest, write)


def _write_webm(path: Path, pictures: Iterator[Image.Image], fps: Fraction, quality: int) -> None:
    with path.open("wb") as file:
        writer: WebmWriter | None = None
        for picture in pictures:
            frame = vp8_key_frame(picture, quality)
            if writer is None:
                writer = WebmWriter(file, *frame_size(frame), fps)
            writer.add(frame)
        if writer is not None:
            writer.close()


def _write_png(image: QImage, dest: Path) -> None:
    picture = to_pil(image)
    _atomic(dest, lambda path: picture.save(path, format="PNG"))


def _atomic(dest: Path, write: Callable[[Path], None]) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = create_partial(dest)
    except OSError as e:
        raise ExportError(f"Can't write in {dest.parent}: {e.strerror or e}.") from None
    os.close(fd)
    try:
        write(tmp)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ExportError(f"Couldn't write “{dest.name}”: {e.strerror or e}.") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
