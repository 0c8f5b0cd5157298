"""The window's outline, painted before the window exists (a staged start).

Importing and building the real window (compose panel, preview, queue, gallery: ~50 modules,
the Qt enums they use, the style sheet) takes ~200 ms; a bare PySide6 window paints in ~100.
So `app.py` shows this outline first — the window's frame at the saved size and place, the
theme's colours, the panels where they will be, no text (the first text costs the font setup)
— then builds the real window and swaps it in once that has painted. Only QtCore, QtGui and
QtWidgets are imported here: nothing else of the app.

The startup benchmark times both: the outline's first paint (`--quit-after-first-paint`) and
the real window painted (`--quit-after-paint`, "ready").
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QEventLoop,
    QRect,
    QSettings,
    QSize,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QSplashScreen, QWidget

if TYPE_CHECKING:
    from PySide6.QtGui import QGuiApplication, QMouseEvent, QResizeEvent

# theme.Colours' fields the outline uses, light and dark (tests/ui/test_startup_shell.py checks
# they are the theme's: theme.py itself costs ~20 ms to import, the outline can't wait for it).
SHELL_COLOURS = {
    "light": {"window": "#f5f5f7", "chrome": "#ebebef", "base": "#ffffff", "border": "#d3d5dc"},
    "dark": {"window": "#1b1c20", "chrome": "#151619", "base": "#131417", "border": "#3a3d46"},
}
SCHEME_ENV = "RUNWAY_DESKTOP_COLOR_SCHEME"  # theme.SCHEME_ENV (same check)
GEOMETRY_KEY = "window/geometry"  # MainWindow.save_state's key: the outline opens where it will
PAINT_WAIT_MS = 2000  # bounded: without a screen to paint on, carry on anyway
HAND_OVER_LATEST_MS = 10_000  # the outline goes by then even if the window hasn't painted
# A window narrower than this has its lists under the stage, not beside it (what
# stage.StudioLayout decides at the compose panel's own width; tests/ui/test_startup_shell.py
# checks they agree at common sizes).
SIDE_BY_SIDE_WINDOW_PX = 1390
DEFAULT_SIZE = (1400, 800)  # the first start's size (MainWindow's too), where the screen has room
FIRST_SIZE_MARGIN = QSize(16, 48)  # left free around it: the frame and title bar


def first_size(room: QSize) -> QSize:
    """The size a window opens at the first time, on a screen with `room` free: DEFAULT_SIZE,
    shrunk to fit with a margin for the title bar (on a 1366 × 768 laptop the status bar, its
    balance and the lists' buttons were off the screen)."""
    return QSize(min(DEFAULT_SIZE[0], room.width() - FIRST_SIZE_MARGIN.width()),
                 min(DEFAULT_SIZE[1], room.height() - FIRST_SIZE_MARGIN.height()))


def shell_scheme(app: QGuiApplication) -> str:
    """"light" or "dark", as theme.install will choose: the env's choice, else the system's.
    The system's is read off its palette (0.5 ms): the first `styleHints().colorScheme()`
    costs 15-30 ms (it returns a `Qt` enum; PySide6 builds those on first use)."""
    forced = os.environ.get(SCHEME_ENV, "").strip().lower()
    if forced in SHELL_COLOURS:
        return forced
    return "dark" if app.palette().window().color().lightness() < 128 else "light"


class StartupShell(QSplashScreen):
    """A splash screen in the window's shape: the layout's frame (menu bar, compose panel,
    stage, side list, status bar). `painted` fires once, after its first paint.

    A splash window (no taskbar entry, no title bar) rather than a second main window: the
    real window replaces it, and nothing (a person's taskbar, a test looking for the window
    called "Runway Desktop") ever sees two of them. A QSplashScreen for its window flags, set in
    C++: naming `Qt.WindowType` here would build PySide6's `Qt` enums first (~13 ms)."""

    painted = Signal()

    def __init__(self, title: str, scheme: str = "light") -> None:
        self._painted = False  # before super().__init__: event() reads it from then on
        self._handed_over = False
        super().__init__()
        self.setObjectName("startup_shell")
        self.setWindowTitle(title)
        colours = SHELL_COLOURS[scheme]
        _fill(self, colours["window"])
        # Each part a plain widget filling its background from its palette: Qt paints them
        # in C++. (From Python, QPainter.fillRect, QPen and QBrush resolve their overloads
        # against `Qt` enums: the ~13 ms again.)
        self._parts: list[tuple[QWidget, QWidget | None]] = []
        for _rect, colour in self.panels():
            if colour == "base":  # a panel: a 1 px border around its base
                frame = _fill(QWidget(self), colours["border"])
                self._parts.append((frame, _fill(QWidget(frame), colours[colour])))
            else:
                self._parts.append((_fill(QWidget(self), colours[colour]), None))
        screen = self.screen()
        self.resize(first_size(screen.availableGeometry().size()) if screen
                    else QSize(*DEFAULT_SIZE))
        saved = QSettings().value(GEOMETRY_KEY)
        if isinstance(saved, QByteArray):
            self.restoreGeometry(saved)
        self._place()

    @property
    def has_painted(self) -> bool:
        return self._painted

    def panels(self) -> list[tuple[QRect, str]]:
        """(rectangle, colour name) of each part of the outline, for this size."""
        w, h = self.width(), self.height()
        menu, status, margin = 26, 28, 8
        body = QRect(margin, menu + margin, w - 2 * margin, h - menu - status - 2 * margin)
        compose_w = min(380, body.width() // 4)
        side_w = min(420, body.width() // 3)
        gap = 6
        compose = QRect(body.left(), body.top(), compose_w, body.height())
        right = QRect(compose.right() + 1 + gap, body.top(),
                      body.right() - compose.right() - gap, body.height())
        if w < SIDE_BY_SIDE_WINDOW_PX:  # the lists under the stage (stage.STAGE_SHARE_ABOVE_LISTS)
            stage = QRect(right.left(), right.top(), right.width(), right.height() * 60 // 100)
            side = QRect(right.left(), stage.bottom() + 1 + gap, right.width(),
                         right.bottom() - stage.bottom() - gap)
        else:
            side = QRect(body.right() - side_w + 1, body.top(), side_w, body.height())
            stage = QRect(compose.right() + 1 + gap, body.top(),
                          side.left() - compose.right() - 1 - 2 * gap, body.height())
        return [
            (QRect(0, 0, w, menu), "window"),
            (compose, "base"),
            (stage, "chrome"),
            (side, "base"),
            (QRect(0, h - status, w, status), "chrome"),
        ]

    def _place(self) -> None:
        for (rect, _colour), (part, inner) in zip(self.panels(), self._parts, strict=True):
            part.setGeometry(rect)
            if inner is not None:
                inner.setGeometry(1, 1, rect.width() - 2, rect.height() - 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if getattr(self, "_parts", None):
            self._place()

    def event(self, event: QEvent) -> bool:
        # QWidget's handling, not QSplashScreen's: on Show that waits, processing events, up
        # to a second for the window to be exposed (all of it offscreen); it paints a pixmap
        # and a message, neither of which the outline has.
        handled = QWidget.event(self, event)
        if not self._painted and event.type() == QEvent.Type.Paint:
            self._painted = True
            QTimer.singleShot(0, self.painted.emit)  # after the paint reached the screen
        return handled

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.ignore()  # QSplashScreen hides on a click; the outline stays until replaced

    def show_and_wait_painted(self) -> bool:
        """Show the outline and run Qt's events until it has painted (at most PAINT_WAIT_MS);
        True if it did."""
        self.show()
        if not self._painted:
            loop = QEventLoop()
            guard = QTimer(loop)
            guard.setSingleShot(True)
            guard.timeout.connect(loop.quit)
            guard.start(PAINT_WAIT_MS)
            self.painted.connect(loop.quit)
            loop.exec()
            guard.stop()
            self.painted.disconnect(loop.quit)
        return self._painted

    def hand_over_when(self, window_painted: SignalInstance,
                       latest_ms: int = HAND_OVER_LATEST_MS) -> None:
        """Go once the real window has painted, or after `latest_ms` whatever happens (a
        window started minimized, or on another desktop, paints only when it is seen: the
        outline must not stay on screen meanwhile)."""
        window_painted.connect(self.hand_over)
        fallback = QTimer(self)  # dies with the outline
        fallback.setSingleShot(True)
        fallback.timeout.connect(self.hand_over)
        fallback.start(latest_ms)

    def hand_over(self) -> None:
        """Go (deleted on the next event-loop turn); once."""
        if self._handed_over:
            return
        self._handed_over = True
        self.hide()
        self.deleteLater()


def _fill(widget: QWidget, colour: str) -> QWidget:
    """`widget`, filling its background with `colour` (painted by Qt itself)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(colour))
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)
    return widget
