"""The window's state (what the person is composing: prompt, start image, its frame, ratio,
duration, seed; and the window's size and its panes) kept in QSettings as they work, not only
when the window closes.

The window saved it in its closeEvent: an app killed, a crash or a machine that lost power
came back with an empty prompt, no start image, and the window at its first size. Now each
change is written a moment after the last one (typing, dragging a frame or a window edge
writes once, when it pauses).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QSplitter

from runway_desktop.ui.compose_panel import ComposePanel

SAVE_AFTER_MS = 400  # after the last change: a pause in typing or dragging


class StateKeeper(QObject):
    """Follows the compose panel's changes, the window's size and place and its splitters, and
    calls `save` (MainWindow.save_state) once they pause. Make it once the saved state is
    restored: before that, a change would overwrite it with what shows while the app starts."""

    def __init__(self, compose: ComposePanel, window: QObject, save: Callable[[], None],
                 splitters: list[QSplitter]) -> None:
        super().__init__(window)
        self._save = save
        self.timer = QTimer(self, singleShot=True, interval=SAVE_AFTER_MS)
        self.timer.timeout.connect(self.save)
        zone = compose.drop_zone
        changes = [compose.prompt_edit.textChanged, zone.images_changed,
                   zone.canvas.editor.changed, compose.aspect_picker.changed,
                   compose.duration_picker.changed, compose.model_picker.currentIndexChanged,
                   compose.lock_button.toggled, compose.seed_edit.textChanged]
        changes += [splitter.splitterMoved for splitter in splitters]
        for changed in changes:
            changed.connect(self._changed)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move,
                            QEvent.Type.WindowStateChange):
            self.timer.start()
        return False

    def _changed(self, *_args: object) -> None:
        self.timer.start()

    def save(self) -> None:
        self.timer.stop()
        self._save()
        QSettings().sync()  # on disk now: a kill a moment later keeps it
