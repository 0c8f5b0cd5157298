"""The video at the centre: the real window at 1280 × 800 with real clips (issue 12, defect 9).

Sizes are measured from the widgets as laid out and painted: the picture's rectangle is the
video (or its thumbnail) fitted into the surface that shows it, aspect kept, exactly as Qt's
video widget and the poster paint it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QMenu,
    QWidget,
)
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui.main_window import MainWindow

# No sound server here; stepping fast replaces a clip the backend is still opening, which it
# reports as "Could not open media … Immediate exit requested" (the new clip then plays).
pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"
SIZES = {"9:16": (180, 320), "16:9": (320, 180), "21:9": (420, 180), "1:1": (240, 240)}


def finished(generation_id: int, ratio: str, folder: Path, *, age_s: float = 0.0) -> Generation:
    """A finished generation of `ratio` with its real clip and a thumbnail of its shape."""
    width, height = SIZES[ratio]
    thumb = QImage(width, height, QImage.Format.Format_RGB32)
    thumb.fill(QColor(40, 90, 160))
    thumb_path = folder / f"thumb-{generation_id}.png"
    thumb.save(str(thumb_path))
    clip = CLIPS / f"{ratio.replace(':', 'x')}.mp4"
    at = time.time() - age_s
    return Generation(
        id=generation_id, settings=GenerationSettings(prompt=f"result {generation_id}",
                                                      aspect_ratio=ratio),
        idempotency_key=f"key-{generation_id}", stage=Stage.DONE, created_at=at - 30,
        updated_at=at, finished_at=at, position=float(generation_id), video_path=str(clip),
        thumbnail_path=str(thumb_path))


def fitted(box: QRect, size: QSize) -> QRect:
    scaled = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    return QRect(box.x() + (box.width() - scaled.width()) // 2,
                 box.y() + (box.height() - scaled.height()) // 2,
                 scaled.width(), scaled.height())


def painted_picture(preview: object) -> QRect:
    """The picture's rectangle as painted: the playing video fitted in the video widget, or
    the thumbnail fitted in the poster (both keep the aspect and centre it)."""
    video = getattr(preview, "video_widget", None)
    if video is not None and video.isVisible():
        return fitted(video.rect(), video.videoSink().videoSize())
    poster = preview.poster  # type: ignore[attr-defined]
    return fitted(poster.rect(), poster.pixmap.deviceIndependentSize().toSize())


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    widget = MainWindow(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()  # keys go to the active window (matters on a real X server)
    qtbot.waitUntil(widget.isActiveWindow)
    return widget


def show_result(qtbot: QtBot, window: MainWindow, generation: Generation) -> None:
    window.queue.model.upsert(generation)
    assert window.queue.select_generation(generation.id)
    qtbot.waitUntil(lambda: window.preview.video_path() == generation.video_path)
    QApplication.processEvents()


def play_until_a_frame(qtbot: QtBot, window: MainWindow) -> None:
    window.preview.play()
    video = window.preview.video_widget
    qtbot.waitUntil(lambda: video is not None and video.isVisible()
                    and video.videoSink().videoSize().isValid(), timeout=10_000)


def test_a_portrait_result_is_most_of_the_window_tall(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    # 5ca3b5d: 167 px tall (the preview shared the right column with the list), 94 px wide.
    show_result(qtbot, window, finished(1, "9:16", tmp_path))
    poster = painted_picture(window.preview)
    assert poster.height() >= 0.6 * window.height(), poster
    play_until_a_frame(qtbot, window)
    video = painted_picture(window.preview)
    assert video.height() >= 0.6 * window.height(), video
    assert abs(video.width() / video.height() - 9 / 16) < 0.02
    # The player reports the same rectangle (what the full-screen test measures).
    assert window.preview.picture_rect().size() == video.size()


def test_a_wide_result_takes_the_whole_width_of_the_stage(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    # 5ca3b5d: 390 × 167, held by the preview's height while the column was 762 px wide.
    show_result(qtbot, window, finished(1, "21:9", tmp_path))
    play_until_a_frame(qtbot, window)
    video = painted_picture(window.preview)
    assert window.preview.video_widget is not None
    surface = window.preview.video_widget.rect()
    assert video.width() >= surface.width() - 2  # bound by the width: no room left unused
    assert video.height() < surface.height()
    assert abs(video.width() / video.height() - 21 / 9) < 0.03


@pytest.mark.parametrize("ratio", ["9:16", "16:9", "21:9"])
def test_the_stage_grows_with_the_window(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, ratio: str
) -> None:
    show_result(qtbot, window, finished(1, ratio, tmp_path))
    small = painted_picture(window.preview)
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.width() == 1600)
    QApplication.processEvents()
    big = painted_picture(window.preview)
    assert big.width() > small.width()
    assert big.height() > small.height()
    # The window's extra 320 px go to the stage, not to the side panels.
    assert big.width() >= small.width() + (200 if ratio != "9:16" else 100)


@pytest.mark.parametrize("ratio", ["16:9", "9:16"])
def test_the_preview_goes_full_screen_and_comes_back(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, ratio: str
) -> None:
    # 5ca3b5d had no full-screen preview: a full-screen window left it ~220 px tall.
    show_result(qtbot, window, finished(1, ratio, tmp_path))
    preview = window.preview
    play_until_a_frame(qtbot, window)
    before = preview.picture_rect()
    screen = window.screen().geometry()

    preview.full_screen_button.click()
    qtbot.waitUntil(lambda: preview.isWindow() and preview.geometry() == screen)
    QApplication.processEvents()
    assert preview.isFullScreen()
    picture = preview.picture_rect()
    # Edge to edge in the direction that binds it (only the controls' row is not picture).
    if ratio == "16:9":
        assert picture.width() >= 0.95 * screen.width()
    else:
        assert picture.height() >= 0.9 * screen.height()
    surface = preview.video_widget
    assert surface is not None
    video_area = surface.width() * surface.height()
    assert video_area >= 0.85 * screen.width() * screen.height()  # only the controls besides
    assert preview.is_playing()  # going full screen doesn't stop the video
    assert window.studio.stage.away_label.isVisible()

    qtbot.waitUntil(preview.isActiveWindow)  # in front, taking the keys
    qtbot.keyClick(preview, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not preview.isWindow())
    QApplication.processEvents()
    assert preview.parentWidget() is window.studio.stage
    qtbot.waitUntil(lambda: preview.picture_rect() == before)
    assert not window.studio.stage.away_label.isVisible()

    # F11 from the window; F11 again from the full-screen player; double-click too.
    window.activateWindow()
    window.queue.list_view.setFocus()
    qtbot.keyClick(window.queue.list_view, Qt.Key.Key_F11)
    qtbot.waitUntil(preview.isWindow)
    qtbot.waitUntil(preview.isActiveWindow)
    qtbot.keyClick(preview, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not preview.isWindow())
    qtbot.mouseDClick(preview.video_widget, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(preview.isWindow)
    window.studio.set_full_screen(False)


def test_closing_the_window_brings_the_full_screen_player_back(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    show_result(qtbot, window, finished(1, "16:9", tmp_path))
    window.studio.set_full_screen(True)
    assert window.preview.isWindow()
    window.close()
    assert not window.preview.isWindow()
    assert not window.preview.isVisible()


def test_keys_step_through_finished_results_and_keep_playing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    # The list shows 4, 3, 2 (failed: skipped), 1, newest first.
    results = [finished(i, ratio, tmp_path, age_s=60.0 * (10 - i))
               for i, ratio in ((1, "1:1"), (3, "16:9"), (4, "9:16"))]
    failed = Generation(id=2, settings=GenerationSettings(prompt="failed"), idempotency_key="f",
                        stage=Stage.FAILED, created_at=time.time(), updated_at=time.time(),
                        position=2.0, error="no")
    for generation in (*results, failed):
        window.queue.model.upsert(generation)
    by_id = {g.id: g.video_path for g in results}
    preview = window.preview
    assert window.queue.select_generation(4)
    qtbot.waitUntil(lambda: preview.video_path() == by_id[4])
    play_until_a_frame(qtbot, window)
    preview.setFocus()
    qtbot.waitUntil(preview.hasFocus)

    for key, expected in ((Qt.Key.Key_Right, 3), (Qt.Key.Key_J, 1), (Qt.Key.Key_Right, 1),
                          (Qt.Key.Key_K, 3), (Qt.Key.Key_Left, 4)):
        qtbot.keyClick(preview, key)
        qtbot.waitUntil(lambda: preview.video_path() == by_id[expected])  # noqa: B023
        current = window.queue.current_generation()
        assert current is not None
        assert current.id == expected  # the list follows
        qtbot.waitUntil(preview.is_playing)  # and the new one plays

    # In the gallery the same keys follow the grid's order (newest finished first).
    window.studio.show_gallery()
    assert window.gallery.select_generation(3)
    qtbot.waitUntil(lambda: preview.video_path() == by_id[3])
    preview.setFocus()
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: preview.video_path() == by_id[1])
    current = window.gallery.current_generation()
    assert current is not None
    assert current.id == 1

    # Full screen, the same keys step (the player is a window of its own then).
    window.studio.set_full_screen(True)
    qtbot.waitUntil(preview.isActiveWindow)
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: preview.video_path() == by_id[3])
    assert preview.isFullScreen()
    window.studio.set_full_screen(False)


def test_j_and_k_step_results_from_anywhere_in_the_window_but_type_in_text_fields(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """The View menu shows J and K: they used to act only while the player had the focus, so
    with the list (or the gallery) focused, as after clicking a row, they did nothing."""
    for generation in (finished(1, "16:9", tmp_path, age_s=60), finished(2, "9:16", tmp_path)):
        window.queue.model.upsert(generation)
    assert window.queue.select_generation(2)
    window.queue.list_view.setFocus()
    qtbot.waitUntil(window.queue.list_view.hasFocus)
    qtbot.keyClick(window.queue.list_view, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: window.preview.video_path() == str(CLIPS / "16x9.mp4"))
    qtbot.keyClick(window.queue.list_view, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: window.preview.video_path() == str(CLIPS / "9x16.mp4"))

    window.studio.show_gallery(focus=True)
    qtbot.waitUntil(window.gallery.list_view.hasFocus)
    qtbot.keyClick(window.gallery.list_view, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: window.preview.video_path() == str(CLIPS / "16x9.mp4"))

    # In a text field they are letters, and the result shown stays.
    prompt = window.compose.prompt_edit
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    qtbot.keyClicks(prompt, "jk")
    assert prompt.toPlainText().endswith("jk")
    assert window.preview.video_path() == str(CLIPS / "16x9.mp4")


def test_the_view_menu_offers_full_screen_stepping_and_the_two_lists(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    for generation in (finished(1, "16:9", tmp_path, age_s=60), finished(2, "9:16", tmp_path)):
        window.queue.model.upsert(generation)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert isinstance(view_menu, QMenu)
    entries = {a.objectName(): a for a in view_menu.actions() if not a.isSeparator()}
    assert [k.toString() for k in entries["full_screen"].shortcuts()] == ["F11"]
    assert [k.toString() for k in entries["next_result"].shortcuts()] == ["J"]
    assert [k.toString() for k in entries["previous_result"].shortcuts()] == ["K"]

    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.studio.gallery_shown()
    entries["show_queue"].trigger()
    assert not window.studio.gallery_shown()

    assert window.queue.select_generation(2)
    entries["next_result"].trigger()
    assert window.preview.video_path() == str(CLIPS / "16x9.mp4")
    entries["previous_result"].trigger()
    assert window.preview.video_path() == str(CLIPS / "9x16.mp4")
    entries["full_screen"].trigger()
    assert window.preview.isWindow()
    entries["full_screen"].trigger()
    assert not window.preview.isWindow()


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The app's own look (its paddings decide how wide the rows are), put back afterwards."""
    from runway_desktop.ui.theme import Scheme, Theme

    style, font, sheet = qapp.style().name(), QFont(qapp.font()), qapp.styleSheet()
    made = Theme(qapp, Scheme.LIGHT)
    made.install()
    yield qapp
    made.setParent(None)
    made.deleteLater()
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setFont(font)
    qapp.setPalette(qapp.style().standardPalette())


