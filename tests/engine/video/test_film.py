"""A sequence's film: joined as they are where the clips allow it, re-encoded where they don't
or for a cross-fade; real clips, read back through QtMultimedia."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runway_desktop.engine.video.film import CROSSFADE_MS, Film, FilmMethod, join_film
from runway_desktop.engine.video.frames import duration_ms
from runway_desktop.engine.video.mp4_join import JoinError
from tests.helpers.video import CLIP, CLIPS, NEXT, Drive

pytestmark = pytest.mark.qt_log_ignore("Invalid frameRate 0")  # the re-encoder (test_reencode.py)


def test_matching_clips_are_joined_without_re_encoding(drive: Drive[Any], tmp_path: Path) -> None:
    progress: list[float] = []

    film = drive(join_film([CLIP, NEXT], tmp_path / "film.mp4", progress=progress.append))

    assert film.method is FilmMethod.JOINED
    assert abs(drive(duration_ms(film.path)) - 4000) <= 50
    assert progress[-1] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"]


def test_clips_that_differ_are_re_encoded_saying_why(drive: Drive[Any], tmp_path: Path) -> None:
    film = drive(join_film([CLIP, CLIPS / "9x16.mp4"], tmp_path / "film.mp4"))

    assert film.method is FilmMethod.REENCODED
    assert film.why_reencoded
    assert abs(drive(duration_ms(film.path)) - 4000) <= 100


def test_a_cross_fade_re_encodes_and_overlaps_the_shots(drive: Drive[Any], tmp_path: Path) -> None:
    film = drive(join_film([CLIP, NEXT], tmp_path / "film.mp4", crossfade_ms=CROSSFADE_MS))

    assert film.method is FilmMethod.REENCODED
    assert film.why_reencoded == ""
    assert abs(drive(duration_ms(film.path)) - (4000 - CROSSFADE_MS)) <= 100


def test_nothing_to_join_is_an_error_in_words(drive: Drive[Any], tmp_path: Path) -> None:
    with pytest.raises(JoinError, match="no finished shots"):
        drive(join_film([], tmp_path / "film.mp4"))
    with pytest.raises(JoinError, match="doesn't exist"):
        drive(join_film([CLIP, tmp_path / "gone.mp4"], tmp_path / "film.mp4"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("crossfade_ms", [0, CROSSFADE_MS], ids=["joined", "re-encoded"])
def test_a_film_gets_its_settings_sidecar_unless_the_setting_is_off(
        drive: Drive[Any], tmp_path: Path, crossfade_ms: int) -> None:
    """Like every saved MP4: the film's settings (each shot's) inside it and in
    `<film>.json` beside it; with the `settings_sidecar` setting off, no sidecar."""
    import json
    import shutil

    from runway_desktop.engine.records import GenerationSettings
    from runway_desktop.engine.video.metadata import (
        VideoSettings,
        read_video_settings,
        save_video_settings,
        sidecar_path,
    )

    shots = [Path(shutil.copy(CLIP, tmp_path / "shot1.mp4")),
             Path(shutil.copy(NEXT, tmp_path / "shot2.mp4"))]
    made = [VideoSettings(GenerationSettings("a kite rises", seed=1), generation_id=1),
            VideoSettings(GenerationSettings("and it lands", seed=2), generation_id=2,
                          parent_id=1)]
    for shot, settings in zip(shots, made, strict=True):
        save_video_settings(shot, settings, sidecar=False)

    async def both() -> tuple[Film, Film]:  # at once: re-encoding decodes at playback speed
        return await asyncio.gather(
            join_film(shots, tmp_path / "film.mp4", crossfade_ms=crossfade_ms),
            join_film(shots, tmp_path / "quiet.mp4", crossfade_ms=crossfade_ms, sidecar=False))

    film, off = drive(both())

    beside = sidecar_path(film.path)
    assert beside.is_file()
    from_sidecar = VideoSettings.from_json(json.loads(beside.read_text(encoding="utf-8")))
    assert from_sidecar is not None
    assert [s.generation_id for s in from_sidecar.shots] == [1, 2]
    assert from_sidecar == read_video_settings(film.path)  # what the MP4 carries
    assert film.sidecar == beside

    assert not sidecar_path(off.path).exists()
    assert off.sidecar is None
    assert read_video_settings(off.path) is not None  # still inside the MP4
