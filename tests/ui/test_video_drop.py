"""Settings travel with the video, in the real window against the simulator: a generated MP4
holds its settings (and plays), and dropped back on the window it offers "Use these settings"
(every field restored) and "Extend"; a video without them gets a plain message."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine import framing
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.engine.video import frames
from runway_desktop.engine.video.metadata import (
    VideoSettings,
    read_video_settings,
    save_video_settings,
    sidecar_path,
)
from tests.helpers.video import CLIP, mean_difference
from tests.ui.conftest import drive
from tests.ui.dnd import drop_files, file_mime

ASKED = GenerationSettings("a red kite climbs over the dunes", duration=10, aspect_ratio="9:16",
                           seed=4242, model="runway-gen4.5")
OTHER = GenerationSettings("something else entirely", duration=5, aspect_ratio="16:9", seed=7)


@pytest.fixture
def start_image(tmp_path: Path) -> Path:
    path = tmp_path / "pictures" / "kite.png"
    path.parent.mkdir()
    Image.new("RGB", (360, 640), (30, 90, 200)).save(path)
    return path


def preview_settled(qtbot: QtBot, window: Any) -> None:
    """An interrupted media load logs an FFmpeg warning, which fails the test: let it finish."""
    player = window.preview._player
    if player is not None:
        qtbot.waitUntil(lambda: player.mediaStatus() != player.MediaStatus.LoadingMedia,
                        timeout=10_000)


def generate(qtbot: QtBot, window: Any, settings: GenerationSettings) -> Generation:
    compose = window.compose
    compose.apply_settings(settings)  # as Reuse does: every field, seed locked
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    before = {g.id for g in window.queue.model.generations()}
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)

    def done() -> Generation | None:
        return next((g for g in window.queue.model.generations()
                     if g.id not in before and g.stage == Stage.DONE), None)

    qtbot.waitUntil(lambda: done() is not None, timeout=20_000)
    preview_settled(qtbot, window)
    generation = done()
    assert generation is not None
    assert generation.video_path
    return generation


def fields(compose: Any) -> tuple[object, ...]:
    return (compose.prompt_edit.toPlainText(), compose.model().id,
            compose.aspect_picker.value(), compose.duration(), compose.seed(),
            compose.drop_zone.images())


def offered(qtbot: QtBot, window: Any, text: str) -> Any:
    offer = window.video_drop.offer
    qtbot.waitUntil(lambda: offer.isVisible() and text in offer.message.text(), timeout=10_000)
    return offer


def test_a_generated_video_brings_its_settings_back_when_dropped_on_the_window(
    qtbot: QtBot, app_controller: Any, start_image: Path, output_dir: Path
) -> None:
    window = app_controller.window
    asked = GenerationSettings(**{**ASKED.__dict__, "image_path": str(start_image)})
    generation = generate(qtbot, window, asked)
    video = Path(generation.video_path or "")

    # The saved MP4 and its sidecar hold the settings, and QtMultimedia still decodes it.
    found = read_video_settings(video)
    assert found is not None
    assert (found.settings.prompt, found.settings.model, found.settings.aspect_ratio,
            found.settings.duration, found.settings.seed, found.settings.image_path) == (
        asked.prompt, asked.model, asked.aspect_ratio, asked.duration, asked.seed,
        str(start_image))
    assert found.job_id == generation.job_id
    assert found.image_sha256 is not None
    assert len(found.image_sha256) == 64
    assert json.loads(sidecar_path(video).read_text(encoding="utf-8")) == found.to_json()
    last = drive(qtbot, frames.last_frame(video))
    assert not last.image.isNull()

    # Something else in the compose panel, then the video dropped on the start-image zone.
    window.compose.apply_settings(OTHER)
    window.compose.drop_zone.clear()
    assert drop_files(window.compose.drop_zone, [video])
    offer = offered(qtbot, window, asked.prompt)
    assert offer.use_button.isVisible()
    assert fields(window.compose)[0] == OTHER.prompt  # nothing changes before the person asks
    assert window.findChild(type(offer), "settingsOffer") is offer
    qtbot.mouseClick(offer.use_button, Qt.MouseButton.LeftButton)
    assert fields(window.compose) == (asked.prompt, asked.model, asked.aspect_ratio,
                                      asked.duration, asked.seed, [str(start_image)])
    assert window.compose.seed_locked()
    assert "Filled in from" in offer.message.text()

    # Dropped anywhere else on the window (the preview): the same offer, and Extend.
    window.compose.apply_settings(OTHER)
    offer.hide()
    assert drop_files(window.preview, [video])
    offer = offered(qtbot, window, asked.prompt)
    assert offer.extend_button.isVisible()
    qtbot.mouseClick(offer.extend_button, Qt.MouseButton.LeftButton)
    assert window.extend_mode.active
    assert window.extend_mode.parent_generation.id == generation.id
    window.extend_mode.cancel()
    preview_settled(qtbot, window)


def use_a_copy(qtbot: QtBot, window: Any, video: Path, tmp_path: Path, prompt: str) -> Any:
    """Other settings in the panel; then a copy of `video` from elsewhere (not this history's
    file, but its settings travel with it) dropped, and its offer's Use clicked."""
    window.compose.apply_settings(OTHER)
    window.compose.drop_zone.clear()
    copy = Path(shutil.copy(video, tmp_path / "sent-by-a-friend.mp4"))
    assert drop_files(window.compose.drop_zone, [copy])
    offer = offered(qtbot, window, prompt)
    qtbot.mouseClick(offer.use_button, Qt.MouseButton.LeftButton)
    return offer


