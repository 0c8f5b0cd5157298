"""Small segmented pickers: the aspect-ratio strip (each button draws its own shape)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeyEvent, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QHBoxLayout,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from runway_desktop.api.catalog import RUNWAY_RATIOS

# Output frame of Runway Gen-4 Turbo for each ratio: shown in tooltips so people know what they get.
_OUTPUT_SIZE = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "1:1": (960, 960),
    "4:3": (1104, 832),
    "3:4": (832, 1104),
    "21:9": (1584, 672),
}


class ChoiceStrip(QWidget):
    """A row of exclusive checkable buttons behaving like a radio group.

    Tab enters the strip at the checked button only; arrow keys, Home and End move
    the selection, as in a native radio group.
    """

    changed = Signal(str)
    picked = Signal(str)  # the person chose (a click or a key), not the program

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._group.buttonClicked.connect(
            lambda button: self.picked.emit(str(button.property("choice_key")))
        )
        self._buttons: dict[str, QToolButton] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._group.buttonToggled.connect(self._on_toggled)

    # -- building ---------------------------------------------------------------------------
    def add_choice(self, key: str, text: str, tooltip: str, accessible_name: str) -> QToolButton:
        button = QToolButton(self)
        button.setCheckable(True)
        button.setAutoRaise(False)
        button.setText(text)
        button.setToolTip(tooltip)
        button.setAccessibleName(accessible_name)
        button.setProperty("choice_key", key)
        button.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # Share the row evenly, like a segmented control.
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        button.installEventFilter(self)
        self._group.addButton(button)
        self._layout.addWidget(button)
        self._buttons[key] = button
        if len(self._buttons) == 1:
            button.setChecked(True)
        return button

    def buttons(self) -> list[QToolButton]:
        return list(self._buttons.values())

    def button(self, key: str) -> QToolButton:
        return self._buttons[key]

    def keys(self) -> list[str]:
        return list(self._buttons)

    # -- value ------------------------------------------------------------------------------
    def value(self) -> str:
        checked = self._group.checkedButton()
        return str(checked.property("choice_key")) if checked is not None else ""

    def set_value(self, key: str) -> None:
        """Select ``key``; unknown keys, and those not offered now (hidden), are ignored (e.g.
        from an old saved state)."""
        button = self._buttons.get(key)
        if button is not None and not button.isHidden() and not button.isChecked():
            button.setChecked(True)

    def set_available(self, keys: Sequence[str], fallback: str | None = None) -> None:
        """Show only the choices in `keys` (what the chosen model offers). A selection that is
        no longer offered moves to `fallback`, or to the first choice shown."""
        for key, button in self._buttons.items():
            button.setVisible(key in keys)
        if self.value() not in keys:
            shown = [k for k in self._buttons if k in keys]
            target = fallback if fallback in shown else (shown[0] if shown else None)
            if target is not None:
                self._buttons[target].setChecked(True)

    def available(self) -> list[str]:
        return [key for key, button in self._buttons.items() if not button.isHidden()]

    def focus_target(self) -> QWidget:
        """The widget Tab should land on (the checked button)."""
        return self._group.checkedButton() or self

    # -- behaviour --------------------------------------------------------------------------
    def _on_toggled(self, button: QAbstractButton, checked: bool) -> None:
        # Only the selected button is a Tab stop, like a radio group.
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus if checked else Qt.FocusPolicy.ClickFocus)
        # Bold marks the chosen segment more clearly than the style's sunken look alone.
        font = QFont(button.font())
        font.setBold(checked)
        button.setFont(font)
        if checked:
            self.setFocusProxy(button)  # a label's buddy / setFocus() lands on the choice
            self.changed.emit(str(button.property("choice_key")))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QToolButton):
            assert isinstance(event, QKeyEvent)
            if self._move_selection(watched, event.key()):
                return True
        return super().eventFilter(watched, event)

    def _move_selection(self, current: QToolButton, key: int) -> bool:
        order = [b for b in self.buttons() if not b.isHidden()]  # what the model offers
        if not order or current not in order:
            return False
        index = order.index(current)
        forward = Qt.Key.Key_Right, Qt.Key.Key_Down
        backward = Qt.Key.Key_Left, Qt.Key.Key_Up
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft:
            forward, backward = (
                (Qt.Key.Key_Left, Qt.Key.Key_Down),
                (Qt.Key.Key_Right, Qt.Key.Key_Up),
            )
        if key in forward:
            index = min(index + 1, len(order) - 1)
        elif key in backward:
            index = max(index - 1, 0)
        elif key == Qt.Key.Key_Home:
            index = 0
        elif key == Qt.Key.Key_End:
            index = len(order) - 1
        else:
            return False
        target = order[index]
        target.setChecked(True)
        target.setFocus(Qt.FocusReason.TabFocusReason)
        self.picked.emit(str(target.property("choice_key")))
        return True


def ratio_icon(ratio: str, palette: QPalette, *, dpr: float = 1.0, box: int = 18) -> QIcon:
    """An icon showing the shape of ``ratio`` inside a ``box``-pixel square, in palette colours."""
    w, h = (float(part) for part in ratio.split(":"))
    scale = (box - 2) / max(w, h)
    rect_w, rect_h = max(3.0, w * scale), max(3.0, h * scale)
    icon = QIcon()
    for state, fill_role in (
        (QIcon.State.Off, QPalette.ColorRole.ButtonText),
        (QIcon.State.On, QPalette.ColorRole.Highlight),
    ):
        for mode, group in (
            (QIcon.Mode.Normal, QPalette.ColorGroup.Active),
            (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled),
        ):
            pixmap = QPixmap(round(box * dpr), round(box * dpr))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            outline = palette.color(group, QPalette.ColorRole.ButtonText)
            fill = QColor(palette.color(group, fill_role))
            fill.setAlphaF(0.85 if state == QIcon.State.On else 0.18)
            painter.setPen(QPen(outline, 1.2))
            painter.setBrush(fill)
            painter.drawRoundedRect(
                QRectF((box - rect_w) / 2, (box - rect_h) / 2, rect_w, rect_h), 1.5, 1.5
            )
            painter.end()
            icon.addPixmap(pixmap, mode, state)
    return icon


class AspectRatioPicker(ChoiceStrip):
    """The six Gen-4 Turbo aspect ratios; each button shows a tiny rectangle of its shape."""

    def __init__(self, parent: QWidget | None = None, ratios: Sequence[str] = RUNWAY_RATIOS):
        super().__init__(parent)
        self.setAccessibleName(self.tr("Aspect ratio"))
        self.setToolTip(self.tr("The shape of the video"))
        for ratio in ratios:
            self.add_ratio(ratio)

    def add_ratio(self, ratio: str) -> QToolButton:
        width, height = _OUTPUT_SIZE.get(ratio, (0, 0))
        shape = self._shape_name(ratio)
        tooltip = (
            self.tr("{ratio} · {shape} · {w} × {h} video").format(
                ratio=ratio, shape=shape, w=width, h=height
            )
            if width
            else ratio
        )
        button = self.add_choice(
            ratio, ratio, tooltip, self.tr("Aspect ratio {ratio}").format(ratio=ratio)
        )
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        button.setIconSize(QSize(18, 18))
        button.setIcon(ratio_icon(ratio, self.palette(), dpr=self.devicePixelRatioF()))
        return button

    def _shape_name(self, ratio: str) -> str:
        w, h = (int(part) for part in ratio.split(":"))
        if w == h:
            return self.tr("square")
        if w / h > 2.0:
            return self.tr("cinematic widescreen")
        return self.tr("landscape") if w > h else self.tr("portrait")

    def _refresh_icons(self) -> None:
        dpr = self.devicePixelRatioF()
        for key, button in self._buttons.items():
            button.setIcon(ratio_icon(key, self.palette(), dpr=dpr))

    def changeEvent(self, event: QEvent) -> None:
        # Icons are painted from the palette: repaint them when the theme changes.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._refresh_icons()
        super().changeEvent(event)
