"""A one-line message that keeps its room: showing or clearing it never moves its neighbours.

A label that appears and disappears pushes the controls around it (~17 px), so a click meant
for one lands on another. This one stays in the layout with one line reserved; an empty text
is "no message".
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class MessageLine(QLabel):
    def __init__(self, parent: QWidget | None = None, *, lines: int = 1) -> None:
        super().__init__(parent)
        self._lines = lines
        self.setWordWrap(True)  # a longer message may still wrap rather than be cut off
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._reserve()

    def set_message(self, text: str) -> None:
        self.setText(text)
        self._reserve()

    def message(self) -> str:
        return self.text()

    def _reserve(self) -> None:
        margins = self.contentsMargins()
        metrics = self.fontMetrics()
        reserved = metrics.height() + (self._lines - 1) * metrics.lineSpacing()
        reserved += margins.top() + margins.bottom()
        needed = self.heightForWidth(self.width()) if self.text() and self.width() > 0 else 0
        self.setFixedHeight(max(reserved, needed))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reserve()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._reserve()
