"""Progress at a painter's pace: a row whose percent alone moved is shown at most ~10 times a
second; anything else about it (its stage, a file, an error, the engine's note) at once.

With 200 jobs polled and 10 downloads streaming, the engine sends ~60 updates a second, most of
them a percent or a byte count; each one repainted its row in its own event-loop turn (~30 list
repaints a second, responsiveness benchmark). Held here for up to `INTERVAL_MS`, the updates of
one interval reach the model in one turn: one repaint, and only the latest of each row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from runway_desktop.engine.records import Generation

INTERVAL_MS = 100

Deliver = Callable[[Generation, str | None], None]


def only_progress_moved(before: Generation, after: Generation) -> bool:
    """True if `after` is `before` with another percent (and the time of that change)."""
    return before.progress != after.progress and dataclasses.replace(
        before, progress=after.progress, updated_at=after.updated_at) == after


class ProgressThrottle(QObject):
    """Passes (generation, note) updates to `deliver`; holds progress-only ones briefly."""

    def __init__(self, deliver: Deliver, parent: QObject | None = None,
                 interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._deliver = deliver
        self._shown: dict[int, tuple[Generation, str | None]] = {}  # last delivered, per id
        self._held: dict[int, tuple[Generation, str | None]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def offer(self, generation: Generation, note: str | None) -> None:
        shown = self._shown.get(generation.id)
        if (shown is not None and shown[1] == note
                and only_progress_moved(shown[0], generation)):
            self._held[generation.id] = (generation, note)
            if not self._timer.isActive():
                self._timer.start()
            return
        self._held.pop(generation.id, None)  # this one is newer than what was held
        self._pass(generation, note)

    def flush(self) -> None:
        """Deliver every held update now (oldest held first)."""
        self._timer.stop()
        held, self._held = self._held, {}
        for generation, note in held.values():
            self._pass(generation, note)

    def forget(self, generation_id: int) -> None:
        """The row is gone: nothing of it is delivered any more."""
        self._held.pop(generation_id, None)
        self._shown.pop(generation_id, None)

    def clear(self) -> None:
        """Another engine: what was held belongs to the one before."""
        self._timer.stop()
        self._held.clear()
        self._shown.clear()

    def holding(self) -> int:
        return len(self._held)

    def _pass(self, generation: Generation, note: str | None) -> None:
        self._shown[generation.id] = (generation, note)
        self._deliver(generation, note)
