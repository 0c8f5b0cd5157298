"""Every kind of start image a creator drops, end to end (issue 12 §4): real files dropped into
the real window, framed, generated against the simulator; the bytes apiframe received are
decoded and compared with what the frame showed and with what the CLI uploads."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.simulator import Simulator
from runway_desktop.ui.main_window import MainWindow
from tests.helpers.cli import cli_env, run_cli
from tests.ui.dnd import drop_files


def scene(size: tuple[int, int]) -> Image.Image:
    """Red grows left to right, green top to bottom, a blue checkerboard: any shift, turn or
    wrong crop shows in the colours."""
    width, height = size
    red = Image.linear_gradient("L").rotate(90).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    green = Image.linear_gradient("L")
    blue = Image.new("L", size, 0)
    for i in range(8):
        for j in range(8):
            if (i + j) % 2:
                blue.paste(200, (i * width // 8, j * height // 8, (i + 1) * width // 8,
                                 (j + 1) * height // 8))
    return Image.merge("RGB", (red.resize(size), green.resize(size), blue))


def _exif_turned(path: Path, size: tuple[int, int]) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    scene(size).save(path, "JPEG", quality=95, exif=exif.tobytes())


def _grey16(path: Path, size: tuple[int, int]) -> None:
    scene(size).getchannel(0).convert("I").point(lambda v: v * 257).convert("I;16").save(path)


def _alpha(path: Path, size: tuple[int, int]) -> None:
    picture = scene(size).convert("RGBA")
    picture.putalpha(Image.linear_gradient("L").resize(size).point(lambda v: 255 - v // 2))
    picture.save(path)


def _animated(path: Path, size: tuple[int, int]) -> None:
    first = scene(size)
    first.save(path, save_all=True, append_images=[first.rotate(180)], duration=100, loop=0)


MAKERS: dict[str, Callable[[Path, tuple[int, int]], None]] = {
    "portrait.png": lambda path, size: scene(size).save(path),
    "phone.jpg": _exif_turned,
    "print.jpg": lambda path, size: scene(size).convert("CMYK").save(path, quality=95),
    "scan.png": _grey16,
    "cutout.png": _alpha,
    "loop.gif": _animated,
    "paint.bmp": lambda path, size: scene(size).save(path),
    "scan.tif": lambda path, size: scene(size).save(path),
    "renamed.jpg": lambda path, size: scene(size).save(path, "PNG"),  # a PNG named .jpg
}
SIZES = {"portrait.png": (600, 1000), "phone.jpg": (1000, 600)}  # others: (960, 640)


def upright(path: Path) -> Image.Image:
    """The picture as a person sees it (first frame, EXIF turn applied), in 8-bit RGB."""
    with Image.open(path) as img:
        turned = ImageOps.exif_transpose(img)
        if turned.mode.startswith("I;16"):
            turned = turned.convert("I").point(lambda v: v / 257).convert("L")
        return turned.convert("RGB")


def shown(image: QImage) -> Image.Image:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    return Image.frombytes("RGB", (rgb.width(), rgb.height()), bytes(rgb.constBits()), "raw",
                           "RGB", rgb.bytesPerLine())


def mean_difference(expected: Image.Image, sent: Image.Image) -> float:
    """Mean difference per channel (0-255), `sent` brought to `expected`'s size."""
    resized = sent.convert("RGB").resize(expected.size)
    return sum(ImageStat.Stat(ImageChops.difference(expected, resized)).mean) / 3


def generated(qtbot: QtBot, window: MainWindow, prompt: str) -> Generation:
    compose = window.compose
    compose.prompt_edit.setPlainText(prompt)
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()

    def mine() -> list[Generation]:
        return [g for g in window.queue.model.generations() if g.settings.prompt == prompt]

    qtbot.waitUntil(lambda: any(g.stage is Stage.DONE for g in mine()), timeout=30_000)
    (generation,) = mine()
    return generation


def last_upload(simulator: Simulator) -> bytes:
    return list(simulator._state.uploads.values())[-1].data  # the bytes apiframe received


