"""Export a clip from the window: the dialog opens from the queue's menu, the key and the button
by the preview; GIF, animated WebP and WebM come out at the chosen size and in/out range taken
from the preview, the preview's frame saves as a PNG, and each file opens again (Pillow for the
pictures, QtMultimedia for the WebM). Failures say what happened and leave nothing behind."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.engine.video.frames import duration_ms, frame_at
from runway_desktop.ui.export_dialog import ExportDialog, free_path
from runway_desktop.ui.main_window import MainWindow
from tests.helpers.small_disk import tmpfs
from tests.helpers.video import CLIP, mean_difference, rgb
from tests.ui.conftest import drive
from tests.ui.quitting import answer, quit_from_menu
from tests.ui.test_removals import generate, preview_settled

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


def finished(gid: int, video: Path) -> Generation:
    now = time.time()
    return Generation(id=gid, settings=GenerationSettings(prompt=f"clip {gid}"),
                      idempotency_key=f"k{gid}", stage=Stage.DONE, created_at=now,
                      updated_at=now, finished_at=now, video_path=str(video))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    return Path(shutil.copy(CLIP, folder / "shot.mp4"))


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, clip: Path,
           qasync_loop: asyncio.AbstractEventLoop) -> Iterator[MainWindow]:
    widget = MainWindow(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.queue.model.reset([finished(1, clip)])
    assert widget.queue.select_generation(1)
    yield widget
    if widget.clip_actions.last_export is not None:
        widget.clip_actions.last_export.close()


def open_from_button(qtbot: QtBot, window: MainWindow) -> ExportDialog:
    button = window.clip_actions.buttons["export_clip"]
    qtbot.waitUntil(button.isEnabled)
    button.click()
    dialog = window.clip_actions.last_export
    assert dialog is not None
    assert dialog.isVisible()
    # The clip's length was read (QtMultimedia: slower on a busy machine).
    qtbot.waitUntil(lambda: dialog.out_spin.maximum() == 2.0, timeout=30_000)
    return dialog


def export(qtbot: QtBot, dialog: ExportDialog) -> Path:
    dialog.export_button.click()
    assert dialog.busy()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=60_000)
    assert dialog.last_written is not None, dialog.status.text()
    assert dialog.reveal_button.isEnabled()
    assert dialog.progress.value() == 100
    return dialog.last_written


def test_gif_webp_and_webm_of_a_range_picked_in_the_preview(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    dialog = open_from_button(qtbot, window)
    assert [dialog.format_box.itemData(i) for i in range(dialog.format_box.count())] == [
        "gif", "webp", "webm"]
    player = window.preview.player
    qtbot.waitUntil(lambda: player.duration() == 2000, timeout=30_000)
    player.setPosition(500)
    qtbot.waitUntil(lambda: window.preview.position_ms() == 500, timeout=30_000)
    dialog.in_button.click()
    player.setPosition(1500)
    qtbot.waitUntil(lambda: window.preview.position_ms() == 1500, timeout=30_000)
    dialog.out_button.click()
    assert (dialog.trim().start_ms, dialog.trim().end_ms) == (500, 1500)
    dialog.size_box.setCurrentIndex(dialog.size_box.findData("small"))

    gif = export(qtbot, dialog)
    assert gif == clip.with_suffix(".gif")
    with Image.open(gif) as picture:
        assert picture.format == "GIF"
        assert getattr(picture, "n_frames", 1) == 10  # 1 s at the small preset's 10 fps
        first = picture.convert("RGB")
    in_frame = rgb(drive(qtbot, frame_at(clip, 500)).image)
    start = rgb(drive(qtbot, frame_at(clip, 0)).image)
    assert mean_difference(first, in_frame) < mean_difference(first, start) / 2

    dialog.select_format("webp")
    assert dialog.path_edit.text() == str(clip.with_suffix(".webp"))
    webp = export(qtbot, dialog)
    with Image.open(webp) as picture:
        assert picture.format == "WEBP"
        assert getattr(picture, "n_frames", 1) == 10

    dialog.select_format("webm")
    webm = export(qtbot, dialog)
    assert webm.suffix == ".webm"
    assert abs(drive(qtbot, duration_ms(webm)) - 1000) <= 100  # QtMultimedia plays it
    assert sorted(p.name for p in clip.parent.iterdir()) == [
        "shot.gif", "shot.mp4", "shot.webm", "shot.webp"]  # nothing half-written left


def test_the_dialog_names_the_clip_by_its_prompt(qtbot: QtBot, window: MainWindow) -> None:
    """The title said only “#1”: the grid and the list show prompts, not numbers, so with
    two dialogs open a person could not tell which clip each exported."""
    dialog = open_from_button(qtbot, window)
    assert dialog.windowTitle() == "Export “#1 clip 1”"


def test_the_preview_frame_saves_as_a_png(qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    dialog = open_from_button(qtbot, window)
    player = window.preview.player
    qtbot.waitUntil(lambda: player.duration() == 2000, timeout=30_000)
    player.setPosition(1000)
    qtbot.waitUntil(lambda: window.preview.position_ms() == 1000, timeout=30_000)

    dialog.still_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)

    assert dialog.last_written == clip.parent / "shot-1000ms.png"
    with Image.open(dialog.last_written) as png:
        assert png.format == "PNG"
        assert png.size == (320, 180)
        assert mean_difference(png.convert("RGB"), drive(qtbot, frame_at(clip, 1000)).image) == 0


def test_menu_and_key_open_it_only_for_a_finished_clip(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    queue = window.queue
    generation = queue.current_generation()
    assert generation is not None
    menu = queue.build_context_menu(generation, [generation])
    entry = next(a for a in menu.actions() if a.objectName() == "export_clip")
    assert entry.isEnabled()
    entry.trigger()
    assert window.clip_actions.last_export is not None
    window.clip_actions.last_export.close()
    qtbot.waitUntil(lambda: window.clip_actions.last_export is None)

    key = next(a for a in window.clip_actions.shortcut_actions
               if a.objectName() == "export_clip" and a.parent() is queue.list_view)
    key.trigger()
    assert window.clip_actions.last_export is not None

    running = Generation(id=2, settings=GenerationSettings(prompt="running"),
                         idempotency_key="k2", stage=Stage.PROCESSING, created_at=time.time(),
                         updated_at=time.time(), job_id="j2")
    queue.model.upsert(running)
    assert queue.select_generation(2)
    assert not window.clip_actions.buttons["export_clip"].isEnabled()
    menu = queue.build_context_menu(running, [running])
    assert not next(a for a in menu.actions() if a.objectName() == "export_clip").isEnabled()


def test_a_bad_range_and_an_unwritable_place_say_so_and_write_nothing(
        qtbot: QtBot, window: MainWindow, clip: Path, tmp_path: Path) -> None:
    dialog = open_from_button(qtbot, window)
    dialog.in_spin.setValue(1.5)
    dialog.out_spin.setValue(0.5)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    assert "before the in point" in dialog.status.text()
    assert dialog.last_written is None

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    dialog.in_spin.setValue(0)
    dialog.out_spin.setValue(2.0)
    dialog.path_edit.setText(str(blocker / "x.gif"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    assert "Can't write in" in dialog.status.text()
    assert "Choose another folder with Browse" in dialog.status.text()  # and what to do
    assert not dialog.reveal_button.isEnabled()
    assert sorted(p.name for p in clip.parent.iterdir()) == ["shot.mp4"]


def test_cancel_stops_the_export_and_leaves_no_file(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    dialog = open_from_button(qtbot, window)
    dialog.size_box.setCurrentIndex(dialog.size_box.findData("large"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    assert dialog.cancel_button.text() == "Cancel"

    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)

    assert "Cancelled" in dialog.status.text()
    assert dialog.cancel_button.text() == "Close"
    qtbot.waitUntil(lambda: sorted(p.name for p in clip.parent.iterdir()) == ["shot.mp4"])


def test_an_existing_file_is_never_the_default_name(tmp_path: Path) -> None:
    (tmp_path / "a.gif").write_text("")
    (tmp_path / "a-2.gif").write_text("")
    assert free_path(tmp_path / "a.gif") == tmp_path / "a-3.gif"
    assert free_path(tmp_path / "b.gif") == tmp_path / "b.gif"


def test_a_dialog_deleted_with_its_window_stops_its_export(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    dialog = open_from_button(qtbot, window)
    dialog.size_box.setCurrentIndex(dialog.size_box.findData("large"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    task = dialog._task
    assert task is not None

    dialog.deleteLater()  # the window went away: no closeEvent
    qtbot.waitUntil(task.done, timeout=30_000)

    assert task.cancelled()
    qtbot.waitUntil(lambda: sorted(p.name for p in clip.parent.iterdir()) == ["shot.mp4"])


def test_a_name_without_the_formats_suffix_is_refused_and_nothing_is_overwritten(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    """A GIF typed as “other.mp4” (another clip of the history, say) would, after “Replace”,
    have put GIF data under a video's name: the name must end in the format's suffix."""
    other = Path(shutil.copy(CLIP, clip.parent / "other.mp4"))
    before = other.read_bytes()
    dialog = open_from_button(qtbot, window)
    dialog.select_format("gif")
    dialog.path_edit.setText(str(other))

    dialog.export_button.click()

    assert not dialog.busy()
    assert dialog.findChild(QMessageBox, "replace_box") is None  # nothing to replace
    assert ".gif" in dialog.status.text()
    assert "other.mp4" in dialog.status.text()
    assert other.read_bytes() == before
    assert sorted(p.name for p in clip.parent.iterdir()) == ["other.mp4", "shot.mp4"]
    # A name typed without a suffix gets the format's.
    dialog.path_edit.setText(str(clip.parent / "loop"))
    written = export(qtbot, dialog)
    assert written == clip.parent / "loop.gif"
    with Image.open(written) as gif:
        assert gif.format == "GIF"


def test_export_twice_for_one_clip_brings_back_its_dialog(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    """Ctrl+Shift+S pressed again (the dialog hidden behind the window) opened a second
    dialog for the same clip; it brings the open one forward instead."""
    first = open_from_button(qtbot, window)
    first.path_edit.setText(str(clip.parent / "mine.gif"))
    window.clip_actions.buttons["export_clip"].click()

    again = window.clip_actions.last_export
    assert again is first
    assert again.path_edit.text() == str(clip.parent / "mine.gif")
    assert [w for w in window.findChildren(ExportDialog) if w.isVisible()] == [first]
    first.close()
    qtbot.waitUntil(lambda: window.clip_actions.last_export is None, timeout=5_000)
    assert open_from_button(qtbot, window) is not first  # closed: a new one


def test_return_exports_and_the_keys_never_land_on_set_in(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    """Keyboard only: Return exports. The focused widget was disabled for the export and the
    focus fell to "Set in", which stayed enabled: the next Return or Space moved the in point
    (during the export, too, while the dialog showed a range that wasn't being exported)."""
    dialog = open_from_button(qtbot, window)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.format_box.setFocus()
    qtbot.waitUntil(dialog.format_box.hasFocus)
    qtbot.keyClick(dialog.format_box, Qt.Key.Key_Return)  # the default button: Export
    assert dialog.busy()
    assert dialog.cancel_button.hasFocus()  # Cancel is what there is to do now (or Esc)
    assert not dialog.in_button.isEnabled()  # the range is the export's while it runs
    assert not dialog.out_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=60_000)
    assert dialog.last_written == clip.with_suffix(".gif"), dialog.status.text()
    assert dialog.in_button.isEnabled()
    assert dialog.reveal_button.hasFocus()  # done: Return shows it in its folder
    assert dialog.in_spin.value() == 0.0


