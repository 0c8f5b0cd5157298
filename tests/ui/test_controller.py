"""The controller's dialogs over the real window and engine: Settings can always open again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import stop_app


def open_from_menu(qtbot: QtBot, controller: Any) -> SettingsDialog:
    action = controller.window.findChild(type(controller.window.menuBar().actions()[0]),
                                         "settings_action")
    action.trigger()
    qtbot.waitUntil(lambda: controller._dialog is not None and controller._dialog.isVisible(),
                    timeout=5_000)
    dialog = controller._dialog
    assert isinstance(dialog, SettingsDialog)
    return dialog


def click(qtbot: QtBot, dialog: SettingsDialog, which: QDialogButtonBox.StandardButton) -> None:
    qtbot.mouseClick(dialog.buttons.button(which), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog) or not dialog.isVisible(),
                    timeout=5_000)


def test_settings_open_again_and_again_after_save_and_cancel(
    qtbot: QtBot, app_controller: Any, keyring_backend: Any
) -> None:
    window = app_controller.window
    seen: list[SettingsDialog] = []
    for button in (QDialogButtonBox.StandardButton.Cancel, QDialogButtonBox.StandardButton.Save,
                   QDialogButtonBox.StandardButton.Cancel, QDialogButtonBox.StandardButton.Save):
        dialog = open_from_menu(qtbot, app_controller)
        assert all(dialog is not old for old in seen)  # a fresh dialog each time
        seen.append(dialog)
        click(qtbot, dialog, button)
        qtbot.waitUntil(lambda: app_controller._dialog is None, timeout=5_000)
    # Asking twice while one is open raises it: still one dialog.
    dialog = open_from_menu(qtbot, app_controller)
    app_controller.open_settings(first_run=False)
    assert app_controller._dialog is dialog
    assert sum(isinstance(w, SettingsDialog) and w.isVisible()
               for w in QApplication.topLevelWidgets()) == 1
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    # The first-run flavour too.
    for _ in range(2):
        app_controller.open_settings(first_run=True)
        qtbot.waitUntil(lambda: app_controller._dialog is not None
                        and app_controller._dialog.isVisible(), timeout=5_000)
        click(qtbot, app_controller._dialog, QDialogButtonBox.StandardButton.Cancel)
    assert not window.banner.isVisible(), window.banner.message.text()


def test_settings_has_a_keyboard_shortcut_that_opens_it(
    qtbot: QtBot, app_controller: Any, keyring_backend: Any
) -> None:
    window = app_controller.window
    action = window.findChild(type(window.menuBar().actions()[0]), "settings_action")
    assert action.shortcuts(), "Settings needs the platform's standard shortcut (or Ctrl+,)"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    sequence = action.shortcuts()[0]
    combo = sequence[0]
    qtbot.keyClick(window.compose.prompt_edit, combo.key(), combo.keyboardModifiers())
    qtbot.waitUntil(lambda: app_controller._dialog is not None
                    and app_controller._dialog.isVisible(), timeout=5_000)
    app_controller._dialog.reject()


@pytest.mark.parametrize("how", ["start option", "settings file"])
def test_demo_box_is_ticked_while_in_demo_mode(
    qtbot: QtBot, qasync_loop: Any, keyring_backend: Any, data_dir: Path, qapp: Any,
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from runway_desktop import settings
    from runway_desktop.ui.controller import AppController

    monkeypatch.setenv("RUNWAY_DESKTOP_POLL_SECONDS", "0.05")
    if how == "settings file":
        settings.save(data_dir, settings.Settings(demo_mode=True))
    controller = AppController(qapp, data_dir, demo=how == "start option",
                               demo_seconds_per_job=0.3)
    controller.show()
    controller.start()
    try:
        qtbot.waitUntil(lambda: controller.engine is not None, timeout=10_000)
        assert controller.demo
        controller.open_settings(first_run=False)
        dialog = controller._dialog
        assert dialog is not None
        assert dialog.demo_check.isChecked()
        # Saving with the box left as shown changes nothing about demo mode.
        click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
        assert controller.demo
        assert settings.load(data_dir).demo_mode is (how == "settings file")
    finally:
        stop_app(qtbot, controller)


def test_closing_settings_while_the_key_is_checked_saves_nothing_and_breaks_nothing(
    qtbot: QtBot, app_controller: Any, keyring_backend: Any, simulator: Any,
    caplog: pytest.LogCaptureFixture
) -> None:
    from runway_desktop import secrets
    from runway_desktop.simulator.faults import FaultPlan

    caplog.set_level(logging.INFO, logger="runway_desktop.ui.settings_dialog")

    window = app_controller.window
    dialog = open_from_menu(qtbot, app_controller)
    dialog.key_edit.setText("afk_test")
    simulator.faults = FaultPlan(routes={"me"}, slow_seconds=1.0)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Checking" in dialog.status.text(), timeout=5_000)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # changed their mind while it checks
    qtbot.waitUntil(lambda: app_controller._dialog is None, timeout=5_000)
    qtbot.waitUntil(lambda: "closed during the key check" in caplog.text, timeout=10_000)
    assert secrets.stored_api_key() is None
    assert not window.banner.isVisible(), window.banner.message.text()
    dialog = open_from_menu(qtbot, app_controller)  # and Settings still opens
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)


def test_about_opens_again_and_leaves_nothing_behind(
    qtbot: QtBot, app_controller: Any
) -> None:
    """Help ▸ About, closed, opened again: one box each time, none kept once closed (every
    About used to stay in the window, hidden, for as long as it ran)."""
    from PySide6.QtWidgets import QMessageBox

    window = app_controller.window
    about = next(a for m in window.menuBar().actions() if m.menu()
                 for a in m.menu().actions() if "About" in a.text())
    for _ in range(3):
        about.trigger()
        qtbot.waitUntil(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox)),
                        timeout=5_000)
        (box,) = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        qtbot.mouseClick(box.buttons()[0], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.findChildren(QMessageBox), timeout=5_000)