def test_every_kind_of_start_image_is_uploaded_as_its_frame_shows_it(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    window: MainWindow = app_controller.window
    compose = window.compose
    for name, make in MAKERS.items():
        path = tmp_path / name
        make(path, SIZES.get(name, (960, 640)))
        assert drop_files(compose.drop_zone, [path]), name
        assert compose.drop_zone.images() == [str(path)], compose.drop_zone.message()
        qtbot.waitUntil(lambda: compose.drop_zone.canvas.image is not None, timeout=10_000)
        picture = upright(path)
        expected_ratio = "9:16" if picture.height > picture.width else "4:3"
        assert compose.aspect_picker.value() == expected_ratio, name  # follows the picture
        editor = compose.drop_zone.canvas.editor
        editor.zoom_by(1.6)
        editor.pan_by(-0.1, 0.06)
        frame = compose.drop_zone.frame()
        assert frame is not None
        assert compose.drop_zone.canvas.image is not None
        preview = shown(compose.drop_zone.canvas.image)
        uploads = len(simulator._state.uploads)

        generated(qtbot, window, f"{name} comes alive")
        assert len(simulator._state.uploads) == uploads + 1
        sent = Image.open(io.BytesIO(last_upload(simulator)))
        assert sent.format in ("PNG", "JPEG"), name
        width, height = (int(part) for part in expected_ratio.split(":"))
        assert sent.width / sent.height == pytest.approx(width / height, rel=0.01), name
        source_crop = picture.crop(frame.pixel_box(*picture.size))
        assert sent.size == source_crop.size, name  # full detail, not the preview's
        assert mean_difference(source_crop, sent) < 1.5, name  # a JPEG re-encode at most
        preview_crop = preview.crop(frame.pixel_box(*preview.size))
        assert mean_difference(preview_crop, sent) < 4, name  # what the frame showed


@pytest.mark.parametrize("name", ["loop.gif", "paint.bmp", "scan.tif", "print.jpg",
                                  "phone.jpg"])
def test_the_window_uploads_the_very_bytes_the_cli_uploads(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path, name: str
) -> None:
    """One preparation for both (engine.images): GIF, BMP and TIFF converted to PNG, a CMYK or
    turned JPEG re-encoded upright, byte for byte the same. The picture has a ratio of the
    catalog, so the centred frame is all of it and the CLI (which has no framing) compares."""
    window: MainWindow = app_controller.window
    path = tmp_path / name
    MAKERS[name](path, (1280, 720))
    drop_files(window.compose.drop_zone, [path])
    ratio = window.compose.aspect_picker.value()
    frame = window.compose.drop_zone.frame()
    assert frame is not None
    assert frame.is_whole()
    generated(qtbot, window, "from the window")
    by_window = last_upload(simulator)

    home, data = tmp_path / "home", tmp_path / "cli-data"
    home.mkdir()
    data.mkdir()
    cli = run_cli("generate", "from the CLI", "--image", path, "--aspect", ratio,
                  env=cli_env(simulator.base_url, data, home), timeout=120)
    assert cli.code == 0, cli
    assert last_upload(simulator) == by_window


@pytest.mark.expect_log_warnings(r"needs attention")
@pytest.mark.parametrize("replacement_size", [(960, 640), (640, 960)])
def test_a_picture_replaced_on_disk_after_framing_is_not_cropped_blindly(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path,
    replacement_size: tuple[int, int]
) -> None:
    """The person frames “shot.png”, then saves another version over it from their editor and
    presses Generate: the frame (chosen on the picture shown) cropped the new file blindly, a
    portrait one even into a crop of another ratio than the video's, not what the frame showed.
    The window now sends the fingerprint of the picture it showed; the engine stops before the
    upload, and the row says why (nothing uploaded or paid)."""
    window: MainWindow = app_controller.window
    compose = window.compose
    path = tmp_path / "shot.png"
    scene((960, 640)).save(path)
    drop_files(compose.drop_zone, [path])
    compose.drop_zone.canvas.editor.zoom_by(2.0)
    qtbot.waitUntil(lambda: compose.drop_zone.fingerprint(str(path)) is not None, timeout=10_000)
    scene(replacement_size).rotate(180).save(path)  # another version, saved over it
    compose.prompt_edit.setPlainText("the new version")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage is Stage.ATTENTION or g.stage is Stage.DONE
                                for g in window.queue.model.generations()), timeout=30_000)
    (row,) = window.queue.model.generations()
    assert row.stage is Stage.ATTENTION
    assert row.error is not None
    assert "no longer the picture its frame was chosen on" in row.error
    assert "Nothing was uploaded or paid" in row.error
    assert len(simulator._state.uploads) == 0


def test_a_9000_px_png_is_previewed_framed_and_sent(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    """Issue 12 §8: a 9000 × 9000 PNG (324 MB decoded: over Qt's image limit and the engine's
    decode budget) was refused at the drop as "too many pixels to prepare safely". It is read a
    band of rows at a time: previewed, framed and sent like any other picture."""
    from tests.helpers.images import write_gradient_png

    window: MainWindow = app_controller.window
    compose = window.compose
    path = write_gradient_png(tmp_path / "poster.png", 9000, 9000)
    assert drop_files(compose.drop_zone, [path])
    assert compose.drop_zone.images() == [str(path)], compose.drop_zone.message()
    assert compose.aspect_picker.value() == "1:1"
    qtbot.waitUntil(lambda: compose.drop_zone.canvas.image is not None, timeout=30_000)
    qtbot.waitUntil(lambda: compose.drop_zone.fingerprint(str(path)) is not None,
                    timeout=30_000)  # read through: nothing refused
    assert compose.drop_zone.message() == ""
    assert compose.drop_zone.images() == [str(path)]
    compose.drop_zone.canvas.editor.zoom_by(4.0)
    compose.drop_zone.canvas.editor.pan_by(0.3, -0.2)
    frame = compose.drop_zone.frame()
    assert frame is not None

    generated(qtbot, window, "the poster comes alive")
    sent = Image.open(io.BytesIO(last_upload(simulator))).convert("RGB")
    left, top, right, bottom = frame.pixel_box(9000, 9000)
    assert sent.size == (right - left, bottom - top)
    corners = [sent.getpixel((0, 0)), sent.getpixel((sent.width - 1, sent.height - 1))]
    expected = [(left * 255 // 8999, top * 255 // 8999, 100),
                ((right - 1) * 255 // 8999, (bottom - 1) * 255 // 8999, 100)]
    for got, want in zip(corners, expected, strict=True):
        assert got == pytest.approx(want, abs=2)
