"""The window's state (what the person is composing: prompt, start image, its frame, ratio,
duration, seed; the window's size, its panes and the list shown) kept in QSettings as they
work, not only when the window closes.

The window saved it in its closeEvent: an app killed, a crash or a machine that lost power
came back with an empty prompt, no start image, and the window at its first size. Now each
change is written a moment after the last one (typing, dragging a frame or a window edge
writes once, when it pauses).

The values are read on the GUI thread and written in a worker thread: writing QSettings to
disk syncs the file twice (fdatasync), ~2 ms on a quiet disk and far more while a video is
being written; the person's typing mustn't wait for it. QSettings may be used from several
threads at once, even on the same file (Qt's documentation: it is reentrant).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, SignalInstance

from runway_desktop.ui.compose_panel import ComposePanel

SAVE_AFTER_MS = 400  # after the last change: a pause in typing or dragging


def write_settings(values: Mapping[str, Any]) -> None:
    """Write `values` to QSettings and to the disk (a kill a moment later keeps them)."""
    store = QSettings()
    for key, value in values.items():
        store.setValue(key, value)
    store.sync()


class StateKeeper(QObject):
    """Follows the compose panel's changes, the window's size and place, and `changes` (its
    splitters, the list shown), and writes `values()` (MainWindow.state_values) once they pause.
    Make it once the saved state is restored: before that, a change would overwrite it with
    what shows while the app starts."""

    def __init__(self, compose: ComposePanel, window: QObject,
                 values: Callable[[], dict[str, Any]], changes: list[SignalInstance]) -> None:
        super().__init__(window)
        self._values = values
        self._written: dict[str, Any] | None = None
        self._writing: Future[None] | None = None
        # One worker: writes land in the order they were made, the last one wins.
        self._writer = writer = ThreadPoolExecutor(max_workers=1,
                                                   thread_name_prefix="settings-writer")
        # The writer alone, not `self`: by `destroyed` the keeper's C++ half is gone.
        self.destroyed.connect(lambda: writer.shutdown(wait=True))
        self.timer = QTimer(self, singleShot=True, interval=SAVE_AFTER_MS)
        self.timer.timeout.connect(self.save)
        zone = compose.drop_zone
        for changed in [compose.prompt_edit.textChanged, zone.images_changed,
                        zone.canvas.editor.changed, compose.aspect_picker.changed,
                        compose.duration_picker.changed, compose.model_picker.currentIndexChanged,
                        compose.lock_button.toggled, compose.seed_edit.textChanged, *changes]:
            changed.connect(self._changed)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.WindowStateChange):
            self.timer.start()
        elif kind == QEvent.Type.Close:
            # The window writes its state itself as it closes: a write of older values still
            # under way mustn't land after it.
            self.timer.stop()
            self.wait_written()
        return False

    def _changed(self, *_args: object) -> None:
        self.timer.start()

    def save(self) -> None:
        self.timer.stop()
        values = self._values()
        if values == self._written:
            return
        self._written = values
        self._writing = self._writer.submit(write_settings, values)

    def idle(self) -> bool:
        """Nothing waits to be written: what the window shows is on disk."""
        return not self.timer.isActive() and (self._writing is None or self._writing.done())

    def wait_written(self) -> None:
        if self._writing is not None:
            self._writing.result()
