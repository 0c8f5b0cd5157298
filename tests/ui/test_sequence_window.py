"""The sequence view in the real window over the engine and the simulator (its demo clips are
made from the start image, so a shot's first frame can be checked against the shot before's
last frame): a three-shot plan shows its cost and the balance after, runs end to end, and its
film plays in QtMultimedia for the sum of the shots' lengths; shots reorder by key, a take is
swapped, the sequence extends from its end."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.video.frames import duration_ms, frame_at, last_frame
from runway_desktop.engine.video.metadata import read_video_settings
from runway_desktop.engine.video.mp4_join import read_clip
from runway_desktop.simulator import Simulator
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.sequence_view import SequenceView
from tests.helpers.cli import CliResult, cli_env, run_cli
from tests.helpers.video import mean_difference, rgb
from tests.ui.conftest import drive, started_app
from tests.ui.dnd import drop_files

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """Demo clips made from the uploaded image: each shot moves on from where the last ended."""
    return make_simulator(seconds_per_job=0.2, seed=1234, image_clips=True)


@pytest.fixture
def start_png(tmp_path: Path) -> Path:
    """A picture with detail everywhere, so a camera move changes every part of it."""
    image = Image.new("RGB", (1280, 720), (90, 150, 220))
    draw = ImageDraw.Draw(image)
    for x in range(0, 1280, 64):
        for y in range(0, 720, 64):
            draw.rectangle([x + 8, y + 8, x + 40, y + 40],
                           fill=((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    path = tmp_path / "start.png"
    image.save(path)
    return path


def open_view(qtbot: QtBot, window: MainWindow) -> SequenceView:
    qtbot.waitUntil(window.sequence_command.action.isEnabled, timeout=10_000)
    window.sequence_command.action.trigger()
    view = window.sequence_command.view
    assert view is not None
    qtbot.waitExposed(view)
    return view


def drag_shot(view: SequenceView, row: int, *, onto: int, below: bool = False) -> None:
    """Drop the shot of `row` on the top (or bottom) half of the shot of `onto`."""
    shots = view.shot_list
    shots.setCurrentRow(row)
    mime = shots.model().mimeData([shots.model().index(row, 0)])
    rect = shots.visualItemRect(shots.item(onto))
    point = QPointF(rect.center().x(), rect.bottom() - 2 if below else rect.top() + 2)
    shots.dropEvent(QDropEvent(point, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier))


def generate_clip(qtbot: QtBot, window: MainWindow, start_png: Path) -> Generation:
    """One finished clip ("first light" from the start image), with its thumbnail."""
    compose = window.compose
    drop_files(compose.drop_zone, [start_png])
    compose.prompt_edit.setPlainText("first light")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.generation_at(0).stage is Stage.DONE
                    and model.generation_at(0).thumbnail_path is not None, timeout=30_000)
    return model.generation_at(0)


def chosen_takes(view: SequenceView) -> list[Generation]:
    assert view.sequence is not None
    takes = [view.sequences.chosen(shot) for shot in view.sequence.shots]
    assert all(t is not None for t in takes)
    return [t for t in takes if t is not None]


def wait_all_done(qtbot: QtBot, view: SequenceView, count: int) -> list[Generation]:
    def done() -> bool:
        sequence = view.sequence
        if sequence is None or len(sequence.shots) != count:
            return False
        takes = [view.sequences.chosen(shot) for shot in sequence.shots]
        return all(t is not None and t.stage is Stage.DONE for t in takes)

    qtbot.waitUntil(done, timeout=180_000)
    return chosen_takes(view)


def test_a_three_shot_plan_runs_end_to_end_and_its_film_plays_for_their_sum(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path,
        tmp_path: Path) -> None:
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    window.compose.duration_picker.set_value("5")
    qtbot.waitUntil(lambda: window.compose.balance() is not None, timeout=10_000)
    balance = simulator.credits("afk_test")
    price = window.compose.total_price()  # one 5 s shot, by the catalog
    assert price
    view = open_view(qtbot, window)

    view.plan_edit.setPlainText("the camera rises over the tiles\nit drifts left\n"
                                "it settles on the blue")
    view.new_button.click()

    assert view.sequence is not None
    assert [s.prompt for s in view.sequence.shots] == [
        "the camera rises over the tiles", "it drifts left", "it settles on the blue"]
    assert view.shot_list.count() == 3
    # The cost and the balance after, before anything runs.
    after = window.locale().toString(balance - 3 * price)
    assert "3 shot(s) to make" in view.cost_label.text()
    assert f"{window.locale().toString(3 * price)} credits" in view.cost_label.text()
    assert f"balance after: {after} credits" in view.cost_label.text()
    assert simulator.jobs_created("afk_test") == 0
    assert view.run_button.isEnabled()

    view.run_button.click()
    qtbot.waitUntil(lambda: "Running: " in view.status.text(), timeout=10_000)
    takes = wait_all_done(qtbot, view, 3)

    qtbot.waitUntil(lambda: view.run_progress.value() == 3, timeout=10_000)
    qtbot.waitUntil(lambda: "Every shot is made" in view.status.text(), timeout=10_000)
    assert simulator.jobs_created("afk_test") == 3
    assert takes[0].settings.image_path == str(start_png)
    for before, shot in itertools.pairwise(takes):
        assert shot.parent_id == before.id
        assert before.video_path is not None
        assert shot.video_path is not None
        previous = Path(before.video_path)
        end = rgb(drive(qtbot, last_frame(previous)).image)
        # The demo clips (12 fps) move a little every frame: the one before the last differs.
        one_before = rgb(drive(qtbot, frame_at(previous, drive(qtbot, duration_ms(previous))
                                               - 100)).image)
        start = rgb(drive(qtbot, frame_at(Path(shot.video_path), 0)).image)
        # Each shot goes on from the exact last frame of the one before.
        assert mean_difference(start, end) < mean_difference(start, one_before)
        assert mean_difference(start, end) < 1.5
    assert "Every shot has a take" in view.cost_label.text()
    assert not view.run_button.isEnabled()
    view.shot_list.setCurrentRow(1)
    view.shot_list.itemActivated.emit(view.shot_list.item(1))  # double-click: watch it
    assert window.preview.video_path() == takes[1].video_path
    qtbot.waitUntil(window.preview.is_playing, timeout=10_000)
    window.preview.pause()

    film = tmp_path / "film.mp4"
    assert view.film.export_button.isEnabled()
    view.film.export_to(film)
    qtbot.waitUntil(lambda: not view.film.busy(), timeout=120_000)
    assert view.film.last_written == film, view.film.status.text()
    assert view.film.reveal_button.isVisible()
    lengths = [drive(qtbot, duration_ms(Path(t.video_path or ""))) for t in takes]
    assert all(abs(length - 5000) <= 100 for length in lengths)
    assert abs(drive(qtbot, duration_ms(film)) - sum(lengths)) <= 100
    assert len(read_clip(film).tracks) >= 1  # an MP4 whose index reads back
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".film", "film"))
                  ) == ["film.json", "film.mp4"]  # nothing half-written beside it
    carried = read_video_settings(film)  # inside the film and in its sidecar, as every video
    assert carried is not None
    assert [s.generation_id for s in carried.shots] == [t.id for t in takes]
    assert json.loads((tmp_path / "film.json").read_text(encoding="utf-8")) == carried.to_json()


def test_shots_reorder_by_key_a_take_is_swapped_and_the_sequence_extends(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    window: MainWindow = app_controller.window
    clip = generate_clip(qtbot, window, start_png)

    menu = window.queue.build_context_menu(clip, [clip])
    next(a for a in menu.actions() if a.objectName() == "new_sequence").trigger()
    view = window.sequence_command.view
    assert view is not None
    assert view.sequence is not None
    assert view.sequence.shots[0].chosen_id == clip.id

    view.plan_edit.setPlainText("noon\ndusk")
    view.plan_button.click()
    assert [s.prompt for s in view.sequence.shots] == ["first light", "noon", "dusk"]
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)
    view.shot_list.setFocus()
    view.shot_list.setCurrentRow(1)
    qtbot.keyClick(view.shot_list, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert [s.prompt for s in view.sequence.shots] == ["first light", "dusk", "noon"]
    assert view.shot_list.currentRow() == 2
    drag_shot(view, 2, onto=1)  # "noon" dropped on the top half of "dusk": before it
    assert [s.prompt for s in view.sequence.shots] == ["first light", "noon", "dusk"]
    assert view.shot_list.currentRow() == 1  # the moved shot stays selected
    drag_shot(view, 1, onto=2, below=True)  # and back below "dusk"
    assert [s.prompt for s in view.sequence.shots] == ["first light", "dusk", "noon"]

    view.run_button.click()
    takes = wait_all_done(qtbot, view, 3)
    assert takes[0].id == clip.id
    assert simulator.jobs_created("afk_test") == 3

    # Another take of the last shot, then back to the first one.
    view.shot_list.setCurrentRow(2)
    qtbot.waitUntil(view.take_button.isEnabled, timeout=10_000)  # the run is over
    view.take_button.click()
    qtbot.waitUntil(lambda: view.take_list.count() == 2, timeout=10_000)
    wait_all_done(qtbot, view, 3)
    assert view.sequence.shots[2].chosen_id != takes[2].id
    first_take = next(view.take_list.item(i) for i in range(view.take_list.count())
                      if view.take_list.item(i).text().startswith(f"#{takes[2].id}"))
    view.take_list.setCurrentItem(first_take)
    view.choose_button.click()
    assert view.sequence.shots[2].chosen_id == takes[2].id

    view.next_prompt.setText("night falls")
    view.extend_button.click()
    final = wait_all_done(qtbot, view, 4)
    assert final[3].parent_id == takes[2].id
    assert final[3].settings.prompt == "night falls"
    assert simulator.jobs_created("afk_test") == 5


def test_a_run_cut_off_by_quitting_carries_on_at_the_next_start_paying_once(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path,
        data_dir: Path, qapp: Any) -> None:
    from runway_desktop.engine.sequence_records import RunState

    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("one\ntwo\nthree")
    view.new_button.click()
    assert view.sequence is not None
    sequence_id = view.sequence.id
    simulator.faults.slow_seconds = 1.0  # shot 2 is still on the server when the app quits
    view.run_button.click()
    qtbot.waitUntil(lambda: simulator.jobs_created("afk_test") == 2, timeout=60_000)

    drive(qtbot, app_controller.shutdown())  # quit during shot 2
    simulator.faults.slow_seconds = 0.0

    with started_app(qtbot, qapp, data_dir) as again:
        qtbot.waitUntil(lambda: again.engine is not None, timeout=10_000)
        sequences = again.window.sequence_command.sequences
        assert sequences is not None

        def finished() -> bool:
            sequence = sequences.get(sequence_id)
            return sequence is not None and sequence.run_state is RunState.DONE

        qtbot.waitUntil(finished, timeout=120_000)
    assert simulator.jobs_created("afk_test") == 3  # shot 2 followed, never sent again


@pytest.mark.expect_log_warnings(r"Generation \d+ \(job [^)]*\) failed")
def test_a_failed_shot_stops_the_run_saying_what_to_do_and_a_new_take_carries_on(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("dawn\nday")
    view.new_button.click()
    simulator.faults.fail_jobs_next = 1  # apiframe fails the first shot's job (refunded)

    view.run_button.click()

    qtbot.waitUntil(lambda: "Shot 1" in view.status.text(), timeout=60_000)
    assert "stopped" in view.status.text()
    qtbot.waitUntil(view.run_button.isEnabled, timeout=10_000)  # it can run again
    assert simulator.jobs_created("afk_test") == 1
    assert view.run_progress.value() == 0

    view.shot_list.setCurrentRow(0)
    qtbot.waitUntil(view.take_button.isEnabled, timeout=10_000)
    view.take_button.click()  # a new take of shot 1 (paid), chosen
    qtbot.waitUntil(lambda: view.take_list.count() == 2, timeout=10_000)
    view.run_button.click()
    qtbot.waitUntil(lambda: "Running: " in view.status.text(), timeout=10_000)  # not the old
    takes = wait_all_done(qtbot, view, 2)
    assert takes[1].parent_id == takes[0].id
    assert simulator.jobs_created("afk_test") == 3


def test_stop_makes_no_further_shot_and_run_carries_on(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    """Once Run was pressed every planned shot was made and paid for: closing the view
    didn't stop it, and there was no Stop. Stop lets the shot under way finish and makes no
    other; Run later carries on."""
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("one\ntwo\nthree")
    view.new_button.click()
    assert not view.stop_button.isEnabled()
    simulator.faults.cdn_slow_bytes_per_second = 60_000  # shot 1 downloads for a while

    view.run_button.click()

    def first_take() -> Generation | None:
        assert view.sequence is not None
        return view.sequences.chosen(view.sequence.shots[0])

    qtbot.waitUntil(lambda: (t := first_take()) is not None and t.job_id is not None,
                    timeout=30_000)
    qtbot.waitUntil(view.stop_button.isEnabled, timeout=5_000)
    view.stop_button.click()
    qtbot.waitUntil(lambda: "Stopped" in view.status.text(), timeout=10_000)
    simulator.faults.cdn_slow_bytes_per_second = None
    qtbot.waitUntil(lambda: (t := first_take()) is not None and t.stage is Stage.DONE,
                    timeout=60_000)
    qtbot.wait(1000)  # shot 2 would be on its way by now
    assert simulator.jobs_created("afk_test") == 1
    assert view.sequence is not None
    assert view.sequence.run_state.value == "stopped"
    assert "Run carries on" in view.status.text()
    assert view.run_button.isEnabled()
    assert not view.stop_button.isEnabled()

    view.run_button.click()
    wait_all_done(qtbot, view, 3)
    assert simulator.jobs_created("afk_test") == 3


def test_extend_from_end_pressed_again_while_the_last_shot_is_made_keeps_the_prompt(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    """The second prompt was cleared and refused ("run the sequence to make it": Run was
    disabled) under a status line that moved on at once: the words were lost unseen."""
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("one")
    view.new_button.click()
    view.run_button.click()
    wait_all_done(qtbot, view, 1)

    view.next_prompt.setText("two")
    view.extend_button.click()
    view.next_prompt.setText("three")
    view.extend_button.click()  # shot 2 has no take yet: refused

    qtbot.waitUntil(lambda: view.next_prompt.text() == "three", timeout=10_000)
    wait_all_done(qtbot, view, 2)
    assert view.sequence is not None
    assert [s.prompt for s in view.sequence.shots] == ["one", "two"]
    assert simulator.jobs_created("afk_test") == 2


# -- rename and delete ----------------------------------------------------------------------------

def plan_in_view(view: SequenceView, prompts: str) -> int:
    """A new sequence of these shots (none made) shown in the view; its id."""
    view.plan_edit.setPlainText(prompts)
    view.new_button.click()
    assert view.sequence is not None
    return view.sequence.id


def cli_here(data_dir: Path, tmp_path: Path, *args: str) -> CliResult:
    """The real CLI on the window's data folder (rename, delete, list need no server)."""
    home = tmp_path / "cli-home"
    home.mkdir(exist_ok=True)
    return run_cli(*args, env=cli_env(None, data_dir, home, key=None))


