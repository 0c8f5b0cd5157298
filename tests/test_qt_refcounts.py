"""Guard against Qt bindings that leak references to None/True (PySide6 6.12.0 on Python 3.11
aborted the app with `none_dealloc` after a few thousand paints or signal emits)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPainter


class _Emitter(QObject):
    changed = Signal(int)


def test_signal_emits_and_void_calls_keep_none_and_true_alive(qapp: object) -> None:
    emitter = _Emitter()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(200):
        painter.save()
        painter.restore()
        emitter.changed.emit(1)
    none_after, true_after = sys.getrefcount(None), sys.getrefcount(True)
    painter.end()
    # A small slack for unrelated allocations; the bug loses one reference per call (hundreds).
    assert none_after - none_before > -20
    assert true_after - true_before > -20
