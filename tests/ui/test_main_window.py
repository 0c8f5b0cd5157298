"""The whole window over a real engine and the simulator: drop, prompt, Ctrl+Enter, a video."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from runway_desktop import paths, secrets
from runway_desktop.engine.records import Stage
from runway_desktop.simulator import Simulator
from runway_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.dnd import drop_files


@pytest.fixture
def kite_png(tmp_path: Path) -> Path:
    path = tmp_path / "kite.png"
    Image.new("RGB", (1280, 720), (30, 120, 200)).save(path)
    return path


def test_drop_prompt_ctrl_enter_gives_a_finished_video_with_thumbnail(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path, output_dir: Path
) -> None:
    window = app_controller.window
    compose = window.compose
    drop_files(compose.drop_zone, [kite_png])
    assert compose.drop_zone.images() == [str(kite_png)]
    compose.prompt_edit.setPlainText("a red kite over dunes")
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5_000)
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    qtbot.waitUntil(lambda: model.generation_at(0).thumbnail_path is not None, timeout=10_000)
    done = model.generation_at(0)
    assert Path(done.video_path).parent == output_dir
    assert Path(done.video_path).read_bytes()[4:8] == b"ftyp"
    assert Path(done.thumbnail_path).stat().st_size > 0
    assert simulator.jobs_created("afk_test") == 1
    # The creator's prompt and image stay for the next iteration.
    assert compose.prompt_edit.toPlainText() == "a red kite over dunes"
    assert compose.drop_zone.images() == [str(kite_png)]
    # The balance refreshes after the generation.
    balance = window.locale().toString(simulator.credits("afk_test"))
    qtbot.waitUntil(lambda: balance in window.account_label.text(), timeout=5_000)
    assert "running" not in window.windowTitle()
    # The preview plays it.
    window.queue.play_requested.emit(done.id)
    player = window.preview.player
    qtbot.waitUntil(lambda: player.playbackState() == player.PlaybackState.PlayingState
                    and player.position() > 0, timeout=10_000)


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_not_enough_credits_shows_a_banner_and_keeps_everything(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path
) -> None:
    window = app_controller.window
    compose = window.compose
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=5_000)
    simulator.set_credits("afk_test", 4)  # spent elsewhere: the window still thinks 10,000
    drop_files(compose.drop_zone, [kite_png])
    compose.prompt_edit.setPlainText("a kite")
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.banner.isVisible()
                    and "credits" in window.banner.message.text().lower(), timeout=10_000)
    assert "needs 8" in window.banner.message.text()
    assert "you have 4" in window.banner.message.text()
    row = window.queue.model.generation_at(0)
    assert row.stage is Stage.ATTENTION
    assert row.settings.prompt == "a kite"
    assert compose.prompt_edit.toPlainText() == "a kite"
    assert compose.drop_zone.images() == [str(kite_png)]
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == [window]


def test_the_key_goes_to_the_keyring_and_nowhere_in_the_settings_file(
    qtbot: QtBot, app_controller: Any, keyring_backend: Any, data_dir: Path
) -> None:
    dialog = SettingsDialog(app_controller.settings, app_controller.window)
    qtbot.addWidget(dialog)
    dialog.saved.connect(app_controller._on_settings_saved)
    dialog.open()
    dialog.key_edit.setText("afk_test")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog._save()
    assert secrets.stored_api_key() == "afk_test"
    stored = paths.settings_path(data_dir).read_text()
    assert "afk_test" not in stored
    assert json.loads(stored)["output_dir"]
    assert not dialog.isVisible()


def test_a_wrong_key_is_explained_inline_and_not_saved(
    qtbot: QtBot, app_controller: Any, keyring_backend: Any
) -> None:
    dialog = SettingsDialog(app_controller.settings, app_controller.window)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.key_edit.setText("afk_not_a_real_key")
    dialog._save()
    qtbot.waitUntil(lambda: "didn’t accept this key" in dialog.status.text(), timeout=10_000)
    assert secrets.stored_api_key() is None
    assert dialog.isVisible()


def test_closing_while_running_asks_once_without_blocking(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    simulator.faults.slow_seconds = 0.5  # keep the job in flight
    window = app_controller.window
    window.compose.prompt_edit.setPlainText("slow one")
    window.compose.generate()
    qtbot.waitUntil(lambda: "running" in window.windowTitle(), timeout=5_000)
    window.close()
    assert window.isVisible()  # not closed: a question is showing, and the loop still runs
    boxes = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not window]
    assert any("Quit" in getattr(b, "windowTitle", lambda: "")() for b in boxes)


def test_first_run_without_a_key_offers_demo_mode(
    qtbot: QtBot, qasync_loop: Any, monkeypatch: pytest.MonkeyPatch, keyring_backend: Any,
    data_dir: Path, qapp: Any
) -> None:
    from runway_desktop.ui.controller import AppController
    from tests.ui.conftest import stop_app

    monkeypatch.setenv("RUNWAY_DESKTOP_POLL_SECONDS", "0.05")
    controller = AppController(qapp, data_dir, demo_seconds_per_job=0.3)
    controller.show()
    controller.start()
    try:
        qtbot.waitUntil(lambda: controller._dialog is not None and controller._dialog.isVisible(),
                        timeout=10_000)
        window = controller.window
        qtbot.waitUntil(lambda: "API key" in window.banner.message.text())  # keyring read
        assert window.banner.isVisible()
        dialog = controller._dialog
        assert dialog is not None
        demo_button = next(b for b in dialog.buttons.buttons() if "demo" in b.text().lower())
        qtbot.mouseClick(demo_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: controller.simulator is not None
                        and controller.engine is not None
                        and controller.engine.api_key == "afk_demo", timeout=10_000)
        assert "Demo" in window.windowTitle()
        assert window.mode_label.text() == "Demo"
        window.compose.prompt_edit.setPlainText("demo kite")
        window.compose.generate()
        qtbot.waitUntil(lambda: window.queue.model.rowCount() == 1
                        and window.queue.model.generation_at(0).stage is Stage.DONE,
                        timeout=15_000)
        assert secrets.stored_api_key() is None  # demo never stores a key
    finally:
        stop_app(qtbot, controller)


def test_scripts_run_starts_in_demo_without_a_key_and_a_saved_key_ends_it(
    qtbot: QtBot, qasync_loop: Any, monkeypatch: pytest.MonkeyPatch, keyring_backend: Any,
    data_dir: Path, qapp: Any, simulator: Simulator
) -> None:
    from runway_desktop.ui.controller import AppController
    from tests.ui.conftest import stop_app

    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    controller = AppController(qapp, data_dir, demo_if_no_key=True, demo_seconds_per_job=0.3)
    controller.show()
    controller.start()
    try:
        qtbot.waitUntil(lambda: controller.engine is not None
                        and controller.engine.api_key == "afk_demo", timeout=10_000)
        window = controller.window
        assert controller._dialog is None  # no first-run dialog: straight into demo
        assert "Demo mode" in window.banner.message.text()
        dialog = SettingsDialog(controller.settings, window)
        qtbot.addWidget(dialog)
        dialog.saved.connect(controller._on_settings_saved)
        dialog.open()
        dialog.key_edit.setText("afk_test")
        dialog._save()
        qtbot.waitUntil(lambda: controller.engine is not None
                        and controller.engine.api_key == "afk_test", timeout=10_000)
        assert "Demo" not in window.windowTitle()
        assert controller.engine is not None
        assert controller.engine.config.base_url == simulator.base_url
    finally:
        stop_app(qtbot, controller)


def test_an_empty_seed_generates_with_a_random_seed_that_is_recorded(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    window = app_controller.window
    compose = window.compose
    compose.prompt_edit.setPlainText("waves at dusk")
    for locked in (False, True):
        compose.set_seed_locked(locked)
        compose.seed_edit.clear()
        assert compose.seed_edit.placeholderText() == "random"
        assert compose.generate_button.isEnabled(), compose.status_label.text()
        wanted = window.queue.model.rowCount() + 1
        qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(partial(lambda n: window.queue.model.rowCount() == n, wanted),
                        timeout=5_000)
        newest = max(window.queue.model.generations(), key=lambda g: g.id)
        recorded = app_controller.engine.get(newest.id).settings.seed
        assert 0 <= recorded <= 4294967295
        if locked:  # the drawn seed is shown and kept: the next Generate reproduces it
            assert compose.seed_edit.text() == str(recorded)
    assert not window.banner.isVisible()


def _place(widget: Any) -> tuple[int, int, int, int]:
    """Where a widget is in its window, after the layout has settled."""
    QApplication.processEvents()
    top_left = widget.mapTo(widget.window(), widget.rect().topLeft())
    return (top_left.x(), top_left.y(), widget.width(), widget.height())


def test_messages_under_generate_and_the_drop_zone_do_not_move_the_controls(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    window = app_controller.window
    qtbot.waitExposed(window)
    compose = window.compose
    zone = compose.drop_zone
    watched = [compose.generate_button, compose.prompt_edit, zone.canvas, zone.browse_button,
               zone.clear_button]

    for width in (300, 520):  # a narrow panel wraps the messages to two lines
        window.splitter.setSizes([width, window.width() - width])
        _no_jumps(compose, watched, tmp_path)


def _no_jumps(compose: Any, watched: list[Any], tmp_path: Path) -> None:
    zone = compose.drop_zone
    compose.prompt_edit.setPlainText("a kite")
    zone._hide_message()
    assert compose.status_label.text() == ""
    quiet = [_place(w) for w in watched]
    compose.prompt_edit.clear()  # the hint under Generate appears
    assert compose.status_label.text() == "Write a prompt first."
    assert [_place(w) for w in watched] == quiet
    compose.prompt_edit.setPlainText("a kite")
    balance = compose.balance()
    compose.set_balance(3)  # the longest hint
    assert compose.status_label.text().startswith("Not enough credits")
    assert [_place(w) for w in watched] == quiet
    compose.set_balance(balance)

    notes = tmp_path / "some rather long notes file name.txt"
    notes.write_text("not an image")
    drop_files(zone, [notes])  # the error line under the drop zone appears
    assert "notes file name.txt" in zone.message()
    assert [_place(w) for w in watched] == quiet
    zone._hide_message()
    assert zone.message() == ""
    assert [_place(w) for w in watched] == quiet


def test_rows_keep_their_place_while_jobs_change_stage(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    """Rows that re-sorted by stage under the mouse made a click cancel the wrong job."""
    window = app_controller.window
    model = window.queue.model
    moved: list[Any] = []
    model.rowsMoved.connect(lambda *args: moved.append(args))
    orders: list[list[int]] = []
    model.dataChanged.connect(lambda *_: orders.append([g.id for g in model.generations()]))
    compose = window.compose
    compose.prompt_edit.setPlainText("three lanterns")
    for _ in range(3):
        qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.rowCount() == 3
                    and all(g.stage is Stage.DONE for g in model.generations()), timeout=20_000)
    ids = [g.id for g in model.generations()]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert moved == []
    assert orders
    # Each sent after its folder check: the rows come one by one, each at the top.
    assert all(order == [i for i in ids if i in order] for order in orders)


def test_a_picture_dropped_anywhere_on_the_window_is_the_start_image(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    """The empty preview says 'Drop a start image…': a picture let go there (or on the queue)
    was refused; only the drop zone itself took one."""
    window = app_controller.window
    for n, target in enumerate((window.preview, window.queue)):
        picture = tmp_path / f"kite-{n}.png"
        Image.new("RGB", (320, 180), (30, 90 + n, 200)).save(picture)
        with qtbot.waitSignal(window.compose.drop_zone.images_changed):
            assert drop_files(target, [picture])
        assert window.compose.drop_zone.images() == [str(picture)]
