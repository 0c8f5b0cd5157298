"""Settings as a person meets it with the keyboard: Tab goes through the fields in the order
they are read, top to bottom, and only then to the buttons."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.settings import Settings
from runway_desktop.ui.settings_dialog import SettingsDialog


def tab_walk(qtbot: QtBot, start: QWidget) -> list[QWidget]:
    """The widgets Tab visits from `start` until it comes back to it."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus)
    visited: list[QWidget] = []
    for _ in range(40):
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        assert now is not None
        if now is start:
            return visited
        visited.append(now)
    raise AssertionError(f"Tab never came back: {visited}")


@pytest.mark.parametrize("first_run", [False, True], ids=["settings", "first run"])
def test_tab_goes_down_the_fields_then_to_the_buttons(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: object, first_run: bool) -> None:
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)), first_run=first_run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.waitUntil(dialog.key_read, timeout=10_000)

    names = [w.accessibleName() or (w.text() if isinstance(w, QAbstractButton) else "")
             for w in tab_walk(qtbot, dialog.key_edit)]

    fields = ["Show API key", "Output folder", "Choose output folder", "API address", "Proxy",
              "Keep image metadata", "Settings file beside each video", "Demo mode",
              "Notifications"]
    assert names[:len(fields)] == fields  # in the order the eye reads them
    buttons = ["Save", "Cancel"] + (["Try demo mode"] if first_run else [])
    assert sorted(names[len(fields):]) == sorted(buttons)  # then the buttons, and back
