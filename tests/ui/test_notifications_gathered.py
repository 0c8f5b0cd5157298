"""Desktop notifications while the window is in the background (issue 12: no storms): a batch
that finishes together is one notification, and work that stops for the person says so once.

Real window, engine and simulator; only the system tray is stood in for (there is none
offscreen): it records what would have been shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.simulator import Simulator
from tests.helpers.images import make_png


@dataclass
class RecordingTray:
    shown: list[tuple[str, str, QSystemTrayIcon.MessageIcon]] = field(default_factory=list)

    def showMessage(self, title: str, body: str, icon: QSystemTrayIcon.MessageIcon,
                    _msecs: int) -> None:
        self.shown.append((title, body, icon))


@pytest.fixture
def tray(app_controller: Any, monkeypatch: pytest.MonkeyPatch) -> RecordingTray:
    """The window's tray icon, shown (as on a desktop with a tray), its messages recorded."""
    recording = RecordingTray()
    window = app_controller.window
    monkeypatch.setattr(window.tray, "isVisible", lambda: True)
    monkeypatch.setattr(window.tray, "showMessage", recording.showMessage)
    window.set_notify(True)
    return recording


def in_the_background(qtbot: QtBot, window: Any) -> None:
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow(), timeout=5_000)


def start_batch(qtbot: QtBot, window: Any, tmp_path: Path, count: int) -> None:
    window.compose.drop_zone.set_images([str(make_png(tmp_path, f"shot{i}.png"))
                                         for i in range(count)])
    window.compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()


def test_a_batch_that_finishes_together_is_one_notification(
    qtbot: QtBot, app_controller: Any, tray: RecordingTray, tmp_path: Path
) -> None:
    """Before: one "Video ready" per video, four popups in a row."""
    window = app_controller.window
    start_batch(qtbot, window, tmp_path, 4)
    in_the_background(qtbot, window)
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 4 and all(
        g.stage is Stage.DONE for g in model.generations()), timeout=20_000)
    qtbot.waitUntil(lambda: bool(tray.shown), timeout=5_000)
    qtbot.wait(2_500)  # anything still gathered has been shown by now
    assert len(tray.shown) == 1, tray.shown
    title, body, icon = tray.shown[0]
    assert title == "4 videos ready"
    assert "a kite over the dunes" in body
    assert icon is QSystemTrayIcon.MessageIcon.Information


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_work_stopped_for_the_person_in_the_background_is_one_notification(
    qtbot: QtBot, app_controller: Any, tray: RecordingTray, simulator: Simulator,
    tmp_path: Path
) -> None:
    """Before: nothing at all (only finished and failed videos were announced): a batch
    stopped by a 402 waited unseen while the person was in another window."""
    window = app_controller.window
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.set_credits("afk_test", 0)  # spent elsewhere
    in_the_background(qtbot, window)
    start_batch(qtbot, window, tmp_path, 3)
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 3 and all(
        g.stage is Stage.ATTENTION for g in model.generations()), timeout=20_000)
    qtbot.waitUntil(lambda: bool(tray.shown), timeout=5_000)
    qtbot.wait(2_500)
    assert len(tray.shown) == 1, tray.shown
    title, body, icon = tray.shown[0]
    assert title == "3 generations need you"
    assert "credits" in body
    assert icon is QSystemTrayIcon.MessageIcon.Warning
