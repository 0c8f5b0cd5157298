"""Real image files for tests, drawn with Qt (no fixtures checked into the repo)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage


def make_png(folder: Path, name: str, width: int = 640, height: int = 360,
             colour: str = "#2878c8") -> str:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    path = folder / name
    assert image.save(str(path), "PNG")  # type: ignore[call-overload]  # PySide6's stub wants bytes; it takes str
    return str(path)
