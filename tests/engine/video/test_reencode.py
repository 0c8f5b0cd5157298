"""Re-encoding joins of real clips that a remux can't join (other sizes), with cross-fades:
the film plays for the right length, shows each shot where it belongs (letterboxed into the
first clip's size), blends at the fades, and leaves nothing behind when refused or cancelled.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from runway_desktop.engine.video.frames import duration_ms, frame_at
from runway_desktop.engine.video.mp4_join import JoinError, read_clip
from runway_desktop.engine.video.reencode import reencode_join
from tests.helpers.video import CLIP, CLIPS, Drive, mean_difference, rgb

SQUARE = CLIPS / "1x1.mp4"  # 240×240: a remux can't join it to the 320×180 clip

# The frame input takes its format from the first frame, and Qt says so.
pytestmark = pytest.mark.qt_log_ignore("Invalid frameRate 0")


def test_clips_of_other_sizes_are_joined_by_re_encoding(drive: Drive[Any], tmp_path: Path) -> None:
    dest = tmp_path / "film.mp4"
    progress: list[float] = []

    drive(reencode_join([CLIP, SQUARE], dest, progress=progress.append))

    assert drive(duration_ms(dest)) == 4000
    (track,) = read_clip(dest).tracks
    assert track.sample_entry[12:16] == b"mp4v"  # MPEG-4 Part 2: the LGPL encoder Qt ships
    assert track.sample_count == 96
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"]
    # The first shot, as it was (a lossy copy, close at this quality) ...
    shot = drive(frame_at(dest, 1010))
    assert mean_difference(shot.image, drive(frame_at(CLIP, 1010)).image) < 3
    # ... and the square shot fitted into 320×180: 180×180 in the middle, black bars beside it.
    square = rgb(drive(frame_at(dest, 3010)).image)
    assert square.size == (320, 180)
    for bar in (square.crop((0, 0, 66, 180)), square.crop((254, 0, 320, 180))):
        assert max(ImageStat.Stat(bar).mean) < 8
    source = rgb(drive(frame_at(SQUARE, 1010)).image).resize((180, 180))
    assert mean_difference(square.crop((70, 0, 250, 180)), source.crop((0, 0, 180, 180))) < 8


def test_a_cross_fade_blends_the_shots_and_shortens_the_film(
    drive: Drive[Any], tmp_path: Path
) -> None:
    dest = tmp_path / "faded.mp4"

    drive(reencode_join([CLIP, CLIP, CLIP], dest, crossfade_ms=500))

    # 3 × 2 s less two 0.5 s overlaps.
    assert drive(duration_ms(dest)) == 5000
    assert read_clip(dest).tracks[0].sample_count == 120
    # Half-way through the first fade (1.75 s): the end of shot 1 blended with the start of
    # shot 2, so nearer their average than either of them.
    middle = rgb(drive(frame_at(dest, 1760)).image)
    ending = rgb(drive(frame_at(CLIP, 1760)).image)
    opening = rgb(drive(frame_at(CLIP, 260)).image)
    average = Image.blend(ending, opening, 0.5)
    assert mean_difference(middle, average) < mean_difference(middle, ending) / 2
    assert mean_difference(middle, average) < mean_difference(middle, opening) / 2


def test_a_cross_fade_longer_than_half_a_clip_is_refused(drive: Drive[Any], tmp_path: Path) -> None:
    with pytest.raises(JoinError, match="shorter cross-fade"):
        drive(reencode_join([CLIP, SQUARE], tmp_path / "x.mp4", crossfade_ms=1500))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_clip_is_an_error_in_words(drive: Drive[Any], tmp_path: Path) -> None:
    with pytest.raises(JoinError, match=r"“gone\.mp4” doesn't exist"):
        drive(reencode_join([CLIP, tmp_path / "gone.mp4"], tmp_path / "x.mp4"))
    assert list(tmp_path.iterdir()) == []


def test_cancelling_removes_the_partial_file(drive: Drive[Any], tmp_path: Path) -> None:
    async def start_then_cancel() -> bool:
        seen = asyncio.Event()
        task = asyncio.ensure_future(
            reencode_join([CLIP, SQUARE], tmp_path / "x.mp4", progress=lambda f: seen.set())
        )
        await seen.wait()  # frames are being encoded
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert drive(start_then_cancel())
    assert list(tmp_path.iterdir()) == []
