"""Frames through QtMultimedia from real H.264 clips: the exact last frame (what Extend starts
from), the frame at a position, frames sampled over a range, and bad input in words.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runway_desktop.engine.video.frames import (
    FrameError,
    duration_ms,
    frame_at,
    last_frame,
    sample_frames,
)
from tests.helpers.video import CLIP, CLIPS, DATA, FRAME_US, Drive, mean_difference


def test_the_last_frame_is_the_clips_final_frame(drive: Drive[Any]) -> None:
    last = drive(last_frame(CLIP))

    # Frame 47 of 48: it starts at 47/24 s and ends with the clip.
    assert last.start_us == pytest.approx(47 * FRAME_US, abs=1000)
    assert last.end_us == pytest.approx(2_000_000, abs=1000)
    assert (last.image.width(), last.image.height()) == (320, 180)
    # The same picture as an independent decoder's (ffmpeg) last frame, within YUV→RGB rounding,
    # and clearly not the frame before it: the clip moves, so the check can tell them apart.
    assert mean_difference(last.image, DATA / "16x9-last.png") < 1.5
    before = drive(frame_at(CLIP, 1940))
    assert before.start_us == pytest.approx(46 * FRAME_US, abs=1000)
    assert mean_difference(last.image, before.image) > 4
    # Seeking to the end shows that same frame.
    assert mean_difference(last.image, drive(frame_at(CLIP, 2000)).image) == 0


@pytest.mark.parametrize("name", ["9x16.mp4", "21x9.mp4"])
def test_last_frame_of_other_shapes_keeps_the_full_size(drive: Drive[Any], name: str) -> None:
    last = drive(last_frame(CLIPS / name))
    width, height = (180, 320) if name == "9x16.mp4" else (336, 144)
    assert (last.image.width(), last.image.height()) == (width, height)
    assert last.end_us == pytest.approx(2_000_000, abs=1000)


def test_frame_at_a_position_is_the_one_on_screen_then(drive: Drive[Any]) -> None:
    first = drive(frame_at(CLIP, 0))
    middle = drive(frame_at(CLIP, 1010))

    assert first.start_us == 0
    assert middle.start_us <= 1_010_000 <= middle.end_us
    assert mean_difference(first.image, middle.image) > 4
    assert drive(duration_ms(CLIP)) == 2000


def test_sampled_frames_are_those_on_screen_at_each_time(drive: Drive[Any]) -> None:
    times = [0, 100, 250, 999, 1500, 1990]
    progress: list[tuple[int, int]] = []

    frames = drive(
        sample_frames(
            CLIP, times, max_width=160, progress=lambda done, total: progress.append((done, total))
        )
    )

    assert len(frames) == len(times)
    for time_ms, frame in zip(times, frames, strict=True):
        # The frame shown at t started at or before it, and less than a frame earlier
        # (a frame the renderer skipped at speed would make this a frame or two earlier).
        assert frame.start_us <= time_ms * 1000 < frame.start_us + 3 * FRAME_US
        assert (frame.image.width(), frame.image.height()) == (160, 90)
    assert progress[-1] == (len(times), len(times))
    reference = drive(frame_at(CLIP, 0))
    assert mean_difference(frames[0].image, reference.image.scaled(160, 90)) < 3


@pytest.mark.qt_log_ignore("Could not open media", "Invalid data found")
def test_a_missing_or_foreign_file_is_an_error_in_words(drive: Drive[Any], tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video\n")

    with pytest.raises(FrameError, match="doesn't exist"):
        drive(last_frame(tmp_path / "gone.mp4"))
    with pytest.raises(FrameError, match=r"“clip\.mp4”"):
        drive(last_frame(fake))
    with pytest.raises(FrameError, match=r"“clip\.mp4”"):
        drive(frame_at(fake, 0))


@pytest.mark.qt_log_ignore("Immediate exit requested")  # if cancelled while still opening
def test_cancelling_a_sampling_stops_it(drive: Drive[Any]) -> None:
    async def start_then_cancel() -> bool:
        task: asyncio.Task[object] | None = None

        def on_progress(done: int, _total: int) -> None:
            if done == 1 and task is not None:
                task.cancel()  # part-way: 1 of 50 frames taken

        task = asyncio.ensure_future(
            sample_frames(CLIP, [i * 40 for i in range(50)], progress=on_progress)
        )
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert drive(start_then_cancel())
    # The decoder is free again for the next job.
    assert drive(last_frame(CLIP)).end_us == pytest.approx(2_000_000, abs=1000)