def test_rename_in_place_shows_the_name_everywhere_and_refuses_an_empty_one(
        qtbot: QtBot, app_controller: Any, data_dir: Path, tmp_path: Path) -> None:
    window: MainWindow = app_controller.window
    view = open_view(qtbot, window)
    first = plan_in_view(view, "the harbour at dawn\nboats leave")
    second = plan_in_view(view, "a test plan")
    view.show_sequence(first)
    bar = view.bar
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)

    qtbot.keyClick(view.shot_list, Qt.Key.Key_F2)  # the name becomes editable in place
    assert bar.name_edit.isVisible()
    assert not view.sequence_box.isVisible()
    assert bar.name_edit.selectedText() == "the harbour at dawn"
    bar.name_edit.clear()
    qtbot.keyClicks(bar.name_edit, "   ")
    qtbot.keyClick(bar.name_edit, Qt.Key.Key_Return)
    assert "A sequence needs a name" in view.status.text()
    assert bar.name_edit.isVisible()  # still open: the typed text isn't thrown away unseen
    qtbot.keyClick(bar.name_edit, Qt.Key.Key_Escape)
    assert not bar.name_edit.isVisible()
    assert view.sequence_box.isVisible()
    assert view.sequences.get(first).name == "the harbour at dawn"  # type: ignore[union-attr]

    bar.rename_button.click()
    bar.name_edit.setText("  Harbour,\n morning ")
    qtbot.keyClick(bar.name_edit, Qt.Key.Key_Return)

    assert not bar.name_edit.isVisible()
    assert view.sequence_box.currentText() == "Harbour, morning (2 shots)"
    assert view.windowTitle() == "Harbour, morning — Sequences"
    assert "Renamed to “Harbour, morning”" in view.status.text()
    listed = cli_here(data_dir, tmp_path, "sequence", "list")
    assert f"seq:{first}  idle     0/2 shots  Harbour, morning" in listed.stdout

    # Clicking elsewhere keeps what was typed, as a file manager does; an empty name there
    # leaves the old one and says so.
    bar.rename_button.click()
    bar.name_edit.setText("   ")
    view.shot_list.setFocus(Qt.FocusReason.MouseFocusReason)
    assert not bar.name_edit.isVisible()
    assert view.status.text().endswith("The name stays “Harbour, morning”.")
    bar.rename_button.click()
    bar.name_edit.setText("Harbour")
    view.shot_list.setFocus(Qt.FocusReason.MouseFocusReason)
    assert not bar.name_edit.isVisible()
    assert view.sequence_box.currentText() == "Harbour (2 shots)"

    # Renamed by another process (a command), shown or not: the picker follows.
    renamed = cli_here(data_dir, tmp_path, "sequence", "rename", str(second), "Pier", "at night")
    assert renamed.code == 0, renamed
    qtbot.waitUntil(lambda: view.sequence_box.itemText(view.sequence_box.findData(second))
                    == "Pier at night (1 shot)", timeout=10_000)
    assert view.sequence is not None
    assert view.sequence.id == first