def test_a_start_image_that_is_gone_is_named_and_the_rest_filled_in(
    qtbot: QtBot, app_controller: Any, start_image: Path, tmp_path: Path
) -> None:
    window = app_controller.window
    asked = GenerationSettings(**{**ASKED.__dict__, "image_path": str(start_image)})
    video = Path(generate(qtbot, window, asked).video_path or "")
    start_image.unlink()
    offer = use_a_copy(qtbot, window, video, tmp_path, asked.prompt)
    assert fields(window.compose) == (asked.prompt, asked.model, asked.aspect_ratio,
                                      asked.duration, asked.seed, [])
    assert "no longer there" in offer.message.text()
    assert str(start_image) in offer.message.text()

    # A picture pasted into the window, swept away since: there is no file of the person's to
    # choose again; they are told to paste it again.
    pasted = paste(qtbot, window.compose.drop_zone)
    asked = GenerationSettings(**{**ASKED.__dict__, "image_path": str(pasted)})
    video = Path(generate(qtbot, window, asked).video_path or "")
    pasted.unlink()  # as the sweep does once nothing uses it
    offer = use_a_copy(qtbot, window, video, tmp_path, asked.prompt)
    assert window.compose.drop_zone.images() == []
    assert "Paste it again" in offer.message.text()
    assert str(pasted) not in offer.message.text()


def paste(qtbot: QtBot, zone: Any) -> Path:
    """Ctrl+V of a screenshot on the clipboard; the file the window wrote for it."""
    image = QImage(90, 160, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 80, 40))
    QGuiApplication.clipboard().setImage(image)
    zone.setFocus()
    with qtbot.waitSignal(zone.images_changed):
        qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    [saved] = zone.images()
    return Path(saved)


def test_a_start_image_replaced_since_comes_back_without_the_old_framing(
    qtbot: QtBot, app_controller: Any, start_image: Path, tmp_path: Path
) -> None:
    """The video remembers which picture its frame was chosen on: another picture put at the
    same path since (the same size, even) is restored centred, and the panel says why."""
    window = app_controller.window
    corner = ImageFrame(0.0, 0.0, 0.5, 0.5)  # the top-left quarter, 9:16 like the picture
    asked = GenerationSettings(**{**ASKED.__dict__, "image_path": str(start_image),
                                  "frame": corner})
    video = Path(generate(qtbot, window, asked).video_path or "")
    Image.new("RGB", (360, 640), (200, 120, 30)).save(start_image)  # another picture, same size
    use_a_copy(qtbot, window, video, tmp_path, asked.prompt)
    status = window.compose.status_label
    note = (f"The start image at {start_image} has changed since “sent-by-a-friend.mp4” was "
            "made: its framing was reset.")
    qtbot.waitUntil(lambda: note in status.message(), timeout=5_000)
    assert fields(window.compose)[5] == [str(start_image)]
    assert window.compose.drop_zone.frame() == framing.centred((360, 640), "9:16")


