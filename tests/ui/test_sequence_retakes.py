"""A new take of a shot in the middle of a sequence, as a person makes one: the later shots
made from the old take are named (in their row and above Run, with the price of redoing them),
nothing is redone or paid for by itself, and Redo Later Shots makes them again, each from the
new take before it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.sequence_records import RunState
from runway_desktop.simulator import Simulator
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.sequence_view import SequenceView
from tests.ui.dnd import drop_files
from tests.ui.test_queue_as_a_creator import open_menu
from tests.ui.test_sequence_window import chosen_takes, open_view, wait_all_done

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """Demo clips made from the uploaded image (as tests/ui/test_sequence_window.py's)."""
    return make_simulator(seconds_per_job=0.2, seed=1234, image_clips=True)


@pytest.fixture
def start_png(tmp_path: Path) -> Path:
    path = tmp_path / "start.png"
    Image.new("RGB", (1280, 720), (90, 150, 220)).save(path)
    return path


def shot_rows(view: SequenceView) -> list[str]:
    return [view.shot_list.item(row).text() for row in range(view.shot_list.count())]


def settled(qtbot: QtBot, view: SequenceView) -> None:
    """The sequence's run (a new take's follow-up, a redo) is over."""
    qtbot.waitUntil(lambda: view.sequence is not None
                    and view.sequence.run_state is not RunState.RUNNING and not view.running(),
                    timeout=60_000)


def new_take(qtbot: QtBot, view: SequenceView, row: int) -> None:
    view.shot_list.setCurrentRow(row)
    before = view.sequence.shots[row].chosen_id if view.sequence else None
    view.take_button.click()
    qtbot.waitUntil(lambda: view.sequence is not None
                    and view.sequence.shots[row].chosen_id != before, timeout=20_000)


def test_a_new_take_names_the_later_shots_made_from_the_old_one_and_redoes_them_when_asked(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    qtbot.waitUntil(lambda: window.compose.balance() is not None, timeout=10_000)
    price = window.compose.total_price()
    assert price
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("dawn over the roofs\nthe camera drifts\na bird lands")
    view.new_button.click()
    view.run_button.click()
    first = wait_all_done(qtbot, view, 3)
    settled(qtbot, view)
    assert not view.redo_button.isVisible()
    assert simulator.jobs_created("afk_test") == 3

    # New Take says its price before it is pressed, as Generate does (it paid unannounced).
    view.shot_list.setCurrentRow(1)
    account = view.sequences.generations.account
    assert account is not None
    assert account.credits is not None
    left = view.locale().toString(account.credits - price)
    assert view.take_button.text() == f"New &Take · {price} credits · {left} left"
    assert f"{price} credits" in view.take_button.accessibleDescription()
    assert view.extend_button.text() == f"&Extend from End · {price} credits · {left} left"
    # A new take of shot 2: shot 3 was made from the old one. Said, priced, not redone.
    new_take(qtbot, view, 1)
    second = wait_all_done(qtbot, view, 3)
    settled(qtbot, view)
    assert second[1].id != first[1].id
    assert second[2].id == first[2].id
    assert "older take of shot 2" in shot_rows(view)[2]
    assert "older take" not in shot_rows(view)[0] + shot_rows(view)[1]
    assert view.redo_button.isVisible()
    assert view.redo_button.isEnabled()
    words = view.redo_label.text()
    assert "Shot 3 was made after an older take of shot 2" in words, words
    assert f"1 shot(s) to make · {price} credits" in words, words
    assert simulator.jobs_created("afk_test") == 4  # nothing made without asking

    # Reordering keeps the takes made: no shot is called outdated for it.
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)
    view.shot_list.setFocus()
    view.shot_list.setCurrentRow(2)
    qtbot.keyClick(view.shot_list, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert not any("older take" in row for row in shot_rows(view)), shot_rows(view)
    assert not view.redo_button.isVisible()
    qtbot.keyClick(view.shot_list, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert "older take of shot 2" in shot_rows(view)[2]

    view.redo_button.click()
    qtbot.waitUntil(lambda: view.sequence is not None
                    and view.sequence.shots[2].chosen_id != first[2].id, timeout=20_000)
    third = wait_all_done(qtbot, view, 3)
    settled(qtbot, view)
    assert third[2].parent_id == third[1].id == second[1].id
    assert not any("older take" in row for row in shot_rows(view))
    assert not view.redo_button.isVisible()
    assert simulator.jobs_created("afk_test") == 5

    # A new take of shot 1, and Redo pressed at once, while it is still being made: shots 2
    # and 3 are made again, in order, each from the new take before it.
    new_take(qtbot, view, 0)
    assert "Shots 2 and 3 were made after an older take of shot 1" in view.redo_label.text()
    assert "2 shot(s) to make" in view.redo_label.text()
    view.redo_button.click()
    qtbot.waitUntil(lambda: view.sequence is not None
                    and view.sequence.shots[2].chosen_id != third[2].id, timeout=60_000)
    fourth = wait_all_done(qtbot, view, 3)
    settled(qtbot, view)
    assert fourth[1].parent_id == fourth[0].id
    assert fourth[2].parent_id == fourth[1].id
    assert not view.redo_button.isVisible()
    assert simulator.jobs_created("afk_test") == 8
    assert view.sequence is not None
    assert view.sequence.run_state is RunState.DONE

    # The old take of shot 1 chosen again: shots 2 and 3 are named again; nothing is made.
    view.shot_list.setCurrentRow(0)
    old = next(row for row in range(view.take_list.count())
               if f"#{first[0].id} " in view.take_list.item(row).text())
    view.take_list.setCurrentRow(old)
    view.choose_button.click()
    assert "older take of shot 1" in shot_rows(view)[1]
    assert "older take of shot 1" in shot_rows(view)[2]
    assert simulator.jobs_created("afk_test") == 8
    assert chosen_takes(view)[0].id == first[0].id

    # Deleted and brought back (Undo): the same shots are named, the same redo offered.
    sequence_id = view.sequence.id
    qtbot.waitUntil(lambda: not view.sequences.is_running_here(sequence_id), timeout=10_000)
    view.bar.delete_button.click()
    assert view.sequences.get(sequence_id) is None
    assert not view.redo_button.isVisible()  # no sequence shown: nothing to redo
    view.bar.notice.undo_button.click()
    assert view.sequence is not None
    assert view.sequence.id == sequence_id
    assert "older take of shot 1" in shot_rows(view)[2]
    assert view.redo_button.isVisible()
    assert simulator.jobs_created("afk_test") == 8

    # Shots 2 and 3 have takes made from that take of shot 1 already: the redo chooses them
    # again, and says beforehand that it is free.
    words = view.redo_label.text()
    assert "Shots 2 and 3 have takes made from the takes chosen before them" in words, words
    assert "free" in words
    assert "to make" not in words
    # A shot planned after them: the redo makes it too, so the label says so and its price
    # (it said only "free", and Redo Later Shots then paid for the planned shot).
    view.plan_edit.setPlainText("the bird flies off")
    view.plan_button.click()
    words = view.redo_label.text()
    assert "It also makes the 1 shot(s) not made yet (paid)." in words, words
    assert f"1 shot(s) to make · {price} credits" in words, words
    view.sequences.remove_shot(view.sequence.shots[-1].id)
    assert "to make" not in view.redo_label.text()
    view.redo_button.click()
    qtbot.waitUntil(lambda: not view.redo_button.isVisible(), timeout=10_000)
    settled(qtbot, view)
    assert [t.id for t in chosen_takes(view)] == [first[0].id, second[1].id, third[2].id]
    assert simulator.jobs_created("afk_test") == 8

    # Short of credits: New Take waits and says why, as Generate does (it paid, or met a 402).
    view.shot_list.setCurrentRow(1)
    simulator.set_credits("afk_test", 1)
    view.sequences.generations.check_balance()
    qtbot.waitUntil(lambda: not view.take_button.isEnabled(), timeout=10_000)
    assert view.take_button.text() == f"New &Take · {price} credits · {price - 1} short"
    assert view.take_button.toolTip() == (
        f"Not enough credits: a new take costs {price}, you have 1."), view.take_button.toolTip()
    assert not view.extend_button.isEnabled()
    assert view.extend_button.text() == f"&Extend from End · {price} credits · {price - 1} short"

    # A shot's video deleted on disk: the film says which and what to do (it said only that
    # "tall.mp4" doesn't exist, once the join had started).
    take = chosen_takes(view)[1]
    Path(take.video_path or "").unlink()
    view.film.refresh()
    assert not view.film.export_button.isEnabled()
    view.film.export_to(Path(take.video_path or "").with_name("film.mp4"))
    words = view.film.status.text()
    assert f"The video of shot 2 (#{take.id}) isn't on disk any more" in words, words
    assert "Download Again" in words


def retry_from_the_queue_menu(qtbot: QtBot, queue: Any, generation_id: int) -> None:
    """Right-click the row in the main window's queue, then Retry."""
    menu = open_menu(qtbot, queue, generation_id)
    retry = next(a for a in menu.actions() if a.objectName() == "retry")
    assert (retry.text().replace("&", ""), retry.isEnabled()) == ("Retry", True)
    retry.trigger()
    menu.close()


@pytest.mark.expect_log_warnings(r"Generation \d+ \(job [^)]*\) failed")
def test_a_failed_take_retried_in_the_queue_is_the_shots_take_and_run_carries_on_from_it(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    """Retry on the failed take's row in the queue sent it anew outside the sequence: the
    shot kept its failed take, the status line still said "Make a new take of it", and New
    Take paid a second time for what the copy was making."""
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("dawn\nday")
    view.new_button.click()
    simulator.faults.fail_jobs_next = 1  # apiframe fails the first shot's job (refunded)
    view.run_button.click()
    qtbot.waitUntil(lambda: "Make a new take of it" in view.status.text(), timeout=60_000)
    assert view.sequence is not None
    failed = view.sequence.shots[0].chosen_id
    assert failed is not None

    retry_from_the_queue_menu(qtbot, window.queue, failed)

    # The shot's take is the copy (within the sequence watch's second), chosen, in its list.
    qtbot.waitUntil(lambda: view.sequence is not None
                    and view.sequence.shots[0].chosen_id != failed, timeout=10_000)
    copy = view.sequence.shots[0].chosen_id
    assert window.queue.model.generation(failed) is not None
    assert window.queue.model.generation(failed).sent_again_as == copy  # type: ignore[union-attr]
    view.shot_list.setCurrentRow(0)
    takes = [view.take_list.item(row).text() for row in range(view.take_list.count())]
    assert [t.split(" · ")[0] for t in takes] == [f"#{failed}", f"✓ #{copy}"], takes
    assert view.status.text() == (f"Shot 1's failed take #{failed} was sent again as #{copy}, "
                                  "now its take: Run carries on from there.")
    assert "1 shot(s) to make" in view.cost_label.text()  # shot 2 only
    assert view.run_button.isEnabled()

    view.run_button.click()  # waits for the copy, then makes shot 2 from its last frame

    made = wait_all_done(qtbot, view, 2)
    assert [made[0].id, made[1].parent_id] == [copy, copy]
    assert simulator.jobs_created("afk_test") == 3  # the failed one (refunded), its copy, shot 2