def scrolled(widget: QWidget) -> bool:
    """In a scroll area's contents: out of its sight is scrolled to, not lost."""
    parent = widget.parentWidget()
    while parent is not None:
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and parent is area.viewport():
            return True
        parent = area
    return False


def cut_or_outside(window: MainWindow) -> list[str]:
    """Visible buttons whose words don't fit, and widgets reaching out of the window."""
    found = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window:
            continue
        if (isinstance(widget, QAbstractButton) and widget.text()
                and widget.width() < widget.sizeHint().width()):
            found.append(f"cut: {widget.text()}")
        corner = widget.mapTo(window, widget.rect().bottomRight())
        if (corner.x() >= window.width() or corner.y() >= window.height()) and not scrolled(
                widget):
            found.append(f"outside: {type(widget).__name__} {widget.accessibleName()}")
    return found


def test_a_laptop_sized_window_puts_the_lists_under_the_stage(
    qtbot: QtBot, themed: QApplication, tmp_path: Path
) -> None:
    """Side by side, the compose panel, the stage and the lists made the window at least
    1344 × 653: it could not be made smaller, and overflowed a 1280 × 800 screen. Narrower
    than that the lists go under the stage; wide, they are beside it again."""
    window = MainWindow(tmp_path / "cache")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    studio = window.studio
    assert window.right_splitter.orientation() == Qt.Orientation.Horizontal  # the first size

    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.size() == QSize(1024, 640))
    QApplication.processEvents()
    assert window.right_splitter.orientation() == Qt.Orientation.Vertical
    stage, lists = studio.stage.geometry(), studio.side_tabs.geometry()
    assert stage.bottom() < lists.top()
    assert stage.height() >= 0.55 * (stage.height() + lists.height())  # the video first
    stage_narrow = stage
    assert cut_or_outside(window) == []
    assert window.compose.form_area.verticalScrollBar().maximum() == 0  # all of it in sight

    window.resize(1600, 900)
    qtbot.waitUntil(lambda: window.size() == QSize(1600, 900))
    QApplication.processEvents()
    assert window.right_splitter.orientation() == Qt.Orientation.Horizontal
    stage, lists = studio.stage.geometry(), studio.side_tabs.geometry()
    assert stage.right() < lists.left()
    assert cut_or_outside(window) == []

    window.resize(1024, 640)  # narrow again: the lists under the stage, as they were
    qtbot.waitUntil(lambda: window.size() == QSize(1024, 640))
    QApplication.processEvents()
    assert studio.stage.geometry() == stage_narrow

    # As small as it goes: the player's buttons by the stage were squeezed to "Exp…ip…" (the
    # lists' column kept a minimum width counted before Extend and Export Clip were added).
    window.resize(1, 1)
    qtbot.waitUntil(lambda: window.size() == window.minimumSize().expandedTo(
        window.minimumSizeHint()))
    QApplication.processEvents()
    assert cut_or_outside(window) == []
    assert studio.stage.width() >= studio.stage.minimumSizeHint().width()


