"""What the person is composing (prompt, start image, its frame, ratio, duration, seed), kept
in QSettings as they work, not only when the window closes.

The window saved it in its closeEvent: an app killed, a crash or a machine that lost power
came back with an empty prompt and no start image. Now each change is written a moment after
the last one (typing or dragging a frame writes once, when it pauses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings, QTimer

from runway_desktop.ui.compose_panel import ComposePanel

KEY = "compose/state"  # MainWindow.save_state's and restore_state's key
SAVE_AFTER_MS = 400  # after the last change: a pause in typing or dragging


class CompositionKeeper(QObject):
    """Follows the compose panel's changes; call it once the saved composition is restored
    (before that, a change would overwrite it with what the panel shows while it starts)."""

    def __init__(self, compose: ComposePanel, state: Callable[[], dict[str, Any]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._saved: dict[str, Any] | None = None
        self.timer = QTimer(self, singleShot=True, interval=SAVE_AFTER_MS)
        self.timer.timeout.connect(self.save)
        zone = compose.drop_zone
        for changed in (compose.prompt_edit.textChanged, zone.images_changed,
                        zone.canvas.editor.changed, compose.aspect_picker.changed,
                        compose.duration_picker.changed, compose.model_picker.currentIndexChanged,
                        compose.lock_button.toggled, compose.seed_edit.textChanged):
            changed.connect(self._changed)

    def _changed(self, *_args: object) -> None:
        self.timer.start()

    def save(self) -> None:
        self.timer.stop()
        state = self._state()
        if state == self._saved:
            return
        store = QSettings()
        store.setValue(KEY, state)
        store.sync()  # on disk now: a kill a moment later keeps it
        self._saved = state
