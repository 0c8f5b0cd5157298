"""Pictures decoded for the window within bounds: by Qt where it can, else by engine.images.

Qt's PNG, BMP, TIFF and GIF readers decode a whole picture before scaling it and refuse one over
their allocation limit (256 MB: a 9000 × 9000 PNG) with a warning; they can't read HEIC or AVIF
at all. engine.images reads those within its own memory bound (a huge PNG a band of rows at a
time). Both functions block: call them off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageIOHandler, QImageReader


def fits_qt_image_limit(reader: QImageReader, size: QSize) -> bool:
    """Whether Qt decodes this picture within its image allocation limit (256 MB unless set).

    Readers that can't decode scaled (PNG, BMP, TIFF, GIF…) allocate the whole picture first, so
    a 9000 × 9000 PNG (324 MB) is refused however small the preview asked for.
    """
    limit_mb = QImageReader.allocationLimit()
    if limit_mb <= 0 or not size.isValid():
        return True
    if reader.supportsOption(QImageIOHandler.ImageOption.ScaledSize):
        return True  # e.g. JPEG: decoded at the preview's size
    bits = QImage.toPixelFormat(reader.imageFormat()).bitsPerPixel() or 32
    return size.width() * size.height() * max(bits, 32) // 8 <= limit_mb * 1024 * 1024


def engine_preview(path: str, edge: int) -> QImage:
    """The upright picture fitted into `edge` × `edge` through engine.images (null when it
    can't be read: not an image, cut short, too many pixels)."""
    from runway_desktop.engine import images  # Pillow: not imported before the first paint

    try:
        width, height, rgba = images.preview_rgba(Path(path), edge)
    except images.ImageRejected:
        return QImage()
    return QImage(rgba, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


__all__ = ["engine_preview", "fits_qt_image_limit"]
