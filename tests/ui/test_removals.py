"""Selecting, removing, trashing and clearing in the real window over the simulator.

Only what the person selected is touched; several rows are asked about first (without blocking
the loop); every removal can be undone from a non-modal notice, and deleted videos go to the
(freedesktop) trash under a private XDG_DATA_HOME, from which Undo fetches them back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.simulator import Simulator

pytestmark = pytest.mark.skipif(sys.platform in ("darwin", "win32"),
                                reason="checks the freedesktop trash")


@pytest.fixture(autouse=True)
def _preview_idle_at_the_end(qtbot: QtBot, app_controller: Any) -> Iterator[None]:
    yield
    preview_settled(qtbot, app_controller.window)  # no media load cut short by the teardown


def generate(qtbot: QtBot, window: Any, count: int) -> list[Generation]:
    """Ctrl+Enter `count` times, as a person iterating on a prompt does; wait for the videos."""
    compose = window.compose
    model = window.queue.model
    compose.prompt_edit.setPlainText("a paper boat on a pond")
    compose.prompt_edit.setFocus()
    start = model.rowCount()
    for _ in range(count):
        qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.rowCount() == start + count
                    and all(g.stage is Stage.DONE for g in model.generations()), timeout=20_000)
    preview_settled(qtbot, window)
    return list(model.generations())


def preview_settled(qtbot: QtBot, window: Any) -> None:
    """Wait until the preview has loaded what the selection shows (an interrupted load logs
    an FFmpeg warning, which fails the test)."""
    player = window.preview._player
    if player is None:
        return
    loading = (player.MediaStatus.LoadingMedia,)
    qtbot.waitUntil(lambda: player.mediaStatus() not in loading, timeout=10_000)


def right_click_menu(qtbot: QtBot, window: Any, generation_id: int) -> QMenu:
    view = window.queue.list_view
    index = window.queue.proxy.mapFromSource(window.queue.model.index_of(generation_id))
    point = view.visualRect(index).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=point)
    preview_settled(qtbot, window)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                              view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    menus = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMenu) and w.objectName() == "queueContextMenu" and w.isVisible()]
    assert len(menus) == 1
    return menus[0]


def menu_action(menu: QMenu, name: str) -> Any:
    return next(a for a in menu.actions() if a.objectName() == name)


def confirm_box(qtbot: QtBot, window: Any) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "confirm_box") is not None
                    and window.findChild(QMessageBox, "confirm_box").isVisible(), timeout=5_000)
    return window.findChild(QMessageBox, "confirm_box")


def press(qtbot: QtBot, box: QMessageBox, text: str) -> None:
    button = next(b for b in box.buttons() if b.text() == text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)


def video(generation: Generation) -> Path:
    assert generation.video_path
    return Path(generation.video_path)


def with_sidecar(generation: Generation) -> set[Path]:
    """The video and its settings file (`<name>.json`), which goes wherever the video goes."""
    return {video(generation), video(generation).with_suffix(".json")}


def journal_ids(controller: Any) -> set[int]:
    return {g.id for g in controller.engine.generations()}


def trashed_from(trash: Path) -> set[Path]:
    """Where the trash says its videos came from."""
    found = set()
    for info in (trash / "info").glob("*.trashinfo"):
        line = next(x for x in info.read_text().splitlines() if x.startswith("Path="))
        found.add(Path(unquote(line.removeprefix("Path="))))
    return found


def journal_agrees_with_disk(controller: Any) -> None:
    """Every finished row in the journal and shown in the list has its video on disk."""
    window = controller.window
    for generation in controller.engine.generations():
        if generation.stage is Stage.DONE and not window.removals.is_hidden(generation.id):
            assert video(generation).exists(), generation


def test_generate_selects_only_the_newest_and_one_row_action_touches_one_row(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    newest = max(rows, key=lambda g: g.id)
    assert [g.id for g in window.queue.selected_generations()] == [newest.id]

    oldest = min(rows, key=lambda g: g.id)
    menu = right_click_menu(qtbot, window, oldest.id)
    action = menu_action(menu, "remove_with_file")
    assert action.text() == "Remove and Move Video to Trash"  # one row: no count
    action.trigger()
    assert window.findChild(QMessageBox, "confirm_box") is None  # one row: nothing to ask
    assert window.queue.model.generation(oldest.id) is None
    assert not video(oldest).exists()
    assert trashed_from(trash_dir) == with_sidecar(oldest)
    for other in rows:
        if other.id != oldest.id:  # nothing happened to what was not selected
            assert window.queue.model.generation(other.id) is not None
            assert video(other).exists()
    assert "moved 1 video to the Trash" in window.notice.message.text()
    journal_agrees_with_disk(app_controller)
    assert not window.banner.isVisible()


def test_actions_on_several_rows_name_their_count_and_ask_first(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    window.queue.list_view.selectAll()
    preview_settled(qtbot, window)
    menu = right_click_menu(qtbot, window, rows[1].id)
    # A right-click on a selected row keeps the selection: the menu acts on all three.
    assert len(window.queue.selected_generations()) == 3
    assert menu_action(menu, "remove").text() == "Remove 3 Generations from History"
    assert menu_action(menu, "remove_with_file").text() == (
        "Remove 3 Generations and Move Their Videos to Trash")
    assert menu_action(menu, "favourite").text() == "Favourite 3 Generations"
    menu_action(menu, "remove_with_file").trigger()

    box = confirm_box(qtbot, window)  # asked, and the loop still runs (open(), not exec())
    assert "3" in box.text()
    assert QApplication.activeModalWidget() in (None, box)
    press(qtbot, box, "Cancel")
    assert window.queue.model.rowCount() == 3  # "no" changed nothing
    assert all(path.exists() for g in rows for path in with_sidecar(g))

    window.queue.list_view.selectAll()
    preview_settled(qtbot, window)
    menu = right_click_menu(qtbot, window, rows[0].id)
    menu_action(menu, "remove_with_file").trigger()
    press(qtbot, confirm_box(qtbot, window), "Remove 3")
    assert window.queue.model.rowCount() == 0
    assert trashed_from(trash_dir) == set().union(*(with_sidecar(g) for g in rows))
    assert "Removed 3 generations and moved 3 videos to the Trash" in window.notice.message.text()
    assert window.notice.isVisible()
    assert window.undo_action.isEnabled()

    window.undo_action.trigger()  # Edit ▸ Undo (Ctrl+Z) does what the notice's button does
    assert sorted(g.id for g in window.queue.model.generations()) == sorted(g.id for g in rows)
    assert all(video(g).exists() for g in rows)  # back from the trash, same place
    assert all(path.exists() for g in rows for path in with_sidecar(g))  # settings too
    assert trashed_from(trash_dir) == set()
    assert journal_ids(app_controller) == {g.id for g in rows}
    assert "Restored 3 generations." in window.notice.message.text()
    journal_agrees_with_disk(app_controller)


def test_a_trashed_video_comes_back_with_undo_and_is_final_when_the_notice_goes(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    window = app_controller.window
    (row,) = generate(qtbot, window, 1)
    view = window.queue.list_view
    assert window.queue.select_generation(row.id)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert not video(row).exists()
    assert window.queue.model.rowCount() == 0
    assert journal_ids(app_controller) == {row.id}  # final only when the notice goes
    qtbot.mouseClick(window.notice.undo_button, Qt.MouseButton.LeftButton)
    assert video(row).exists()
    assert window.queue.model.generation(row.id) is not None
    journal_agrees_with_disk(app_controller)

    assert window.queue.select_generation(row.id)
    preview_settled(qtbot, window)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    window.notice.dismiss()  # timed out or closed: the removal is final
    assert journal_ids(app_controller) == set()
    assert not video(row).exists()
    assert trashed_from(trash_dir) == with_sidecar(row)  # in the trash, not destroyed
    assert not window.undo_action.isEnabled()
    assert not window.banner.isVisible()


def test_clear_finished_asks_and_can_be_undone(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    app_controller.engine.set_favourite(rows[0].id, True)
    qtbot.mouseClick(window.queue.clear_finished_button, Qt.MouseButton.LeftButton)
    press(qtbot, confirm_box(qtbot, window), "Clear 2")
    assert [g.id for g in window.queue.model.generations()] == [rows[0].id]  # favourite stays
    assert "Cleared 2 generations" in window.notice.message.text()
    qtbot.mouseClick(window.notice.undo_button, Qt.MouseButton.LeftButton)
    assert window.queue.model.rowCount() == 3

    qtbot.mouseClick(window.queue.clear_finished_button, Qt.MouseButton.LeftButton)
    press(qtbot, confirm_box(qtbot, window), "Clear 2")
    window.notice.dismiss()
    assert journal_ids(app_controller) == {rows[0].id}
    assert all(video(g).exists() for g in rows)  # the files stay in the folder
    assert trashed_from(trash_dir) == set()


def test_a_pending_removal_is_final_before_the_engine_stops(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    window = app_controller.window
    rows = generate(qtbot, window, 2)
    window.queue.remove_requested.emit([rows[0].id], False)
    engine = app_controller.engine
    from tests.ui.conftest import drive

    drive(qtbot, app_controller._stop_engine())  # a mode switch or quitting
    assert app_controller.engine is None
    assert not window.removals.is_hidden(rows[0].id)
    assert not window.notice.isVisible()  # no Undo offered that could no longer work
    assert not window.undo_action.isEnabled()
    from runway_desktop import paths
    from runway_desktop.engine.journal import Journal

    journal = Journal(paths.journal_path(engine.config.data_dir))
    try:
        assert {g.id for g in journal.all()} == {rows[1].id}
    finally:
        journal.close()


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_a_removed_row_that_starts_again_is_shown_not_removed(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    """Removing work that is running again would lose what may be paid for."""
    window = app_controller.window
    engine = app_controller.engine
    qtbot.waitUntil(lambda: engine.account is not None, timeout=5_000)
    simulator.set_credits("afk_test", 4)  # not enough: the row waits for the person
    window.compose.prompt_edit.setPlainText("a kite")
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=10_000)
    row = model.generation_at(0)
    window.queue.remove_requested.emit([row.id], False)
    assert model.rowCount() == 0
    simulator.set_credits("afk_test", 1000)
    engine.resume()  # e.g. the person topped up and saved the settings
    qtbot.waitUntil(lambda: model.generation(row.id) is not None, timeout=10_000)
    window.notice.dismiss()  # the removal would be final now: this row is not in it
    qtbot.waitUntil(lambda: model.generation(row.id) is not None
                    and model.generation(row.id).stage is Stage.DONE, timeout=20_000)
    assert row.id in journal_ids(app_controller)
    journal_agrees_with_disk(app_controller)


def test_cancelling_several_asks_first(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    from PIL import Image

    from runway_desktop.simulator.faults import FaultPlan
    from tests.ui.dnd import drop_files

    window = app_controller.window
    picture = tmp_path / "kite.png"
    Image.new("RGB", (640, 360), (30, 120, 200)).save(picture)
    simulator.faults = FaultPlan(routes={"upload"}, slow_seconds=3.0)  # they stay local a while
    drop_files(window.compose.drop_zone, [picture])
    qtbot.waitUntil(window.compose.drop_zone.preview_ready, timeout=5_000)
    window.compose.prompt_edit.setPlainText("a kite")
    for _ in range(3):
        window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5_000)
    window.queue.list_view.selectAll()
    menu = right_click_menu(qtbot, window, model.generation_at(0).id)
    action = menu_action(menu, "cancel")
    assert action.text() == "Cancel 3 Generations"
    action.trigger()
    press(qtbot, confirm_box(qtbot, window), "Keep them")
    assert all(g.stage is not Stage.CANCELLED for g in model.generations())
    window.queue.list_view.selectAll()
    menu = right_click_menu(qtbot, window, model.generation_at(0).id)
    menu_action(menu, "cancel").trigger()
    press(qtbot, confirm_box(qtbot, window), "Cancel 3")
    qtbot.waitUntil(lambda: all(g.stage is Stage.CANCELLED for g in model.generations()),
                    timeout=5_000)
    assert simulator.jobs_created("afk_test") == 0  # nothing reached apiframe, nothing charged


def test_generate_under_a_search_that_hides_the_new_row_shows_and_selects_only_it(
    qtbot: QtBot, app_controller: Any
) -> None:
    """Found by the stateful test: with a search (or a filter) hiding the new row, the rows
    selected before stayed selected — the next Delete would have acted on them."""
    from runway_desktop.ui.queue_filter import StatusFilter

    window = app_controller.window
    rows = generate(qtbot, window, 2)
    window.queue.list_view.selectAll()
    preview_settled(qtbot, window)
    window.queue.search_edit.setText("paper boat")
    window.queue.set_status_filter(StatusFilter.DONE)
    window.compose.prompt_edit.setPlainText("a lantern in the fog")
    qtbot.mouseClick(window.compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 3, timeout=5_000)
    newest = max(g.id for g in window.queue.model.generations())
    assert newest not in {g.id for g in rows}
    assert [g.id for g in window.queue.selected_generations()] == [newest]
    assert window.queue.search_edit.text() == ""  # in sight: the search and filter let go
    assert window.queue.proxy.status_filter is StatusFilter.ALL
    qtbot.waitUntil(lambda: window.queue.model.generation(newest).stage is Stage.DONE,
                    timeout=20_000)
    preview_settled(qtbot, window)


def test_clear_finished_clears_only_the_rows_its_question_counted(
    qtbot: QtBot, app_controller: Any
) -> None:
    """Found by the stateful test: a row that became clearable while "Clear 2 finished
    generations?" was open (a job finishing; here a favourite mark taken off through the
    engine) was cleared too — 3 rows went on a question about 2."""
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    kept = rows[0]
    app_controller.engine.set_favourite(kept.id, True)
    qtbot.mouseClick(window.queue.clear_finished_button, Qt.MouseButton.LeftButton)
    box = confirm_box(qtbot, window)
    assert "2" in box.text()
    app_controller.engine.set_favourite(kept.id, False)  # clearable now, but not asked about
    press(qtbot, box, "Clear 2")
    assert [g.id for g in window.queue.model.generations()] == [kept.id]
    assert "Cleared 2 generations" in window.notice.message.text()


def test_clear_finished_keeps_the_takes_of_sequences(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    """Clear finished tidies the list; it took every sequence's takes with it, so each shot
    read "not made yet", the film couldn't be exported and Run would have paid for every shot
    again. A sequence's takes stay, like favourites."""
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    command = window.sequence_command
    qtbot.waitUntil(command.action.isEnabled, timeout=10_000)
    sequence = command.sequences.create_from_clip(rows[1].id)
    assert command.sequences is not None

    qtbot.mouseClick(window.queue.clear_finished_button, Qt.MouseButton.LeftButton)
    press(qtbot, confirm_box(qtbot, window), "Clear 2")
    window.notice.dismiss()

    assert journal_ids(app_controller) == {rows[1].id}
    assert app_controller.engine.clear_finished() == 0  # the engine's own Clear agrees
    kept = command.sequences.get(sequence.id)
    assert kept is not None
    assert kept.shots[0].chosen_id == rows[1].id


