"""Paints the gallery: a day header as wide as the grid, or one result's cell.

A cell is the video's first frame in the shape of its ratio, the start image as a small inset
in its corner, and one line under it (the time it finished, ratio, length, a star for a
favourite). Light on purpose: pixmaps come scaled from the thumbnail cache, geometry is cached
per font, and nothing is measured per item but the header's width.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTime,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from runway_desktop.engine.records import Generation
from runway_desktop.ui.queue_delegate import aspect_of, favourite_colour, fit_aspect, paint_star
from runway_desktop.ui.queue_model import Roles, thumbnail_source
from runway_desktop.ui.thumbnail_cache import ThumbnailCache

_Index = QModelIndex | QPersistentModelIndex

HEADER_ROLE = Qt.ItemDataRole.UserRole + 40  # gallery.GalleryRoles.HeaderRole
START_IMAGE_ROLE = Qt.ItemDataRole.UserRole + 41  # gallery.GalleryRoles.StartImageRole
CELL_ROLE = Qt.ItemDataRole.UserRole + 42  # gallery.GalleryRoles.CellRole
_SCALED_CAPACITY = 160  # ~2 screens of cells and insets: ~6 MB at most
_CAPTIONS_CAPACITY = 4000


def _mix(palette: QPalette, amount: float) -> QColor:
    """Text colour `amount` of the way over the base colour, opaque: a solid fill is several
    times faster to paint than a translucent one, and a scrolled grid paints dozens a frame."""
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    return QColor.fromRgbF(*(b + (t - b) * amount for t, b in (
        (text.redF(), base.redF()), (text.greenF(), base.greenF()),
        (text.blueF(), base.blueF()))))


def placeholder_colour(palette: QPalette) -> QColor:
    return _mix(palette, 0.07)


@dataclass(frozen=True)
class _Metrics:
    cell: QSize
    picture: QSize  # the box a result's frame is fitted into
    padding: int
    line: int
    header_height: int
    header_font: QFont


class GalleryDelegate(QStyledItemDelegate):
    """`thumbnails`: the queue's cache, read directly while painting (one model call a cell)."""

    def __init__(self, thumbnails: ThumbnailCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._no_pixmap = QPixmap()  # (a QPixmap needs the application: not at import)
        self._metrics: dict[tuple[str, int], _Metrics] = {}
        # Pictures cut and scaled to their frame, by (pixmap, size): a cell on screen is
        # painted again every scroll step, and an unscaled blit is several times cheaper.
        self._scaled: OrderedDict[tuple[int, int, int, bool, float], QPixmap] = OrderedDict()
        self._captions: dict[tuple[int, float, str], str] = {}

    def metrics(self, font: QFont, width: int = 0) -> _Metrics:
        """Geometry of a cell `width` px wide (0: its natural width, 11 lines of this font)."""
        key = (font.key(), width)
        cached = self._metrics.get(key)
        if cached is not None:
            return cached
        line = QFontMetrics(font).lineSpacing()
        padding = max(4, line // 3)
        width = width or 11 * line  # ~176 px at a 16 px line: two columns in a 400 px panel
        picture = QSize(width - 2 * padding, round((width - 2 * padding) * 3 / 4))
        header_font = QFont(font)
        header_font.setWeight(QFont.Weight.DemiBold)
        metrics = _Metrics(
            cell=QSize(width, picture.height() + line + 3 * padding),
            picture=picture,
            padding=padding,
            line=line,
            header_height=QFontMetrics(header_font).lineSpacing() + 3 * padding,
            header_font=header_font,
        )
        if len(self._metrics) > 64:  # one entry per width the grid had: resizes add more
            self._metrics.clear()
        self._metrics[key] = metrics
        return metrics

    @staticmethod
    def _grid_width(option: QStyleOptionViewItem) -> tuple[int, int]:
        """(the width the grid has for cells, the spacing between them); (0, 0) unknown."""
        widget = option.widget
        viewport = getattr(widget, "viewport", None)
        if viewport is None:
            return 0, 0
        spacing = widget.spacing() if hasattr(widget, "spacing") else 0
        return viewport().width() - spacing - 2, spacing

    def cell_width(self, option: QStyleOptionViewItem) -> int:
        """Cells share the grid's width evenly: as many natural-width columns as fit, widened
        to fill the row (no ragged gap at the right)."""
        natural = self.metrics(option.font).cell.width()
        available, spacing = self._grid_width(option)
        if available <= 0:
            return natural
        columns = max(1, available // (natural + spacing))
        return max(natural // 2, available // columns - spacing)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        if index.data(HEADER_ROLE):
            m = self.metrics(option.font)
            available, spacing = self._grid_width(option)
            # As wide as the grid: a day always starts a row of its own.
            return QSize(max(m.cell.width(), available - spacing), m.header_height)
        return self.metrics(option.font, self.cell_width(option)).cell

    # -- painting ------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        m = self.metrics(option.font, option.rect.width())
        cell = index.data(CELL_ROLE)  # the day's title, or the Generation
        painter.save()
        try:
            if isinstance(cell, str):
                self._paint_header(painter, option, m, cell)
            elif isinstance(cell, Generation):
                self._paint_cell(painter, option, m, cell, index)
        finally:
            painter.restore()

    @staticmethod
    def _paint_header(painter: QPainter, option: QStyleOptionViewItem, m: _Metrics,
                      text: str) -> None:
        rect = option.rect.adjusted(m.padding, m.padding, -m.padding, 0)
        painter.setFont(m.header_font)
        painter.setPen(option.palette.color(QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         text)
        painter.fillRect(QRect(rect.left(), option.rect.bottom(), rect.width(), 1),
                         _mix(option.palette, 0.12))

    def _pixmap(self, path: str | None, index: _Index, role: int) -> QPixmap:
        if self._thumbnails is None:
            pixmap: QPixmap = index.data(role)
            return pixmap
        return (self._thumbnails.get(path) if path else None) or self._no_pixmap

    def _paint_cell(self, painter: QPainter, option: QStyleOptionViewItem, m: _Metrics,
                    generation: Generation, index: _Index) -> None:
        rect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlphaF(0.22 if selected else 0.08)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        box = QRectF(rect.left() + m.padding, rect.top() + m.padding,
                     m.picture.width(), m.picture.height())
        frame = fit_aspect(box, aspect_of(generation.settings.aspect_ratio)).toAlignedRect()
        thumbnail = self._pixmap(thumbnail_source(generation), index, Roles.ThumbnailRole)
        if thumbnail.isNull():  # loading, or no frame: a quiet placeholder of the right shape
            painter.fillRect(frame, placeholder_colour(palette))
        else:  # cover: cropped to the frame's shape rather than letterboxed
            painter.drawPixmap(frame.topLeft(), self._fitted(
                thumbnail, frame.size(), True, painter.device().devicePixelRatioF()))
        if generation.settings.image_path:
            start = self._pixmap(generation.settings.image_path, index, START_IMAGE_ROLE)
            if not start.isNull():
                self._paint_inset(painter, palette, frame, start)
        if selected:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(frame.adjusted(0, 0, -1, -1))
        if option.state & QStyle.StateFlag.State_HasFocus:  # where the keyboard is: a ring
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Accent), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(rect).adjusted(1, 1, -1, -1), 6, 6)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_caption(painter, option, m, generation)

    def _fitted(self, pixmap: QPixmap, size: QSize, cover: bool, ratio: float) -> QPixmap:
        """`pixmap` scaled to `size` at device pixel ratio `ratio` (cropped to the size's
        shape if `cover`, else fitted inside it), from a small LRU."""
        key = (pixmap.cacheKey(), size.width(), size.height(), cover, ratio)
        scaled = self._scaled.get(key)
        if scaled is not None:
            self._scaled.move_to_end(key)
            return scaled
        if cover:
            source = fit_aspect(QRectF(pixmap.rect()), size.width() / max(1, size.height()))
            pixmap = pixmap.copy(source.toAlignedRect())
        scaled = pixmap.scaled(size * ratio, Qt.AspectRatioMode.IgnoreAspectRatio if cover
                               else Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        self._scaled[key] = scaled
        while len(self._scaled) > _SCALED_CAPACITY:
            self._scaled.popitem(last=False)
        return scaled

    def _paint_inset(self, painter: QPainter, palette: QPalette, frame: QRect,
                     start: QPixmap) -> None:
        """The start image, small, in the frame's lower-left corner, with a light edge."""
        side = max(16, min(frame.width(), frame.height()) // 3)
        inset_pixmap = self._fitted(start, QSize(side, side), False,
                                    painter.device().devicePixelRatioF())
        size = inset_pixmap.deviceIndependentSize().toSize()
        margin = max(3, side // 12)
        inset = QRect(frame.left() + margin, frame.bottom() - margin - size.height() + 1,
                      size.width(), size.height())
        painter.fillRect(inset.adjusted(-2, -2, 2, 2), QColor(255, 255, 255))
        painter.drawPixmap(inset.topLeft(), inset_pixmap)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(inset.adjusted(-2, -2, 1, 1))

    def _caption(self, option: QStyleOptionViewItem, generation: Generation,
                 width: int) -> str:
        key = (generation.id, generation.finished_at or generation.updated_at,
               f"{generation.settings.aspect_ratio}{generation.settings.duration}{width}")
        text = self._captions.get(key)
        if text is None:
            finished = datetime.datetime.fromtimestamp(key[1])
            clock = option.locale.toString(QTime(finished.hour, finished.minute),
                                           option.locale.FormatType.ShortFormat)
            settings = generation.settings
            text = option.fontMetrics.elidedText(
                f"{clock} · {settings.aspect_ratio} · {settings.duration} s",
                Qt.TextElideMode.ElideRight, width)
            if len(self._captions) > _CAPTIONS_CAPACITY:
                self._captions.clear()
            self._captions[key] = text
        return text

    def _paint_caption(self, painter: QPainter, option: QStyleOptionViewItem, m: _Metrics,
                       generation: Generation) -> None:
        rect = option.rect
        line = QRect(rect.left() + m.padding, rect.top() + 2 * m.padding + m.picture.height(),
                     rect.width() - 2 * m.padding, m.line)
        star_width = m.line + m.padding  # kept free either way: captions don't shift
        if generation.favourite:  # a star one sees, drawn (fonts may lack "★")
            size = min(star_width, round(m.line * 1.3))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            paint_star(painter, QRectF(line.right() + 1 - size, line.center().y() + 0.5 - size / 2,
                                       size, size), favourite_colour(option.palette))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        line.setRight(line.right() - star_width)
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         self._caption(option, generation, line.width()))
