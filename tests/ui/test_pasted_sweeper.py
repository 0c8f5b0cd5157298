"""Pictures pasted into the real window (Ctrl+V of a screenshot) are deleted once nothing can
reach them any more — and not before: the engine and the simulator behind it, real files.

Files are aged by hand (os.utime): a picture younger than the sweep's grace period is never
deleted, and the test doesn't wait for it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from runway_desktop.engine.pasted_pictures import forget_unused
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.ui.drop_zone import DropZone
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.pasted_sweeper import PastedSweeper
from runway_desktop.ui.state_keeper import StateKeeper
from tests.ui.conftest import drive, started_app

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


def paste(qtbot: QtBot, zone: DropZone, shade: int) -> Path:
    """Ctrl+V of a screenshot on the clipboard; the file the window wrote for it."""
    image = QImage(64, 36, QImage.Format.Format_RGB32)
    image.fill(QColor(shade, 80, 40))
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(zone.images_changed):
        qtbot.keyClick(zone, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    [saved] = zone.images()
    return Path(saved)


def generate(qtbot: QtBot, window: MainWindow, prompt: str) -> Generation:
    compose, model = window.compose, window.queue.model
    compose.prompt_edit.setPlainText(prompt)
    start = model.rowCount()
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.rowCount() == start + 1
                    and all(g.stage is Stage.DONE for g in model.generations()), timeout=20_000)
    return next(g for g in model.generations() if g.settings.prompt == prompt)


def age(folder: Path) -> None:
    """As if an hour had passed since each picture was pasted."""
    then = time.time() - 3600
    for picture in folder.glob("pasted-*.png"):
        os.utime(picture, (then, then))


def state_written(qtbot: QtBot, window: MainWindow) -> None:
    """The composition the window keeps for its next start is on disk: the sweep keeps that
    one too (after a kill, it is the one restored)."""
    keeper = window.findChild(StateKeeper)
    assert keeper is not None
    qtbot.waitUntil(keeper.idle, timeout=5_000)


def sweep(qtbot: QtBot, window: MainWindow) -> list[str]:
    future = window.pasted_sweeper.sweep()
    assert future is not None
    qtbot.waitUntil(future.done, timeout=10_000)
    return sorted(p.name for p in future.result())


def left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("pasted-*.png"))


def test_a_pasted_picture_goes_once_nothing_can_reach_it_and_not_before(
        qtbot: QtBot, app_controller: Any, qapp: Any, data_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PastedSweeper, "AFTER_REMOVAL_MS", 0)
    monkeypatch.setattr(PastedSweeper, "START_DELAY_MS", 0)
    window: MainWindow = app_controller.window
    zone = window.compose.drop_zone
    folder = data_dir / "work" / "pasted"
    # Five screenshots pasted, two of them generated from.
    p1 = paste(qtbot, zone, 10)
    p2 = paste(qtbot, zone, 20)
    removed = generate(qtbot, window, "a paper boat")
    p3 = paste(qtbot, zone, 30)
    p4 = paste(qtbot, zone, 40)
    generate(qtbot, window, "a paper plane")
    p5 = paste(qtbot, zone, 50)
    assert len(left(folder)) == 5
    age(folder)

    state_written(qtbot, window)
    window.removals.remove([removed.id], trash_videos=False)
    # Its Undo still shows: the row is still in the history, and so is its picture.
    assert sweep(qtbot, window) == sorted([p1.name, p3.name])  # replaced before any Generate
    assert left(folder) == sorted([p2.name, p4.name, p5.name])
    window.notice.dismiss()  # the Undo is over: the removal is final, and its picture goes
    qtbot.waitUntil(lambda: left(folder) == sorted([p4.name, p5.name]), timeout=10_000)

    p6 = paste(qtbot, zone, 60)
    age(folder)
    drive(qtbot, app_controller.shutdown())
    window._quit_confirmed = True
    window.close()  # its composition (p6) kept for the next start

    with started_app(qtbot, qapp, data_dir) as again:
        window = again.window
        qtbot.waitUntil(lambda: again.engine is not None, timeout=10_000)
        assert window.compose.drop_zone.images() == [str(p6)]  # restored at the start
        # The start's sweep: what the last session replaced goes; the history's and the
        # composition's stay.
        qtbot.waitUntil(lambda: left(folder) == sorted([p4.name, p6.name]), timeout=10_000)
        # Another window's sweep (it can't know this composition): the window holds it.
        assert forget_unused(folder, min_age_s=0) == []

        # A sequence planned from a pasted picture, then deleted: kept while Undo can bring it
        # back.
        qtbot.waitUntil(window.sequence_command.action.isEnabled, timeout=10_000)
        window.sequence_command.action.trigger()
        view = window.sequence_command.view
        assert view is not None
        view.plan_edit.setPlainText("a boat\nit sinks")
        view.new_button.click()
        assert view.sequence is not None
        assert view.sequence.shots[0].changes.image_path == str(p6)
        p7 = paste(qtbot, window.compose.drop_zone, 70)
        # Held as soon as it shows (not at the next sweep): another window's sweep leaves it.
        assert forget_unused(folder, min_age_s=0) == []
        view.bar.delete()
        state_written(qtbot, window)
        # Another window's composition, kept for its next start (it wrote QSettings last).
        other = folder / "pasted-20261130-000000-07e40e.png"
        other.write_bytes(p7.read_bytes())
        QSettings().setValue("compose/state", {"images": [str(other)]})
        age(folder)
        assert sweep(qtbot, window) == []
        view.bar.notice.dismiss()  # the sequence's Undo is over
        window.save_state()  # this window wrote last: its composition is kept now
        assert sweep(qtbot, window) == sorted([other.name, p6.name])
        assert left(folder) == sorted([p4.name, p7.name])
