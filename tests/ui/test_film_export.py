"""The sequence view's film export with the `settings_sidecar` setting off: the film carries
its shots' settings inside the MP4 and writes no `<film>.json` (on, the three-shot test in
test_sequence_window.py finds it beside the film)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from runway_desktop import settings
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.video.metadata import (
    VideoSettings,
    read_video_settings,
    save_video_settings,
)
from tests.helpers.small_disk import tmpfs
from tests.helpers.video import CLIP, NEXT

pytestmark = pytest.mark.qt_log_ignore("PulseAudioService", "Couldn't resolve pipewire")


@pytest.fixture
def before_app_start() -> Callable[[Path], None]:
    def sidecars_off(data_dir: Path) -> None:
        settings.save(data_dir, dataclasses.replace(settings.load(data_dir),
                                                    settings_sidecar=False))

    return sidecars_off


def two_shot_view(qtbot: QtBot, app_controller: Any, tmp_path: Path) -> Any:
    """The sequence view on a sequence of two finished shots (clips carrying settings)."""
    engine = app_controller.engine
    videos = []
    for number, source in enumerate((CLIP, NEXT), 1):
        video = Path(shutil.copy(source, tmp_path / f"shot{number}.mp4"))
        save_video_settings(video, VideoSettings(GenerationSettings(f"shot {number}"),
                                                 generation_id=number), sidecar=False)
        videos.append(engine.journal.add(GenerationSettings(f"shot {number}", seed=number),
                                         stage=Stage.DONE, video_path=str(video)))
    command = app_controller.window.sequence_command
    qtbot.waitUntil(command.action.isEnabled, timeout=10_000)
    view = command.start_from_clip(videos[0])
    assert view is not None
    assert view.sequence is not None
    sequence_id = view.sequence.id
    shot = view.sequences.add_shot(sequence_id, "shot 2").shots[1]
    view.sequences._store.link_take(shot.id, videos[1].id)  # a finished take of shot 2
    view.show_sequence(sequence_id)
    qtbot.waitUntil(view.film.export_button.isEnabled, timeout=10_000)
    return view


def test_the_film_writes_no_sidecar_when_the_setting_is_off(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    view = two_shot_view(qtbot, app_controller, tmp_path)

    film = tmp_path / "film.mp4"
    view.film.export_to(film)
    qtbot.waitUntil(lambda: not view.film.busy(), timeout=120_000)

    assert view.film.last_written == film, view.film.status.text()
    carried = read_video_settings(film)
    assert carried is not None
    assert [s.generation_id for s in carried.shots] == [1, 2]
    assert not (tmp_path / "film.json").exists()


def test_the_film_is_never_written_over_one_of_its_shots(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    """Saving the film as shot 2's own file (the save dialog only asks "Replace?") would have
    put the film in place of that take's video: refused, saying which shot it is."""
    view = two_shot_view(qtbot, app_controller, tmp_path)
    shot2 = tmp_path / "shot2.mp4"
    before = shot2.read_bytes()

    view.film.export_to(shot2)

    assert not view.film.busy()
    assert "shot 2" in view.film.status.text()
    assert shot2.read_bytes() == before


def test_a_folder_the_film_cant_be_written_in_says_what_to_do(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    """“Can't write in …: Not a directory.” said what happened, not what to do."""
    view = two_shot_view(qtbot, app_controller, tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    view.film.export_to(blocker / "film.mp4")
    qtbot.waitUntil(lambda: not view.film.busy(), timeout=120_000)

    assert "Can't write in" in view.film.status.text()
    assert "another folder" in view.film.status.text()
    assert view.film.last_written is None


def test_the_view_stays_open_when_settings_rebuild_the_engine_and_says_what_stopped(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    """Settings ▸ Save with a new output folder (or proxy, demo …) starts a new engine: the
    sequence window vanished under the person, taking a film export with it without a word.
    It stays on the same sequence, over the new engine, and says the export stopped."""
    view = two_shot_view(qtbot, app_controller, tmp_path)
    sequence_id = view.sequence.id
    # A cross-fade re-encodes (seconds), so the rebuild lands mid-export: a plain join of two
    # short clips could finish first on a fast machine.
    view.film.crossfade_box.setChecked(True)
    view.film.export_to(tmp_path / "film.mp4")
    assert view.film.busy()
    new_out = tmp_path / "elsewhere"
    new_out.mkdir()

    command = app_controller.window.sequence_command
    before = command.sequences

    app_controller._on_settings_saved(
        dataclasses.replace(app_controller.settings, output_dir=str(new_out)), False)

    qtbot.waitUntil(lambda: command.sequences is not None and command.sequences is not before,
                    timeout=20_000)
    qtbot.waitUntil(lambda: command.view is not None and command.view.isVisible(),
                    timeout=5_000)
    again = command.view
    assert again is not None
    assert again.sequences is command.sequences
    assert again.sequence is not None
    assert again.sequence.id == sequence_id
    assert "film" in again.status.text()
    assert "again" in again.status.text()
    assert not (tmp_path / "film.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".film")] == []


def test_a_film_that_fills_the_disk_says_so_and_leaves_nothing(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    """“Couldn't write “film.mp4”: No space left on device.” said what happened, not what to
    do. A real full drive: a tmpfs with room for less than the film (root only)."""
    view = two_shot_view(qtbot, app_controller, tmp_path)
    with tmpfs(tmp_path / "small", "size=40k") as small:
        view.film.export_to(small / "film.mp4")
        qtbot.waitUntil(lambda: not view.film.busy(), timeout=120_000)

        text = view.film.status.text()
        assert "No space left on device" in text, text
        assert f"Free some space in {small}, or export the film into another folder." in text
        assert view.film.last_written is None
        assert list(small.iterdir()) == []  # no partial film left


def test_the_film_is_offered_under_a_name_every_system_can_hold(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    """The save dialog offered the sequence's name with only '/' replaced: 'Dawn: take 2?'
    can't be created on Windows (and ':' there makes a hidden stream of another file)."""
    view = two_shot_view(qtbot, app_controller, tmp_path)
    assert view.sequence is not None
    view.sequences.rename(view.sequence.id, 'Dawn: "take" 2? <final> \\ CON.')
    view.show_sequence(view.sequence.id)

    suggested = view._suggested_film()
    assert suggested == tmp_path / "Dawn take 2 final CON.mp4"
