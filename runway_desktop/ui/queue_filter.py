"""Which queue rows are shown: a status group and a search text. Never changes their order."""

from __future__ import annotations

import enum

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.ui import queue_text
from runway_desktop.ui.queue_model import Roles

_Index = QModelIndex | QPersistentModelIndex


class StatusFilter(enum.StrEnum):
    ALL = "all"
    ACTIVE = "active"  # pending + running
    DONE = "done"
    FAILED = "failed"  # failed + needs attention
    FAVOURITES = "favourites"

    def accepts(self, generation: Generation) -> bool:
        stage = generation.stage
        match self:
            case StatusFilter.ALL:
                return True
            case StatusFilter.ACTIVE:
                return stage is Stage.PENDING or stage in queue_text.ACTIVE_STAGES
            case StatusFilter.DONE:
                return stage is Stage.DONE
            case StatusFilter.FAILED:
                return stage in queue_text.PROBLEM_STAGES
            case StatusFilter.FAVOURITES:
                return generation.favourite
        return True


def matches_search(generation: Generation, needle: str) -> bool:
    """Case-insensitive: anywhere in the prompt, or the start of the seed or the job id."""
    if not needle:
        return True
    if needle in generation.settings.prompt.casefold():
        return True
    if str(generation.settings.seed).startswith(needle):
        return True
    return bool(generation.job_id) and generation.job_id.casefold().startswith(needle)


class QueueFilterModel(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status = StatusFilter.ALL
        self._needle = ""
        # Re-filter when a record changes (a job that finishes leaves "Active"). No sort column
        # is ever set, and lessThan keeps source order anyway: the source order is the truth.
        self.setDynamicSortFilter(True)

    @property
    def status_filter(self) -> StatusFilter:
        return self._status

    @property
    def search_text(self) -> str:
        return self._needle

    def set_status_filter(self, status: StatusFilter | str) -> None:
        status = StatusFilter(status)
        if status != self._status:
            self.beginFilterChange()
            self._status = status
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search_text(self, text: str) -> None:
        needle = text.strip().casefold()
        if needle != self._needle:
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if self._status is StatusFilter.ALL and not self._needle:
            return True
        source = self.sourceModel()
        generation = source.data(source.index(source_row, 0, source_parent), Roles.GenerationRole)
        if generation is None:
            return False
        return self._status.accepts(generation) and matches_search(generation, self._needle)

    def lessThan(self, source_left: _Index, source_right: _Index) -> bool:
        return source_left.row() < source_right.row()
