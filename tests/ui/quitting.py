"""Quitting as a person does: File ▸ Quit (Ctrl+Q), the question it asks, and an answer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMessageBox
from pytestqt.qtbot import QtBot


def quit_from_menu(qtbot: QtBot, window: QMainWindow) -> QMessageBox:
    """File ▸ Quit: the question it asks (it must ask one)."""
    (action,) = [a for a in window.findChildren(QAction) if a.text() == "&Quit"]
    action.trigger()
    qtbot.waitUntil(lambda: any(b.isVisible() for b in window.findChildren(QMessageBox)),
                    timeout=5_000)
    (box,) = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert box.windowTitle() == "Quit Runway Desktop?"
    return box


def answer(qtbot: QtBot, box: QMessageBox, role: QMessageBox.ButtonRole) -> None:
    """Click the box's button of `role` (RejectRole: Cancel, AcceptRole: Quit)."""
    (button,) = [b for b in box.buttons() if box.buttonRole(b) == role]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
