"""The queue list as a creator with a long session uses it: many rows, the keys that move
through them, prompts in every script."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QContextMenuEvent, QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QMenu,
    QMessageBox,
    QStyleOptionViewItem,
    QToolTip,
)
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Action, GenerationSettings, Stage
from runway_desktop.simulator import Simulator, SimulatorConfig
from runway_desktop.simulator.config import Account, default_accounts
from runway_desktop.ui import queue_view
from runway_desktop.ui.queue_filter import StatusFilter
from runway_desktop.ui.queue_model import QueueModel, Roles
from runway_desktop.ui.queue_view import QueueView
from runway_desktop.ui.thumbnail_cache import ThumbnailCache
from tests.ui.test_queue_rows import painted_texts
from tests.ui.test_queue_view import NOW, make

STAGES = (Stage.DONE, Stage.DONE, Stage.FAILED, Stage.PENDING, Stage.CANCELLED, Stage.ATTENTION)


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[QueueView]:
    view = QueueView(QueueModel(ThumbnailCache(capacity=50)), clock=lambda: NOW)
    qtbot.addWidget(view)
    view.model.reset([make(i, STAGES[i % len(STAGES)]) for i in range(1, 81)])
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


def test_page_keys_move_through_a_short_list_and_a_tall_one(view: QueueView,
                                                             qtbot: QtBot) -> None:
    """The window at 1024 × 640 leaves the list under two rows high: Qt's PageDown stepped
    by its height less two rows, and went nowhere (or a row up)."""
    lst = view.list_view
    row_height = lst.sizeHintForRow(0)
    for rows_high, step in ((1.9, 1), (2.6, 1), (8.5, 7)):
        view.resize(560, 0)
        lst.setFixedHeight(int(row_height * rows_high) + 2 * lst.frameWidth())
        tall = int(row_height * rows_high) - 2
        qtbot.waitUntil(lambda tall=tall: lst.viewport().height() >= tall)  # type: ignore[misc]
        lst.setFocus()
        qtbot.keyClick(lst, Qt.Key.Key_Home)
        assert lst.currentIndex().row() == 0
        qtbot.keyClick(lst, Qt.Key.Key_PageDown)
        assert lst.currentIndex().row() == step, rows_high
        assert [i.row() for i in lst.selectionModel().selectedRows()] == [step]
        assert lst.viewport().rect().intersects(lst.visualRect(lst.currentIndex()))
        qtbot.keyClick(lst, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)
        assert sorted(i.row() for i in lst.selectionModel().selectedRows()) == list(
            range(step, 2 * step + 1)), rows_high
        qtbot.keyClick(lst, Qt.Key.Key_PageUp)
        assert lst.currentIndex().row() == step
        qtbot.keyClick(lst, Qt.Key.Key_End)
        qtbot.keyClick(lst, Qt.Key.Key_PageDown)  # at the end: stays on the last row
        assert lst.currentIndex().row() == view.proxy.rowCount() - 1
        qtbot.keyClick(lst, Qt.Key.Key_PageUp)
        assert lst.currentIndex().row() == view.proxy.rowCount() - 1 - step
    qtbot.keyClick(lst, Qt.Key.Key_Home)
    for _ in range(view.proxy.rowCount()):  # far past the top: stays on the first row
        qtbot.keyClick(lst, Qt.Key.Key_PageUp)
    assert lst.currentIndex().row() == 0


def test_rows_in_sight_stay_put_when_others_come_or_go_above(view: QueueView,
                                                              qtbot: QtBot) -> None:
    """A sequence's next take or a CLI batch adds rows at the top: scrolled down, what the
    person read (and was about to click) was pushed down a row each time."""
    lst = view.list_view
    view.resize(560, 500)
    row_height = lst.sizeHintForRow(0)
    qtbot.waitUntil(lambda: lst.verticalScrollBar().maximum() > row_height * 40)
    lst.verticalScrollBar().setValue(row_height * 30 + 20)

    def top() -> int:
        qtbot.waitUntil(lambda: lst.indexAt(QPoint(1, 1)).isValid())  # laid out again
        return int(lst.indexAt(QPoint(1, 1)).data(Roles.IdRole))

    def top_offset() -> int:
        return lst.visualRect(lst.indexAt(QPoint(1, 1))).top()

    before, offset = top(), top_offset()
    for n in range(5):
        view.model.upsert(make(1000 + n, Stage.PENDING))
    assert (top(), top_offset()) == (before, offset)
    view.model.remove_many([1000, 1001, 1002, 80, 79])  # rows above it leave
    assert (top(), top_offset()) == (before, offset)
    lst.verticalScrollBar().setValue(0)  # at the very top the newest show, as always
    view.model.upsert(make(2000, Stage.PENDING))
    assert top() == 2000


def test_a_prompt_starting_with_emoji_wraps_between_words(view: QueueView) -> None:
    """The second line was cut by UTF-16 counts on a Python string: two emoji before it
    moved the break two letters on ("golden ho" / "ur, cinematic")."""
    prompts = ["🌊🐚 waves rolling over shells at golden hour, cinematic 🎬",
               "قارب صغير على بحيرة هادئة عند الغروب والشمس تنعكس على الماء الهادئ 🌅🌅",
               "plain words only, rolling over shells at golden hour, cinematic and slow"]
    view.resize(430, 400)
    view.model.reset([make(1000 + n, prompt=p) for n, p in enumerate(prompts)])
    for n, prompt in enumerate(prompts):
        texts = painted_texts(view, view.model.row_of(1000 + n) or 0)
        words = prompt.split()
        first = texts[0].split()
        assert 0 < len(first) < len(words), texts  # it needs two lines at this width
        assert first == words[:len(first)], texts
        second = texts[1].split()
        assert second == words[len(first):len(first) + len(second)], texts


def test_favourite_on_many_says_which_way_and_how_many_change(view: QueueView,
                                                               qtbot: QtBot) -> None:
    """'Favourite 80 Generations' with a tick (the row right-clicked was a favourite) took
    the 10 favourites away."""
    view.model.reset([make(i, STAGES[i % len(STAGES)], favourite=i % 8 == 0)
                      for i in range(1, 81)])
    view.list_view.selectAll()
    selection = view.selected_generations()
    toggled: list[tuple[int, bool]] = []
    view.favourite_toggled.connect(lambda gid, on: toggled.append((gid, on)))
    for primary, words, on in ((view.model.generation(8), "Unfavourite 10 Generations", False),
                               (view.model.generation(7), "Favourite 70 Generations", True)):
        assert primary is not None
        menu = view.build_context_menu(primary, selection)
        action = next(a for a in menu.actions() if a.objectName() == "favourite")
        assert (action.text(), action.isCheckable()) == (words, False)
        toggled.clear()
        action.trigger()
        assert len(toggled) == int(words.split()[1])
        assert {o for _, o in toggled} == {on}
        menu.deleteLater()
    favourite = view.model.generation(8)
    assert favourite is not None
    one = view.build_context_menu(favourite, [])  # one row: a tick, as before
    action = next(a for a in one.actions() if a.objectName() == "favourite")
    assert (action.text(), action.isChecked()) == ("Favourite", True)
    one.deleteLater()


def test_a_greyed_out_action_says_why(view: QueueView) -> None:
    """Cancel greyed out on a job apiframe has (it has no cancel) said nothing of Stop
    Following beside it; nor did any other greyed-out action say why."""
    cases = [
        (make(1, Stage.PROCESSING, job_id="job-1"), "cancel", "Stop Following instead"),
        (make(2, Stage.PENDING), "stop_following", "Cancel it instead"),
        (make(3, Stage.DONE, video_path="/videos/3.mp4"), "retry", "Re-run with New Seed"),
        (make(4, Stage.QUEUED, job_id="job-4"), "play", "isn't made yet"),
        (make(5, Stage.CANCELLED), "open", "It has no video."),
    ]
    for generation, name, words in cases:
        menu = view.build_context_menu(generation)
        assert menu.toolTipsVisible()
        action = next(a for a in menu.actions() if a.objectName() == name)
        assert not action.isEnabled()
        assert words in action.toolTip()
        assert action.statusTip() == action.toolTip()  # the status bar, for the keys too
        menu.deleteLater()
    several = [make(6, Stage.DONE, video_path="/videos/6.mp4"), make(7, Stage.FAILED)]
    menu = view.build_context_menu(several[0], several)
    cancel = next(a for a in menu.actions() if a.objectName() == "cancel")
    assert cancel.toolTip() == "None of the 2 selected."
    menu.deleteLater()


def test_copy_prompt_is_in_the_menu_with_its_keys(view: QueueView, qtbot: QtBot) -> None:
    """Ctrl+C on the list copied the current row's prompt, but the menu neither offered it
    nor showed the keys."""
    generation = view.model.generation(7)
    assert generation is not None
    menu = view.build_context_menu(generation)
    names = [a.objectName() for a in menu.actions()]
    assert names.index("copy_prompt") == names.index("copy_url") + 1  # with the other copies
    action = menu.actions()[names.index("copy_prompt")]
    assert (action.text(), action.isEnabled()) == ("Copy Prompt", True)
    assert action.shortcut().toString() == "Ctrl+C"
    assert action.isShortcutVisibleInContextMenu()
    QApplication.clipboard().clear()
    action.trigger()
    assert QApplication.clipboard().text() == generation.settings.prompt
    menu.deleteLater()
    view.select_generations([3])
    view.list_view.setFocus()
    qtbot.keyClick(view.list_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    third = view.model.generation(3)
    assert third is not None
    assert QApplication.clipboard().text() == third.settings.prompt


def test_waiting_rows_can_be_sent_to_run_next_from_the_menu(view: QueueView,
                                                             qtbot: QtBot) -> None:
    """Only a drag reordered the queue: out of reach of the keys, and hard in a list two rows
    high. Run Next puts the chosen waiting rows before every other, in their own order."""
    waiting = [g.id for g in view.model.generations() if g.stage is Stage.PENDING]
    assert len(waiting) > 3
    chosen = [view.model.generation(i) for i in (waiting[0], waiting[2])]  # the newest two
    assert all(g is not None for g in chosen)
    primary = chosen[0]
    assert primary is not None
    menu = view.build_context_menu(primary, [g for g in chosen if g is not None])
    action = next(a for a in menu.actions() if a.objectName() == "run_next")
    assert (action.text(), action.isEnabled()) == ("Run 2 Generations Next", True)
    asked: list[tuple[int, int]] = []
    view.reorder_requested.connect(lambda gid, before: asked.append((gid, before)))
    action.trigger()
    first = min(waiting)  # the oldest waits least: it runs next (positions are equal here)
    assert asked == [(waiting[2], first), (waiting[0], first)]  # the older first: order kept
    menu.deleteLater()
    done = next(g for g in view.model.generations() if g.stage is Stage.DONE)
    menu = view.build_context_menu(done)
    action = next(a for a in menu.actions() if a.objectName() == "run_next")
    assert not action.isEnabled()
    assert "waits its turn" in action.toolTip()
    menu.deleteLater()
    # From the keys: the selection, as in the menu.
    view.select_generations([waiting[1]])
    view.list_view.setFocus()
    asked.clear()
    qtbot.keyClick(view.list_view, Qt.Key.Key_N,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert asked == [(waiting[1], first)]


# -- in the window, over a long history ---------------------------------------------------------

HISTORY = 60


@pytest.fixture
def before_app_start() -> Callable[[Path], None]:
    """A long session's history: failures apiframe refunded (Retry sends them anew)."""
    def seed(data_dir: Path) -> None:
        journal = Journal(paths.journal_path(data_dir))
        journal.add_many([GenerationSettings(f"a heron in the reeds, take {n}", seed=n)
                          for n in range(HISTORY)], stage=Stage.FAILED, credit_cost=0,
                         job_id=None, error="apiframe failed the job (credits refunded).",
                         action=Action.RETRY)
        journal.close()
    return seed


