"""The undo notice by keyboard: its Undo and × buttons are reached with Tab, and when the notice
goes (Undo pressed, closed, timed out) the keys go back where they came from. They fell to
whatever came next in the window's chain (the start image, far from the list the person was
working in)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.ui.undo_notice import UndoNotice


class Host(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.before = QLineEdit(self)  # where the person was
        self.after = QLineEdit(self)  # next in the chain: where the focus fell
        layout.addWidget(self.before)
        layout.addWidget(self.after)
        self.notice = UndoNotice(self)
        QWidget.setTabOrder(self.before, self.notice.undo_button)
        QWidget.setTabOrder(self.notice.undo_button, self.after)
        self.resize(500, 300)


@pytest.fixture
def host(qtbot: QtBot) -> Host:
    widget = Host()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)
    return widget


def tab_into_the_notice(qtbot: QtBot, host: Host) -> None:
    host.notice.show_undoable("Removed 1 generation from the history.")
    host.before.setFocus()
    qtbot.waitUntil(host.before.hasFocus)
    qtbot.keyClick(host.before, Qt.Key.Key_Tab)
    assert host.notice.undo_button.hasFocus()


@pytest.mark.parametrize("how", ["undo", "close", "timeout", "replaced"])
def test_when_the_notice_goes_the_keys_go_back_where_they_came_from(
        qtbot: QtBot, host: Host, how: str) -> None:
    tab_into_the_notice(qtbot, host)
    undone: list[bool] = []
    host.notice.undo_requested.connect(lambda: undone.append(True))
    actions: dict[str, Callable[[], None]] = {
        "undo": lambda: qtbot.keyClick(host.notice.undo_button, Qt.Key.Key_Space),
        "close": host.notice.dismiss,
        "timeout": lambda: host.notice._timer.timeout.emit(),
        "replaced": lambda: host.notice.show_info("Restored 1 generation."),
    }
    actions[how]()
    assert undone == ([True] if how == "undo" else [])
    assert QApplication.focusWidget() is host.before


def test_the_keys_stay_where_they_are_when_the_notice_did_not_have_them(
        qtbot: QtBot, host: Host) -> None:
    host.notice.show_undoable("Removed 1 generation from the history.")
    host.after.setFocus()
    qtbot.waitUntil(host.after.hasFocus)
    host.notice.dismiss()
    assert QApplication.focusWidget() is host.after
