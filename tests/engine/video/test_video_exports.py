"""Exports of real clips: GIF and animated WebP with size presets and in/out trim, a PNG still
and the last-frame PNG, opened again with Pillow; bad ranges refused in words.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageSequence

from runway_desktop.engine.video.exports import (
    SIZE_PRESETS,
    AnimationFormat,
    ExportError,
    Trim,
    export_animation,
    export_last_frame,
    export_still,
)
from runway_desktop.engine.video.frames import frame_at
from tests.helpers.video import CLIP, CLIPS, DATA, Drive, mean_difference, rgb


def test_gif_of_a_whole_clip_at_the_small_preset(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "clip.gif"
    progress: list[float] = []

    drive(export_animation(CLIP, dest, preset=SIZE_PRESETS["small"], progress=progress.append))

    with Image.open(dest) as gif:
        assert gif.format == "GIF"
        assert gif.size == (320, 180)  # the small preset is 320 wide: the clip already is
        assert getattr(gif, "n_frames", 1) == 20  # 2 s at 10 fps
        assert gif.info["loop"] == 0
        delays = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(gif)]
    assert delays == [100] * 20
    assert mean_difference(frames[0], frames[-1]) > 4  # it moves
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["clip.gif"]


def test_trimmed_gif_starts_at_the_in_point(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "trim.gif"

    drive(
        export_animation(
            CLIP, dest, preset=SIZE_PRESETS["medium"], trim=Trim(start_ms=500, end_ms=1500)
        )
    )

    in_point = rgb(drive(frame_at(CLIP, 500)).image)
    start = rgb(drive(frame_at(CLIP, 0)).image)
    with Image.open(dest) as gif:
        assert getattr(gif, "n_frames", 1) == 12  # 1 s at 12 fps
        assert gif.size == (320, 180)  # never enlarged past the clip
        first = gif.convert("RGB")
    # A GIF palette costs a little; the in-point frame is still far closer than the clip's start.
    assert mean_difference(first, in_point) < 6
    assert mean_difference(first, in_point) < mean_difference(first, start) / 2


def test_a_narrow_preset_scales_down_keeping_the_shape(drive: Drive[Any], tmp_path: Path) -> None:
    from runway_desktop.engine.video.exports import SizePreset

    dest = tmp_path / "tall.webp"

    drive(
        export_animation(
            CLIPS / "9x16.mp4",
            dest,
            preset=SizePreset("tiny", 90, 10),
            fmt=AnimationFormat.WEBP,
            trim=Trim(0, 1000),
        )
    )

    with Image.open(dest) as webp:
        assert webp.format == "WEBP"
        assert webp.size == (90, 160)
        assert getattr(webp, "n_frames", 1) == 10


def test_png_still_is_the_frame_at_the_position(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "still.png"

    drive(export_still(CLIP, dest, 1000))

    with Image.open(dest) as png:
        assert png.format == "PNG"
        assert png.size == (320, 180)
        assert mean_difference(png.convert("RGB"), drive(frame_at(CLIP, 1000)).image) == 0


def test_last_frame_png_for_extend(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "start.png"

    drive(export_last_frame(CLIP, dest))

    assert mean_difference(dest, DATA / "16x9-last.png") < 1.5


@pytest.mark.parametrize(
    ("trim", "words"),
    [
        (Trim(1500, 500), "before the in point"),
        (Trim(0, 2500), "outside the clip"),
        (Trim(-10, 1000), "outside the clip"),
    ],
)
def test_a_bad_range_is_refused_and_nothing_written(
    drive: Drive[Any], tmp_path: Path, trim: Trim, words: str
) -> None:
    with pytest.raises(ExportError, match=words):
        drive(export_animation(CLIP, tmp_path / "x.gif", trim=trim))
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_an_error_in_words(drive: Drive[Any], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")

    with pytest.raises(ExportError, match="Can't write in"):
        drive(export_still(CLIP, blocker / "still.png", 0))


def test_a_cancelled_export_leaves_no_file(drive: Drive[Any], tmp_path: Path) -> None:
    async def start_then_cancel() -> bool:
        task: asyncio.Task[Path] | None = None

        def on_progress(fraction: float) -> None:
            if task is not None and 0 < fraction < 0.5:
                task.cancel()  # part-way through the frames

        task = asyncio.ensure_future(
            export_animation(CLIP, tmp_path / "x.gif", progress=on_progress)
        )
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert drive(start_then_cancel())
    assert list(tmp_path.iterdir()) == []


def test_an_animation_into_an_unwritable_folder_is_an_error_in_words(
    drive: Drive[Any], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")

    with pytest.raises(ExportError, match="Can't write in"):
        drive(export_animation(CLIP, blocker / "x.gif"))
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


_STOPPED_MID_EXPORT = """
import asyncio, sys
from pathlib import Path
import qasync
from PySide6.QtGui import QGuiApplication
from runway_desktop.engine.video.exports import AnimationFormat, export_animation

app = QGuiApplication(["t"])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
dest = Path(sys.argv[2])
started = asyncio.Event()
task = loop.create_task(export_animation(
    Path(sys.argv[1]), dest, fmt=AnimationFormat.WEBP,
    progress=lambda fraction: started.set() if fraction > 0 else None))
loop.run_until_complete(started.wait())
# The app quitting mid-export: the loop stops with the export still pending, never resumed.
loop.close()
leftovers = [p.name for p in dest.parent.iterdir()]
print("closed", leftovers, task.done())
"""


def test_a_loop_closed_mid_export_does_not_wait_for_its_writer_forever(tmp_path: Path) -> None:
    """Quitting while an animation was being written hung the app: the loop's close waits for
    its worker threads, and the writer waited for a next frame (or the word to abandon) from a
    coroutine that would never run again. In a child process, so a hang is bounded here."""
    import os
    import subprocess
    import sys

    dest = tmp_path / "out" / "clip.webp"
    dest.parent.mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", _STOPPED_MID_EXPORT, str(CLIP), str(dest)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("closed [] False"), done.stdout  # and no partial file left
