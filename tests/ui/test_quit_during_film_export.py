"""Quitting while the Sequences window writes a film asks first, naming the film: Cancel lets
it finish, Quit stops it and leaves nothing behind (it used to stop without a word)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.sequence_view import SequenceView
from tests.ui.quitting import answer, quit_from_menu

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media",
    "Invalid frameRate 0",  # the re-encoder (tests/engine/video/test_reencode.py)
)


def generate_clip(qtbot: QtBot, window: MainWindow) -> Generation:
    window.compose.prompt_edit.setPlainText("first light")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=5_000)
    window.compose.generate_button.click()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.generation_at(0).stage is Stage.DONE,
                    timeout=30_000)
    return model.generation_at(0)


def sequence_of(qtbot: QtBot, window: MainWindow, clip: Generation) -> SequenceView:
    """New Sequence from Clip (the queue's menu): a one-shot sequence, its film exportable."""
    menu = window.queue.build_context_menu(clip, [clip])
    next(a for a in menu.actions() if a.objectName() == "new_sequence").trigger()
    view = window.sequence_command.view
    assert view is not None
    qtbot.waitUntil(lambda: view.film.export_button.isEnabled(), timeout=10_000)
    return view


def test_quit_during_a_film_export_names_it_cancel_lets_it_finish_quit_stops_it(
        qtbot: QtBot, app_controller: Any, tmp_path: Path) -> None:
    window: MainWindow = app_controller.window
    view = sequence_of(qtbot, window, generate_clip(qtbot, window))
    view.film.crossfade_box.setChecked(True)  # re-encoded: long enough to quit during it
    films = tmp_path / "films"
    films.mkdir()

    view.film.export_to(films / "film.mp4")
    assert view.film.busy()
    box = quit_from_menu(qtbot, window)
    assert box.text() == ("An export of “film.mp4” is still being written: quitting stops it "
                          "and nothing is written.")
    answer(qtbot, box, QMessageBox.ButtonRole.RejectRole)  # Cancel: it goes on
    qtbot.waitUntil(lambda: not view.film.busy(), timeout=120_000)
    assert view.film.last_written == films / "film.mp4", view.film.status.text()
    assert window.isVisible()

    view.film.export_to(films / "again.mp4")
    task = view.film._task
    assert task is not None
    box = quit_from_menu(qtbot, window)
    assert "“again.mp4” is still being written" in box.text()
    answer(qtbot, box, QMessageBox.ButtonRole.AcceptRole)  # Quit: it stops

    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)
    qtbot.waitUntil(task.done, timeout=30_000)
    assert task.cancelled()
    assert sorted(p.name for p in films.iterdir()) == ["film.json", "film.mp4"]
