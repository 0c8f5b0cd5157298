"""Tab and Shift+Tab through the real window (a finished clip shown): every control is reached
both ways, in the order the eye reads them.

Tab forward skipped the start image (the drop zone, Browse…, ×): the compose panel handed the
focus to the prompt as soon as the chain reached the panel itself (its focus proxy), past the
image controls before it; and Extend… and Export Clip…, added to the player's row after the
lists were built, came last in the chain, after the tabs, not between Mute and Full screen.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


def walk(qtbot: QtBot, window: MainWindow, start: QWidget, backwards: bool) -> list[QWidget]:
    """The widgets Tab (or Shift+Tab) visits from `start` until it comes back to it."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus)
    visited: list[QWidget] = []
    key, modifier = ((Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier) if backwards
                     else (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier))
    for _ in range(100):
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, key, modifier)
        now = QApplication.focusWidget()
        assert now is not None
        if now is start:
            return visited
        visited.append(now)
    raise AssertionError(f"Tab never came back to {start}: {visited}")


def test_tab_reaches_every_control_both_ways_in_reading_order(
        qtbot: QtBot, app_controller: Any) -> None:
    window: MainWindow = app_controller.window
    compose = window.compose
    compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage is Stage.DONE and g.thumbnail_path
                                for g in window.queue.model.generations()), timeout=20_000)
    extend = window.clip_actions.buttons["extend"]
    export = window.clip_actions.buttons["export_clip"]
    qtbot.waitUntil(export.isEnabled)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)

    forward = walk(qtbot, window, compose.prompt_edit, backwards=False)
    zone = compose.drop_zone
    for widget in (zone, zone.browse_button, window.preview, window.queue.list_view, extend,
                   export, window.preview.full_screen_button, compose.generate_button):
        assert widget in forward, widget.accessibleName() or widget.objectName()
    # The start image comes just before the prompt, as it is shown above it.
    assert forward[-2:] == [zone, zone.browse_button]
    # Extend… and Export Clip… sit between Mute and Full screen, in the tab order too.
    row = [w for w in forward if window.preview.isAncestorOf(w)]
    assert row.index(extend) + 1 == row.index(export)
    assert row.index(export) + 1 == row.index(window.preview.full_screen_button)

    backward = walk(qtbot, window, compose.prompt_edit, backwards=True)
    assert backward == list(reversed(forward))

    # Focusing the panel (the banner's "edit your input") still means typing a prompt.
    window.queue.list_view.setFocus()
    qtbot.waitUntil(window.queue.list_view.hasFocus)
    compose.setFocus()
    qtbot.waitUntil(compose.prompt_edit.hasFocus)