# -- quitting while an export is written -----------------------------------------------------


def running(gid: int) -> Generation:
    now = time.time()
    return Generation(id=gid, settings=GenerationSettings(prompt=f"clip {gid}"),
                      idempotency_key=f"k{gid}", stage=Stage.PROCESSING, created_at=now,
                      updated_at=now)


def start_gif(qtbot: QtBot, window: MainWindow) -> ExportDialog:
    dialog = open_from_button(qtbot, window)
    dialog.size_box.setCurrentIndex(dialog.size_box.findData("large"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    return dialog


EXPORT_STOPS = ("An export of “shot.gif” is still being written: quitting stops it and "
                "nothing is written.")


def test_quit_during_an_export_names_it_and_cancel_lets_it_finish(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    """Quitting used to stop an export without a word (the question counted generations
    only, and with none running there was no question)."""
    dialog = start_gif(qtbot, window)

    box = quit_from_menu(qtbot, window)
    assert box.text() == EXPORT_STOPS
    answer(qtbot, box, QMessageBox.ButtonRole.RejectRole)  # Cancel

    qtbot.waitUntil(lambda: not dialog.busy(), timeout=60_000)
    assert dialog.last_written == clip.with_suffix(".gif"), dialog.status.text()
    assert window.isVisible()
    assert dialog.isVisible()
    with Image.open(clip.with_suffix(".gif")) as picture:
        assert picture.format == "GIF"
    assert window.clip_actions.exports_running() == []


def test_quit_during_an_export_stops_it_and_leaves_no_file(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    dialog = start_gif(qtbot, window)
    task = dialog._task
    assert task is not None

    box = quit_from_menu(qtbot, window)
    assert box.text() == EXPORT_STOPS
    answer(qtbot, box, QMessageBox.ButtonRole.AcceptRole)  # Quit

    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)
    qtbot.waitUntil(task.done, timeout=30_000)
    assert task.cancelled()
    qtbot.waitUntil(lambda: sorted(p.name for p in clip.parent.iterdir()) == ["shot.mp4"])


def test_the_quit_question_counts_generations_in_words_beside_the_export(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    for gid in (2, 3):
        window._on_generation_updated(running(gid))  # as the engine reports them
    dialog = start_gif(qtbot, window)

    box = quit_from_menu(qtbot, window)
    assert box.text() == ("2 generations are still running. They are saved and will carry on "
                          "the next time you open Runway Desktop.\n\n" + EXPORT_STOPS)
    answer(qtbot, box, QMessageBox.ButtonRole.RejectRole)
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=60_000)

    window._on_generation_updated(finished(3, clip))
    box = quit_from_menu(qtbot, window)
    assert box.text() == ("1 generation is still running. It is saved and will carry on the "
                          "next time you open Runway Desktop.")  # the export is written
    answer(qtbot, box, QMessageBox.ButtonRole.RejectRole)
    qtbot.waitUntil(lambda: not any(b.isVisible() for b in window.findChildren(QMessageBox)))
    assert window.isVisible()
    window._quit_confirmed = True  # the fixture's teardown closes it


def test_answering_cancel_leaves_no_question_behind(qtbot: QtBot, window: MainWindow) -> None:
    """Each Cancel left its hidden question box in the window (a child never deleted)."""
    window._on_generation_updated(running(2))
    for _ in range(3):
        box = quit_from_menu(qtbot, window)
        answer(qtbot, box, QMessageBox.ButtonRole.RejectRole)
    qtbot.waitUntil(lambda: not window.findChildren(QMessageBox), timeout=5_000)
    window._quit_confirmed = True  # the fixture's teardown closes it


def test_esc_during_an_export_cancels_it_as_the_button_does(
        qtbot: QtBot, window: MainWindow, clip: Path) -> None:
    """Esc while an export ran closed the dialog: the export stopped and the dialog went with
    its format, size and range, without a word. Esc now does what the Cancel button beside it
    does (the export stops, nothing is written, the dialog says so); pressed again it closes."""
    dialog = open_from_button(qtbot, window)
    dialog.size_box.setCurrentIndex(dialog.size_box.findData("large"))
    dialog.in_spin.setValue(0.5)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    focus = QApplication.focusWidget()
    assert focus is dialog.cancel_button  # the keys went to Cancel meanwhile

    qtbot.keyClick(focus, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)

    assert dialog.isVisible()
    assert "Cancelled" in dialog.status.text()
    assert dialog.in_spin.value() == 0.5  # what the person set is still there
    qtbot.waitUntil(lambda: sorted(p.name for p in clip.parent.iterdir()) == ["shot.mp4"])
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # nothing runs: Esc closes
    qtbot.waitUntil(lambda: window.clip_actions.last_export is None)


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the freedesktop trash")
def test_a_clip_removed_from_the_history_closes_its_idle_export_dialog(
        qtbot: QtBot, app_controller: Any) -> None:
    """Export Clip… open, then the clip removed in the gallery (Del): the dialog stayed,
    offering to export a clip no longer there. It closes with the clip, unless it is writing:
    that export goes on and says how it ended."""
    window = app_controller.window
    generate(qtbot, window, 2)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    gallery = window.gallery
    view = gallery.list_view
    qtbot.waitUntil(lambda: len(gallery.model.result_ids()) == 2)
    first, second = gallery.model.result_ids()
    export_keys = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)

    assert gallery.select_generation(first)
    preview_settled(qtbot, window)
    qtbot.keyClick(view, Qt.Key.Key_S, export_keys)
    idle = window.clip_actions.last_export
    assert idle is not None
    assert idle.isVisible()
    window.activateWindow()  # back to the gallery
    qtbot.waitUntil(window.isActiveWindow)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # Remove from History (the video stays)
    qtbot.waitUntil(lambda: window.clip_actions.last_export is None)
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [second])

    qtbot.waitUntil(lambda: gallery.current_generation() is not None
                    and gallery.current_generation().id == second)  # in the removed one's place
    preview_settled(qtbot, window)
    qtbot.keyClick(view, Qt.Key.Key_S, export_keys)
    writing = window.clip_actions.last_export
    assert writing is not None
    qtbot.waitUntil(lambda: writing.out_spin.maximum() < 3600, timeout=30_000)
    writing.size_box.setCurrentIndex(writing.size_box.findData("large"))
    writing.export_button.click()
    qtbot.waitUntil(lambda: writing.progress.value() > 0, timeout=30_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [])
    assert writing.isVisible()
    qtbot.waitUntil(lambda: not writing.busy(), timeout=60_000)
    assert writing.last_written is not None
    assert writing.last_written.exists()
    assert "Saved" in writing.status.text()
    writing.close()


def test_a_clip_gone_from_disk_and_a_folder_gone_mid_export_say_what_to_do(
        qtbot: QtBot, window: MainWindow, clip: Path, tmp_path: Path) -> None:
    """The clip's video deleted (or moved) after the dialog opened: Export said only that it
    doesn't exist any more; it says how to get it back. The folder removed while the export
    writes: nothing is left and the words say to choose another. A wrong suffix is named in
    words that read ('a Animated WebP' before)."""
    dialog = open_from_button(qtbot, window)
    out = tmp_path / "out"
    out.mkdir()
    dialog.select_format("webp")
    dialog.path_edit.setText(str(out / "x.gif"))
    dialog.export_button.click()
    assert "doesn't end in .webp: Animated WebP is saved as .webp" in dialog.status.text()

    dialog.size_box.setCurrentIndex(dialog.size_box.findData("large"))
    dialog.path_edit.setText(str(out / "x.webp"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: 0 < dialog.progress.value() < 100, timeout=30_000)
    shutil.rmtree(out)  # the folder removed while the export writes
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=60_000)
    assert dialog.last_written is None
    assert "Couldn't write" in dialog.status.text()
    assert "Choose another folder" in dialog.status.text()
    assert not out.exists()

    video = clip.read_bytes()
    clip.unlink()  # deleted in a file manager
    dialog.path_edit.setText(str(tmp_path / "y.webp"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    assert "doesn't exist any more" in dialog.status.text()
    assert "Download Again" in dialog.status.text()
    assert not (tmp_path / "y.webp").exists()
    clip.write_bytes(video)


def test_an_export_that_fills_the_disk_says_what_to_do_and_writes_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """“Couldn't write “x.gif”: No space left on device.” said what happened, not what to do
    (that came only for a folder without write permission). A real full drive: a tmpfs with
    less room than the clip (root only)."""
    dialog = open_from_button(qtbot, window)
    with tmpfs(tmp_path / "small", "size=16k") as small:
        dialog.path_edit.setText(str(small / "x.gif"))
        dialog.export_button.click()
        qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
        text = dialog.status.text()
        assert "No space left on device" in text, text
        assert f"Free some space in {small}, or choose another folder with Browse…" in text
        assert dialog.last_written is None
        assert list(small.iterdir()) == []