def test_a_video_without_our_settings_gets_a_clear_message(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    window = app_controller.window
    window.compose.apply_settings(OTHER)
    before = fields(window.compose)
    plain = Path(shutil.copy(CLIP, tmp_path / "holiday.mp4"))
    assert drop_files(window.compose.drop_zone, [plain])
    offer = offered(qtbot, window, "carries no Runway Desktop settings")
    assert "holiday.mp4" in offer.message.text()
    assert not offer.use_button.isVisible()
    assert not offer.extend_button.isVisible()
    assert fields(window.compose) == before
    assert not window.compose.drop_zone.message()  # not refused as "not an image"


def test_with_the_sidecar_box_unticked_videos_come_without_a_sidecar(
    qtbot: QtBot, app_controller: Any, data_dir: Path, keyring_backend: Any
) -> None:
    app_controller.open_settings(first_run=False)
    qtbot.waitUntil(lambda: app_controller._dialog is not None
                    and app_controller._dialog.isVisible(), timeout=5_000)
    dialog = app_controller._dialog
    assert dialog.sidecar_check.isChecked()  # on by default
    old_engine = app_controller.engine
    dialog.sidecar_check.setChecked(False)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: app_controller.engine is not None
                    and app_controller.engine is not old_engine, timeout=10_000)
    assert json.loads(paths.settings_path(data_dir).read_text())["settings_sidecar"] is False
    video = Path(generate(qtbot, app_controller.window, OTHER).video_path or "")
    assert not sidecar_path(video).exists()
    found = read_video_settings(video)  # still inside the MP4
    assert found is not None
    assert found.settings.prompt == OTHER.prompt


def test_the_offer_never_covers_generate(qtbot: QtBot, app_controller: Any,
                                         tmp_path: Path) -> None:
    window = app_controller.window
    plain = Path(shutil.copy(CLIP, tmp_path / "holiday.mp4"))
    assert drop_files(window, [plain])
    offer = offered(qtbot, window, "holiday.mp4")
    button = window.compose.generate_button
    top_left = button.mapTo(window.compose, button.rect().topLeft())
    assert not offer.geometry().intersects(button.rect().translated(top_left))