def row_point(queue: Any, generation_id: int) -> Any:
    index = queue.proxy.mapFromSource(queue.model.index_of(generation_id))
    queue.list_view.scrollTo(index)
    return queue.list_view.visualRect(index).center()


def in_sight(queue: Any, generation_id: int) -> bool:
    index = queue.proxy.mapFromSource(queue.model.index_of(generation_id))
    view = queue.list_view
    return index.isValid() and view.viewport().rect().intersects(view.visualRect(index))


def open_menu(qtbot: QtBot, queue: Any, generation_id: int) -> QMenu:
    view = queue.list_view
    point = row_point(queue, generation_id)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=point)
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, view.viewport().mapToGlobal(point)))
    menus = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMenu) and w.objectName() == "queueContextMenu" and w.isVisible()]
    assert len(menus) == 1
    return menus[0]


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """One job at a time, slowly: what the person sends on waits its turn."""
    accounts = [a for a in default_accounts() if a.api_key != "afk_test"]
    accounts.append(Account("afk_test", credits=100_000, max_concurrent_jobs=1))
    return make_simulator(SimulatorConfig(seconds_per_job=60, seed=5, accounts=accounts))


def answer(qtbot: QtBot, window: Any) -> tuple[str, str]:
    """Say yes to the question the window asks; its words."""
    qtbot.waitUntil(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox)))
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    words = (box.text(), box.informativeText())
    yes = next(b for b in box.buttons()
               if box.buttonRole(b) is QMessageBox.ButtonRole.DestructiveRole)
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    return words


