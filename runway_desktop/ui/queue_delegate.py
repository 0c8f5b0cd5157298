"""Paints one queue row: thumbnail, prompt, settings, status with progress and time, fixes.

Every row has the same height (derived from the font), so a view with uniform item sizes can
scroll 10,000 rows without measuring them. Colours come from the palette (light and dark).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QTextLayout,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from runway_desktop.engine.records import Generation
from runway_desktop.ui import queue_text
from runway_desktop.ui.queue_model import Roles
from runway_desktop.ui.rounded_pixmaps import RoundedPixmaps, frame_size, rounded_clip

_Index = QModelIndex | QPersistentModelIndex

BASE_ROW_HEIGHT = 84  # at a 16 px line (the usual 10 pt default); scales with the font
_BASE_LINE = 16
_STAR_POINTS = 5


def error_colour(palette: QPalette) -> QColor:
    """A red that reads on this palette's background: Qt has no "error" role."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(255, 128, 118) if dark else QColor(190, 30, 45)


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable(colour: QColor, background: QColor, minimum: float = 3.0) -> QColor:
    """`colour`, blended toward white or black until it reads on `background`."""
    target = QColor(255, 255, 255) if _luminance(background) < 0.25 else QColor(0, 0, 0)
    result = QColor(colour)
    for step in range(1, 11):
        if contrast_ratio(result, background) >= minimum:
            break
        t = step / 10
        result = QColor.fromRgbF(
            colour.redF() + (target.redF() - colour.redF()) * t,
            colour.greenF() + (target.greenF() - colour.greenF()) * t,
            colour.blueF() + (target.blueF() - colour.blueF()) * t,
        )
    return result


def link_colour(palette: QPalette) -> QColor:
    """The palette's link colour, lifted if a half-finished dark theme left it unreadable."""
    return readable(palette.color(QPalette.ColorRole.Link), palette.color(QPalette.ColorRole.Base))


def favourite_colour(palette: QPalette) -> QColor:
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(250, 200, 70) if dark else QColor(215, 150, 0)


def paint_star(painter: QPainter, rect: QRectF, colour: QColor) -> None:
    """A favourite's star, filling `rect` (drawn, not a "★" glyph: not every font has one)."""
    centre = rect.center()
    outer = min(rect.width(), rect.height()) * 0.45
    inner = outer * 0.45
    points = []
    for i in range(2 * _STAR_POINTS):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / _STAR_POINTS
        points.append(
            QPointF(centre.x() + radius * math.cos(angle), centre.y() + radius * math.sin(angle))
        )
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawPolygon(QPolygonF(points))


