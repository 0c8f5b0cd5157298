"""Save a screenshot of the X display (run with QT_QPA_PLATFORM=xcb under Xvfb)."""

from __future__ import annotations

import sys

from PySide6.QtGui import QGuiApplication


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    window_id = int(sys.argv[2], 0) if len(sys.argv) > 2 else 0
    pixmap = app.primaryScreen().grabWindow(window_id)
    return 0 if pixmap.save(sys.argv[1]) else 1


if __name__ == "__main__":
    sys.exit(main())
