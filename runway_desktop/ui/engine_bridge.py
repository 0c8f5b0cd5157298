"""Engine events as Qt signals, heard through the generation service (engine/commands.py). The
engine calls us on the loop's (the GUI) thread under qasync."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.events import (
    AccountUnavailable,
    AccountUpdated,
    CatalogChanged,
    EngineEvent,
    GenerationRemoved,
    GenerationUpdated,
    ProblemChanged,
)
from runway_desktop.engine.records import Generation
from runway_desktop.ui.paint_throttle import ProgressThrottle


class EngineBridge(QObject):
    generation_updated = Signal(object)  # Generation
    # (id, note | None) after each generation_updated: the engine's remark on it, e.g.
    # "taking unusually long" (GenerationUpdated.note); None when there is none (any more).
    note_changed = Signal(int, object)
    generation_removed = Signal(int)
    account_updated = Signal(object)  # api.Account
    account_unavailable = Signal(str)  # a balance check failed: apiframe's words
    problem_changed = Signal(object)  # Problem | None
    catalog_changed = Signal(object)  # ModelCatalog: apiframe's models and prices arrived

    def __init__(self, service: GenerationService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # A percent alone reaches the window at most ~10 times a second (ui/paint_throttle.py).
        self._progress = ProgressThrottle(self._updated, self)
        self._unsubscribe = service.subscribe(self._on_event)

    def detach(self) -> None:
        self._unsubscribe()
        self._progress.clear()

    def _updated(self, generation: Generation, note: str | None) -> None:
        self.generation_updated.emit(generation)
        self.note_changed.emit(generation.id, note)

    def _on_event(self, event: EngineEvent) -> None:
        match event:
            case GenerationUpdated(generation, note):
                self._progress.offer(generation, note)
            case GenerationRemoved(generation_id):
                self._progress.forget(generation_id)
                self.generation_removed.emit(generation_id)
            case AccountUpdated(account):
                self.account_updated.emit(account)
            case AccountUnavailable(message):
                self.account_unavailable.emit(message)
            case ProblemChanged(problem):
                self.problem_changed.emit(problem)
            case CatalogChanged(catalog):
                self.catalog_changed.emit(catalog)
