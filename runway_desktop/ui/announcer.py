"""Desktop notifications for what happened while the window was in the background, gathered.

A batch finishing together was one "Video ready" per video, popups in a row; and work that
stopped for the person (no credits, a refused key) said nothing while they were elsewhere.
What arrives within a moment of the last item is one notification: "4 videos ready",
"3 generations need you", "2 videos ready · 1 failed".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QSystemTrayIcon

from runway_desktop.engine.records import Generation, Stage

QUIET_MS = 1_500  # shown once nothing more arrived for this long…
LONGEST_MS = 6_000  # …or this long after the first, whichever comes first


class Tray(Protocol):
    def showMessage(self, title: str, body: str,
                    icon: QSystemTrayIcon.MessageIcon, msecs: int) -> None: ...


class Announcer(QObject):
    def __init__(self, tray: Callable[[], Tray], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray = tray
        self._ready: list[Generation] = []
        self._failed: list[Generation] = []
        self._waiting: list[Generation] = []  # stopped for the person (ATTENTION)
        self._quiet = QTimer(self, singleShot=True, interval=QUIET_MS)
        self._quiet.timeout.connect(self.flush)
        self._longest = QTimer(self, singleShot=True, interval=LONGEST_MS)
        self._longest.timeout.connect(self.flush)

    @staticmethod
    def worth_telling(generation: Generation) -> bool:
        return generation.stage.is_announced or generation.stage is Stage.ATTENTION

    def add(self, generation: Generation) -> None:
        if generation.stage is Stage.DONE:
            self._ready.append(generation)
        elif generation.stage is Stage.ATTENTION:
            self._waiting.append(generation)
        else:
            self._failed.append(generation)
        self._quiet.start()
        if not self._longest.isActive():
            self._longest.start()

    def flush(self) -> None:
        self._quiet.stop()
        self._longest.stop()
        ready, failed, waiting = self._ready, self._failed, self._waiting
        self._ready, self._failed, self._waiting = [], [], []
        if not (ready or failed or waiting):
            return
        parts = []
        if ready:
            parts.append(self.tr("Video ready") if len(ready) == 1
                         else self.tr("{0} videos ready").format(len(ready)))
        if failed:
            parts.append(self._count(failed, self.tr("Generation failed"),
                                     self.tr("{0} generations failed"), self.tr("{0} failed"),
                                     alone=not ready))
        if waiting:
            parts.append(self._count(waiting, self.tr("A generation needs you"),
                                     self.tr("{0} generations need you"),
                                     self.tr("{0} need you"), alone=not (ready or failed)))
        # The detail that matters most: what stops work, then what failed, then the prompts.
        problem = waiting or failed
        if problem:
            body = problem[0].error or ""
            icon = QSystemTrayIcon.MessageIcon.Warning
        else:
            prompts = list(dict.fromkeys(g.settings.prompt[:80] for g in ready))
            body = "\n".join(prompts[:3]) + ("\n…" if len(prompts) > 3 else "")
            icon = QSystemTrayIcon.MessageIcon.Information
        self._tray().showMessage(" · ".join(parts), body, icon, 8000 if problem else 5000)

    def _count(self, items: list[Generation], one: str, many: str, among: str, *,
               alone: bool) -> str:
        if len(items) == 1 and alone:
            return one
        return (many if alone else among).format(len(items))
