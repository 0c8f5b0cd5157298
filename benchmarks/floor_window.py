"""The startup floor: a bare PySide6 script that paints an empty QMainWindow, then exits.

Same window size and the same exit path as `runway-desktop --quit-after-paint` (first Paint
event on the main window → quit on the next event-loop turn → exit status 0). Frozen with the
same PyInstaller settings, it is also the floor of the frozen app.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


class FloorWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self._painted = False

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            QTimer.singleShot(0, QApplication.quit)
        return handled


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = FloorWindow()
    window.setWindowTitle("floor")
    window.resize(1280, 800)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
