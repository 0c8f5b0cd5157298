"""A non-modal banner across the top of the window: what happened, and one button to act on it.

Besides an engine `Action`, the button can carry an offer of the window's own (`show_offer`,
e.g. "Start a fresh history"); a message may count down to a moment (`until`, epoch seconds),
once a second, and then stops by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from runway_desktop.engine.records import Action
from runway_desktop.ui.notice_close import close_button
from runway_desktop.ui.queue_text import action_text


class Banner(QFrame):
    action_requested = Signal(object)  # the Action of the shown message

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._action: Action | None = None
        self._offer: Callable[[], None] | None = None
        self._text = ""
        self._until: float | None = None
        self._lead = ""  # "{0}" becomes the time left, e.g. "retrying in 4:32"
        self._lead_done = ""  # shown in its place once the time is up
        self.clock: Callable[[], float] = time.time
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        # A label's purpose goes in its description: an accessible name would be read in
        # place of its words.
        self.message.setAccessibleDescription(self.tr("Notice"))
        self.button = QPushButton(self)
        self.button.clicked.connect(self._on_button)
        close = close_button(self, self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.button)
        layout.addWidget(close)
        self._tint()
        self.hide()

    def _tint(self) -> None:
        # A warm tint derived from the palette, so it reads in light and dark themes alike.
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Window)
        warm = base.lighter(108) if base.lightness() < 128 else base.darker(104)
        warm.setRed(min(255, warm.red() + 40))
        warm.setGreen(min(255, warm.green() + 20))
        palette.setColor(QPalette.ColorRole.Window, warm)
        self.setPalette(palette)

    def show_message(
        self,
        text: str,
        action: Action | None = None,
        *,
        until: float | None = None,
        lead: str = "",
        lead_done: str = "",
    ) -> None:
        """`until` (epoch seconds): put `lead` before `text`, its "{0}" the time left (m:ss),
        updated every second; `lead_done` replaces it when the time is up."""
        self._action = action
        self._offer = None
        self._set_button(action_text(action))
        self._show_text(text, until, lead, lead_done)

    def show_offer(self, text: str, label: str, then: Callable[[], None]) -> None:
        """A message whose button runs `then` (an offer of the window's, not an engine action)."""
        self._action = None
        self._offer = then
        self._set_button(label)
        self._show_text(text, None, "", "")

    def hide(self) -> None:
        self.countdown.stop()
        super().hide()

    def _on_button(self) -> None:
        if self._offer is not None:
            self._offer()
        else:
            self.action_requested.emit(self._action)

    def _set_button(self, label: str) -> None:
        self.button.setVisible(bool(label))
        if label:
            self.button.setText(label)
            self.button.setAccessibleName(label)
            self.button.setToolTip(label)

    def _show_text(self, text: str, until: float | None, lead: str, lead_done: str) -> None:
        self._text, self._until, self._lead, self._lead_done = text, until, lead, lead_done
        self.countdown.stop()
        self._tick()
        if self._until is not None and self._until > self.clock():
            self.countdown.start()
        self.show()

    def _tick(self) -> None:
        if self._until is None:
            self.message.setText(self._text)
            return
        left = self._until - self.clock()
        if left <= 0:
            self.countdown.stop()
            lead = self._lead_done
        else:
            minutes, seconds = divmod(int(left + 0.999), 60)  # 0.2 s left reads "0:01"
            lead = self._lead.format(f"{minutes}:{seconds:02d}")
        self.message.setText(f"{lead} {self._text}" if lead else self._text)

    def current_action(self) -> Action | None:
        return self._action if self.isVisible() else None

