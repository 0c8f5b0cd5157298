"""A non-modal banner across the top of the window: what happened, and one button to act on it.

Besides an engine `Action`, the button can carry an offer of the window's own (`show_offer`,
e.g. "Start a fresh history"); a message may count down to a moment (`until`, epoch seconds),
once a second, and then stops by itself.

Several things can be wrong at once (an import that failed, settings that couldn't be saved,
apiframe out of reach): each message has a `key` (what it is about), the newest shows, and the
others wait under it with their own button. `clear(key)`, when that condition is over, takes
one message away and the one under it shows again; the × sets aside the one shown. A message
shown again under the same key replaces the one it had.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from runway_desktop.engine.records import Action
from runway_desktop.ui.notice_close import close_button
from runway_desktop.ui.queue_text import action_text

GENERAL = ""  # a one-off message (what a command said); it stays until the next or the ×


@dataclass(frozen=True)
class _Message:
    key: str
    text: str
    action: Action | None = None
    offer: Callable[[], None] | None = None
    label: str = ""
    until: float | None = None
    lead: str = ""
    lead_done: str = ""


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
        self._messages: list[_Message] = []  # the last one is shown; the others wait under it
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
        self.more = QLabel(self)  # "1 more": what waits under this message
        self.more.setObjectName("banner_more")
        self.more.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # muted, not disabled
        self.more.setAccessibleDescription(self.tr("Notices waiting under this one"))
        self.more.hide()
        close = close_button(self, self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.more)
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
        key: str = GENERAL,
        until: float | None = None,
        lead: str = "",
        lead_done: str = "",
    ) -> None:
        """`until` (epoch seconds): put `lead` before `text`, its "{0}" the time left (m:ss),
        updated every second; `lead_done` replaces it when the time is up."""
        self._put(_Message(key, text, action, None, action_text(action), until, lead, lead_done))

    def show_offer(self, text: str, label: str, then: Callable[[], None], *,
                   key: str = GENERAL) -> None:
        """A message whose button runs `then` (an offer of the window's, not an engine action)."""
        self._put(_Message(key, text, None, then, label))

    def clear(self, key: str) -> None:
        """The condition `key` spoke of is over: its message goes; the one under it shows."""
        if any(m.key == key for m in self._messages):
            self._messages = [m for m in self._messages if m.key != key]
            self._show_top()

    def dismiss(self) -> None:
        """The ×: the message shown is set aside; the one under it, if any, shows."""
        if self._messages:
            self._messages.pop()
        self._show_top()

    def hide(self) -> None:
        """Every message goes (see `clear` for one)."""
        self._messages.clear()
        self.countdown.stop()
        super().hide()

    def shown_key(self) -> str | None:
        """The key of the message shown; None when the banner is hidden."""
        return self._messages[-1].key if self._messages and self.isVisible() else None

    def waiting(self) -> list[str]:
        """The texts under the one shown, the next to show first."""
        return [m.text for m in reversed(self._messages[:-1])]

    def _put(self, message: _Message) -> None:
        self._messages = [m for m in self._messages if m.key != message.key]
        self._messages.append(message)
        self._show_top()

    def _show_top(self) -> None:
        if not self._messages:
            self.countdown.stop()
            super().hide()
            return
        top = self._messages[-1]
        self._action, self._offer = top.action, top.offer
        self._set_button(top.label)
        under = len(self._messages) - 1
        self.more.setVisible(bool(under))
        if under:
            self.more.setText(self.tr("%n more", "", under))
            self.more.setToolTip(self.tr("Close this notice to see the next: {0}").format(
                self._messages[-2].text))
        self._show_text(top.text, top.until, top.lead, top.lead_done)

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

