"""The drop zone's picture: the start image scaled to fit with the video's frame over it (drag,
wheel and keys move it: ui/frame_editing.py), an image link's card, or the empty zone's hint."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from runway_desktop.ui.frame_editing import FrameEditor
from runway_desktop.ui.palette_colours import shade_color

# Under an empty zone. Not the formats' full list (engine.images has it; importing it means
# Pillow before the first paint), and not only three of them: HEIC, GIF, TIFF… are taken too.
EMPTY_HINT = "PNG, JPEG, WebP, HEIC and more · paste with Ctrl+V · or click to browse"


def _tr(text: str) -> str:
    return QCoreApplication.translate("DropZone", text)  # the drop zone's words


class CountBadge(QLabel):
    """A small rounded "+N more" pill in the theme's highlight colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = QFont(self.font())
        font.setBold(True)
        self.setFont(font)
        self.setContentsMargins(9, 2, 9, 2)
        self.setForegroundRole(QPalette.ColorRole.HighlightedText)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().color(QPalette.ColorRole.Highlight))
        radius = self.height() / 2
        painter.drawRoundedRect(QRectF(self.rect()), radius, radius)
        painter.end()
        super().paintEvent(event)


class ImageCanvas(QWidget):
    """Paints the preview scaled to fit, the aspect-ratio crop frame, or the empty hint."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.image_size = QSize()
        self.url_text = ""
        self.aspect_ratio = "16:9"
        self.drag_active = False
        self.setMinimumSize(220, 110)  # room enough for a 1024 × 640 window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.badge = CountBadge(self)
        self.badge.hide()
        # A message laid over the bottom edge (see DropZone.message_label): over the canvas,
        # not under it, so showing one never moves the image or the buttons below.
        self.footer: QLabel | None = None
        # The video's frame over the picture: drag to pan, wheel to zoom, double-click to reset.
        self.editor = FrameEditor(self)
        self.editor.changed.connect(self.update)

    def sizeHint(self) -> QSize:
        return QSize(360, 220)

    def has_content(self) -> bool:
        return self.image is not None or bool(self.url_text) or self.image_size.isValid()

    def image_rect(self) -> QRectF:
        """Where the image is drawn: scaled to fit, centred, inside a small margin."""
        area = QRectF(self.rect()).adjusted(10, 10, -10, -10)
        size = self.image_size if self.image_size.isValid() else QSize(16, 9)
        scale = min(area.width() / size.width(), area.height() / size.height())
        w, h = size.width() * scale, size.height() * scale
        return QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)

    def crop_rect(self) -> QRectF:
        """What the chosen aspect ratio keeps from the drawn image: the person's frame."""
        target = self.image_rect()
        frame = self.editor.frame()
        if frame is not None:
            return QRectF(target.left() + frame.left * target.width(),
                          target.top() + frame.top * target.height(),
                          frame.width * target.width(), frame.height * target.height())
        rw, rh = (float(part) for part in self.aspect_ratio.split(":"))
        ratio = rw / rh
        if target.width() / target.height() > ratio:
            w, h = target.height() * ratio, target.height()
        else:
            w, h = target.width(), target.width() / ratio
        return QRectF(target.center().x() - w / 2, target.center().y() - h / 2, w, h)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_badge()
        super().resizeEvent(event)

    def _place_badge(self) -> None:
        self.badge.adjustSize()
        self.badge.move(self.width() - self.badge.width() - 16, 16)
        self.place_footer()

    def place_footer(self) -> None:
        if self.footer is None:
            return
        width = max(1, self.width() - 16)
        height = min(self.footer.heightForWidth(width), self.height() - 16)
        self.footer.setGeometry(8, self.height() - height - 8, width, max(0, height))
        self.footer.raise_()

    def set_badge(self, text: str) -> None:
        self.badge.setText(text)
        self.badge.setVisible(bool(text))
        self._place_badge()
        self.badge.raise_()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.editor.frame() is not None:
            self.editor.press(event.position())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.editor.move(event.position(), self.image_rect())
            if self.editor.dragging():
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        dragged = self.editor.release()
        if self.editor.frame() is not None:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        if not dragged and event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.editor.reset()
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.editor.frame() is None:
            super().wheelEvent(event)
            return
        self.editor.wheel(event.angleDelta().y() / 120, event.position(), self.image_rect())
        event.accept()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        frame = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        border = QColor(palette.color(QPalette.ColorRole.Mid))
        pen = QPen(border, 1.2, Qt.PenStyle.DashLine)
        parent = self.parentWidget()
        if self.drag_active or (parent is not None and parent.hasFocus()):
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 2.0, Qt.PenStyle.DashLine)
        if self.has_content():
            pen.setStyle(Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        painter.drawRoundedRect(frame, 8, 8)
        if self.drag_active:
            wash = QColor(palette.color(QPalette.ColorRole.Highlight))
            wash.setAlphaF(0.10)
            painter.fillRect(frame.adjusted(2, 2, -2, -2), wash)
        if self.image is not None or self.image_size.isValid():
            self._paint_image(painter, palette)
        elif self.url_text:
            self._paint_url(painter, palette)
        else:
            self._paint_empty(painter, palette)
        painter.end()

    def _paint_image(self, painter: QPainter, palette: QPalette) -> None:
        target = self.image_rect()
        if self.image is not None:
            painter.drawImage(target, self.image)
        else:  # still decoding: a quiet placeholder of the right shape
            shade = QColor(palette.color(QPalette.ColorRole.Mid))
            shade.setAlphaF(0.25)
            painter.fillRect(target, shade)
        crop = self.crop_rect()
        # Dim what the chosen ratio cuts away.
        dim = shade_color(palette)
        dim.setAlphaF(0.6)
        outside = QPainterPath()
        outside.addRect(target)
        inner = QPainterPath()
        inner.addRect(crop)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dim)
        painter.drawPath(outside.subtracted(inner))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1.5))
        painter.drawRect(crop.adjusted(0.75, 0.75, -0.75, -0.75))
        # The ratio as a small tag in the frame's corner.
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        tag = QRectF(
            crop.left() + 4,
            crop.top() + 4,
            metrics.horizontalAdvance(self.aspect_ratio) + 10,
            metrics.height() + 2,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.drawRoundedRect(tag, 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, self.aspect_ratio)

    def _paint_url(self, painter: QPainter, palette: QPalette) -> None:
        area = QRectF(self.rect()).adjusted(20, 20, -20, -20)
        title_font = QFont(self.font())
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title_rect = QRectF(area.left(), area.center().y() - 24, area.width(), 22)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignCenter, _tr("Image link"))
        painter.setFont(self.font())
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        elided = painter.fontMetrics().elidedText(
            self.url_text, Qt.TextElideMode.ElideMiddle, int(area.width())
        )
        url_rect = QRectF(area.left(), area.center().y(), area.width(), 22)
        painter.drawText(url_rect, Qt.AlignmentFlag.AlignCenter, elided)

    def _paint_empty(self, painter: QPainter, palette: QPalette) -> None:
        """The glyph, the title and the hint, as one block centred in the frame. Where it
        is too low for all three (a 1024 × 640 window leaves ~110 px), the glyph goes first,
        then the hint's last lines: nothing is drawn over the frame."""
        area = QRectF(self.rect()).adjusted(16, 10, -16, -10)
        title_font = QFont(self.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.1)
        title_font.setBold(True)
        title_height = QFontMetricsF(title_font).height() + 4
        wrap = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        hint = _tr(EMPTY_HINT)
        metrics = QFontMetricsF(self.font())
        hint_height = metrics.boundingRect(QRectF(0, 0, area.width(), 10_000), int(wrap),
                                           hint).height()
        glyph_height, gap = 34.0, 8.0
        block = title_height + 2 + hint_height
        show_glyph = block + gap + glyph_height <= area.height()
        if show_glyph:
            block += gap + glyph_height
        top = area.top() + max(0.0, (area.height() - block) / 2)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        if show_glyph:
            self._paint_glyph(painter, QRectF(area.center().x() - 22, top, 44, glyph_height),
                              muted)
            top += glyph_height + gap
        painter.setFont(title_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title = QRectF(area.left(), top, area.width(), title_height)
        painter.drawText(title, Qt.AlignmentFlag.AlignCenter, _tr("Drop a start image here"))
        painter.setFont(self.font())
        painter.setPen(muted)
        # Whole lines only: as many as there is room for.
        room = area.bottom() - (title.bottom() + 2)
        lines = max(0, int(room // metrics.lineSpacing()))
        if lines:
            sub = QRectF(area.left(), title.bottom() + 2, area.width(),
                         min(hint_height, lines * metrics.lineSpacing()))
            painter.save()
            painter.setClipRect(sub)
            painter.drawText(sub, int(wrap), hint)
            painter.restore()

    @staticmethod
    def _paint_glyph(painter: QPainter, glyph: QRectF, colour: QColor) -> None:
        """A simple "picture" glyph drawn from palette colours."""
        painter.setPen(QPen(colour, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(glyph, 4, 4)
        painter.drawEllipse(QRectF(glyph.left() + 8, glyph.top() + 7, 7, 7))
        mountain = QPainterPath()
        mountain.moveTo(glyph.left() + 4, glyph.bottom() - 4)
        mountain.lineTo(glyph.left() + 17, glyph.top() + 16)
        mountain.lineTo(glyph.left() + 26, glyph.top() + 24)
        mountain.lineTo(glyph.left() + 31, glyph.top() + 19)
        mountain.lineTo(glyph.right() - 4, glyph.bottom() - 4)
        painter.drawPath(mountain)
