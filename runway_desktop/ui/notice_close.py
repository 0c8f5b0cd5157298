"""The × that hides a notice strip (banner, undo notice, a dropped video's offer): one look,
one name for screen readers, everywhere."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QToolButton, QWidget


def close_button(parent: QWidget, hide: Callable[[], object]) -> QToolButton:
    button = QToolButton(parent)
    button.setText("×")
    button.setAutoRaise(True)
    button.setToolTip(QCoreApplication.translate("Notice", "Hide this notice"))
    button.setAccessibleName(QCoreApplication.translate("Notice", "Hide notice"))
    button.clicked.connect(hide)
    return button
