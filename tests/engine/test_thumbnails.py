"""First-frame thumbnails through QtMultimedia, on a qasync loop under pytest-qt.

The tests are sync on purpose: `qtbot.waitUntil` inside an `async def` test hangs (see
/work/shared/notes/qt-stack.md). A fixture puts a qasync loop on top of the QApplication;
coroutines are scheduled on it and qtbot spins Qt until they finish.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast
from unittest import mock

import pytest
import qasync
from PIL import Image
from PySide6.QtWidgets import QApplication

from runway_desktop.engine.thumbnails import (
    ThumbnailError,
    extract_thumbnail,
    probe_video_sync,
)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"
T = TypeVar("T")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 16:9 H.264 MP4: the repo's sample clip (no system ffmpeg is needed anywhere)."""
    sample = CLIPS / "16x9.mp4"
    assert sample.is_file(), f"{sample} is part of the repository"
    return sample


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop riding on the QApplication that pytest-qt's waits keep spinning."""
    event_loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        # stop() calls QApplication.exit(), which leaves Qt's quit flag set: every later
        # QEventLoop.exec() (qtbot.waitSignal, dialogs) would then return at once. Mute it.
        with mock.patch.object(qapp, "exit"):
            event_loop.stop()
        asyncio._set_running_loop(None)  # qasync set it; asyncio.run in other tests needs it gone
        event_loop.close()
        asyncio.set_event_loop(None)
        # The closed loop's Qt timer object is garbage in a cycle: collect it here, on the GUI
        # thread. Left to chance, the cyclic GC may run in another test's worker thread, where
        # Qt warns "Timers cannot be stopped from another thread" (and the test fails).
        gc.collect()


def drive(qtbot: Any, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    task = loop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=20_000)
    return task.result()


def test_thumbnail_of_a_real_clip(qtbot: Any, loop: asyncio.AbstractEventLoop, clip: Path,
                                  tmp_path: Path) -> None:  # fmt: skip
    dest = tmp_path / "thumb.jpg"

    assert drive(qtbot, loop, extract_thumbnail(clip, dest, max_size=160)) == dest

    info = probe_video_sync(clip)
    with Image.open(dest) as img:
        assert img.format == "JPEG"
        assert max(img.size) == 160
        assert img.width / img.height == pytest.approx(info.width / info.height, rel=0.02)
        # testsrc2 is colourful: a frame of one flat colour would mean a blank decode
        low, high = cast(tuple[int, int], img.convert("L").getextrema())
        assert high - low > 50
    assert not list(tmp_path.glob(".*.tmp"))


def test_png_thumbnail_and_no_upscaling(qtbot: Any, loop: asyncio.AbstractEventLoop, clip: Path,
                                        tmp_path: Path) -> None:  # fmt: skip
    info = probe_video_sync(clip)
    dest = tmp_path / "thumb.png"

    drive(qtbot, loop, extract_thumbnail(clip, dest, max_size=10_000))

    with Image.open(dest) as img:
        assert img.format == "PNG"
        assert img.size == (info.width, info.height)


@pytest.mark.parametrize("name", ["9x16.mp4", "21x9.mp4"])
def test_other_aspects(qtbot: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path,
                       name: str) -> None:  # fmt: skip
    clip = CLIPS / name
    if not clip.exists():
        pytest.skip(f"{name} not in resources/clips")
    info = probe_video_sync(clip)
    dest = drive(qtbot, loop, extract_thumbnail(clip, tmp_path / "t.jpg", max_size=120))
    with Image.open(dest) as img:
        assert max(img.size) == 120
        assert img.width / img.height == pytest.approx(info.width / info.height, rel=0.03)


def test_many_thumbnails_in_a_row(qtbot: Any, loop: asyncio.AbstractEventLoop, clip: Path,
                                  tmp_path: Path) -> None:  # fmt: skip
    async def many() -> list[Path]:
        return [await extract_thumbnail(clip, tmp_path / f"t{i}.jpg") for i in range(8)]

    paths = drive(qtbot, loop, many())
    assert all(p.stat().st_size > 0 for p in paths)


def test_concurrent_thumbnails(qtbot: Any, loop: asyncio.AbstractEventLoop, clip: Path,
                               tmp_path: Path) -> None:  # fmt: skip
    async def together() -> list[Path]:
        jobs = (extract_thumbnail(clip, tmp_path / f"c{i}.jpg") for i in range(4))
        return list(await asyncio.gather(*jobs))

    assert len(drive(qtbot, loop, together())) == 4


@pytest.mark.qt_log_ignore("Could not open media", "Invalid data found")
def test_corrupt_file_raises_without_hanging(qtbot: Any, loop: asyncio.AbstractEventLoop,
                                             tmp_path: Path) -> None:  # fmt: skip
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(4000))

    task = loop.create_task(extract_thumbnail(bad, tmp_path / "t.jpg", frame_timeout=8))
    qtbot.waitUntil(task.done, timeout=15_000)

    with pytest.raises(ThumbnailError, match=r"bad\.mp4"):
        task.result()
    assert not (tmp_path / "t.jpg").exists()


@pytest.mark.qt_log_ignore("Could not open media", "Invalid data found")
def test_text_file_raises(qtbot: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello, not a video\n" * 100)
    with pytest.raises(ThumbnailError):
        drive(qtbot, loop, extract_thumbnail(bad, tmp_path / "t.jpg"))


def test_missing_file_raises(qtbot: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    with pytest.raises(ThumbnailError, match="doesn't exist"):
        drive(qtbot, loop, extract_thumbnail(tmp_path / "gone.mp4", tmp_path / "t.jpg"))


def test_truncated_clip_still_gives_a_picture_or_a_clear_error(
    qtbot: Any, loop: asyncio.AbstractEventLoop, clip: Path, tmp_path: Path
) -> None:
    # A download cut short: either the first frame survives or we get ThumbnailError — no hang.
    cut = tmp_path / "cut.mp4"
    data = clip.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    task = loop.create_task(extract_thumbnail(cut, tmp_path / "t.jpg", frame_timeout=8))
    qtbot.waitUntil(task.done, timeout=15_000)
    if task.exception() is None:
        assert (tmp_path / "t.jpg").exists()
    else:
        assert isinstance(task.exception(), ThumbnailError)


@pytest.mark.qt_log_ignore("Immediate exit requested")  # opening interrupted by our stop()
def test_timeout_gives_thumbnail_error(
    qtbot: Any, loop: asyncio.AbstractEventLoop, clip: Path, tmp_path: Path
) -> None:
    with pytest.raises(ThumbnailError, match="no picture after"):
        drive(qtbot, loop, extract_thumbnail(clip, tmp_path / "t.jpg", frame_timeout=0))


@pytest.mark.qt_log_ignore("Could not open media", "Invalid data found")
def test_probe(qapp: QApplication, clip: Path, tmp_path: Path) -> None:
    info = probe_video_sync(clip)
    assert info.width > 0
    assert info.height > 0
    assert 500 < info.duration_ms < 60_000
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    with pytest.raises(ThumbnailError):
        probe_video_sync(bad)
