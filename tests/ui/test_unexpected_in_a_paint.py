"""A Python error inside a paint: the person reads a sentence, and the window keeps working."""

from __future__ import annotations

import sys
import weakref
from typing import Any

import pytest
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.ui.controller import release_locals


class BrokenOncePaint(QWidget):
    """Raises in its first paint with its QPainter still painting, as a paint bug would."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.paints = 0
        self.failed_painter: weakref.ref[QPainter] | None = None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("teal"))
        self.paints += 1
        if self.paints == 1:
            self.failed_painter = weakref.ref(painter)
            raise RuntimeError("a paint bug")
        painter.end()


# As the app: errors go to its excepthook (app.py), not pytest-qt's.
@pytest.mark.qt_no_exception_capture
@pytest.mark.expect_log_warnings(r"Unexpected error")
# Qt's word on the failed paint itself: the error reaches the excepthook only after the window's
# paint is over (at MainWindow.event, the outermost Python override), the painter still open.
@pytest.mark.qt_log_ignore(r"QBackingStore::endPaint\(\) called with active painter")
def test_an_error_in_a_paint_leaves_no_painter_open(
    qtbot: QtBot, app_controller: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "excepthook", app_controller.report_unexpected)
    try:
        paints_on_after_an_error(qtbot, app_controller.window)
    finally:  # failing, not a crash of the test process when the window goes
        release_locals(getattr(sys, "last_traceback", None))


def paints_on_after_an_error(qtbot: QtBot, window: Any) -> None:
    qtbot.waitExposed(window)
    broken = BrokenOncePaint(window)
    broken.setGeometry(0, 0, 80, 40)
    broken.show()  # painted by the event loop: its error goes to the excepthook
    qtbot.waitUntil(lambda: broken.paints >= 1)
    assert "Something unexpected went wrong" in window.banner.message.text()
    # Python kept the error's traceback (sys.last_traceback), and the paint's QPainter with it,
    # open on the window: a later paint, or the window's deletion, crashed the app.
    assert broken.failed_painter is not None
    released = broken.failed_painter() is None  # (not kept by the assertion's report)
    assert released, "the failed paint's QPainter is still alive"
    painted = broken.paints
    broken.update()  # the window paints on
    qtbot.waitUntil(lambda: broken.paints > painted)
