"""DropZone with real drag-and-drop events, the clipboard and the file dialog (offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt, QThreadPool, QUrl
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import QApplication, QFileDialog

from runway_desktop.ui.drop_zone import MESSAGE_TIMEOUT_MS, DropZone, check_image_file
from tests.helpers.images import make_png
from tests.ui.dnd import drop_mime, file_mime, url_mime


@pytest.fixture
def zone(qtbot, tmp_path: Path) -> DropZone:
    widget = DropZone(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(420, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def images_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    return folder


def test_drop_valid_png_shows_it(qtbot, zone: DropZone, images_dir: Path) -> None:
    path = make_png(images_dir, "still.png", 640, 360)
    with qtbot.waitSignal(zone.images_changed) as blocker:
        assert drop_mime(zone, file_mime(path))
    assert blocker.args == [[path]]
    assert zone.images() == [path]
    assert zone.size_label.text() == "640 × 360"
    assert zone.name_label.text() == "still.png"
    assert zone.message() == ""
    assert zone.badge_label.isHidden()
    qtbot.waitUntil(zone.preview_ready, timeout=3000)
    assert zone.canvas.image is not None
    assert zone.canvas.image.size().width() == 640


def test_invalid_file_is_refused_inline_and_previous_image_kept(
    qtbot, zone: DropZone, images_dir: Path
) -> None:
    good = make_png(images_dir, "good.png", 640, 360)
    zone.set_images([good])
    text_file = images_dir / "notes.txt"
    text_file.write_text("not an image")
    with qtbot.assertNotEmitted(zone.images_changed):
        drop_mime(zone, file_mime(str(text_file)))
    assert zone.images() == [good]
    assert "notes.txt" in zone.message()
    assert "PNG, JPEG, WebP, HEIC, AVIF, GIF, BMP or TIFF" in zone.message()
    assert zone.message_label.isVisible()
    assert QApplication.activeModalWidget() is None  # inline, never a modal box


def test_wrong_ratio_image_is_refused_with_the_ratio(zone: DropZone, images_dir: Path) -> None:
    wide = make_png(images_dir, "banner.png", 1000, 300)
    drop_mime(zone, file_mime(wide))
    assert zone.images() == []
    assert "ratio" in zone.message()
    assert "3.33" in zone.message()


def test_dropping_several_images_takes_them_all(qtbot, zone: DropZone, images_dir: Path) -> None:
    paths = [make_png(images_dir, f"frame{i}.png", 640, 360) for i in range(3)]
    with qtbot.waitSignal(zone.images_changed) as blocker:
        drop_mime(zone, file_mime(*paths))
    assert blocker.args == [paths]
    assert zone.images() == paths
    assert zone.badge_label.text() == "+2 more"
    assert zone.badge_label.isVisible()


def test_mixed_drop_keeps_the_good_ones_and_says_what_was_refused(
    zone: DropZone, images_dir: Path
) -> None:
    good = make_png(images_dir, "ok.png", 640, 360)
    bad = images_dir / "broken.png"
    bad.write_bytes(b"plain text pretending")
    drop_mime(zone, file_mime(good, str(bad)))
    assert zone.images() == [good]
    assert "broken.png" in zone.message()


def test_https_url_drop_is_passed_through(qtbot, zone: DropZone) -> None:
    url = "https://images.example.com/cat.jpg?size=large"
    with qtbot.waitSignal(zone.images_changed):
        drop_mime(zone, url_mime(QUrl(url)))
    assert zone.images() == [url]
    assert zone.size_label.text() == "Image link"
    assert zone.canvas.url_text == url


def test_plain_http_is_refused_unless_loopback(zone: DropZone) -> None:
    drop_mime(zone, url_mime(QUrl("http://example.com/cat.jpg")))
    assert zone.images() == []
    assert "https" in zone.message()
    drop_mime(zone, url_mime(QUrl("http://127.0.0.1:8765/cat.png")))
    assert zone.images() == ["http://127.0.0.1:8765/cat.png"]


def test_drag_enter_accepts_only_urls_or_image_data(qtbot, zone: DropZone) -> None:
    text_only = QMimeData()
    text_only.setText("hello")
    assert not drop_mime(zone, text_only)
    image_data = QMimeData()
    image = QImage(320, 180, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    image_data.setImageData(image)
    assert drop_mime(zone, image_data)
    # Pixels without a link (e.g. from a browser) are saved as a PNG (off the GUI thread)
    # and used.
    qtbot.waitUntil(lambda: len(zone.images()) == 1)
    assert zone.images()[0].endswith(".png")
    assert zone.size_label.text() == "320 × 180"


def test_paste_clipboard_image_saves_png_into_cache(qtbot, zone: DropZone, tmp_path: Path) -> None:
    image = QImage(800, 600, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 80, 40))
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(zone.images_changed):
        qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    [saved] = zone.images()
    assert Path(saved).parent == tmp_path / "cache"
    assert Path(saved).suffix == ".png"
    assert QImage(saved).size().width() == 800
    assert zone.size_label.text() == "800 × 600"


def test_a_pasted_picture_is_written_off_the_gui_thread(
    qtbot, zone: DropZone, tmp_path: Path
) -> None:
    """A pasted screenshot was encoded as PNG on the GUI thread inside the Ctrl+V handler: a
    5K one froze the window ~0.3-0.6 s here. The key press now returns before the file is
    written (the picture arrives through the event loop), and nothing says the clipboard
    held no image meanwhile."""
    image = QImage(1600, 900, QImage.Format.Format_RGB32)
    image.fill(QColor(40, 120, 200))
    QGuiApplication.clipboard().setImage(image)
    qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert zone.images() == []  # not written yet: that happens on a pool thread
    assert zone.message() == ""
    with qtbot.waitSignal(zone.images_changed, timeout=10_000):
        pass
    [saved] = zone.images()
    assert QImage(saved).size().width() == 1600
    assert zone.message() == ""


def test_a_paste_overtaken_by_a_drop_leaves_the_drop_and_no_file(
    qtbot, zone: DropZone, tmp_path: Path, images_dir: Path
) -> None:
    image = QImage(800, 600, QImage.Format.Format_RGB32)
    image.fill(QColor(40, 120, 200))
    QGuiApplication.clipboard().setImage(image)
    qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    dropped = make_png(images_dir, "dropped.png", 640, 360)
    drop_mime(zone, file_mime(dropped))  # before the pasted picture is written
    QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)
    assert zone.images() == [dropped]
    assert list((tmp_path / "cache").glob("pasted-*")) == []


def test_paste_file_path_text(qtbot, zone: DropZone, images_dir: Path) -> None:
    path = make_png(images_dir, "from clipboard.png", 640, 480)
    QGuiApplication.clipboard().setText(path)
    qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert zone.images() == [path]
    QGuiApplication.clipboard().setText(QUrl.fromLocalFile(path).toString())
    zone.clear()
    qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert zone.images() == [path]


def test_paste_https_text_and_junk_text(qtbot, zone: DropZone) -> None:
    QGuiApplication.clipboard().setText("  https://cdn.example.com/a.webp  ")
    qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert zone.images() == ["https://cdn.example.com/a.webp"]
    QGuiApplication.clipboard().setText("a sunny beach")
    qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert zone.images() == ["https://cdn.example.com/a.webp"]
    assert "clipboard" in zone.message()


def test_message_hides_by_itself_and_on_next_valid_drop(
    qtbot, zone: DropZone, images_dir: Path
) -> None:
    assert zone._message_timer.interval() == MESSAGE_TIMEOUT_MS == 6000
    bad = images_dir / "x.txt"
    bad.write_text("x")
    drop_mime(zone, file_mime(str(bad)))
    assert zone.message()
    drop_mime(zone, file_mime(make_png(images_dir, "ok.png", 640, 360)))
    assert zone.message() == ""
    zone._message_timer.setInterval(30)
    drop_mime(zone, file_mime(str(bad)))
    assert zone.message()
    qtbot.waitUntil(lambda: zone.message() == "", timeout=2000)


def test_clear_button_empties_the_zone(qtbot, zone: DropZone, images_dir: Path) -> None:
    zone.set_images([make_png(images_dir, "a.png", 640, 360)])
    assert zone.clear_button.isEnabled()
    with qtbot.waitSignal(zone.images_changed) as blocker:
        qtbot.mouseClick(zone.clear_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [[]]
    assert zone.images() == []
    assert zone.size_label.text() == ""
    assert not zone.clear_button.isEnabled()


def test_browse_opens_a_non_blocking_dialog(qtbot, zone: DropZone, images_dir: Path) -> None:
    paths = [make_png(images_dir, f"b{i}.png", 640, 360) for i in range(2)]
    qtbot.mouseClick(zone.browse_button, Qt.MouseButton.LeftButton)  # returns: not exec()
    dialog = zone.findChild(QFileDialog)
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
    with qtbot.waitSignal(zone.images_changed):
        dialog.filesSelected.emit(paths)
    assert zone.images() == paths
    dialog.reject()
    qtbot.waitUntil(lambda: zone._dialog is None)


def test_aspect_overlay_frames_the_centre_crop(zone: DropZone, images_dir: Path) -> None:
    zone.set_images([make_png(images_dir, "wide.png", 640, 360)])
    image_rect = zone.canvas.image_rect()
    zone.set_aspect_ratio("16:9")
    assert zone.canvas.crop_rect().width() == pytest.approx(image_rect.width())
    zone.set_aspect_ratio("9:16")
    crop = zone.canvas.crop_rect()
    assert crop.height() == pytest.approx(image_rect.height())
    assert crop.width() / crop.height() == pytest.approx(9 / 16)
    assert crop.center().x() == pytest.approx(image_rect.center().x())
    zone.grab()  # paints the overlay without errors


def test_exif_orientation_is_applied(images_dir: Path, qapp) -> None:
    pil = pytest.importorskip("PIL.Image")
    path = images_dir / "rotated.jpg"
    exif = pil.Exif()
    exif[0x0112] = 6  # "rotate 90° CW to display"
    pil.new("RGB", (400, 300), (10, 20, 30)).save(path, exif=exif.tobytes())
    check = check_image_file(path)
    assert check.ok
    assert check.size is not None
    assert (check.size.width(), check.size.height()) == (300, 400)


def test_check_rejects_empty_missing_and_disguised_files(images_dir: Path, qapp) -> None:
    empty = images_dir / "empty.png"
    empty.write_bytes(b"")
    assert "empty" in (check_image_file(empty).reason or "")
    assert "doesn't exist" in (check_image_file(images_dir / "nope.png").reason or "")
    fake = images_dir / "fake.jpg"
    fake.write_bytes(b"GIF89a" + b"\0" * 64)
    assert "isn't an image Runway can use" in (check_image_file(fake).reason or "")
    assert "folder" in (check_image_file(images_dir).reason or "")


def test_set_images_rechecks_files_that_vanished(zone: DropZone, images_dir: Path) -> None:
    zone.set_images([str(images_dir / "gone.png")])
    assert zone.images() == []
    assert "gone.png" in zone.message()


def test_zone_is_accessible(zone: DropZone) -> None:
    for widget in (zone, zone.browse_button, zone.clear_button):
        assert widget.accessibleName()
        assert widget.toolTip()
    assert zone.acceptDrops()
    assert zone.focusPolicy() == Qt.FocusPolicy.StrongFocus


def test_zone_destroyed_while_preview_decodes(qtbot, tmp_path: Path, images_dir: Path) -> None:
    big = make_png(images_dir, "big.png", 3000, 2000)
    widget = DropZone(tmp_path / "cache")
    widget.set_images([big])
    widget.deleteLater()
    qtbot.wait(50)
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(50)  # the late result finds no receiver: nothing happens


# -- one validation for the window and the CLI (engine.images) ---------------------------------

HEIC = Path(__file__).parents[1] / "engine" / "data" / "phone-gps.heic"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "AVIF"])
def test_every_format_the_cli_converts_is_taken(
    qtbot, zone: DropZone, images_dir: Path, fmt: str
) -> None:
    """The window used to refuse GIF, BMP and TIFF that the CLI converts (and AVIF, HEIC)."""
    from PIL import Image

    path = images_dir / f"still.{fmt.lower()}"
    Image.new("RGB", (320, 200), (30, 90, 200)).save(path, fmt)
    with qtbot.waitSignal(zone.images_changed):
        drop_mime(zone, file_mime(str(path)))
    assert zone.images() == [str(path)]
    assert zone.message() == ""
    assert zone.size_label.text() == "320 × 200"
    qtbot.waitUntil(zone.preview_ready, timeout=3000)
    assert zone.message() == ""


def test_a_heic_photo_is_taken_with_its_upright_size_and_a_preview(
    qtbot, zone: DropZone, images_dir: Path
) -> None:
    with qtbot.waitSignal(zone.images_changed):
        drop_mime(zone, file_mime(str(HEIC)))
    assert zone.images() == [str(HEIC)]
    assert zone.size_label.text() == "80 × 120"
    qtbot.waitUntil(zone.preview_ready, timeout=3000)
    assert zone.message() == ""  # decoded through engine.images: Qt can't read HEIC
    assert zone.canvas.image is not None
    assert (zone.canvas.image.width(), zone.canvas.image.height()) == (80, 120)
    assert QColor(zone.canvas.image.pixel(70, 5)).red() > 200  # upright: the mark top-right


def test_the_file_dialog_offers_every_accepted_format() -> None:
    from runway_desktop.ui.drop_zone import image_patterns

    for pattern in ("*.png", "*.jpg", "*.webp", "*.heic", "*.avif", "*.gif", "*.bmp", "*.tif"):
        assert pattern in image_patterns().split()


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_hanging_the_window(zone: DropZone, images_dir: Path) -> None:
    import os

    fifo = images_dir / "pipe.png"
    os.mkfifo(fifo)  # opening it would block the GUI thread until a writer comes
    drop_mime(zone, file_mime(str(fifo)))
    assert zone.images() == []
    assert "it's a pipe (FIFO), not a regular file" in zone.message()


def test_the_empty_zone_does_not_say_only_three_formats_are_taken(qtbot, tmp_path: Path) -> None:
    """It said "PNG, JPEG or WebP" (in words and to screen readers) though HEIC, GIF, BMP,
    TIFF and AVIF are taken and converted."""
    from runway_desktop.ui.image_canvas import EMPTY_HINT

    zone = DropZone(tmp_path / "cache")
    qtbot.addWidget(zone)
    for words in (EMPTY_HINT, zone.accessibleDescription()):
        assert "JPEG or WebP" not in words
        assert "HEIC" in words


def test_a_long_file_name_is_cut_in_the_middle_not_clipped(qtbot, tmp_path: Path) -> None:
    """'pasted-20261129-154…' ran under the size beside it, cut mid-letter."""
    zone = DropZone(tmp_path / "cache")
    qtbot.addWidget(zone)
    zone.resize(360, 300)
    zone.show()
    qtbot.waitExposed(zone)
    name = "pasted-20261129-154845-a-very-long-name-of-a-picture-ccf5a1.png"
    zone.set_images([make_png(tmp_path, name)])
    label = zone.name_label
    assert label.text() == name  # the whole name for screen readers
    shown = label.shown_text()
    assert "…" in shown
    assert shown.startswith("pasted-")
    assert shown.endswith(".png")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()


@pytest.mark.parametrize(("width", "height"), [(220, 110), (340, 110), (380, 124), (300, 140),
                                               (420, 160), (360, 220), (420, 320)])
def test_the_empty_hint_stays_inside_its_frame_at_every_size(
        qtbot, zone: DropZone, width: int, height: int) -> None:
    """In a 1024 × 640 window the canvas is ~110 px high: the hint's second line was drawn
    over the dashed frame (the glyph, title and hint sat at fixed offsets below the middle,
    ~156 px of room assumed). Nothing of it may come within 6 px of the frame."""
    canvas = zone.canvas
    canvas.setFixedSize(width, height)
    picture = canvas.grab().toImage()
    base = canvas.palette().color(canvas.backgroundRole())
    inner = canvas.palette().color(canvas.palette().ColorRole.Base)
    margin = 6

    def ink(x: int, y: int) -> bool:
        colour = picture.pixelColor(x, y)
        return colour != inner and colour != base

    # Just inside the frame: the top and bottom bands, corners aside (rounded).
    bands = [(x, y) for x in range(12, width - 12)
             for y in (*range(3, 3 + margin), *range(height - 3 - margin, height - 3))]
    touched = [(x, y) for x, y in bands if ink(x, y)]
    assert touched == [], f"drawn {len(touched)} px within {margin} px of the frame"
    # And something is drawn: the title and the hint are there.
    assert sum(ink(x, y) for x in range(12, width - 12)
               for y in range(3 + margin, height - 3 - margin)) > 200


def truncated(folder: Path, fmt: str) -> Path:
    """A real picture cut in half, as an interrupted download leaves it."""
    from PIL import Image

    whole = folder / f"whole.{fmt.lower()}"
    picture = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    picture.save(whole, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    cut = folder / f"cut.{fmt.lower()}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


@pytest.mark.qt_log_ignore("Corrupt JPEG data")  # Qt's JPEG reader, decoding the preview
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_truncated_picture_is_refused_in_the_cli_s_words_not_sent(
    qtbot, zone: DropZone, images_dir: Path, tmp_path: Path, fmt: str
) -> None:
    """The drop only read the header: a picture cut short by an interrupted download was
    taken, its preview failed with a message gone after 6 s over an empty box, and Generate
    made a row that needed attention. The CLI refuses it before anything is journaled. The
    zone now reads it through as the CLI does (off the GUI thread) and refuses it in the same
    words, keeping the picture it had before."""
    from tests.helpers.cli import cli_env, run_cli

    before = make_png(images_dir, "before.png", 640, 360)
    zone.set_images([before])
    cut = truncated(images_dir, fmt)
    drop_mime(zone, file_mime(str(cut)))
    qtbot.waitUntil(lambda: zone.images() == [before], timeout=10_000)
    said = zone.message()
    assert f"“{cut.name}”" in said
    assert "truncated or corrupt" in said

    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    cli = run_cli("generate", "a still", "--image", cut,
                  env=cli_env("http://127.0.0.1:9", data, home))
    assert cli.code != 0
    assert said in cli.stderr  # the same sentence


def test_a_truncated_picture_in_a_batch_is_left_out_the_others_kept(
    qtbot, zone: DropZone, images_dir: Path
) -> None:
    good = [make_png(images_dir, f"good{i}.png", 640, 360) for i in range(2)]
    cut = str(truncated(images_dir, "PNG"))
    drop_mime(zone, file_mime(good[0], cut, good[1]))
    qtbot.waitUntil(lambda: zone.images() == good, timeout=10_000)
    assert "truncated or corrupt" in zone.message()


def test_a_refused_picture_and_a_vanished_one_do_not_give_each_other_back(
    qtbot, zone: DropZone, images_dir: Path
) -> None:
    """A refused drop gives back the picture the zone held; if that one has gone meanwhile it
    is refused in turn, and the zone must not give back the first again (they took turns for
    ever)."""
    held = make_png(images_dir, "held.png", 640, 360)
    zone.set_images([held])
    QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(20)
    changes: list[list[str]] = []
    zone.images_changed.connect(changes.append)
    cut = truncated(images_dir, "PNG")
    drop_mime(zone, file_mime(str(cut)))
    Path(held).unlink()  # gone before the drop is read through
    for _ in range(20):
        QThreadPool.globalInstance().waitForDone(10_000)
        qtbot.wait(20)
    assert zone.images() == []
    assert len(changes) <= 3, changes
    assert "held.png" in zone.message()
