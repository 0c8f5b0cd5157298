"""Compare two results side by side: opened from the queue's menu or C, both played, paused
and moved through together (real clips through QtMultimedia's FFmpeg backend, offscreen)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui.compare_command import comparable
from runway_desktop.ui.compare_view import CompareView
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.theme import DARK, LIGHT, Scheme
from tests.ui.test_removals import generate, preview_settled
from tests.ui.test_theme import app_look, drop, icon_colours, make_theme

__all__ = ["app_look"]  # a fixture, used by name

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"


def finished(gid: int, clip: str, stage: Stage = Stage.DONE) -> Generation:
    now = time.time()
    return Generation(
        id=gid, settings=GenerationSettings(prompt=f"result {gid}", seed=gid),
        idempotency_key=f"k{gid}", stage=stage, created_at=now, updated_at=now,
        finished_at=now if stage is Stage.DONE else None, position=float(gid),
        video_path=str(CLIPS / clip) if stage is Stage.DONE else None)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    widget = MainWindow(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()  # keys go to the active window (matters on a real X server)
    qtbot.waitUntil(widget.isActiveWindow)
    widget.queue.model.reset([finished(1, "16x9.mp4"), finished(2, "9x16.mp4"),
                              finished(3, "", Stage.FAILED)])
    return widget


def select(window: MainWindow, *ids: int) -> None:
    view = window.queue.list_view
    selection = view.selectionModel()
    selection.clearSelection()
    for gid in ids:
        index = window.queue.proxy.mapFromSource(window.queue.model.index_of(gid))
        selection.setCurrentIndex(index, selection.SelectionFlag.Select)


def menu_for_selection(window: MainWindow) -> QMenu:
    queue = window.queue
    primary = queue.current_generation()
    assert primary is not None
    return queue.build_context_menu(primary, queue.selected_generations())


def positions(view: CompareView) -> list[int]:
    return [pane.player.position() for pane in view.panes]


def states(view: CompareView) -> set[QMediaPlayer.PlaybackState]:
    return {pane.player.playbackState() for pane in view.panes}


def test_two_finished_rows_compare_from_the_menu_and_the_key(
    qtbot: QtBot, window: MainWindow
) -> None:
    queue = window.queue
    select(window, 1)
    one = menu_for_selection(window)
    entry = next(a for a in one.actions() if a.objectName() == "compare")
    assert not entry.isEnabled()  # one row: nothing to compare with
    select(window, 1, 3)
    assert comparable(queue.selected_generations()) == []  # a failed row has no video

    select(window, 1, 2)
    menu = menu_for_selection(window)
    entry = next(a for a in menu.actions() if a.objectName() == "compare")
    assert entry.isEnabled()
    assert entry.shortcut().toString() == "C"
    entry.trigger()
    view = window.compare.last_opened
    assert isinstance(view, CompareView)
    assert sorted(p.generation.id for p in view.panes) == [1, 2]
    view.close()
    qtbot.waitUntil(lambda: window.compare.last_opened is None)

    window.activateWindow()  # back from the comparison's window
    qtbot.waitUntil(window.isActiveWindow)
    queue.list_view.setFocus()
    qtbot.keyClick(queue.list_view, Qt.Key.Key_C)
    assert window.compare.last_opened is not None
    window.compare.last_opened.close()

    # The gallery's menu is the queue's: the same entry, on the gallery's selection.
    window.studio.show_gallery()
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 3)
    assert gallery.select_generation(1)
    second = gallery.model.row_of(2)
    assert second is not None
    gallery.list_view.selectionModel().select(
        gallery.model.index(second), gallery.list_view.selectionModel().SelectionFlag.Select)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    gallery.list_view.setFocus()
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_C)
    opened = window.compare.last_opened
    assert opened is not None
    assert sorted(p.generation.id for p in opened.panes) == [1, 2]
    opened.close()


def test_both_play_pause_and_seek_together(qtbot: QtBot, window: MainWindow) -> None:
    select(window, 1, 2)
    view = window.compare.compare(window.queue.selected_generations())
    assert view is not None
    qtbot.waitExposed(view)
    qtbot.waitUntil(view.isActiveWindow)  # opened in front, ready for its keys
    qtbot.waitUntil(lambda: all(p.player.duration() > 0 for p in view.panes), timeout=10_000)
    assert view.slider.maximum() == max(p.player.duration() for p in view.panes)

    view.play_button.click()
    qtbot.waitUntil(lambda: states(view) == {QMediaPlayer.PlaybackState.PlayingState})
    qtbot.waitUntil(lambda: min(positions(view)) > 300, timeout=10_000)
    a, b = positions(view)
    assert abs(a - b) < 250  # side by side, the same moment

    qtbot.keyClick(view, Qt.Key.Key_Space)  # pause both
    qtbot.waitUntil(lambda: states(view) == {QMediaPlayer.PlaybackState.PausedState})
    paused = positions(view)
    qtbot.wait(300)
    assert positions(view) == paused

    view.slider.setSliderDown(True)
    view.slider.setSliderPosition(1200)  # dragging: sliderMoved moves both
    view.slider.setSliderDown(False)
    qtbot.waitUntil(lambda: all(abs(p - 1200) < 50 for p in positions(view)), timeout=5_000)
    assert view.time_label.text().startswith("0:01")
    assert states(view) == {QMediaPlayer.PlaybackState.PausedState}  # seeking kept them paused

    view.play()
    qtbot.waitUntil(lambda: min(positions(view)) > 1400, timeout=10_000)
    a, b = positions(view)
    assert abs(a - b) < 250
    assert states(view) == {QMediaPlayer.PlaybackState.PlayingState}

    # The end loops both from the start together.
    qtbot.waitUntil(lambda: max(positions(view)) < 800 and view.is_playing(), timeout=10_000)
    a, b = positions(view)
    assert abs(a - b) < 250

    players = [pane.player for pane in view.panes]
    view.close()  # the files and decoders are let go at once (the window is deleted later)
    assert all(player.source().isEmpty() for player in players)
    qtbot.waitUntil(lambda: window.compare.last_opened is None)


def test_a_system_without_a_video_backend_says_so_in_each_pane(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """No QtMultimedia backend (a fresh machine missing a library): both panes stayed black
    without a word. A missing backend can't be produced in this process, so the player's own
    answer is replaced."""
    monkeypatch.setattr(QMediaPlayer, "isAvailable", lambda _self: False)
    select(window, 1, 2)
    view = window.compare.compare(window.queue.selected_generations())
    assert view is not None
    for pane in view.panes:
        assert pane.caption.text().startswith("Can't play videos here:")
        assert "result" in pane.caption.text()  # what it was made with is still said
        assert pane.player.source().isEmpty()


def test_the_comparisons_icons_follow_a_change_of_scheme(
        app_look: QApplication, qtbot: QtBot, window: MainWindow) -> None:
    """Switched to dark with a comparison open, its play and loop icons stayed drawn in the
    light scheme's dark grey: all but invisible on the dark window."""
    made = make_theme(app_look, Scheme.LIGHT)
    try:
        select(window, 1, 2)
        view = window.compare.compare(window.queue.selected_generations())
        assert view is not None
        qtbot.waitExposed(view)
        assert icon_colours(view.play_button.icon()) == {LIGHT.text}
        made.set_forced(Scheme.DARK)
        assert icon_colours(view.play_button.icon()) == {DARK.text}
        assert icon_colours(view.loop_button.icon()) == {DARK.text}
        view.close()
    finally:
        drop(made)


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the freedesktop trash")
def test_a_result_removed_while_compared_closes_the_comparison(
        qtbot: QtBot, app_controller: Any) -> None:
    """Two results compared, then one of them removed in the gallery (Shift+Del, its video to
    the trash): the comparison went on showing and playing the deleted video, its file held
    open. It closes, letting go of both files; the other results and videos are untouched,
    and Undo brings the removed one back, and the comparison with it."""
    window = app_controller.window
    results = generate(qtbot, window, 3)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    gallery = window.gallery
    view = gallery.list_view
    qtbot.waitUntil(lambda: len(gallery.model.result_ids()) == 3)
    first, second = gallery.model.result_ids()[:2]

    def click(gid: int, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        row = gallery.model.row_of(gid)
        assert row is not None
        point = view.visualRect(gallery.model.index(row)).center()
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, point)
        preview_settled(qtbot, window)

    click(first)
    click(second, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_C)
    compared = window.compare.last_opened
    assert compared is not None
    qtbot.waitExposed(compared)
    players = [pane.player for pane in compared.panes]
    qtbot.waitUntil(lambda: all(p.duration() > 0 for p in players), timeout=10_000)

    window.activateWindow()  # back to the gallery, as a person clicks in the main window
    qtbot.waitUntil(window.isActiveWindow)
    click(second)
    qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)

    removed = next(g for g in results if g.id == second)
    assert removed.video_path is not None
    qtbot.waitUntil(lambda: not Path(removed.video_path or "").exists())
    qtbot.waitUntil(lambda: window.compare.open_views() == [])
    assert all(player.source().isEmpty() for player in players)
    others = [g for g in results if g.id != second]
    assert all(Path(g.video_path or "").exists() for g in others)
    qtbot.waitUntil(lambda: sorted(gallery.model.result_ids()) == sorted(g.id for g in others))

    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Undo
    qtbot.waitUntil(lambda: Path(removed.video_path or "").exists())
    qtbot.waitUntil(lambda: second in gallery.model.result_ids())
    # The comparison the removal closed opens again, with both videos playing.
    qtbot.waitUntil(lambda: len(window.compare.open_views()) == 1)
    again = window.compare.open_views()[0]
    assert {pane.generation.id for pane in again.panes} == {first, second}
    qtbot.waitUntil(lambda: all(p.player.duration() > 0 for p in again.panes), timeout=10_000)
    again.close()
    preview_settled(qtbot, window)


