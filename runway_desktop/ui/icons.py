"""Icons from the SVGs in resources/ui-icons (Lucide, ISC licence), drawn in the palette's colours.

Each SVG strokes in `currentColor`; it is rendered once per colour and size, so an icon follows
light and dark (call `icon` again after a palette change).
"""

from __future__ import annotations

from functools import cache, lru_cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from runway_desktop.resources import resource_path

SIZES = (16, 24, 32, 48)  # QIcon scales the nearest down; 32 and 48 serve 2x screens


@cache
def _svg(name: str) -> str:
    return resource_path("ui-icons", f"{name}.svg").read_text(encoding="utf-8")


@lru_cache(maxsize=256)  # colours × sizes seen (a resized empty stage asks for many sizes)
def _pixmap(name: str, colour: str, size: int) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", colour).encode()))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


def pixmap(name: str, colour: QColor, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    """One rendering of icon `name` in `colour`, `size` logical pixels square."""
    physical = max(1, round(size * device_pixel_ratio))
    result = QPixmap(_pixmap(name, colour.name(), physical))
    result.setDevicePixelRatio(device_pixel_ratio)
    return result


def icon(name: str, palette: QPalette | None = None,
         role: QPalette.ColorRole = QPalette.ColorRole.ButtonText) -> QIcon:
    """Icon `name` in the palette's `role` colour, greyed when disabled."""
    palette = palette if palette is not None else QGuiApplication.palette()
    result = QIcon()
    for mode, group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                        (QIcon.Mode.Active, QPalette.ColorGroup.Active),
                        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):
        colour = palette.color(group, role).name()
        for size in SIZES:
            result.addPixmap(_pixmap(name, colour, size), mode)
    return result