def test_a_model_this_app_no_longer_offers_is_named(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    window = app_controller.window
    window.compose.apply_settings(OTHER)
    video = Path(shutil.copy(CLIP, tmp_path / "old.mp4"))
    gone = GenerationSettings("from an older app", seed=99, model="runway-gen2")
    save_video_settings(video, VideoSettings(gone, job_id="job_old"))
    assert drop_files(window.compose.drop_zone, [video])
    offer = offered(qtbot, window, gone.prompt)
    qtbot.mouseClick(offer.use_button, Qt.MouseButton.LeftButton)
    assert fields(window.compose)[0] == gone.prompt
    assert window.compose.seed() == 99
    assert window.compose.model().id == OTHER.model
    assert "Not offered here, so left as it was: model runway-gen2." in offer.message.text()


def test_a_video_dropped_on_the_prompt_box_is_offered_not_typed_in(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    window = app_controller.window
    window.compose.apply_settings(OTHER)
    plain = Path(shutil.copy(CLIP, tmp_path / "holiday.mp4"))
    for box in (window.compose.prompt_edit.viewport(), window.compose.seed_edit):
        # Only carried over the box on its way elsewhere: nothing is read, nothing offered
        # (a drag entering or moving was taken for a drop).
        carry_over(box, file_mime(plain))
        assert window.video_drop.video is None
        assert window.video_drop._task is None
    for box in (window.compose.prompt_edit.viewport(), window.compose.seed_edit):
        window.video_drop.offer.hide()
        assert drop_files(box, [plain])
        offered(qtbot, window, "holiday.mp4")
        assert window.compose.prompt_edit.toPlainText() == OTHER.prompt
        assert window.compose.seed() == OTHER.seed


def carry_over(widget: Any, mime: QMimeData) -> None:
    """A drag entering `widget`, moving over it and leaving it, dropped elsewhere."""
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    for kind in (QDragEnterEvent, QDragMoveEvent):
        QApplication.sendEvent(widget, kind(pos, Qt.DropAction.CopyAction, mime,
                                            Qt.MouseButton.LeftButton,
                                            Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(widget, QDragLeaveEvent())


def test_extending_a_video_from_elsewhere_starts_from_its_last_frame(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    window = app_controller.window
    window.compose.apply_settings(OTHER)
    video = Path(shutil.copy(CLIP, tmp_path / "from-a-friend.mp4"))
    theirs = GenerationSettings("a paper boat drifts", aspect_ratio="9:16", duration=10,
                                seed=31, image_path="/their/computer/boat.png")
    save_video_settings(video, VideoSettings(theirs, job_id="job_on_another_account"))
    assert drop_files(window.compose.drop_zone, [video])
    offer = offered(qtbot, window, theirs.prompt)
    assert offer.extend_button.isVisible()
    qtbot.mouseClick(offer.extend_button, Qt.MouseButton.LeftButton)
    offered(qtbot, window, "is the start image")
    assert not window.extend_mode.active  # no row of this history to link it to
    [start] = window.compose.drop_zone.images()
    assert fields(window.compose) == ("", theirs.model, theirs.aspect_ratio, theirs.duration,
                                      theirs.seed, [start])
    last = drive(qtbot, frames.last_frame(video))
    assert mean_difference(last.image, Path(start)) < 1

    # Made, and that last frame swept away since: the clip's settings come back without it,
    # and the words say how to get such a frame again (it was never a file of the person's).
    asked = GenerationSettings("the boat reaches the shore", aspect_ratio="9:16", duration=10,
                               seed=32, image_path=start)
    made = Path(generate(qtbot, window, asked).video_path or "")
    Path(start).unlink()
    offer = use_a_copy(qtbot, window, made, tmp_path, asked.prompt)
    assert "drop that video again and choose Extend" in offer.message.text()
    assert start not in offer.message.text()


def test_the_offers_buttons_keep_their_words_in_a_small_window(
        qtbot: QtBot, tmp_path: Path) -> None:
    """At 1024 × 640 the compose panel is narrow: the offer's words and its two buttons side by
    side cut the buttons' own words ("e these settin"); the buttons go under the words."""
    from runway_desktop.ui.main_window import MainWindow

    window = MainWindow(tmp_path / "cache")
    qtbot.addWidget(window)
    window.resize(1024, 640)
    window.show()
    qtbot.waitExposed(window)
    offer = window.video_drop.offer
    offer.offer("“kite.mp4”: “a red kite climbs over the dunes”, seed 4242, 9:16, 10 s.",
                use=True, extend=True)
    for button in (offer.use_button, offer.extend_button):
        assert button.isVisible()
        assert button.width() >= button.sizeHint().width(), button.text()
        assert offer.rect().contains(button.geometry())
    message = offer.message
    assert message.height() >= message.heightForWidth(message.width())  # every line shown


def test_a_film_of_this_historys_shots_extends_its_last_shot(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    """A film joined from clips of this history, dropped: Extend continues its last shot (the
    new clip records that shot as its parent, from its exact last frame) instead of taking the
    film's re-encoded end as a picture from elsewhere ("won't be linked")."""
    from runway_desktop.engine.video.mp4_join import join_mp4

    window = app_controller.window
    first = generate(qtbot, window, OTHER)
    last = generate(qtbot, window, dataclasses.replace(OTHER, prompt="and then it lands"))
    film = tmp_path / "film.mp4"
    join_mp4([Path(first.video_path or ""), Path(last.video_path or "")], film)
    found = read_video_settings(film)
    assert found is not None
    assert [s.job_id for s in found.shots] == [first.job_id, last.job_id]

    assert drop_files(window.preview, [film])
    offer = offered(qtbot, window, "A film of 2 shots")
    assert offer.extend_button.isVisible()
    qtbot.mouseClick(offer.extend_button, Qt.MouseButton.LeftButton)

    assert window.extend_mode.active
    assert window.extend_mode.parent_generation.id == last.id
    window.extend_mode.cancel()
    preview_settled(qtbot, window)


def test_a_dropped_videos_settings_leave_extend_mode_first(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    """In extend mode on #1, a video dropped and "Use these settings" (or its Extend, for one
    from elsewhere) filled the hidden compose panel while the strip still said "Extending #1":
    Generate then extended #1 with the dropped video's prompt, its start image ignored."""
    window = app_controller.window
    clip = generate(qtbot, window, OTHER)
    window.extend_mode.start(clip)
    assert window.extend_mode.active
    video = Path(shutil.copy(CLIP, tmp_path / "from-a-friend.mp4"))
    theirs = GenerationSettings("a paper boat drifts", aspect_ratio="16:9", duration=5, seed=31)
    save_video_settings(video, VideoSettings(theirs, job_id="job_on_another_account"))

    assert drop_files(window.preview, [video])
    offer = offered(qtbot, window, theirs.prompt)
    qtbot.mouseClick(offer.use_button, Qt.MouseButton.LeftButton)

    assert not window.extend_mode.active
    assert window.compose.drop_zone.isVisible()
    assert window.compose.prompt_edit.toPlainText() == theirs.prompt

    window.extend_mode.start(clip)
    assert drop_files(window.preview, [video])
    offer = offered(qtbot, window, theirs.prompt)
    qtbot.mouseClick(offer.extend_button, Qt.MouseButton.LeftButton)
    offered(qtbot, window, "is the start image")
    assert not window.extend_mode.active
    [start] = window.compose.drop_zone.images()
    assert Path(start).parent.name == "last-frames"
    preview_settled(qtbot, window)