def test_delete_says_the_videos_stay_and_undo_brings_the_sequence_back(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    window: MainWindow = app_controller.window
    drop_files(window.compose.drop_zone, [start_png])
    view = open_view(qtbot, window)
    other = plan_in_view(view, "kept for later")
    sequence_id = plan_in_view(view, "one\ntwo")
    simulator.faults.slow_seconds = 0.5  # shot 1 is still being made when Delete is pressed
    view.run_button.click()
    qtbot.waitUntil(lambda: simulator.jobs_created("afk_test") == 1, timeout=30_000)

    view.bar.delete_button.click()  # while it runs: refused, in words

    assert "is running" in view.status.text()
    assert "Press Stop first" in view.status.text()
    assert view.sequences.get(sequence_id) is not None
    assert not view.bar.notice.isVisible()
    simulator.faults.slow_seconds = 0.0
    takes = wait_all_done(qtbot, view, 2)
    qtbot.waitUntil(lambda: not view.running(), timeout=30_000)
    before = view.sequences.get(sequence_id)
    assert before is not None

    view.bar.delete_button.click()

    notice = view.bar.notice
    assert notice.isVisible()
    assert notice.undo_button.isVisible()
    assert notice.message.text() == ("Deleted the sequence “one” (2 shots). Its 2 videos stay "
                                     "in your history and on disk.")
    assert view.sequences.get(sequence_id) is None
    assert view.sequence_box.findData(sequence_id) < 0
    assert view.sequence is not None
    assert view.sequence.id == other  # the one beside it is shown
    model = window.queue.model
    assert {model.generation_at(r).id for r in range(model.rowCount())} == {t.id for t in takes}
    assert all(Path(t.video_path or "").is_file() for t in takes)

    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)
    qtbot.keyClick(view.shot_list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Undo

    assert view.sequences.get(sequence_id) == replace(
        before, updated_at=view.sequences.get(sequence_id).updated_at)  # type: ignore[union-attr]
    assert view.sequence is not None
    assert view.sequence.id == sequence_id
    assert [s.chosen_id for s in view.sequence.shots] == [t.id for t in takes]
    assert "Restored the sequence “one”" in notice.message.text()
    assert not notice.undo_button.isVisible()
    assert simulator.jobs_created("afk_test") == 2


def test_the_shown_sequence_deleted_by_another_process_leaves_the_view_working(
        qtbot: QtBot, app_controller: Any, data_dir: Path, tmp_path: Path) -> None:
    window: MainWindow = app_controller.window
    view = open_view(qtbot, window)
    first = plan_in_view(view, "first plan")
    shown = plan_in_view(view, "shown plan\nsecond shot")
    view.bar.rename_button.click()  # mid-rename, even

    deleted = cli_here(data_dir, tmp_path, "sequence", "delete", str(shown), "--yes")

    assert deleted.code == 0, deleted
    qtbot.waitUntil(lambda: view.sequence_box.findData(shown) < 0, timeout=10_000)
    assert view.sequence is not None
    assert view.sequence.id == first
    assert not view.bar.name_edit.isVisible()
    assert "“shown plan” was deleted elsewhere" in view.status.text()
    view.plan_edit.setPlainText("more")
    view.plan_button.click()  # the view works on
    assert [s.prompt for s in view.sequence.shots] == ["first plan", "more"]
    cli_here(data_dir, tmp_path, "sequence", "delete", str(first), "--yes")
    qtbot.waitUntil(lambda: view.sequence is None, timeout=10_000)
    assert view.sequence_box.count() == 0
    assert not view.bar.delete_button.isEnabled()
    assert view.windowTitle() == "Sequences"


def test_new_sequence_from_a_clip_that_is_a_take_already_shows_its_sequence(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, start_png: Path) -> None:
    """A take belongs to one sequence (the journal allows no second link): the second "New
    Sequence from Clip" made a sequence whose first shot read "not made yet", and Run would
    have made (paid for) that clip again."""
    window: MainWindow = app_controller.window
    clip = generate_clip(qtbot, window, start_png)

    def new_sequence_from_clip() -> SequenceView:
        menu = window.queue.build_context_menu(clip, [clip])
        next(a for a in menu.actions() if a.objectName() == "new_sequence").trigger()
        view = window.sequence_command.view
        assert view is not None
        return view

    first = new_sequence_from_clip().sequence
    assert first is not None
    view = new_sequence_from_clip()

    assert view.sequences.sequences() == [view.sequences.get(first.id)]  # no second one
    assert view.sequence is not None
    assert view.sequence.id == first.id
    assert view.sequence.shots[0].chosen_id == clip.id
    assert f"#{clip.id} is a take of this sequence already" in view.status.text()
    assert simulator.jobs_created("afk_test") == 1


def test_delete_refuses_a_sequence_another_process_runs(
        qtbot: QtBot, app_controller: Any, data_dir: Path) -> None:
    """A `sequence run` in a terminal runs it (journaled RUNNING by that process): the window
    says where to stop it and deletes nothing."""
    from runway_desktop import paths
    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.sequence_records import RunState
    from runway_desktop.engine.sequence_store import SequenceStore

    view = open_view(qtbot, app_controller.window)
    sequence_id = plan_in_view(view, "run by a command\nand on")
    other = Journal(paths.journal_path(data_dir))  # the command's own connection
    try:
        SequenceStore(other).set_run_state(sequence_id, RunState.RUNNING)
    finally:
        other.close()

    view.bar.delete_button.click()

    assert view.status.text() == (
        "“run by a command” is being run by another Runway Desktop process (a `sequence run` "
        "in a terminal): stop it there first (Ctrl+C), then delete it.")
    assert view.sequences.get(sequence_id) is not None
    assert not view.bar.notice.isVisible()

    other = Journal(paths.journal_path(data_dir))  # that run stopped
    try:
        SequenceStore(other).set_run_state(sequence_id, RunState.STOPPED, "Stopped.")
    finally:
        other.close()
    view.bar.delete_button.click()
    assert view.bar.notice.message.text() == (
        "Deleted the sequence “run by a command” (2 shots). No video was made for it.")
    assert view.sequence is None
    assert view.windowTitle() == "Sequences"
    view.bar.notice.undo_button.click()
    assert view.sequence is not None
    assert view.sequence.id == sequence_id
    assert view.sequence.run_state is RunState.STOPPED


def test_the_sequences_windows_keys_are_listed_and_clash_with_nothing(
        qtbot: QtBot, app_controller: Any) -> None:
    """The Sequences window is a window of its own (a child of the main one): its Ctrl+Z
    (undo a deleted sequence) answers only there, the main window's Edit ▸ Undo only in the
    main window. The shortcut check counted a window-wide key of the main window as active
    in the Sequences window too and reported a clash that Qt never sees."""
    from runway_desktop.ui import shortcuts

    window: MainWindow = app_controller.window
    open_view(qtbot, window)

    assert shortcuts.conflicts(window) == []
    listed = {(e.area, e.text): e.keys_text() for e in shortcuts.shortcut_entries(window)}
    assert listed[("Sequences window", "Rename the sequence")] == "F2"
    assert listed[("Sequences window", "Undo deleting a sequence")] == "Ctrl+Z"
    assert listed[("Sequences window", "Move the selected shot up")] == "Ctrl+Up"
    assert listed[("Sequences window", "Move the selected shot down")] == "Ctrl+Down"
    assert listed[("Edit menu", "Undo")] == "Ctrl+Z"
    # Its live keys and its table (listed before it ever opened) are one row each.
    rows = [(e.area, e.text) for e in shortcuts.merged(shortcuts.shortcut_entries(window))]
    assert rows.count(("Sequences window", "Rename the sequence")) == 1
    assert len([r for r in rows if r[0] == "Sequences window"]) == 4


def test_with_no_sequence_the_window_says_how_to_make_one(
        qtbot: QtBot, app_controller: Any) -> None:
    """No sequence at all: the window said "0 of 1 shots". It says there is none yet and how to
    make one; what needs a sequence is disabled, what makes one is not."""
    window: MainWindow = app_controller.window
    view = open_view(qtbot, window)
    assert view.sequence is None

    def says_none() -> None:
        text = view.status.text()
        assert text.startswith("No sequence yet"), text
        assert "New Sequence (" in text
        assert "New Sequence from Clip" in text
        assert not view.run_progress.isVisible()  # no "0 of 1 shots"
        for widget in (view.bar.rename_button, view.bar.delete_button, view.run_button,
                       view.stop_button, view.take_button, view.choose_button,
                       view.extend_button, view.next_prompt, view.plan_button,
                       view.film.export_button):
            assert not widget.isEnabled(), widget.objectName() or widget.text()
        assert view.plan_edit.isEnabled()  # where New Sequence reads its prompts
        assert view.new_button.isEnabled()

    says_none()
    sequence_id = plan_in_view(view, "the harbour at dawn\nboats leave")
    assert not view.status.text().startswith("No sequence yet")
    assert view.run_progress.isVisible()
    assert view.run_progress.text() == "0 of 2 shots"
    assert view.run_button.isEnabled()

    view.bar.delete_button.click()  # the last one gone: none again
    assert view.sequences.get(sequence_id) is None
    assert view.sequence is None
    says_none()
