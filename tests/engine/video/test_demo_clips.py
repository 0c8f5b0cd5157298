"""The simulator's demo clips (Motion-JPEG made from the start image) in the app's own video
stack: QtMultimedia decodes their first and exact last frame, the thumbnailer reads them, the
download check takes them, and two of them chained (shot 2 from shot 1's last frame) join
without re-encoding into a film that plays for the sum of their durations.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from runway_desktop.engine.mp4_check import check_mp4
from runway_desktop.engine.thumbnails import extract_thumbnail
from runway_desktop.engine.video.exports import to_pil
from runway_desktop.engine.video.frames import duration_ms, frame_at, last_frame
from runway_desktop.engine.video.mp4_join import join_mp4, read_clip
from runway_desktop.simulator.config import OUTPUT_SIZES
from runway_desktop.simulator.image_clip import render_clip
from tests.helpers.scene import scene, scene_bytes
from tests.helpers.video import Drive, mean_difference

FPS = 12


def demo_clip(path: Path, image: bytes, ratio: str, seconds: int, seed: int) -> Path:
    path.write_bytes(render_clip(image, OUTPUT_SIZES[ratio], seconds, FPS, seed))
    return path


@pytest.mark.parametrize(("ratio", "seconds"), [("16:9", 5), ("9:16", 10)])
def test_qt_plays_a_demo_clip_from_the_framed_picture_to_a_moved_last_frame(
    drive: Drive[Any], tmp_path: Path, ratio: str, seconds: int
) -> None:
    size = OUTPUT_SIZES[ratio]
    clip = demo_clip(tmp_path / "demo.mp4", scene_bytes(), ratio, seconds, seed=5)

    assert check_mp4(clip).whole  # what the download check asks of every video
    assert drive(duration_ms(clip)) == seconds * 1000
    first = drive(frame_at(clip, 0))
    last = drive(last_frame(clip))

    assert (first.image.width(), first.image.height()) == size
    assert first.start_us == 0
    framed = ImageOps.fit(scene(), size, Image.Resampling.BICUBIC)
    assert mean_difference(first.image, framed) < 3
    # The exact last frame: it starts one frame before the end and ends with the clip.
    assert last.start_us == pytest.approx((seconds * FPS - 1) * 1_000_000 / FPS, abs=1000)
    assert last.end_us == pytest.approx(seconds * 1_000_000, abs=1000)
    assert mean_difference(last.image, first.image) > 4


def test_the_thumbnailer_reads_a_demo_clip(drive: Drive[Any], tmp_path: Path) -> None:
    clip = demo_clip(tmp_path / "demo.mp4", scene_bytes(), "16:9", 5, seed=1)

    thumb = drive(extract_thumbnail(clip, tmp_path / "thumb.jpg"))

    with Image.open(thumb) as image:
        assert image.size == (320, 180)


def test_chained_demo_clips_continue_and_join_without_re_encoding(
    drive: Drive[Any], tmp_path: Path
) -> None:
    """Issue 13's check: each shot's first frame equals the previous shot's last frame."""
    shot1 = demo_clip(tmp_path / "shot1.mp4", scene_bytes(), "16:9", 5, seed=4)
    end1 = drive(last_frame(shot1))
    handoff = io.BytesIO()
    to_pil(end1.image).save(handoff, "PNG")  # what Extend uploads as the next start image
    shot2 = demo_clip(tmp_path / "shot2.mp4", handoff.getvalue(), "16:9", 5, seed=5)

    start2 = drive(frame_at(shot2, 0))
    before_end1 = drive(frame_at(shot1, 4900))  # the frame before the last
    assert before_end1.end_us < end1.end_us
    assert mean_difference(start2.image, end1.image) < 3
    # The check tells the last frame from the one before it: demo clips move to the end.
    assert mean_difference(start2.image, before_end1.image) > 1.3 * mean_difference(
        start2.image, end1.image)

    film = join_mp4([shot1, shot2], tmp_path / "film.mp4")

    assert film.duration_s == pytest.approx(10.0)
    joined = read_clip(film.path).tracks[0]
    parts = [read_clip(shot1).tracks[0], read_clip(shot2).tracks[0]]
    assert joined.sample_entry == parts[0].sample_entry  # still Motion-JPEG, not re-encoded
    assert joined.sample_count == sum(p.sample_count for p in parts) == 120
    assert drive(duration_ms(film.path)) == 10_000
    seam_before = drive(frame_at(film.path, 4990))
    seam_after = drive(frame_at(film.path, 5050))
    assert mean_difference(seam_before.image, end1.image) < 0.5
    assert mean_difference(seam_after.image, start2.image) < 0.5
    end = drive(last_frame(film.path))
    assert end.end_us == pytest.approx(10_000_000, abs=1000)
    assert mean_difference(end.image, drive(last_frame(shot2)).image) < 0.5
