"""What the app shows fits a small screen (a 1366 × 768 laptop at 125 % has 1093 × 614 free).

Windows opened at a size of their own (Compare, Sequences, Keyboard Shortcuts) take what of it
the screen has room for: a fixed 1100 × 640 ran off it, the bottom buttons out of reach. The
compose panel's form scrolls (ShortScroll) rather than make the window taller than the screen,
where Generate was below its edge."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from runway_desktop.ui.startup_shell import FIRST_SIZE_MARGIN


def fitting_size(wanted: QSize, room: QSize, smallest: QSize) -> QSize:
    """`wanted`, made smaller where `room` (the screen's free area) has less, with a margin for
    the frame and title bar; never under `smallest` (what the window's contents need)."""
    free = QSize(room.width() - FIRST_SIZE_MARGIN.width(),
                 room.height() - FIRST_SIZE_MARGIN.height())
    return wanted.boundedTo(free).expandedTo(smallest)


def resize_to_fit(window: QWidget, wanted: QSize) -> None:
    """Resize `window` to `wanted`, or what of it its screen has room for."""
    screen = window.screen()
    if screen is None:
        window.resize(wanted)
        return
    window.resize(fitting_size(wanted, screen.availableGeometry().size(),
                               window.minimumSizeHint()))


class ShortScroll(QScrollArea):
    """Holds a form that scrolls only when its window is shorter than the form's minimum (a
    small screen): the window may then be made shorter than the form. The form gets the whole
    height otherwise, so its stretches work as in any layout (not QScrollArea's resizable
    mode: it sizes a form with wrapping labels to its preferred height, and scrolled where the
    form could simply shrink). Its minimum width counts the scrollbar, so the form is never cut
    at the side when the bar shows."""

    SHORTEST = 120  # px of the form still seen at the window's smallest

    def __init__(self, form: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.setWidget(form)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its form's fields take the keys
        self.viewport().setAutoFillBackground(False)
        form.setAutoFillBackground(False)
        form.installEventFilter(self)  # its minimum changes: fitted again

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.form and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
            self._fit()
        return super().eventFilter(watched, event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._fit()
        return super().viewportEvent(event)

    def _fit(self) -> None:
        room = self.viewport().size()
        self.form.resize(room.width(), max(room.height(), self.form.minimumSizeHint().height()))

    def measure_again(self) -> None:
        """Forget the form's measures. Its layouts kept those from when it was put in here,
        before the first show (in the scroll area's viewport, its fields' changes since then
        didn't reach them): the compose panel opened 20 px narrower."""
        pending = [self.form.layout()]
        while pending:
            layout = pending.pop()
            if layout is None:
                continue
            layout.invalidate()
            pending.extend(item.layout() for i in range(layout.count())
                           if (item := layout.itemAt(i)) is not None)
        self.updateGeometry()

    def minimumSizeHint(self) -> QSize:
        width = self.form.minimumSizeHint().width()
        return QSize(width + self.verticalScrollBar().sizeHint().width(), self.SHORTEST)

    def sizeHint(self) -> QSize:
        hint = self.form.sizeHint()
        return QSize(max(hint.width(), self.minimumSizeHint().width()), hint.height())
