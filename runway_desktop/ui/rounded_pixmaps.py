"""Pictures in rounded frames, drawn once and blitted after (the queue's thumbnails).

Drawing a 320 × 180 thumbnail scaled into an ~100 px frame through an antialiased rounded clip
path on every paint cost the queue ~1 ms a row, ~30 repaints a second while jobs run
(responsiveness benchmark: `queue_delegate.py _paint_thumbnail` was the first place the GUI
thread was found when it fell behind). Here each (picture, size, radius, device pixel ratio) is
cut, scaled smoothly and rounded once into a pixmap with a transparent outside, kept in a small
LRU; painting it is a plain 1:1 blit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPixmap

CAPACITY = 160  # ~3 screens of rows; each ~100 × 56 px at 2× is ~90 KB

Draw = Callable[[QPainter, QRectF], None]


def frame_size(frame: QRectF) -> QSize:
    """The whole-pixel size a frame is drawn at."""
    return QSize(max(1, round(frame.width())), max(1, round(frame.height())))


class RoundedPixmaps:
    """An LRU of rounded pictures, keyed by what they show and how big."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, QPixmap] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def picture(self, pixmap: QPixmap, source: QRectF, size: QSize, radius: float,
                ratio: float, edge: QColor | None = None) -> QPixmap:
        """The `source` part of `pixmap`, scaled smoothly to `size`, corners rounded (and a
        hairline `edge` around it)."""
        key = ("picture", pixmap.cacheKey(), source.x(), source.y(), source.width(),
               source.height(), radius)

        def draw(painter: QPainter, rect: QRectF) -> None:
            cut = pixmap.copy(source.toAlignedRect()).scaled(
                size * ratio, Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation)
            cut.setDevicePixelRatio(ratio)
            rounded_clip(painter, rect, radius)
            painter.drawPixmap(QPointF(0, 0), cut)

        return self.rendered(key, size, ratio, draw, edge=edge, radius=radius)

    def rendered(self, key: Hashable, size: QSize, ratio: float, draw: Draw, *,
                 edge: QColor | None = None, radius: float = 0.0) -> QPixmap:
        """What `draw` paints into a `size` frame (at `ratio`, transparent around what it
        paints), with a hairline `edge` (a rounded rectangle of `radius`) over it, made once
        per `key`, size, ratio and edge. Stroking that edge with antialiasing cost ~0.3 ms a
        row on every paint."""
        full = (key, size.width(), size.height(), ratio,
                None if edge is None else edge.rgba(), radius)
        cached = self._items.get(full)
        if cached is not None:
            self._items.move_to_end(full)
            return cached
        image = QPixmap(size * ratio)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setPen(Qt.PenStyle.NoPen)
        rect = QRectF(QPointF(0, 0), size.toSizeF())
        painter.save()
        draw(painter, rect)
        painter.restore()
        if edge is not None:
            painter.setPen(edge)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        painter.end()
        self._items[full] = image
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return image


def rounded_clip(painter: QPainter, rect: QRectF, radius: float) -> None:
    """Clip `painter` to a rounded `rect` (for `rendered`'s draw functions)."""
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    painter.setClipPath(path)
