"""The start image framed in the window (issue 12 §4): the ratio follows the picture until the
person picks one, the frame pans and zooms by pointer and keys, what is uploaded is exactly what
the frame shows, and what was being composed survives a restart (§5)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageOps
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from runway_desktop.api.catalog import GEN4_5, GEN4_TURBO, ModelCatalog
from runway_desktop.engine import framing
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.ui.compose_panel import ComposePanel
from runway_desktop.ui.main_window import MainWindow
from tests.helpers.images import add_late_exif
from tests.helpers.scripted_server import ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # a fixture, used by name


def picture(folder: Path, name: str, size: tuple[int, int]) -> str:
    """Four flat quadrants: any crop's place in the picture shows in its colours."""
    w, h = size
    img = Image.new("RGB", size)
    colours = [(220, 40, 40), (40, 200, 40), (40, 40, 220), (230, 230, 40)]
    for index, colour in enumerate(colours):
        x, y = index % 2, index // 2
        img.paste(colour, (x * w // 2, y * h // 2, (x + 1) * w // 2, (y + 1) * h // 2))
    path = folder / name
    img.save(path)
    return str(path)


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> ComposePanel:
    widget = ComposePanel(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(420, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# -- the ratio follows the picture --------------------------------------------------------------

def test_the_ratio_follows_the_dropped_picture_until_the_person_picks_one(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    assert panel.aspect_picker.value() == "16:9"
    panel.drop_zone.set_images([picture(tmp_path, "portrait.png", (1080, 1920))])
    assert panel.aspect_picker.value() == "9:16"
    panel.drop_zone.set_images([picture(tmp_path, "square.png", (900, 900))])
    assert panel.aspect_picker.value() == "1:1"

    qtbot.mouseClick(panel.aspect_picker.button("4:3"), Qt.MouseButton.LeftButton)
    panel.drop_zone.set_images([picture(tmp_path, "portrait2.png", (1080, 1920))])
    assert panel.aspect_picker.value() == "4:3"  # picked: the picture no longer decides


# -- pan and zoom -------------------------------------------------------------------------------

def test_drag_pans_wheel_zooms_double_click_recentres(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    zone = panel.drop_zone
    zone.set_images([picture(tmp_path, "wide.png", (1600, 900))])
    qtbot.mouseClick(panel.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    canvas = zone.canvas
    centred = zone.frame()
    assert centred == framing.centred((1600, 900), "1:1")

    centre = canvas.crop_rect().center().toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(canvas, centre + QPoint(-40, 0))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(-40, 0))
    moved = zone.frame()
    assert moved is not None
    assert centred is not None
    assert moved.left < centred.left
    assert moved.width == pytest.approx(centred.width)

    wheel_at = QPointF(canvas.crop_rect().center())
    QApplication.sendEvent(canvas, QWheelEvent(
        wheel_at, canvas.mapToGlobal(wheel_at), QPoint(), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase, False))
    zoomed = zone.frame()
    assert zoomed is not None
    assert zoomed.width == pytest.approx(moved.width / 1.15 ** 2)

    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=centre)
    assert zone.frame() == centred


def test_keys_pan_and_zoom_the_frame(qtbot: QtBot, panel: ComposePanel, tmp_path: Path) -> None:
    zone = panel.drop_zone
    zone.set_images([picture(tmp_path, "wide.png", (1600, 900))])
    qtbot.mouseClick(panel.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    zone.setFocus()
    start = zone.frame()
    qtbot.keyClick(zone, Qt.Key.Key_Plus)
    qtbot.keyClick(zone, Qt.Key.Key_Left)
    after = zone.frame()
    assert start is not None
    assert after is not None
    assert after.width < start.width
    assert after.left < start.left + (start.width - after.width) / 2
    qtbot.keyClick(zone, Qt.Key.Key_0)
    assert zone.frame() == start


def test_a_drag_is_not_a_click_and_a_click_on_an_empty_zone_still_browses(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    zone = panel.drop_zone
    clicks: list[bool] = []
    zone.canvas.clicked.connect(lambda: clicks.append(True))
    zone.set_images([picture(tmp_path, "wide.png", (1600, 900))])
    centre = zone.canvas.crop_rect().center().toPoint()
    qtbot.mousePress(zone.canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(zone.canvas, centre + QPoint(30, 0))
    qtbot.mouseRelease(zone.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(30, 0))
    assert clicks == []
    qtbot.mouseClick(zone.canvas, Qt.MouseButton.LeftButton, pos=centre)
    assert clicks == [True]


# -- what is uploaded is what the frame shows ---------------------------------------------------

@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


@pytest.fixture
def before_app_start() -> Callable[[Path], None]:
    """Each window here starts afresh: not with what an earlier test's window was composing
    (QSettings live as long as the test process)."""
    return lambda _data_dir: QSettings().clear()


def uploaded_picture(body: bytes) -> Image.Image:
    start = min(i for i in (body.find(b"\x89PNG"), body.find(b"\xff\xd8\xff")) if i >= 0)
    end = body.rfind(b"\r\n--")
    return Image.open(io.BytesIO(body[start:end])).convert("RGB")


def test_the_uploaded_image_is_exactly_the_frame(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    window: MainWindow = app_controller.window
    compose = window.compose
    source = picture(tmp_path, "wide.png", (1600, 900))
    compose.drop_zone.set_images([source])
    qtbot.mouseClick(compose.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    editor = compose.drop_zone.canvas.editor
    editor.zoom_by(2.0)
    editor.pan_by(-1.0, -1.0)  # into the top-left (red) quadrant
    frame = compose.drop_zone.frame()
    assert frame is not None
    compose.prompt_edit.setPlainText("the red corner comes alive")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage == Stage.DONE for g in window.queue.model.generations()),
                    timeout=20_000)

    (upload,) = scripted_server.seen("POST /v2/uploads")
    sent = uploaded_picture(upload.body)
    with Image.open(source) as img:
        expected = img.convert("RGB").crop(frame.pixel_box(*img.size))
    assert sent.size[0] == sent.size[1]  # the frame's 1:1, not the picture's 16:9
    assert ImageChops.difference(sent.resize(expected.size), expected).getbbox() is None
    (generation,) = window.queue.model.generations()
    assert generation.settings.frame == framing.ImageFrame(*frame.to_json())


# -- what was being composed survives a restart -------------------------------------------------

def test_prompt_image_frame_and_ratio_survive_a_restart(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    source = picture(tmp_path, "portrait.png", (1080, 1920))
    panel.prompt_edit.setPlainText("the kite climbs")
    panel.drop_zone.set_images([source])
    panel.drop_zone.canvas.editor.zoom_by(1.5)
    panel.drop_zone.canvas.editor.pan_by(0.1, 0.1)
    frame = panel.drop_zone.frame()
    state = panel.state()

    again = ComposePanel(tmp_path / "cache2")
    qtbot.addWidget(again)
    again.restore_state(state)
    assert again.prompt_edit.toPlainText() == "the kite climbs"
    assert again.drop_zone.images() == [source]
    assert again.aspect_picker.value() == "9:16"
    restored = again.drop_zone.frame()
    assert frame is not None
    assert restored is not None
    assert restored.to_json() == pytest.approx(frame.to_json(), abs=1e-6)


def test_a_start_image_gone_since_last_time_is_said_not_lost_silently(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    source = Path(picture(tmp_path, "gone.png", (800, 600)))
    panel.prompt_edit.setPlainText("still here")
    panel.drop_zone.set_images([str(source)])
    state = panel.state()
    source.unlink()

    again = ComposePanel(tmp_path / "cache2")
    qtbot.addWidget(again)
    again.restore_state(state)
    assert again.prompt_edit.toPlainText() == "still here"
    assert again.drop_zone.images() == []
    assert "gone.png" in again.drop_zone.message()
    assert "doesn't exist" in again.drop_zone.message()


def test_a_stored_frame_is_not_put_on_another_picture_at_the_same_path(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    """The start image was replaced between runs by another picture of the same shape: the
    frame chosen for the old one (its red corner) must not crop the new one."""
    source = Path(picture(tmp_path, "start.png", (800, 600)))
    panel.drop_zone.set_images([str(source)])
    panel.drop_zone.canvas.editor.zoom_by(2.0)
    panel.drop_zone.canvas.editor.pan_by(-1.0, -1.0)
    state = panel.state()
    source.unlink()
    picture(tmp_path, "start.png", (1600, 1200))  # another picture, the same 4:3

    again = ComposePanel(tmp_path / "cache2")
    qtbot.addWidget(again)
    again.restore_state(state)
    assert again.drop_zone.images() == [str(source)]
    assert again.drop_zone.frame() == framing.centred((1600, 1200), again.aspect_picker.value())
    assert not again.drop_zone.canvas.editor.is_moved()


# -- re-used settings: their frame goes back only on the picture it was chosen on -------------

def fingerprint(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def framed_red_corner(panel: ComposePanel, source: str) -> GenerationSettings:
    """Settings as a finished generation keeps them: a frame zoomed into the red corner of
    `source`, and the fingerprint of the picture it was chosen on."""
    panel.drop_zone.set_images([source])
    panel.drop_zone.canvas.editor.zoom_by(2.0)
    panel.drop_zone.canvas.editor.pan_by(-1.0, -1.0)
    made = panel.settings()
    assert made.frame is not None
    panel.drop_zone.clear()
    return dataclasses.replace(made, prompt="the red corner",
                               image_source_sha256=fingerprint(source))


def test_reused_settings_put_their_frame_back_on_the_very_picture(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    source = picture(tmp_path, "start.png", (800, 600))
    settings = framed_red_corner(panel, source)
    os.utime(source, (1_000_000_000, 1_000_000_000))  # touched, copied back: the same picture

    panel.apply_settings(settings, made_by="#12")
    qtbot.waitUntil(lambda: panel.drop_zone.frame() == settings.frame, timeout=5_000)
    assert panel.generate_button.isEnabled()
    assert "changed" not in panel.status_label.message()
    assert panel.settings().frame == settings.frame


def test_reused_settings_do_not_put_their_frame_on_another_picture_of_the_same_size(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    """The file at the start image's path was replaced by another picture of the same pixel
    size: the frame chosen for the old one (its red corner) must not crop the new one
    silently. The picture is restored, centred, and the status line says why."""
    source = picture(tmp_path, "start.png", (800, 600))
    settings = framed_red_corner(panel, source)
    Image.new("RGB", (800, 600), (90, 160, 200)).save(source)  # another picture, same size

    panel.apply_settings(settings, made_by="#12")
    note = (f"The start image at {source} has changed since #12 was made: its framing was "
            "reset.")
    qtbot.waitUntil(lambda: note in panel.status_label.message(), timeout=5_000)
    assert panel.drop_zone.images() == [source]
    assert panel.drop_zone.frame() == framing.centred((800, 600), settings.aspect_ratio)
    assert not panel.drop_zone.canvas.editor.is_moved()
    assert panel.generate_button.isEnabled()
    assert panel.settings().frame == framing.centred((800, 600), settings.aspect_ratio)

    panel.drop_zone.set_images([picture(tmp_path, "other.png", (800, 600))])
    assert "changed" not in panel.status_label.message()  # said of that picture only


def test_reused_settings_without_a_fingerprint_keep_their_frame_as_before(
    panel: ComposePanel, tmp_path: Path
) -> None:
    """Generations made before fingerprints were kept: their frame is applied as it always was
    (there is nothing to tell the pictures apart by)."""
    source = picture(tmp_path, "start.png", (800, 600))
    settings = dataclasses.replace(framed_red_corner(panel, source), image_source_sha256=None)
    panel.apply_settings(settings, made_by="#3")
    assert panel.drop_zone.frame() == settings.frame
    assert panel.generate_button.isEnabled()


def test_reuse_in_the_window_resets_the_frame_of_a_replaced_start_image(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """End to end: a framed generation, its start image replaced by another picture of the same
    size, then Re-use Settings: the new picture is uploaded centred, not cropped to the old
    picture's red corner."""
    window: MainWindow = app_controller.window
    compose = window.compose
    source = picture(tmp_path, "start.png", (1600, 900))
    compose.drop_zone.set_images([source])
    qtbot.mouseClick(compose.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    compose.drop_zone.canvas.editor.zoom_by(2.0)
    compose.drop_zone.canvas.editor.pan_by(-1.0, -1.0)
    compose.prompt_edit.setPlainText("the red corner comes alive")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage == Stage.DONE for g in window.queue.model.generations()),
                    timeout=20_000)
    (done,) = window.queue.model.generations()
    assert done.settings.image_source_sha256 == fingerprint(source)

    replacement = Image.new("RGB", (1600, 900), (90, 160, 200))
    replacement.paste((250, 250, 250), (700, 350, 900, 550))  # a white square in the middle
    replacement.save(source)
    compose.drop_zone.clear()
    window.queue.reuse_requested.emit(done.id)
    note = (f"The start image at {source} has changed since #{done.id} was made: its framing "
            "was reset.")
    qtbot.waitUntil(lambda: note in compose.status_label.message(), timeout=5_000)
    centred = framing.centred((1600, 900), "1:1")
    assert compose.drop_zone.frame() == centred
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: sum(g.stage == Stage.DONE
                                for g in window.queue.model.generations()) == 2, timeout=20_000)

    second = scripted_server.seen("POST /v2/uploads")[-1]
    sent = uploaded_picture(second.body)
    expected = replacement.crop(centred.pixel_box(1600, 900))
    assert ImageChops.difference(sent.resize(expected.size), expected).getbbox() is None


def test_a_batch_shows_the_centre_crop_it_gets_and_cannot_be_panned(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    """Several images go with Runway's centre crop; the first one's preview must not offer a
    frame to drag or zoom that then changes nothing."""
    zone = panel.drop_zone
    zone.set_images([picture(tmp_path, "a.png", (1600, 900)),
                     picture(tmp_path, "b.png", (900, 1600))])
    qtbot.mouseClick(panel.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    canvas = zone.canvas
    shown = canvas.crop_rect()
    centre = shown.center().toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(canvas, centre + QPoint(-40, 0))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(-40, 0))
    QApplication.sendEvent(canvas, QWheelEvent(
        QPointF(centre), canvas.mapToGlobal(QPointF(centre)), QPoint(), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase, False))
    assert canvas.crop_rect() == shown  # the centre crop, where it was
    assert canvas.cursor().shape() != Qt.CursorShape.OpenHandCursor
    assert zone.frame() is None

    zone.set_images([picture(tmp_path, "one.png", (1600, 900))])  # one picture: framed again
    assert zone.frame() is not None
    assert canvas.cursor().shape() == Qt.CursorShape.OpenHandCursor


@pytest.mark.parametrize("kind", ["PNG", "PNG-late", "WEBP", "TIFF", "JPEG"])
def test_a_picture_turned_by_its_exif_is_framed_upright_as_it_is_uploaded(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path,
    kind: str
) -> None:
    """Qt reads no EXIF orientation in PNG or WebP files, engine.images turns them upright: the
    window showed such a picture lying on its side (a 16:9 frame over a portrait photo) and
    the frame landed elsewhere in what was uploaded. Qt turns TIFF and JPEG itself; engine.images
    reported a turned TIFF's size turned twice (Pillow turns TIFFs): the window must agree."""
    stored = Image.open(picture(tmp_path, "stored.png", (1600, 900)))
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90° clockwise to show it upright
    source = tmp_path / f"phone.{kind.lower()}"
    params: dict[str, Any] = {"lossless": True} if kind == "WEBP" else {"quality": 100} if (
        kind == "JPEG") else {}
    if kind == "PNG-late":  # its eXIf chunk after the pixels: the header reads missed it
        stored.save(source, "PNG")
        add_late_exif(source, 6)
    else:
        stored.save(source, kind, exif=exif.tobytes(), **params)
    with Image.open(source) as img:
        upright = ImageOps.exif_transpose(img).convert("RGB")
    assert upright.size == (900, 1600)

    window: MainWindow = app_controller.window
    compose = window.compose
    compose.drop_zone.set_images([str(source)])
    assert compose.aspect_picker.value() == "9:16"  # the shape it has upright
    qtbot.waitUntil(lambda: compose.drop_zone.canvas.image is not None, timeout=10_000)
    shown = compose.drop_zone.canvas.image
    assert shown is not None
    assert shown.height() > shown.width()  # shown upright
    qtbot.mouseClick(compose.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    editor = compose.drop_zone.canvas.editor
    editor.zoom_by(2.0)
    editor.pan_by(1.0, 1.0)  # into the bottom-right corner of the upright picture
    frame = compose.drop_zone.frame()
    assert frame is not None
    compose.prompt_edit.setPlainText("the corner comes alive")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage == Stage.DONE for g in window.queue.model.generations()),
                    timeout=20_000)

    (upload,) = scripted_server.seen("POST /v2/uploads")
    sent = uploaded_picture(upload.body)
    expected = upright.crop(frame.pixel_box(*upright.size))
    assert sent.size[0] == sent.size[1]
    difference = ImageChops.difference(sent.resize(expected.size), expected)
    assert max(difference.tobytes()) <= (24 if kind == "JPEG" else 0)  # any channel, any pixel


# -- another model, other ratios ----------------------------------------------------------------

def test_a_model_without_the_ratio_shown_takes_the_nearest_one_not_its_first(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    """Gen-4.5's ratios are not confirmed to be Gen-4 Turbo's (contract §15.2). Switching to a
    model without the ratio shown moved it to that model's first ratio: a portrait framed 9:16
    became a 1:1 (here) or 16:9 letterbox, and coming back left it there. While the person has
    not picked a ratio it follows the picture on every model; a picked one moves to the nearest
    the model has."""
    narrow = dataclasses.replace(GEN4_5, aspect_ratios=("1:1", "4:3", "3:4", "16:9"))
    panel.set_catalog(ModelCatalog((GEN4_TURBO, narrow)))
    panel.drop_zone.set_images([picture(tmp_path, "portrait.png", (900, 1600))])
    assert panel.aspect_picker.value() == "9:16"
    panel.drop_zone.canvas.editor.zoom_by(1.5)

    panel.set_model(narrow.id)
    assert panel.aspect_picker.value() == "3:4"  # the picture's nearest on this model
    frame = panel.drop_zone.frame()
    assert frame is not None
    assert (frame.width * 900) / (frame.height * 1600) == pytest.approx(3 / 4, rel=0.01)
    assert panel.settings().aspect_ratio == "3:4"
    panel.set_model(GEN4_TURBO.id)
    assert panel.aspect_picker.value() == "9:16"  # still following the picture

    qtbot.mouseClick(panel.aspect_picker.button("21:9"), Qt.MouseButton.LeftButton)
    panel.set_model(narrow.id)
    assert panel.aspect_picker.value() == "16:9"  # the nearest to the 21:9 picked
    panel.set_model(GEN4_TURBO.id)
    assert panel.aspect_picker.value() == "16:9"  # picked: the picture no longer decides


def test_every_frame_key_help_lists_does_what_it_says_and_the_tip_says_how_to_frame(
    qtbot: QtBot, panel: ComposePanel, tmp_path: Path
) -> None:
    """Over a framed picture the zone's tool tip said "… or click to browse" (a click there
    browses nothing) and nothing said the frame can be dragged, zoomed or moved by keys; Help ▸
    Keyboard Shortcuts lists the keys from FRAME_KEYS, which must be the keys that work."""
    from PySide6.QtGui import QKeySequence

    from runway_desktop.ui.frame_editing import FRAME_HINT, FRAME_KEYS

    zone = panel.drop_zone
    assert "browse" in zone.toolTip()  # empty: a click browses
    zone.set_images([picture(tmp_path, "wide.png", (1600, 900))])
    qtbot.mouseClick(panel.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    assert zone.toolTip() == FRAME_HINT
    zone.setFocus()
    for keys, text in FRAME_KEYS:
        for key in keys:
            combination = QKeySequence(key)[0]  # type: ignore[index]  # PySide6 indexes it
            zone.canvas.editor.reset()
            zone.canvas.editor.zoom_by(2.0)  # room to move in every direction
            zone.canvas.editor.pan_by(0.01, 0.01)
            before = zone.frame()
            qtbot.keyClick(zone, combination.key(), combination.keyboardModifiers())
            after = zone.frame()
            assert after != before, f"{key} ({text}) did nothing"
            if text.startswith("Recentre"):
                assert after == framing.centred((1600, 900), "1:1")
    zone.set_images([picture(tmp_path, "a.png", (800, 600)), picture(tmp_path, "b.png",
                                                                     (800, 600))])
    assert "browse" in zone.toolTip()  # a batch has no frame to move
