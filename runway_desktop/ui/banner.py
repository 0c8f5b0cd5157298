"""A non-modal banner across the top of the window: what happened, and one button to act on it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from runway_desktop.engine.records import Action
from runway_desktop.ui.queue_text import action_text


class Banner(QFrame):
    action_requested = Signal(object)  # the Action of the shown message

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._action: Action | None = None
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName(self.tr("Notice"))
        self.button = QPushButton(self)
        self.button.clicked.connect(lambda: self.action_requested.emit(self._action))
        close = QToolButton(self)
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip(self.tr("Hide this notice"))
        close.setAccessibleName(self.tr("Hide notice"))
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self._tint()
        self.hide()

    def _tint(self) -> None:
        # A warm tint derived from the palette, so it reads in light and dark themes alike.
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Window)
        warm = base.lighter(108) if base.lightness() < 128 else base.darker(104)
        warm.setRed(min(255, warm.red() + 40))
        warm.setGreen(min(255, warm.green() + 20))
        palette.setColor(QPalette.ColorRole.Window, warm)
        self.setPalette(palette)

    def show_message(self, text: str, action: Action | None = None) -> None:
        self._action = action
        self.message.setText(text)
        label = action_text(action)
        self.button.setVisible(bool(label))
        if label:
            self.button.setText(label)
            self.button.setAccessibleName(label)
            self.button.setToolTip(label)
        self.show()

    def current_action(self) -> Action | None:
        return self._action if self.isVisible() else None