def test_removing_a_take_of_a_sequence_says_its_shot_is_unmade(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    """Remove on a row that is a sequence's take un-makes that shot (its film can't be
    exported, Run would make it again, paid): the notice says so while Undo is offered."""
    window = app_controller.window
    rows = generate(qtbot, window, 2)
    command = window.sequence_command
    qtbot.waitUntil(command.action.isEnabled, timeout=10_000)
    command.sequences.create_from_clip(rows[0].id)

    window.queue.remove_requested.emit([rows[1].id], False)
    assert "sequence" not in window.notice.message.text()  # not a take: nothing to add
    window.queue.remove_requested.emit([rows[0].id], False)

    text = window.notice.message.text()
    assert "take of a sequence" in text
    assert "Undo" in text
    assert window.notice.undo_button.isVisible()


def test_after_a_removal_the_row_in_its_place_is_selected_and_keys_go_on_working(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    """A keyboard person deletes one take after another: after Del the ring was on the next
    row but nothing was selected, so the next Del (or Return, F…) did nothing and the preview
    went blank."""
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    newest, middle, oldest = sorted(rows, key=lambda g: -g.id)
    view = window.queue.list_view
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # the queue
    qtbot.waitUntil(view.hasFocus)
    assert [g.id for g in window.queue.selected_generations()] == [newest.id]

    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert window.queue.model.generation(newest.id) is None
    assert [g.id for g in window.queue.selected_generations()] == [middle.id]
    assert window.queue.current_generation() == window.queue.model.generation(middle.id)
    preview_settled(qtbot, window)
    assert window.preview.video_path() == middle.video_path  # the preview shows it too

    qtbot.keyClick(view, Qt.Key.Key_Delete)  # and the next Del takes that one
    assert window.queue.model.generation(middle.id) is None
    assert [g.id for g in window.queue.selected_generations()] == [oldest.id]
    preview_settled(qtbot, window)

    # Nothing selected: a removal selects nothing either (no row picked for the person).
    view.clearSelection()
    window.undo_action.trigger()  # the middle one is back
    assert window.queue.model.generation(middle.id) is not None
    view.clearSelection()
    preview_settled(qtbot, window)
    window.removals.remove([middle.id], trash_videos=False)
    assert window.queue.selected_generations() == []


def test_after_a_removal_in_the_gallery_the_video_in_its_place_is_selected(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    """The same in the grid: after Del nothing was selected, the preview went blank and the
    next key acted on nothing."""
    window = app_controller.window
    generate(qtbot, window, 3)
    gallery = window.gallery
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    newest = max(gallery.model.result_ids())
    assert [g.id for g in gallery.selected_generations()] == [newest]  # the queue's choice
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_Home)
    first, second, last = gallery.model.result_ids()
    assert [g.id for g in gallery.selected_generations()] == [first]
    assert window.queue.select_generation(first)  # the hidden queue has it selected too
    preview_settled(qtbot, window)

    qtbot.keyClick(gallery.list_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [second, last])
    assert [g.id for g in gallery.selected_generations()] == [second]
    preview_settled(qtbot, window)
    shown = window.queue.model.generation(second)
    assert shown is not None
    assert window.preview.video_path() == shown.video_path

    qtbot.keyClick(gallery.list_view, Qt.Key.Key_End)
    assert [g.id for g in gallery.selected_generations()] == [last]
    preview_settled(qtbot, window)
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_Delete)  # the last: the one before it
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [second])
    assert [g.id for g in gallery.selected_generations()] == [second]
    preview_settled(qtbot, window)
    # The hidden queue chose nothing meanwhile: one selection, one video loading.
    assert window.queue.selected_generations() == []


def test_undo_selects_what_it_brings_back(
    qtbot: QtBot, app_controller: Any, trash_dir: Path
) -> None:
    """After Undo the restored rows were back in the list but the selection stayed on their
    neighbour: the person had to find them again (and the keys acted on the neighbour)."""
    window = app_controller.window
    rows = generate(qtbot, window, 3)
    newest, middle, oldest = sorted(rows, key=lambda g: -g.id)
    window.queue.select_generations([newest.id, middle.id])
    assert {g.id for g in window.queue.selected_generations()} == {newest.id, middle.id}
    window.removals.remove([newest.id, middle.id], trash_videos=False)
    assert [g.id for g in window.queue.selected_generations()] == [oldest.id]
    preview_settled(qtbot, window)

    window.undo_action.trigger()
    assert {g.id for g in window.queue.selected_generations()} == {newest.id, middle.id}
    assert window.queue.current_generation() == window.queue.model.generation(newest.id)
    preview_settled(qtbot, window)
    assert window.preview.video_path() == newest.video_path