def test_the_extend_strip_keeps_its_words_whole_on_a_laptop_and_at_the_smallest_size(
    qtbot: QtBot, themed: QApplication, tmp_path: Path, qasync_loop: object
) -> None:
    """Extending a 16:9 clip as 9:16 in a laptop's first window (1350 × 720) squeezed the
    strip's words into its height: lines cut in half, and the note's advice ("Choose 16:9 for
    a seamless continuation") never seen. They scroll now, the note first; Cancel stays."""
    from dataclasses import replace

    window = MainWindow(tmp_path / "cache")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    strip = window.extend_mode.strip
    clip = finished(1, "16:9", tmp_path)
    prompt = "A slow dolly across a wide valley, fog rolling in, golden light"
    window.extend_mode.start(replace(clip, settings=replace(clip.settings, prompt=prompt)))
    window.compose.aspect_picker.set_value("9:16")
    assert strip.ratio_note.isVisibleTo(strip)

    for size in (QSize(1350, 720), QSize(1, 1)):
        window.resize(size)
        wanted = size.expandedTo(window.minimumSize().expandedTo(window.minimumSizeHint()))

        def resized(target: QSize = wanted) -> bool:
            return window.size() == target

        qtbot.waitUntil(resized)
        QApplication.processEvents()
        for label in (strip.title, strip.ratio_note, strip.text):
            assert label.height() >= label.heightForWidth(label.width()), (size, label.text())
        viewport = strip.words_area.viewport()
        words_bottom = strip.text.mapTo(viewport, strip.text.rect().bottomLeft()).y()
        if words_bottom >= viewport.height():  # more than it shows: it says so and scrolls
            assert strip.words_area.verticalScrollBar().isVisible(), size
        if size.width() > 1:  # the laptop: a two-line title, the note's advice in sight
            title_line = strip.title.fontMetrics().lineSpacing()
            assert strip.title.height() <= 2 * title_line + 2, strip.title.text()
            note_top = strip.ratio_note.mapTo(viewport, strip.ratio_note.rect().topLeft()).y()
            line = strip.ratio_note.fontMetrics().lineSpacing()
            assert note_top >= 0, size
            assert note_top + line <= viewport.height(), size
        assert strip.cancel_button.isVisible()
        assert strip.rect().contains(strip.cancel_button.geometry()), size
        assert cut_or_outside(window) == []


