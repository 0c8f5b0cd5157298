"""The window deletes the pictures pasted into it (and dropped videos' last frames) once nothing
can reach them any more (engine/pasted_pictures.py says what that means): a creator pasting
screenshots all day grew `work/pasted/` by megabytes each, for ever.

Only a window sweeps: it alone knows what it shows. When: a while after its engine starts (a
restart clears what the last session left), a moment after generations leave the history (a
removal once its Undo is over, Clear finished, a command's `remove`), and every hour (pastes
replaced before any Generate). The pictures it shows are held (`PastedHolds`) as they change, so
another window's sweep leaves them too. The sweep reads the histories and deletes off the GUI
thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer

if TYPE_CHECKING:
    from runway_desktop.engine.pasted_pictures import PastedHolds

log = logging.getLogger(__name__)

COMPOSITION_KEY = "compose/state"  # what the window restores at its next start (main_window)


class PastedSweeper(QObject):
    START_DELAY_MS = 30_000  # after the engine starts: the start itself comes first
    AFTER_REMOVAL_MS = 1_000  # after the last of a batch of removals
    EVERY_MS = 3_600_000

    def __init__(self, folder: Path, shown: Callable[[], list[str]],
                 parent: QObject | None = None) -> None:
        """`folder`: the data folder's work/pasted; `shown()`: what the window shows or may
        bring back (its composition, the one put aside by Extend, what Undo can restore)."""
        super().__init__(parent)
        self._folder = folder
        self._shown = shown
        # Made at the first change (SQLite isn't needed for the window's first paint); let go
        # of with the window (the list alone: by `destroyed` the sweeper's C++ half is gone).
        self._holds: list[PastedHolds] = []
        self._soon = QTimer(self, singleShot=True)
        self._soon.timeout.connect(self.sweep)
        self._hourly = QTimer(self, interval=self.EVERY_MS)
        self._hourly.timeout.connect(self.sweep)
        self._worker = worker = ThreadPoolExecutor(max_workers=1,
                                                   thread_name_prefix="pasted-sweep")
        holds = self._holds

        def let_go() -> None:
            worker.shutdown(wait=False)
            for each in holds:
                each.release()

        self.destroyed.connect(let_go)
        self._running: Future[list[Path]] | None = None
        self._started = False

    @property
    def holds(self) -> PastedHolds:
        if not self._holds:
            from runway_desktop.engine.pasted_pictures import PastedHolds

            self._holds.append(PastedHolds(self._folder))
        return self._holds[0]

    def hold_shown(self) -> None:
        """The window's pictures changed: hold what it shows now, let go of the rest."""
        self.holds.hold(self._shown())

    def engine_started(self) -> None:
        """An engine runs on this data folder's history: sweeps may begin."""
        self._started = True
        self._soon.start(self.START_DELAY_MS)
        self._hourly.start()

    def stop(self) -> None:
        """The window closes: no more sweeps, and what it showed is no longer held."""
        self._started = False
        self._soon.stop()
        self._hourly.stop()
        if self._holds:
            self._holds[0].release()

    def generations_removed(self) -> None:
        if self._started:
            self._soon.start(min(self.AFTER_REMOVAL_MS, self._soon.remainingTime())
                             if self._soon.isActive() else self.AFTER_REMOVAL_MS)

    def sweep(self) -> Future[list[Path]] | None:
        """Sweep now, off the GUI thread (None: one is under way, or no engine started yet)."""
        if not self._started or (self._running is not None and not self._running.done()):
            return None
        self.hold_shown()
        keep = self._shown()
        folder = self._folder

        def run() -> list[Path]:
            from runway_desktop.engine.pasted_pictures import forget_unused

            try:
                forgotten = forget_unused(folder, keep=[*keep, *_saved_composition()])
            except Exception as error:  # a bug here must not cost the window; said in the log
                log.warning("Couldn't sweep the pasted pictures: %r", error)
                return []
            if forgotten:
                log.info("Deleted %d pasted pictures nothing uses any more", len(forgotten))
            return forgotten

        self._running = self._worker.submit(run)
        return self._running


def _saved_composition() -> list[str]:
    """The start images of the composition kept in QSettings (the last window to write it):
    what a window restores at its next start."""
    store = QSettings()
    store.sync()  # another window's write since
    state = store.value(COMPOSITION_KEY)
    images = state.get("images") if isinstance(state, dict) else None
    if isinstance(images, str):  # QSettings gives a one-item list back as a string
        images = [images]
    return [str(i) for i in images] if isinstance(images, list) else []
