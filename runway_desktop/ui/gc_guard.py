"""Run Python's cyclic garbage collector on the GUI thread only.

Left automatic, a collection runs in whichever thread happens to allocate (an httpx worker, the
demo simulator's server threads, `asyncio.to_thread` image work). If it frees a Qt object caught in
a reference cycle there, Qt destroys it on the wrong thread: "Timers cannot be stopped from another
thread", and sometimes a crash. So automatic collection is off and a timer collects here, with the
same generational thresholds Python would use.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


def freeze_long_lived() -> None:
    """Leave the objects alive now out of every later collection (`gc.freeze`): called once the
    history is loaded, whose ~10 objects a row live as long as the engine. With 10,000 rows a
    full collection walked them all on the GUI thread (~20 ms, the gallery's and the
    responsiveness benchmark's worst frames); frozen, it walks only what came after."""
    gc.freeze()


def thaw() -> None:
    """Before the engine goes: its history may become garbage, so collections see it again."""
    gc.unfreeze()