def test_the_list_shown_comes_back_after_a_restart(qtbot: QtBot, tmp_path: Path) -> None:
    """A person working in the gallery found the queue after every restart (Ctrl+2 again)."""
    first = MainWindow(tmp_path / "cache")
    qtbot.addWidget(first)
    first.studio.show_gallery(True)
    first.save_state()
    again = MainWindow(tmp_path / "cache")
    qtbot.addWidget(again)
    again.restore_state()
    assert again.studio.gallery_shown()

    again.studio.show_gallery(False)
    again.save_state()
    third = MainWindow(tmp_path / "cache")
    qtbot.addWidget(third)
    third.studio.show_gallery(True)  # whatever it shows before, the saved choice wins
    third.restore_state()
    assert not third.studio.gallery_shown()


def test_a_row_moving_on_in_the_hidden_queue_leaves_the_gallerys_pick_in_the_preview(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Found by the person walk (random): the queue's selected row (a new generation being
    prepared) moved on while the gallery was shown, and the video picked in the gallery
    vanished from the preview; back in the queue, that result was selected with no video."""
    from dataclasses import replace

    result = finished(1, "16:9", tmp_path)
    at = time.time()
    running = Generation(id=2, settings=GenerationSettings(prompt="still being made"),
                         idempotency_key="key-2", stage=Stage.PREPARING, created_at=at,
                         updated_at=at, position=2.0)
    window._on_generation_updated(result)
    window._on_generation_updated(running)
    assert window.queue.select_generation(running.id)
    window.studio.show_gallery(True)
    qtbot.waitUntil(lambda: window.gallery.model.result_ids() == [result.id])
    assert window.gallery.select_generation(result.id)
    qtbot.waitUntil(lambda: window.preview.video_path() == result.video_path)

    window._on_generation_updated(replace(running, stage=Stage.UPLOADING))
    assert window.preview.video_path() == result.video_path
    window.studio.show_gallery(False)  # Ctrl+1: the queue takes the pick over
    assert window.queue.current_generation() == result
    assert window.preview.video_path() == result.video_path


def test_a_row_leaving_the_hidden_queues_filter_leaves_the_gallerys_pick_in_the_preview(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Found by the person walk (random, time passing while the gallery showed): the queue,
    filtered to Active, had a running row selected; it finished, left the filter, and the
    queue's selection moving on emptied the preview of the video picked in the gallery."""
    from dataclasses import replace

    from runway_desktop.ui.queue_filter import StatusFilter

    result = finished(1, "16:9", tmp_path)
    at = time.time()
    running = Generation(id=2, settings=GenerationSettings(prompt="still being made"),
                         idempotency_key="key-2", stage=Stage.PROCESSING, created_at=at,
                         updated_at=at, position=2.0, job_id="job-2")
    window._on_generation_updated(result)
    window._on_generation_updated(running)
    window.queue.set_status_filter(StatusFilter.ACTIVE)
    assert window.queue.select_generation(running.id)
    window.studio.show_gallery(True)
    qtbot.waitUntil(lambda: window.gallery.model.result_ids() == [result.id])
    assert window.gallery.select_generation(result.id)
    qtbot.waitUntil(lambda: window.preview.video_path() == result.video_path)

    window._on_generation_updated(replace(running, stage=Stage.FAILED, error="It failed."))
    assert window.queue.selected_generations() == []  # out of the Active filter
    assert window.preview.video_path() == result.video_path


