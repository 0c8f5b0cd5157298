"""The self-test's video checks: what Extend, Join and every export need, done for real on the
bundled sample clip (resources/clips/16x9.mp4: 320×180, 24 fps, 2 s) and each result opened
back — Pillow for GIF, WebP and PNG, QtMultimedia for MP4 and WebM. In a frozen bundle this
proves that Qt's FFmpeg plugin (decoders, the MPEG-4 encoder, the matroska demuxer), Pillow's
libwebp and our own MP4/WebM writers all made it in.

Each check returns its detail line or raises CheckFailed; runway_desktop/selftest.py runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from runway_desktop.selftest import CheckFailed

SIZE = (320, 180)


def _clip() -> Path:
    from runway_desktop.simulator.media import clips_dir

    return clips_dir() / "16x9.mp4"


def _pillow(path: Path, fmt: str, frames: int) -> str:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        found = (image.format, image.size, getattr(image, "n_frames", 1))
    if found != (fmt, SIZE, frames):
        raise CheckFailed(f"Pillow read {path.name} as {found}, wanted {(fmt, SIZE, frames)}")
    return f"{path.name}: {fmt} {SIZE[0]}x{SIZE[1]}, {frames} frame(s), {_bytes(path)} bytes"


def _bytes(path: Path) -> int:
    return path.stat().st_size


async def _played(path: Path, expected_ms: int, tolerance_ms: int = 50) -> str:
    """QtMultimedia opens `path`, plays it for about `expected_ms`, and decodes its last frame."""
    from runway_desktop.engine.video.frames import duration_ms, last_frame

    length = await duration_ms(path)
    if abs(length - expected_ms) > tolerance_ms:
        raise CheckFailed(f"QtMultimedia plays {path.name} for {length} ms, not {expected_ms}")
    frame = await last_frame(path)
    size = (frame.image.width(), frame.image.height())
    if size != SIZE:
        raise CheckFailed(f"{path.name}'s last frame is {size}, not {SIZE}")
    return (f"{path.name}: {length} ms in QtMultimedia, last frame {size[0]}x{size[1]}, "
            f"{_bytes(path)} bytes")


async def check_last_frame(workdir: Path) -> str:
    """Extend's start image: the exact last frame, as a PNG."""
    from runway_desktop.engine.video.exports import export_last_frame

    return _pillow(await export_last_frame(_clip(), workdir / "last.png"), "PNG", 1)


async def check_join(workdir: Path) -> str:
    """Join: the clip twice, without re-encoding."""
    from runway_desktop.engine.video.join_task import join_clips

    result = await join_clips([_clip(), _clip()], workdir / "joined.mp4")
    return await _played(result.path, 4000)


async def check_reencode(workdir: Path) -> str:
    """The re-encoding join (MPEG-4 Part 2 through QMediaRecorder)."""
    from runway_desktop.engine.video.reencode import reencode_join

    return await _played(await reencode_join([_clip()], workdir / "reencoded.mp4"), 2000, 100)


async def check_png(workdir: Path) -> str:
    from runway_desktop.engine.video.exports import export_still

    return _pillow(await export_still(_clip(), workdir / "still.png", 1000), "PNG", 1)


def _animation(fmt_name: str) -> Callable[[Path], Awaitable[str]]:
    async def check(workdir: Path) -> str:
        from runway_desktop.engine.video.exports import (
            SIZE_PRESETS,
            AnimationFormat,
            Trim,
            export_animation,
        )

        fmt = AnimationFormat(fmt_name)
        dest = await export_animation(_clip(), workdir / f"clip.{fmt.value}",
                                      preset=SIZE_PRESETS["small"], fmt=fmt, trim=Trim(0, 1000),
                                      duration_ms=2000)
        if fmt is AnimationFormat.WEBM:
            return await _played(dest, 1000)
        return _pillow(dest, fmt.name, 10)  # 1 s at the small preset's 10 fps

    return check


# (name, check) in the order they run and print.
CHECKS: tuple[tuple[str, Callable[[Path], Awaitable[str]]], ...] = (
    ("extend-last-frame", check_last_frame),
    ("join", check_join),
    ("export-mp4", check_reencode),
    ("export-gif", _animation("gif")),
    ("export-webp", _animation("webp")),
    ("export-webm", _animation("webm")),
    ("export-png", check_png),
)