def test_c_without_two_finished_videos_says_what_to_do(qtbot: QtBot, window: MainWindow) -> None:
    """C with one video selected (or three, or a failed one) did nothing at all: the person
    could not tell the key from a dead one. The status bar says what Compare needs."""
    view = window.queue.list_view
    window.queue.model.upsert(finished(4, "16x9.mp4"))
    message = window.statusBar().currentMessage
    for ids, words in (((1,), "Select a second finished video"),
                       ((1, 3), "Only finished videos can be compared"),
                       ((1, 2, 4), "3 videos are selected")):
        select(window, *ids)
        view.setFocus()
        qtbot.keyClick(view, Qt.Key.Key_C)
        assert window.compare.last_opened is None
        assert words in message()
        assert "press C" in message()
    select(window, 1, 2)
    qtbot.keyClick(view, Qt.Key.Key_C)
    opened = window.compare.last_opened
    assert opened is not None
    opened.close()


def test_clips_of_other_lengths_and_ratios_play_and_scrub_and_a_gone_video_says_so(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    """A 4 s landscape clip beside a 2 s portrait one: both play, the slider follows the longer
    one and a scrub past the shorter one's end leaves it on its last frame. A result whose video
    was moved or deleted on disk: C says so and what to do (it opened a black pane without a
    word), and a video deleted while compared says so in its pane."""
    from runway_desktop.engine.video.mp4_join import join_mp4
    from tests.helpers.video import NEXT

    longer = tmp_path / "longer.mp4"
    join_mp4([CLIPS / "16x9.mp4", NEXT], longer)
    gone = tmp_path / "gone.mp4"
    gone.write_bytes((CLIPS / "1x1.mp4").read_bytes())
    model = window.queue.model
    model.upsert(replace_video(finished(4, "16x9.mp4"), longer))
    model.upsert(replace_video(finished(5, "1x1.mp4"), gone))

    select(window, 4, 2)
    view = window.compare.compare(window.queue.selected_generations())
    assert view is not None
    qtbot.waitUntil(lambda: all(p.player.duration() > 0 for p in view.panes), timeout=10_000)
    assert sorted(p.player.duration() for p in view.panes) == [2000, 4000]
    assert view.slider.maximum() == 4000
    view.play()
    qtbot.waitUntil(lambda: min(positions(view)) > 200, timeout=10_000)
    view.seek(3000)  # past the portrait clip's end
    qtbot.waitUntil(lambda: view.slider.value() >= 3000, timeout=5_000)
    short = min(view.panes, key=lambda p: p.player.duration())
    assert short.player.position() <= 2000
    view.pause()
    assert "0:04" in view.time_label.text()
    view.close()

    gone.unlink()  # deleted in a file manager
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    select(window, 1, 5)
    list_view = window.queue.list_view
    list_view.setFocus()
    qtbot.keyClick(list_view, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: window.compare.open_views() == [])
    message = window.statusBar().currentMessage()
    assert "#5 isn't on disk any more" in message
    assert "Download Again" in message
    entry = next(a for a in menu_for_selection(window).actions() if a.objectName() == "compare")
    assert not entry.isEnabled()
    assert "#5 isn't on disk any more" in entry.toolTip()  # the menu says why too

    gone.write_bytes((CLIPS / "1x1.mp4").read_bytes())
    qtbot.keyClick(list_view, Qt.Key.Key_C)
    assert len(window.compare.open_views()) == 1
    opened = window.compare.open_views()[0]
    qtbot.waitUntil(lambda: all(p.player.duration() > 0 for p in opened.panes), timeout=10_000)
    opened.close()
    gone.unlink()
    again = window.compare.compare([finished(1, "16x9.mp4"), replace_video(finished(5, ""), gone)])
    assert again is None  # its file is gone: not opened at all
    missing = replace_video(finished(6, ""), tmp_path / "never.mp4")
    pane_view = CompareView(finished(1, "16x9.mp4"), missing, window)
    pane_view.show()
    qtbot.waitUntil(lambda: "isn't on disk any more" in pane_view.panes[1].caption.text(),
                    timeout=10_000)
    assert "result 6" in pane_view.panes[1].caption.text()  # and still which one it is
    pane_view.close()


def replace_video(generation: Generation, video: Path) -> Generation:
    from dataclasses import replace

    return replace(generation, video_path=str(video))
