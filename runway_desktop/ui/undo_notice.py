"""A non-modal notice laid over the bottom of a panel: what was just done, and Undo.

It floats (it is not in a layout), so showing it never moves a control. It goes away by itself
after a while, when closed, or when another notice replaces it; `expired` then says the undo
chance is over.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from runway_desktop.ui.notice_close import close_button

UNDO_SECONDS = 10


class UndoNotice(QFrame):
    undo_requested = Signal()
    expired = Signal()  # timed out, closed, or replaced: the change is final
    undoable_changed = Signal(bool)  # for the Edit ▸ Undo action

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("undoNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setAccessibleName(self.tr("Notice"))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.undo_button = QPushButton(self.tr("Undo"), self)
        self.undo_button.setAccessibleName(self.tr("Undo"))
        self.undo_button.setToolTip(self.tr("Put it back (Ctrl+Z)"))
        self.undo_button.clicked.connect(self._on_undo)
        close = close_button(self, self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._undoable = False
        # Where the keys were before they came into the notice (Tab to Undo): they go back
        # there when it goes, not to whatever follows it in the window's chain.
        self._came_from: QWidget | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)
        self._tint()
        host.installEventFilter(self)
        self.hide()

    # -- public API -----------------------------------------------------------------------------

    def show_undoable(self, text: str, seconds: int = UNDO_SECONDS) -> None:
        """Show `text` with Undo; a notice still showing is finished first (`expired`)."""
        self.dismiss()
        self._undoable = True
        self._show(text, seconds, undo=True)
        self.undoable_changed.emit(True)

    def show_info(self, text: str, seconds: int = UNDO_SECONDS) -> None:
        """A message without Undo (e.g. the outcome of an Undo)."""
        self.dismiss()
        self._show(text, seconds, undo=False)

    def is_undoable(self) -> bool:
        return self._undoable and self.isVisible()

    def dismiss(self) -> None:
        self._timer.stop()
        self._hide()
        if self._undoable:
            self._undoable = False
            self.undoable_changed.emit(False)
            self.expired.emit()

    # -- internals ------------------------------------------------------------------------------

    def _show(self, text: str, seconds: int, *, undo: bool) -> None:
        self.message.setText(text)
        self.undo_button.setVisible(undo)
        self._timer.start(seconds * 1000)
        self.show()
        self._place()
        self.raise_()

    def undo(self) -> None:
        """What the Undo button does (also Edit ▸ Undo)."""
        self._on_undo()

    def _on_undo(self) -> None:
        if not self._undoable:
            return
        self._undoable = False
        self._timer.stop()
        self._hide()
        self.undoable_changed.emit(False)
        self.undo_requested.emit()

    def _hide(self) -> None:
        focus = QApplication.focusWidget()
        back = self._came_from
        if focus is not None and self.isAncestorOf(focus) and back is not None \
                and shiboken6.isValid(back) and back.isVisible() and back.isEnabled():
            back.setFocus(Qt.FocusReason.OtherFocusReason)  # before hiding: Qt moves it on
        self.hide()

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if not shiboken6.isValid(self):
            return
        if new is not None and self.isAncestorOf(new) and (
                old is None or not self.isAncestorOf(old)):
            self._came_from = old

    def _place(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        width = max(120, min(640, host.width() - 24))
        height = self.heightForWidth(width) if self.hasHeightForWidth() else 0
        height = max(height, self.sizeHint().height())
        self.setGeometry((host.width() - width) // 2, host.height() - height - 16, width, height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._place()
        return super().eventFilter(watched, event)

    def _tint(self) -> None:
        # The tool-tip colours: a floating note that stands out in light and dark themes alike.
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.ToolTipBase))
        palette.setColor(
            QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.ToolTipText)
        )
        self.setPalette(palette)