def test_back_in_the_queue_a_row_that_finished_meanwhile_is_previewed_with_its_video(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Found by the person walk (random): the row selected in the queue finished while the
    gallery showed; back in the queue (Ctrl+1) it was selected, finished, and the preview
    still showed its poster from before, with no video to play."""
    from dataclasses import replace

    done = finished(1, "16:9", tmp_path)
    running = replace(done, stage=Stage.PROCESSING, video_path=None, progress=40)
    window._on_generation_updated(running)
    assert window.queue.select_generation(running.id)
    assert window.preview.video_path() is None
    window.studio.show_gallery(True)
    window._on_generation_updated(done)
    qtbot.waitUntil(lambda: window.gallery.model.result_ids() == [done.id])

    window.studio.show_gallery(False)
    assert window.queue.current_generation() == done
    assert window.preview.video_path() == done.video_path


def test_back_in_the_gallery_its_pick_is_previewed(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Found by the person walk (random): the gallery kept the result picked on an earlier
    visit; back in it (Ctrl+2) from a queue with nothing selected (its filter hid the new
    row), that result was selected in the grid but the preview stayed empty, and clicking it
    again changed nothing."""
    from runway_desktop.ui.queue_filter import StatusFilter

    result = finished(1, "16:9", tmp_path)
    at = time.time()
    running = Generation(id=2, settings=GenerationSettings(prompt="still being made"),
                         idempotency_key="key-2", stage=Stage.PROCESSING, created_at=at,
                         updated_at=at, position=2.0, job_id="job-2")
    window._on_generation_updated(result)
    window._on_generation_updated(running)
    window.studio.show_gallery(True)
    qtbot.waitUntil(lambda: window.gallery.model.result_ids() == [result.id])
    assert window.gallery.select_generation(result.id)
    window.studio.show_gallery(False)
    assert window.queue.select_generation(running.id)  # Generate selects the new row
    window.queue.set_status_filter(StatusFilter.FAILED)
    assert window.queue.current_generation() is None
    assert window.preview.video_path() is None

    window.studio.show_gallery(True)
    assert window.gallery.current_generation() == result
    assert window.preview.video_path() == result.video_path
