"""A second floor: the bare window of floor_window.py, plus the app's own look and a little text.

The app's theme (ui/theme.py: Fusion, its palette, its style sheet, which also builds PySide6's
`Qt` enums on first use) on a window of 15 common widgets with text (menu titles, labels, a
prompt box, combo boxes, a button, a list) — no other app code. What any window in the app's
look costs before its first paint, whatever it shows: the real window can't paint before it.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from benchmarks.floor_window import FloorWindow


def main() -> int:
    app = QApplication(sys.argv[:1])
    from runway_desktop.ui import theme

    theme.install(app)
    window = FloorWindow()
    window.setWindowTitle("themed floor")
    window.resize(1280, 800)
    for title in ("&File", "&Edit", "&View", "&Generation", "&Help"):
        window.menuBar().addMenu(title)
    central = QWidget()
    columns = QHBoxLayout(central)
    compose = QWidget()
    rows = QVBoxLayout(compose)
    rows.addWidget(QLabel("Start image"))
    rows.addWidget(QLabel("Drop an image here"))
    rows.addWidget(QPlainTextEdit())
    for _ in range(3):
        choice = QComboBox()
        choice.addItems(["16:9", "9:16"])
        rows.addWidget(choice)
    rows.addWidget(QLineEdit())
    rows.addWidget(QPushButton("Generate"))
    columns.addWidget(compose)
    columns.addWidget(QLabel("preview"))
    columns.addWidget(QListView())
    window.setCentralWidget(central)
    window.statusBar().showMessage("Ready")
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