def test_a_long_history_in_the_window(qtbot: QtBot, app_controller: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-run with New Seed, and Retry of failures apiframe refunded, add new rows at the top:
    far down a long list nothing seemed to happen (the row acted on stays Failed), and a
    second Retry paid again. Then the header's Clear finished under a search or a filter: it
    cleared rows out of sight too (under Favourites, only those)."""
    window = app_controller.window
    queue = window.queue
    model = queue.model
    qtbot.waitUntil(lambda: model.rowCount() == HISTORY)
    oldest = min(g.id for g in model.generations())
    menu = open_menu(qtbot, queue, oldest)
    next(a for a in menu.actions() if a.objectName() == "rerun").trigger()
    menu.close()
    qtbot.waitUntil(lambda: model.rowCount() == HISTORY + 1)
    rerun = max(g.id for g in model.generations())
    assert [g.id for g in queue.selected_generations()] == [rerun]
    assert in_sight(queue, rerun)

    # The Retry drawn on a failed row far down (its fix), clicked: the same.
    second = sorted(g.id for g in model.generations())[1]
    index = queue.proxy.mapFromSource(model.index_of(second))
    queue.list_view.scrollTo(index)
    option = QStyleOptionViewItem()
    option.initFrom(queue.list_view)
    option.rect = queue.list_view.visualRect(index)
    option.font = queue.list_view.font()
    link = queue.delegate.action_rect(option, model.generation(second))
    assert not link.isEmpty()
    qtbot.mouseClick(queue.list_view.viewport(), Qt.MouseButton.LeftButton, pos=link.center())
    qtbot.waitUntil(lambda: model.rowCount() == HISTORY + 2)
    fixed = max(g.id for g in model.generations())
    assert [g.id for g in queue.selected_generations()] == [fixed]
    assert in_sight(queue, fixed)

    # The old row says it was sent again, and a second Retry (the person unsure the first
    # worked) shows that one instead of paying again: its fix, its menu and its keys.
    qtbot.waitUntil(lambda: model.generation(second).sent_again_as == fixed)
    painted = " ".join(painted_texts(queue, queue.proxy.mapFromSource(
        model.index_of(second)).row()))
    assert f"Failed · Sent again as #{fixed}" in painted
    assert f"Show #{fixed}" in painted
    for way in ("fix", "menu", "keys"):
        queue.select_generations([second])
        if way == "fix":
            option.rect = queue.list_view.visualRect(
                queue.proxy.mapFromSource(model.index_of(second)))
            link = queue.delegate.action_rect(option, model.generation(second))
            qtbot.mouseClick(queue.list_view.viewport(), Qt.MouseButton.LeftButton,
                             pos=link.center())
        elif way == "menu":
            menu = open_menu(qtbot, queue, second)
            show = next(a for a in menu.actions() if a.objectName() == "retry")  # its place
            assert (show.text(), show.isEnabled()) == (f"Show #{fixed}, Sent Again", True)
            assert show.shortcut().toString() == "Ctrl+Shift+T"
            show.trigger()
            menu.close()
        else:
            # The offscreen platform leaves no window active once events run after a menu
            # closed by close() (Re-run's, above, now sent after a folder check): the keys need
            # the window active, as a person's is.
            window.activateWindow()
            qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
            queue.list_view.setFocus()
            qtbot.keyClick(queue.list_view, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier
                           | Qt.KeyboardModifier.ShiftModifier)
        assert [g.id for g in queue.selected_generations()] == [fixed], way
        assert model.rowCount() == HISTORY + 2, way  # nothing sent, nothing paid

    # A greyed-out entry says why to the keys too (Fusion skipped it): the status bar, a
    # tooltip beside it, a screen reader's announcement. Return on it does nothing.
    announced: list[str] = []
    monkeypatch.setattr(queue_view.QAccessible, "updateAccessibility",
                        lambda event: announced.append(event.message()))
    menu = open_menu(qtbot, queue, second)
    qtbot.keyClick(menu, Qt.Key.Key_Down)
    assert (menu.activeAction().objectName(), menu.activeAction().isEnabled()) == ("play", False)
    assert window.statusBar().currentMessage() == "It has no video."
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text() == "It has no video."
    assert announced == ["Play: It has no video."]
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    assert menu.isVisible()
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    assert window.statusBar().currentMessage() == ""
    # An action's keys where it doesn't apply say why too (nothing happened, unsaid).
    queue.list_view.setFocus()
    qtbot.keyClick(queue.list_view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "Open File: It has no video."

    # Under Failed, three old failures chosen with Ctrl, then Retry from the keyboard.
    qtbot.mouseClick(queue.filter_buttons[StatusFilter.FAILED], Qt.MouseButton.LeftButton)
    chosen = sorted(g.id for g in model.generations())[2:5]
    for n, generation_id in enumerate(chosen):
        modifier = Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier
        qtbot.mouseClick(queue.list_view.viewport(), Qt.MouseButton.LeftButton, modifier,
                         row_point(queue, generation_id))
    assert sorted(g.id for g in queue.selected_generations()) == chosen
    qtbot.keyClick(queue.list_view, Qt.Key.Key_T,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: model.rowCount() == HISTORY + 5)
    copies = sorted(g.id for g in model.generations())[-3:]
    assert sorted(g.id for g in queue.selected_generations()) == copies
    assert queue.proxy.status_filter is StatusFilter.ALL  # new work isn't under Failed
    assert in_sight(queue, queue.current_generation().id)
    assert all(model.generation(i).stage is Stage.FAILED for i in chosen)

    # A search: Clear finished clears what it shows, and says the rest stay.
    qtbot.keyClicks(queue.search_edit, "take 1")
    shown = {g.id for g in model.generations()
             if g.stage is Stage.FAILED and "take 1" in g.settings.prompt}
    assert len(shown) == 11
    qtbot.mouseClick(queue.clear_finished_button, Qt.MouseButton.LeftButton)
    title, text = answer(qtbot, window)
    assert "Clear 11 finished" in title
    assert f"The {HISTORY - 11} hidden by the filter or the search stay." in text
    assert {g.id for g in model.generations()} == set(range(1, HISTORY + 6)) - shown
    picked = [g.id for g in queue.selected_generations()]
    window.undo_action.trigger()
    assert model.rowCount() == HISTORY + 5
    # The rows Undo brings back were never picked: the selection stays what it was (all
    # eleven were selected, and the next F or Delete acted on each).
    assert [g.id for g in queue.selected_generations()] == picked

    # The buttons say so.
    assert "the list shows" in queue.clear_finished_button.toolTip()
    assert "the list shows" in queue.cancel_pending_button.toolTip()

    # Under Favourites (none yet) nothing finished is shown: nothing is cleared.
    queue.search_edit.clear()
    qtbot.mouseClick(queue.filter_buttons[StatusFilter.FAVOURITES], Qt.MouseButton.LeftButton)
    before = {g.id for g in model.generations()}
    qtbot.mouseClick(queue.clear_finished_button, Qt.MouseButton.LeftButton)
    assert "Nothing finished is shown" in window.statusBar().currentMessage()
    assert not any(b.isVisible() for b in window.findChildren(QMessageBox))
    assert {g.id for g in model.generations()} == before

    # Delete on a job apiframe is making and an old failure: the question names both.
    qtbot.mouseClick(queue.filter_buttons[StatusFilter.ALL], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: allows(model.generation(rerun), Command.STOP_FOLLOWING))
    for n, generation_id in enumerate((rerun, chosen[0])):
        modifier = Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier
        qtbot.mouseClick(queue.list_view.viewport(), Qt.MouseButton.LeftButton, modifier,
                         row_point(queue, generation_id))
    window.activateWindow()  # the questions before took it (keys go to the active window)
    qtbot.waitUntil(window.isActiveWindow)
    queue.list_view.setFocus()
    qtbot.keyClick(queue.list_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox)))
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    assert box.text() == "Remove 2 generations? apiframe may still be making 1 of them."
    box.reject()
    assert {g.id for g in model.generations()} == before



@pytest.mark.expect_log_warnings(r"No thumbnail for generation \d+: .* doesn't exist")
def test_open_file_on_a_video_gone_from_the_disk_says_so(qtbot: QtBot, app_controller: Any,
                                                         tmp_path: Path) -> None:
    """A finished video another window (or the CLI) made, its file moved away since: Open File
    handed the missing file to the desktop's launcher, which showed nothing at all."""
    opened: list[QUrl] = []

    class Launcher(QObject):
        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            opened.append(url)

    launcher = Launcher()
    QDesktopServices.setUrlHandler("file", launcher, "open")  # type: ignore[arg-type]
    try:
        journal = Journal(paths.journal_path(app_controller.data_dir))
        gone = journal.add(GenerationSettings("a heron takes off", seed=7), stage=Stage.DONE,
                           job_id="job-gone", video_path=str(tmp_path / "moved away.mp4"),
                           finished_at=1.0)
        journal.close()
        queue = app_controller.window.queue
        qtbot.waitUntil(lambda: queue.model.generation(gone.id) is not None, timeout=10_000)
        menu = open_menu(qtbot, queue, gone.id)
        next(a for a in menu.actions() if a.objectName() == "open").trigger()
        menu.close()
        assert "isn't on disk any more" in app_controller.window.statusBar().currentMessage()
        assert opened == []
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_show_sent_again_says_so_when_its_copy_was_just_removed(qtbot: QtBot) -> None:
    """"Show #N" on a failure sent anew did nothing at all while #N's removal could still be
    undone (the copy is out of the list until the notice goes): it says where #N went."""
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    cache = ThumbnailCache(capacity=10)
    model = QueueModel(cache)
    queue = QueueView(model, clock=lambda: NOW)
    window.setCentralWidget(queue)
    window.statusBar()  # made on first use; the app's window has one
    failed = make(1, Stage.FAILED, job_id=None, sent_again_as=2)  # refunded, sent anew as #2
    model.upsert(failed)  # #2 itself is out of the list: its removal is still undoable
    assert queue.select_generation(failed.id)

    assert queue.show_sent_again(failed.id)
    assert window.statusBar().currentMessage() == "#2 was removed: Undo (Ctrl+Z) brings it back."
    assert [g.id for g in queue.selected_generations()] == [failed.id]
    queue.shutdown()