def paint_selection(painter: QPainter, opt: QStyleOptionViewItem, selected: bool) -> None:
    """A selected row: the accent, faint, with a solid accent edge on the left; the row under
    the mouse: fainter still; the row the keyboard is on (the list has the focus): a ring."""
    accent = QColor(opt.palette.color(QPalette.ColorRole.Accent))
    rect = QRectF(opt.rect).adjusted(2.5, 1.5, -2.5, -1.5)
    if not selected and opt.state & QStyle.StateFlag.State_MouseOver:
        hover = QColor(opt.palette.color(QPalette.ColorRole.Text))
        hover.setAlphaF(0.05)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(hover)
        painter.drawRoundedRect(rect, 6, 6)
    if selected:
        tint = QColor(accent)
        tint.setAlphaF(0.16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(tint)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setBrush(accent)
        edge = QRectF(rect.left(), rect.top() + 6, 3, max(0.0, rect.height() - 12))
        painter.drawRoundedRect(edge, 1.5, 1.5)
    if opt.state & QStyle.StateFlag.State_HasFocus:
        painter.setPen(QPen(accent, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 6, 6)


def aspect_of(ratio: str) -> float:
    """ "16:9" → 1.777…; anything unparsable → 16:9."""
    try:
        width, height = (float(part) for part in ratio.split(":"))
    except ValueError:
        return 16 / 9
    return width / height if width > 0 and height > 0 else 16 / 9


def fit_aspect(box: QRectF, aspect: float) -> QRectF:
    """The largest rectangle of `aspect` centred in `box`."""
    width, height = box.width(), box.width() / aspect
    if height > box.height():
        height, width = box.height(), box.height() * aspect
    return QRectF(
        box.x() + (box.width() - width) / 2, box.y() + (box.height() - height) / 2, width, height
    )


def meta_line(generation: Generation, metrics: QFontMetrics, width: int) -> str:
    """The row's settings line in `width`: without the seed when all of it doesn't fit, so
    the price isn't what is cut ("seed 3987754089 · 8 cre…" in a queue beside the stage)."""
    full = queue_text.meta_text(generation)
    if metrics.horizontalAdvance(full) <= width:
        return full
    return metrics.elidedText(queue_text.meta_text(generation, with_seed=False),
                              Qt.TextElideMode.ElideRight, width)


def elided_lines(text: str, font: QFont, width: int, max_lines: int) -> list[str]:
    """Wrap `text` to at most `max_lines`, eliding the last one."""
    text = " ".join(text.split())
    if not text or width <= 0:
        return []
    metrics = QFontMetrics(font)
    layout = QTextLayout(text, font)
    # The layout counts UTF-16 units: an emoji is two of them but one Python character, and
    # slicing `text` by the layout's numbers cut the line after an emoji mid-word ("golden ho").
    units = text.encode("utf-16-le")

    def piece(start: int, end: int | None = None) -> str:
        return units[2 * start : None if end is None else 2 * end].decode("utf-16-le")

    layout.beginLayout()
    lines: list[str] = []
    try:
        while len(lines) < max_lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            start, length = line.textStart(), line.textLength()
            if len(lines) == max_lines - 1:
                rest = piece(start)
                lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            else:
                lines.append(piece(start, start + length).rstrip())
    finally:
        layout.endLayout()
    return lines


@dataclass(frozen=True)
class _Metrics:
    padding: int
    gap: int
    line: int
    small_line: int
    row_height: int
    thumb: QSize
    bar_height: int


@dataclass(frozen=True)
class _RowLayout:
    thumb: QRect
    prompt: QRect
    star: QRect
    meta: QRect
    status: QRect


class QueueDelegate(QStyledItemDelegate):
    # The person clicked the fix shown on a failed row: (generation id, Action).
    action_requested = Signal(int, object)

    def __init__(
        self, parent: QObject | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock  # injectable: tests pin "now"
        self._metrics_cache: dict[str, _Metrics] = {}
        self._rounded = RoundedPixmaps()  # thumbnails and placeholders, rounded once

    # -- geometry ------------------------------------------------------------------------

    @staticmethod
    def small_font(font: QFont) -> QFont:
        small = QFont(font)
        if font.pointSizeF() > 0:
            small.setPointSizeF(font.pointSizeF() * 0.9)
        else:
            small.setPixelSize(max(8, round(font.pixelSize() * 0.9)))
        return small

    def metrics(self, font: QFont) -> _Metrics:
        key = font.key()
        cached = self._metrics_cache.get(key)
        if cached is not None:
            return cached
        line = QFontMetrics(font).lineSpacing()
        small_line = QFontMetrics(self.small_font(font)).lineSpacing()
        scale = line / _BASE_LINE
        padding = max(6, round(8 * scale))
        gap = max(2, round(3 * scale))
        content = 2 * line + small_line + line + 2 * gap
        row_height = max(round(BASE_ROW_HEIGHT * scale), content + 2 * padding)
        thumb_h = row_height - 2 * padding
        metrics = _Metrics(
            padding=padding,
            gap=gap,
            line=line,
            small_line=small_line,
            row_height=row_height,
            thumb=QSize(round(thumb_h * 16 / 9), thumb_h),
            bar_height=max(3, round(4 * scale)),
        )
        self._metrics_cache[key] = metrics
        return metrics

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        # Constant: never looks at the row, so uniform-size views never ask for data here.
        return QSize(320, self.metrics(option.font).row_height)

    def row_layout(self, rect: QRect, font: QFont) -> _RowLayout:
        m = self.metrics(font)
        thumb = QRect(
            rect.left() + m.padding, rect.top() + m.padding, m.thumb.width(), m.thumb.height()
        )
        left = thumb.right() + 1 + m.padding + m.gap
        right = rect.right() - m.padding
        width = max(0, right - left + 1)
        star_size = round(m.line * 1.4)  # a star one sees at a glance (and can aim at)
        top = rect.top() + (rect.height() - (2 * m.line + m.small_line + m.line + 2 * m.gap)) // 2
        prompt = QRect(left, top, max(0, width - star_size - m.gap), 2 * m.line)
        star = QRect(right - star_size + 1, top, star_size, star_size)
        meta = QRect(left, prompt.bottom() + 1 + m.gap, width, m.small_line)
        status = QRect(left, meta.bottom() + 1 + m.gap, width, m.line)
        return _RowLayout(thumb=thumb, prompt=prompt, star=star, meta=meta, status=status)

    # -- painting ------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        generation: Generation | None = index.data(Roles.GenerationRole)
        if generation is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        # The whole row is ours (no style panel: cheaper under a style sheet): the selection
        # is a soft tint with an accent edge, hover a fainter one; the text keeps its colours.
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        opt.state &= ~QStyle.StateFlag.State_Selected
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            layout = self.row_layout(opt.rect, opt.font)
            paint_selection(painter, opt, selected)
            self._paint_separator(painter, opt, selected)
            self._paint_thumbnail(
                painter, opt, layout.thumb, generation, index.data(Roles.ThumbnailRole),
                index.data(Roles.StartImageRole)
            )
            self._paint_text(painter, opt, layout, generation, False,
                             index.data(Roles.NoteRole) or "")
        finally:
            painter.restore()

    @staticmethod
    def _text_colour(opt: QStyleOptionViewItem, selected: bool) -> QColor:
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        return opt.palette.color(role)

    @staticmethod
    def _muted_colour(opt: QStyleOptionViewItem, selected: bool) -> QColor:
        if selected:
            colour = QColor(opt.palette.color(QPalette.ColorRole.HighlightedText))
            colour.setAlphaF(0.8)
            return colour
        return opt.palette.color(QPalette.ColorRole.PlaceholderText)

    def _paint_separator(
        self, painter: QPainter, opt: QStyleOptionViewItem, selected: bool
    ) -> None:
        if selected:
            return
        colour = QColor(opt.palette.color(QPalette.ColorRole.Text))
        colour.setAlphaF(0.08)
        painter.setPen(colour)
        y = opt.rect.bottom() + 0.5
        painter.drawLine(QPointF(opt.rect.left() + 8, y), QPointF(opt.rect.right() - 8, y))

    def _paint_thumbnail(
        self,
        painter: QPainter,
        opt: QStyleOptionViewItem,
        box: QRect,
        generation: Generation,
        pixmap: QPixmap | None,
        start_image: QPixmap | None = None,
    ) -> None:
        fitted = fit_aspect(QRectF(box), aspect_of(generation.settings.aspect_ratio))
        size = frame_size(fitted)  # whole pixels: the picture below is a 1:1 blit
        frame = QRectF(QPointF(round(fitted.x()), round(fitted.y())), size.toSizeF())
        radius = max(3.0, frame.height() / 16)
        ratio = painter.device().devicePixelRatioF()
        text = opt.palette.color(QPalette.ColorRole.Text)
        edge = QColor(text)
        edge.setAlphaF(0.12)
        if pixmap is not None and not pixmap.isNull():
            # Cover: crop the picture to the frame's shape rather than letterbox it.
            source = fit_aspect(QRectF(pixmap.rect()), frame.width() / frame.height())
            picture = self._rounded.picture(pixmap, source, size, radius, ratio, edge)
        else:

            def placeholder(into: QPainter, rect: QRectF) -> None:
                rounded_clip(into, rect, radius)
                self._paint_placeholder(into, opt, rect)

            picture = self._rounded.rendered(("placeholder", text.rgba()), size, ratio,
                                             placeholder, edge=edge, radius=radius)
        painter.drawPixmap(frame.topLeft(), picture)
        if start_image is not None and not start_image.isNull():
            self._paint_start_image(painter, opt, frame.toAlignedRect(), start_image)

    @staticmethod
    def _paint_start_image(
        painter: QPainter, opt: QStyleOptionViewItem, frame: QRect, start: QPixmap
    ) -> None:
        """The start image, small, in the lower-left corner of the video's frame."""
        side = max(12, min(frame.width(), frame.height()) * 9 // 20)
        size = start.deviceIndependentSize().toSize().scaled(
            QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio)
        margin = max(2, side // 10)
        inset = QRect(frame.left() + margin, frame.bottom() - margin - size.height() + 1,
                      size.width(), size.height())
        painter.fillRect(inset.adjusted(-1, -1, 1, 1), QColor(255, 255, 255))
        painter.drawPixmap(inset, start)
        painter.setPen(opt.palette.color(QPalette.ColorRole.Mid))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(inset).adjusted(-1.5, -1.5, 0.5, 0.5))

    @staticmethod
    def _paint_placeholder(painter: QPainter, opt: QStyleOptionViewItem, frame: QRectF) -> None:
        """A quiet "picture" shape in the item's frame: the same in light and dark."""
        text = opt.palette.color(QPalette.ColorRole.Text)
        fill = QColor(text)
        fill.setAlphaF(0.07)
        painter.fillRect(frame, fill)
        ink = QColor(text)
        ink.setAlphaF(0.22)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ink)
        size = min(frame.width(), frame.height())
        centre = frame.center()
        unit = size / 6
        sun = QPointF(centre.x() + unit * 0.9, centre.y() - unit * 0.8)
        painter.drawEllipse(sun, unit * 0.45, unit * 0.45)
        base_y = centre.y() + unit * 1.1
        mountains = QPolygonF(
            [
                QPointF(centre.x() - unit * 1.8, base_y),
                QPointF(centre.x() - unit * 0.6, centre.y() - unit * 0.6),
                QPointF(centre.x() + unit * 0.2, centre.y() + unit * 0.3),
                QPointF(centre.x() + unit * 0.7, centre.y() - unit * 0.1),
                QPointF(centre.x() + unit * 1.8, base_y),
            ]
        )
        painter.drawPolygon(mountains)

    def _paint_text(
        self,
        painter: QPainter,
        opt: QStyleOptionViewItem,
        layout: _RowLayout,
        generation: Generation,
        selected: bool,
        note: str = "",
    ) -> None:
        m = self.metrics(opt.font)
        text_colour = self._text_colour(opt, selected)
        muted = self._muted_colour(opt, selected)

        # Prompt: up to two lines.
        painter.setFont(opt.font)
        painter.setPen(text_colour)
        prompt = generation.settings.prompt or ""
        if not prompt.strip():
            painter.setPen(muted)
            prompt = self.tr("(no prompt)")
        for i, line in enumerate(elided_lines(prompt, opt.font, layout.prompt.width(), 2)):
            rect = QRect(
                layout.prompt.left(),
                layout.prompt.top() + i * m.line,
                layout.prompt.width(),
                m.line,
            )
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)

        if generation.favourite:
            paint_star(painter, QRectF(layout.star), favourite_colour(opt.palette))

        # Settings.
        small = self.small_font(opt.font)
        painter.setFont(small)
        painter.setPen(muted)
        meta = meta_line(generation, QFontMetrics(small), layout.meta.width())
        painter.drawText(
            layout.meta, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, meta
        )

        painter.setFont(opt.font)
        self._paint_status(painter, opt, layout.status, generation, selected, note)

    def _paint_status(
        self,
        painter: QPainter,
        opt: QStyleOptionViewItem,
        rect: QRect,
        generation: Generation,
        selected: bool,
        note: str = "",
    ) -> None:
        """`note`: the engine's remark (e.g. "taking unusually long"), shown after the stage in
        place of the progress bar."""
        m = self.metrics(opt.font)
        metrics = QFontMetrics(opt.font)
        align = Qt.AlignmentFlag.AlignVCenter
        stage = generation.stage
        text_colour = self._text_colour(opt, selected)
        muted = self._muted_colour(opt, selected)

        # Right end: the fix for a problem, otherwise the elapsed time.
        if stage.is_problem:
            right_text = queue_text.fix_text(generation)
            right_colour = text_colour if selected else link_colour(opt.palette)
        else:
            right_text = queue_text.elapsed_text(generation, self._clock())
            right_colour = muted
        right_width = metrics.horizontalAdvance(right_text) if right_text else 0
        if right_text:
            painter.setPen(right_colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | align, right_text)
        space = rect.width() - (right_width + 2 * m.padding if right_text else 0)

        label = queue_text.stage_text(generation)
        detail = ""
        if stage.is_problem:
            colour = text_colour if selected else error_colour(opt.palette)
            detail = f" · {generation.error}" if generation.error else ""
        elif stage.is_quiet:
            colour = muted
        else:
            colour = text_colour
        if note and not detail:
            detail = f" · {note}"
        if not detail and (finished := queue_text.finished_text(generation, self._clock())):
            detail = f" · {finished}"  # when it was made
        label_font = QFont(opt.font)
        if stage.is_running or stage.is_problem:
            label_font.setWeight(QFont.Weight.DemiBold)
        label_metrics = QFontMetrics(label_font)
        show_bar = stage.is_running and not detail
        bar_min = 6 * m.line if show_bar else 0
        label = label_metrics.elidedText(
            label, Qt.TextElideMode.ElideRight, max(0, space - bar_min)
        )
        label_width = label_metrics.horizontalAdvance(label)
        painter.setFont(label_font)
        painter.setPen(colour)
        painter.drawText(
            QRect(rect.left(), rect.top(), max(0, space), rect.height()),
            Qt.AlignmentFlag.AlignLeft | align,
            label,
        )
        painter.setFont(opt.font)
        if detail:
            # The message itself in the regular weight: only the stage word is emphasised.
            detail_space = max(0, space - label_width)
            detail = metrics.elidedText(detail, Qt.TextElideMode.ElideRight, detail_space)
            painter.drawText(
                QRect(rect.left() + label_width, rect.top(), detail_space, rect.height()),
                Qt.AlignmentFlag.AlignLeft | align,
                detail,
            )

        if show_bar:
            left = rect.left() + label_width + m.padding
            width = min(space - (left - rect.left()), 14 * m.line)
            if width > m.line:
                bar = QRectF(left, rect.center().y() - m.bar_height / 2 + 1, width, m.bar_height)
                percent = generation.progress if stage.shows_percent else 0
                self._paint_bar(painter, opt, bar, percent, selected)

    @staticmethod
    def _paint_bar(
        painter: QPainter, opt: QStyleOptionViewItem, bar: QRectF, percent: int, selected: bool
    ) -> None:
        radius = bar.height() / 2
        track = QColor(opt.palette.color(QPalette.ColorRole.Text))
        track.setAlphaF(0.12 if not selected else 0.25)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, radius, radius)
        fraction = max(0, min(100, percent)) / 100
        if fraction > 0:
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
            painter.setBrush(opt.palette.color(role))
            filled = QRectF(
                bar.left(), bar.top(), max(bar.height(), bar.width() * fraction), bar.height()
            )
            painter.drawRoundedRect(filled, radius, radius)

    # -- interaction ---------------------------------------------------------------------

    def action_rect(self, option: QStyleOptionViewItem, generation: Generation) -> QRect:
        """Where the fix ("Retry", "Open Settings"…) of a problem row is drawn; empty if none."""
        if not generation.stage.is_problem:
            return QRect()
        text = queue_text.fix_text(generation)
        if not text:
            return QRect()
        status = self.row_layout(option.rect, option.font).status
        width = QFontMetrics(option.font).horizontalAdvance(text)
        return QRect(status.right() - width + 1, status.top(), width, status.height())

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: _Index,
    ) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            generation: Generation | None = index.data(Roles.GenerationRole)
            if (
                generation is not None
                and event.button() == Qt.MouseButton.LeftButton
                and self.action_rect(option, generation).contains(event.position().toPoint())
            ):
                self.action_requested.emit(generation.id, generation.action)
                return True
        return super().editorEvent(event, model, option, index)
