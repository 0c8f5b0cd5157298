"""Run by test_ui_timeouts.py in a subprocess of its own (not collected here): a UI test whose
paint outlasts its timeout, as a long person walk's paints did when it ran past the 120 s."""

from __future__ import annotations

import gc
import time
from typing import Any

import pytest
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot


class EndlessFirstPaint(QWidget):
    painted = False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("teal"))
        first, self.painted = not self.painted, True
        while first:  # until the timeout ends it (in Python: a signal handler can run here)
            time.sleep(0.01)
        painter.end()


@pytest.mark.timeout(0.5)
def test_a_paint_outlasting_the_timeout(qtbot: QtBot, qapp: Any) -> None:
    widget = EndlessFirstPaint()
    widget.resize(200, 100)
    with qtbot.waitExposed(widget):
        widget.show()  # its first paint
    # Past here only if the timeout was swallowed in the paint: paint again, let it go.
    for _ in range(5):
        widget.update()
        qtbot.wait(10)
    widget.deleteLater()
    qtbot.wait(10)
    del widget
    gc.collect()
