"""Exports, films and sidecars get the mode any new file of the person's gets (0666 less the
umask), like the downloaded clip they come from; mkstemp made them 0600, unreadable to anyone
the folder is shared with."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runway_desktop.engine.records import GenerationSettings
from runway_desktop.engine.video.exports import AnimationFormat, export_animation, export_still
from runway_desktop.engine.video.film import CROSSFADE_MS, join_film
from runway_desktop.engine.video.metadata import VideoSettings, save_video_settings
from runway_desktop.engine.video.partial_files import create_partial
from tests.helpers.video import CLIP, NEXT, Drive

pytestmark = [pytest.mark.qt_log_ignore("Invalid frameRate 0"),
              pytest.mark.skipif(os.name != "posix", reason="POSIX modes")]


@pytest.fixture
def umask_022() -> Iterator[int]:
    previous = os.umask(0o022)
    try:
        yield 0o644
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_exports_are_as_readable_as_any_new_file(drive: Drive[Any], tmp_path: Path,
                                                 umask_022: int) -> None:
    clip = Path(shutil.copy(CLIP, tmp_path / "clip.mp4"))
    gif = drive(export_animation(clip, tmp_path / "clip.gif"))
    webm = drive(export_animation(clip, tmp_path / "clip.webm", fmt=AnimationFormat.WEBM))
    png = drive(export_still(clip, tmp_path / "clip.png", 500))

    assert [mode(p) for p in (gif, webm, png)] == [umask_022] * 3


@pytest.mark.parametrize("crossfade_ms", [0, CROSSFADE_MS], ids=["joined", "re-encoded"])
def test_a_film_and_its_sidecar_are_as_readable_as_any_new_file(
        drive: Drive[Any], tmp_path: Path, umask_022: int, crossfade_ms: int) -> None:
    shots = [Path(shutil.copy(CLIP, tmp_path / "a.mp4")),
             Path(shutil.copy(NEXT, tmp_path / "b.mp4"))]
    save_video_settings(shots[0], VideoSettings(GenerationSettings("a kite")), sidecar=False)

    film = drive(join_film(shots, tmp_path / "film.mp4", crossfade_ms=crossfade_ms))

    assert film.sidecar is not None
    assert (mode(film.path), mode(film.sidecar)) == (umask_022, umask_022)


def test_a_partial_file_is_new_and_beside_its_name(tmp_path: Path, umask_022: int) -> None:
    dest = tmp_path / "clip.gif"
    fd, path = create_partial(dest)
    os.close(fd)
    assert path.parent == tmp_path
    assert path.name.startswith(".clip.gif.")
    assert path.name.endswith(".partial")
    assert mode(path) == umask_022
