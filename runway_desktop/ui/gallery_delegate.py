"""Paints the gallery: a day header as wide as the grid, or one result's cell.

A cell is the video's first frame in the shape of its ratio, the start image as a small inset
in its corner, and one line under it (the time it finished, ratio, length, a star for a
favourite). Light on purpose: pixmaps come scaled from the thumbnail cache, geometry is cached
per font, and nothing is measured per item but the header's width.
"""

from __future__ import annotations

import datetime
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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from runway_desktop.engine.records import Generation
from runway_desktop.ui.queue_delegate import aspect_of, favourite_colour, fit_aspect
from runway_desktop.ui.queue_model import Roles

_Index = QModelIndex | QPersistentModelIndex

HEADER_ROLE = Qt.ItemDataRole.UserRole + 40  # gallery.GalleryRoles.HeaderRole
START_IMAGE_ROLE = Qt.ItemDataRole.UserRole + 41  # gallery.GalleryRoles.StartImageRole


@dataclass(frozen=True)
class _Metrics:
    cell: QSize
    picture: QSize  # the box a result's frame is fitted into
    padding: int
    line: int
    header_height: int
    header_font: QFont


class GalleryDelegate(QStyledItemDelegate):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._metrics: dict[str, _Metrics] = {}

    def metrics(self, font: QFont) -> _Metrics:
        key = font.key()
        cached = self._metrics.get(key)
        if cached is not None:
            return cached
        line = QFontMetrics(font).lineSpacing()
        padding = max(4, line // 3)
        width = 11 * line  # ~176 px at a 16 px line: two columns in a 400 px panel
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
        self._metrics[key] = metrics
        return metrics

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        m = self.metrics(option.font)
        if index.data(HEADER_ROLE):
            widget = option.widget
            viewport = getattr(widget, "viewport", None)
            width = viewport().width() if viewport is not None else m.cell.width()
            spacing = widget.spacing() if hasattr(widget, "spacing") else 0
            # As wide as the grid: a day always starts a row of its own.
            return QSize(max(m.cell.width(), width - 2 * spacing - 2), m.header_height)
        return m.cell

    # -- painting ------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        m = self.metrics(option.font)
        header = index.data(HEADER_ROLE)
        painter.save()
        try:
            if header:
                self._paint_header(painter, option, m, header)
                return
            generation: Generation | None = index.data(Roles.GenerationRole)
            if generation is None:
                return
            self._paint_cell(painter, option, m, generation, index)
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
        rule = QColor(option.palette.color(QPalette.ColorRole.Text))
        rule.setAlphaF(0.12)
        painter.fillRect(QRect(rect.left(), option.rect.bottom(), rect.width(), 1), rule)

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
        box = QRectF(rect.left() + m.padding, rect.top() + m.padding,
                     m.picture.width(), m.picture.height())
        frame = fit_aspect(box, aspect_of(generation.settings.aspect_ratio)).toAlignedRect()
        thumbnail: QPixmap = index.data(Roles.ThumbnailRole)
        self._paint_picture(painter, palette, frame, thumbnail)
        start: QPixmap = index.data(START_IMAGE_ROLE)
        if generation.settings.image_path and not start.isNull():
            self._paint_inset(painter, palette, frame, start)
        if selected:
            pen = QColor(palette.color(QPalette.ColorRole.Highlight))
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(frame.adjusted(0, 0, -1, -1))
        self._paint_caption(painter, option, m, generation, frame)

    @staticmethod
    def _paint_picture(painter: QPainter, palette: QPalette, frame: QRect,
                       pixmap: QPixmap) -> None:
        if pixmap.isNull():  # loading, or no frame: a quiet placeholder of the right shape
            fill = QColor(palette.color(QPalette.ColorRole.Text))
            fill.setAlphaF(0.07)
            painter.fillRect(frame, fill)
            return
        # Cover: crop the picture to the frame's shape rather than letterbox it.
        source = fit_aspect(QRectF(pixmap.rect()), frame.width() / max(1, frame.height()))
        painter.drawPixmap(QRectF(frame), pixmap, source)

    @staticmethod
    def _paint_inset(painter: QPainter, palette: QPalette, frame: QRect,
                     start: QPixmap) -> None:
        """The start image, small, in the frame's lower-left corner, with a light edge."""
        side = max(16, min(frame.width(), frame.height()) * 2 // 5)
        size = start.deviceIndependentSize().toSize().scaled(
            QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio)
        margin = max(3, side // 12)
        inset = QRect(frame.left() + margin, frame.bottom() - margin - size.height() + 1,
                      size.width(), size.height())
        painter.fillRect(inset.adjusted(-2, -2, 2, 2), QColor(255, 255, 255, 230))
        painter.drawPixmap(inset, start)
        edge = QColor(palette.color(QPalette.ColorRole.Shadow))
        edge.setAlphaF(0.5)
        painter.setPen(edge)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(inset.adjusted(-2, -2, 1, 1))

    @staticmethod
    def _paint_caption(painter: QPainter, option: QStyleOptionViewItem, m: _Metrics,
                       generation: Generation, frame: QRect) -> None:
        rect = option.rect
        line = QRect(rect.left() + m.padding, rect.top() + 2 * m.padding + m.picture.height(),
                     rect.width() - 2 * m.padding, m.line)
        finished = datetime.datetime.fromtimestamp(
            generation.finished_at or generation.updated_at)
        clock = option.locale.toString(QTime(finished.hour, finished.minute),
                                       option.locale.FormatType.ShortFormat)
        settings = generation.settings
        text = f"{clock} · {settings.aspect_ratio} · {settings.duration} s"
        metrics = option.fontMetrics
        if generation.favourite:
            star = "★"
            star_width = metrics.horizontalAdvance(star) + m.padding
            painter.setPen(favourite_colour(option.palette))
            painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             star)
            line.setRight(line.right() - star_width)
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(text, Qt.TextElideMode.ElideRight, line.width()))
