"""Frames through QtMultimedia from real H.264 clips: the exact last frame (what Extend starts
from), the frame at a position, frames sampled over a range, and bad input in words.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtMultimedia import QMediaPlayer

from runway_desktop.engine.video.frames import (
    Frame,
    FrameError,
    duration_ms,
    frame_at,
    last_frame,
    sample_frames,
    stream_frames,
)
from runway_desktop.engine.video.mp4_boxes import read_moov
from runway_desktop.engine.video.mp4_tables import read_track
from runway_desktop.simulator.config import OUTPUT_SIZES
from runway_desktop.simulator.image_clip import render_clip
from runway_desktop.simulator.mp4_writer import mjpeg_mp4
from tests.helpers.scene import scene_bytes
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


def _simulator_clip(path: Path, colours: list[str]) -> Path:
    """A clip from the simulator's own MP4 writer: one solid-colour Motion-JPEG frame each."""
    frames = []
    for colour in colours:
        out = io.BytesIO()
        Image.new("RGB", (320, 180), colour).save(out, "JPEG", quality=90)
        frames.append(out.getvalue())
    path.write_bytes(mjpeg_mp4(frames, 320, 180, 12))
    return path


def _demo_clip(folder: Path) -> Path:
    """What demo mode makes of a start image: a 1 s camera move at the simulator's settings."""
    path = folder / "demo.mp4"
    path.write_bytes(render_clip(scene_bytes(), OUTPUT_SIZES["16:9"], 1, 12, seed=4))
    return path


# The clips whose last frame is checked against a decode of every frame. The H.264 ones
# (data/README.md) have B-frames, so the last frame shown is not the last one decoded.
LAST_FRAME_CLIPS: dict[str, Callable[[Path], Path]] = {
    "demo mode's clip": _demo_clip,
    "simulator, one frame": lambda tmp: _simulator_clip(tmp / "one.mp4", ["navy"]),
    "simulator, two frames": lambda tmp: _simulator_clip(tmp / "two.mp4", ["navy", "red"]),
    # One key frame 47 frames before the end; a red box on the last frame only.
    "H.264, B-frames, one key frame": lambda _tmp: DATA / "last-b-frames.mp4",
    "H.264, one frame": lambda _tmp: DATA / "last-one-frame.mp4",
    "H.264, two frames": lambda _tmp: DATA / "last-two-frames.mp4",
}


@pytest.mark.parametrize("clip", LAST_FRAME_CLIPS)
def test_the_last_frame_comes_from_a_seek_and_is_the_last_of_every_frame_played(
    drive: Drive[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clip: str
) -> None:
    video = LAST_FRAME_CLIPS[clip](tmp_path)
    played = _count_plays(monkeypatch)

    last = drive(last_frame(video))

    # Extend no longer plays the clip's last second (about 1 s each time): a paused seek to
    # the end decodes from the last key frame and shows the final frame.
    assert played == []
    every = _every_frame(drive, video)
    assert last.start_us == every[-1].start_us
    assert last.end_us == every[-1].end_us
    assert mean_difference(last.image, every[-1].image) == 0  # pixel for pixel
    if len(every) > 1 and clip != "demo mode's clip":
        assert mean_difference(every[-1].image, every[-2].image) > 10  # it can tell them apart


def test_a_clip_whose_sound_runs_on_past_the_picture_still_gives_its_last_frame(
    drive: Drive[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = DATA / "last-sound-longer.mp4"  # 0.25 s of picture, 1.5 s of sound
    played = _count_plays(monkeypatch)

    last = drive(last_frame(video))

    # A seek to the movie's end shows no picture, so the end of the picture (where the MP4
    # says it is) is played instead: from a second before the movie's end, nothing showed
    # ("has no picture to take").
    assert len(played) == 1
    every = _every_frame(drive, video)
    assert last.start_us == every[-1].start_us
    assert mean_difference(last.image, every[-1].image) == 0


def _count_plays(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files of the players told to play from now on (they still play)."""
    played: list[str] = []
    real_play = QMediaPlayer.play

    def play(player: QMediaPlayer) -> None:
        played.append(player.source().fileName())
        real_play(player)

    monkeypatch.setattr(QMediaPlayer, "play", play)
    return played


def _every_frame(drive: Drive[Any], video: Path) -> list[Frame]:
    """Every frame of `video`, played from the start at normal speed (none skipped: checked
    against the number of frames its sample tables hold)."""
    frames: list[Frame] = []

    async def play_all() -> None:
        end = await duration_ms(video)
        async for frame in stream_frames(video, range(end + 1), speed=1.0):  # one a millisecond
            if not frames or frame.start_us != frames[-1].start_us:
                frames.append(frame)

    drive(play_all())
    _ftyp, moov, _size = read_moov(video)
    tracks = [read_track(trak) for trak in moov.all(b"trak")]
    assert len(frames) == next(t for t in tracks if t.handler == b"vide").sample_count
    return frames
