"""The queue and history as a Qt list model of `Generation` records.

Order: newest first by queue `position` (the journal gives each new item the next position,
and only a drag of a pending item changes it), then by id. A row never moves because its
stage changed: a row that re-sorted under the mouse as a job started made a click land on the
wrong job. Pending items keep the engine's run order from the bottom up (the lowest waiting
row runs next), so dragging an item down makes it run sooner.

The engine is the source of truth: the model never reorders by itself. A drop of pending items
only emits `reorder_requested`; the engine changes `position` and its `upsert` re-sorts.
"""

from __future__ import annotations

import bisect
import enum
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QPixmap

from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.ui import queue_text
from runway_desktop.ui.thumbnail_cache import ThumbnailCache

ID_MIME_TYPE = "application/x-runway-desktop-generation-ids"

_Index = QModelIndex | QPersistentModelIndex

class Roles(enum.IntEnum):
    GenerationRole = Qt.ItemDataRole.UserRole + 1
    IdRole = Qt.ItemDataRole.UserRole + 2
    StageRole = Qt.ItemDataRole.UserRole + 3  # arrives as the stage's str value: Stage(...) it
    ThumbnailRole = Qt.ItemDataRole.UserRole + 4  # QPixmap; null while loading or missing
    FavouriteRole = Qt.ItemDataRole.UserRole + 5
    SearchTextRole = Qt.ItemDataRole.UserRole + 6
    FilterKeyRole = Qt.ItemDataRole.UserRole + 7  # what QueueFilterModel's pattern matches
    NoteRole = Qt.ItemDataRole.UserRole + 8  # the engine's remark ("taking unusually long"); ""
    # The start image beside the video's frame (a null QPixmap until the video has a frame: until
    # then the start image is the thumbnail itself).
    StartImageRole = Qt.ItemDataRole.UserRole + 9


def sort_key(generation: Generation) -> tuple[float, int]:
    return (-generation.position, -generation.id)  # stage plays no part: rows stay put


def overall_fraction(generation: Generation) -> float:
    """How far one running or pending item is, 0..1, across all its stages."""
    low, high = generation.stage.progress_span  # the stage's share (lifecycle table)
    if generation.stage.shows_percent:
        return low + (high - low) * max(0, min(100, generation.progress)) / 100
    return low


def thumbnail_source(generation: Generation) -> str | None:
    """The video's first frame once there is one; until then the input image."""
    return generation.thumbnail_path or generation.settings.image_path


def start_image_inset(generation: Generation) -> str | None:
    """The start image, shown small beside the video's frame once there is one."""
    return generation.settings.image_path if generation.thumbnail_path else None


def _pictures(generation: Generation) -> tuple[str, ...]:
    """Every picture file a row shows (its repaint follows each one's loading)."""
    source = thumbnail_source(generation)
    inset = start_image_inset(generation)
    if inset and inset != source:
        return (source, inset) if source else (inset,)
    return (source,) if source else ()


def search_text(generation: Generation) -> str:
    parts = [generation.settings.prompt, str(generation.settings.seed), generation.job_id or ""]
    return "\n".join(parts).casefold()


def status_groups(generation: Generation) -> list[str]:
    """The status filters (StatusFilter values) that show this generation."""
    stage = generation.stage
    groups = ["all"]
    if stage.waits_for_slot or stage.is_running:
        groups.append("active")
    if stage is Stage.DONE:
        groups.append("done")
    if stage.is_problem:
        groups.append("failed")
    if generation.favourite:
        groups.append("favourites")
    return groups


FILTER_GROUPS_END = "\x1f"  # after "|all|active|…|"
FILTER_FIELD = "\x1e"  # before the seed and before the job id


def filter_key(generation: Generation) -> str:
    """`|all|done|\x1f<prompt>\x1e<seed>\x1e<job id>`, case-folded: one string the filter's
    regular expression can match in C++ (see queue_filter.filter_pattern)."""
    prompt = generation.settings.prompt.casefold()
    prompt = prompt.replace(FILTER_GROUPS_END, " ").replace(FILTER_FIELD, " ")
    return (f"|{'|'.join(status_groups(generation))}|{FILTER_GROUPS_END}{prompt}"
            f"{FILTER_FIELD}{generation.settings.seed}{FILTER_FIELD}"
            f"{(generation.job_id or '').casefold()}")


def row_runs(rows_bottom_up: list[int]) -> list[tuple[int, int]]:
    """Adjacent rows as (first, last) runs, bottom run first, for one removal signal per run
    (rows given bottom up, so removing a run keeps the numbers of the runs above)."""
    runs: list[tuple[int, int]] = []
    for row in rows_bottom_up:
        if runs and runs[-1][0] == row + 1:
            runs[-1] = (row, runs[-1][1])
        else:
            runs.append((row, row))
    return runs


class QueueModel(QAbstractListModel):
    # The person dropped pending item `generation_id` so that it runs just before `before_id`
    # (None: after every other pending item).
    reorder_requested = Signal(int, object)
    # (running_count, pending_count, overall_progress 0..100); coalesced to one per event loop turn.
    totals_changed = Signal(int, int, int)
    # Anything the header summarises may have changed (e.g. the number of finished items).
    summary_changed = Signal()

    def __init__(
        self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._rows: list[Generation] = []
        self._row_of: dict[int, int] = {}  # id → row (see _stale_from)
        # Rows at or after this one may have moved since their `_row_of` entry was written:
        # inserting at the top renumbers every row below, so it is done once, when a row is
        # next looked up, not once per insert (200 inserts into 100,000 rows took 2 s).
        self._stale_from: int | None = None
        self._ids_by_thumbnail: dict[str, set[int]] = {}
        self._stage_counts: Counter[Stage] = Counter()
        self._active: dict[int, Generation] = {}  # pending + running, for totals
        self._notes: dict[int, str] = {}  # id → the engine's remark on it (Engine.note)
        self.thumbnails = thumbnails if thumbnails is not None else ThumbnailCache(parent=self)
        self.thumbnails.loaded.connect(self._on_thumbnail_loaded)
        self._last_totals: tuple[int, int, int] = (0, 0, 0)
        self._totals_timer = QTimer(self)
        self._totals_timer.setSingleShot(True)
        self._totals_timer.setInterval(0)
        self._totals_timer.timeout.connect(self._emit_totals)

    # -- engine side ---------------------------------------------------------------------

    def reset(self, generations: Iterable[Generation]) -> None:
        """Replace everything (the initial load from the journal)."""
        unique = {g.id: g for g in generations}  # a later record of one id wins
        self.beginResetModel()
        self._rows = sorted(unique.values(), key=sort_key)
        self._row_of = {g.id: row for row, g in enumerate(self._rows)}
        self._stale_from = None
        self._ids_by_thumbnail.clear()
        self._stage_counts.clear()
        self._active.clear()
        self._notes.clear()
        for g in self._rows:
            self._track(g)
        self.endResetModel()
        self._schedule_totals()

    def upsert(self, generation: Generation) -> None:
        """Insert a new record or update one in place (moving the row if its order changed)."""
        row = self._fresh_row(generation.id)
        if row is None:
            self._insert(generation)
        else:
            self._update(row, generation)
        self._schedule_totals()

    def remove(self, generation_id: int) -> None:
        row = self._fresh_row(generation_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        old = self._rows.pop(row)
        del self._row_of[generation_id]
        self._notes.pop(generation_id, None)
        self._untrack(old)
        self._mark_stale(row)
        self.endRemoveRows()
        self._schedule_totals()

    def remove_many(self, generation_ids: Iterable[int]) -> None:
        """Remove many rows in a few signals: runs of adjacent rows go at once, bottom up.
        (One `remove` each renumbered every row below, again and again: 3,000 rows took
        over a second.)"""
        rows = sorted(
            {row for i in generation_ids if (row := self._fresh_row(i)) is not None},
            reverse=True,
        )
        if not rows:
            return
        for first, last in row_runs(rows):
            self.beginRemoveRows(QModelIndex(), first, last)
            for old in self._rows[first:last + 1]:
                del self._row_of[old.id]
                self._notes.pop(old.id, None)
                self._untrack(old)
            del self._rows[first:last + 1]
            self._mark_stale(first)
            self.endRemoveRows()
        self._schedule_totals()

    def set_note(self, generation_id: int, note: str | None) -> None:
        """The engine's remark on a row (None: none); shown beside its stage."""
        if generation_id not in self._row_of or (note or None) == self._notes.get(generation_id):
            # Not listed (e.g. removed, undo pending), or nothing new: decided before asking
            # for the row, which renumbers every row below an insert (each of a batch of 200
            # new rows renumbered all 10,000).
            return
        row = self._fresh_row(generation_id)
        if row is None:
            return
        if note:
            self._notes[generation_id] = note
        else:
            self._notes.pop(generation_id, None)
        index = self.index(row)
        self.dataChanged.emit(index, index, [Roles.NoteRole, Qt.ItemDataRole.ToolTipRole,
                                             Qt.ItemDataRole.AccessibleTextRole])

    # -- queries -------------------------------------------------------------------------

    def note(self, generation_id: int) -> str | None:
        return self._notes.get(generation_id)

    def generation(self, generation_id: int) -> Generation | None:
        row = self._fresh_row(generation_id)
        return None if row is None else self._rows[row]

    def generation_at(self, row: int) -> Generation:
        return self._rows[row]

    def row_of(self, generation_id: int) -> int | None:
        return self._fresh_row(generation_id)

    def index_of(self, generation_id: int) -> QModelIndex:
        row = self._fresh_row(generation_id)
        return QModelIndex() if row is None else self.index(row, 0)

    def generations(self) -> Sequence[Generation]:
        return tuple(self._rows)

    def count(self, *stages: Stage) -> int:
        return sum(self._stage_counts[s] for s in stages)

    def finished_count(self) -> int:
        return sum(n for stage, n in self._stage_counts.items() if stage.is_terminal)

    def totals(self) -> tuple[int, int, int]:
        """(running_count, pending_count, overall progress 0..100 of running + pending)."""
        pending = self._stage_counts[Stage.PENDING]
        running = sum(n for stage, n in self._stage_counts.items() if stage.is_running)
        if not self._active:
            return (running, pending, 0)
        done = sum(overall_fraction(g) for g in self._active.values())
        return (running, pending, int(100 * done / len(self._active)))

    # -- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        names.update({int(role): QByteArray(role.name.removesuffix("Role").lower().encode())
                      for role in Roles})
        return names

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        g = self._rows[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return g.settings.prompt
            case Roles.GenerationRole:
                return g
            case Roles.IdRole:
                return g.id
            case Roles.StageRole:
                return g.stage
            case Roles.ThumbnailRole:
                # Asked only by the delegate's paint: this is what makes loading lazy.
                # A null QPixmap (never None) while loading or absent: PySide6 6.12 on
                # CPython 3.11 drops a reference to None each time index.data() hands None
                # back to Python, and a repainted placeholder would do that every second.
                return self.thumbnails.get(thumbnail_source(g)) or QPixmap()
            case Roles.StartImageRole:
                inset = start_image_inset(g)
                return (self.thumbnails.get(inset) if inset else None) or QPixmap()
            case Roles.FavouriteRole:
                return g.favourite
            case Roles.SearchTextRole:
                return search_text(g)
            case Roles.FilterKeyRole:
                return filter_key(g)
            case Roles.NoteRole:
                return self._notes.get(g.id, "")  # never None (see ThumbnailRole)
            case Qt.ItemDataRole.ToolTipRole:
                return _with_note(queue_text.tooltip_text(g), self._notes.get(g.id), "\n")
            case Qt.ItemDataRole.AccessibleTextRole:
                return _with_note(queue_text.accessible_text(g), self._notes.get(g.id), ", ")
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drops land between rows, never on one
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        g = self._rows[index.row()]
        # Reordered (waiting work), or dragged out as a file (a finished video).
        if allows(g, Command.REORDER) or allows(g, Command.OPEN):
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    # -- drag and drop -------------------------------------------------------------------

    def mimeTypes(self) -> list[str]:
        return [ID_MIME_TYPE, "text/uri-list"]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        # Copy for videos dragged out (a file manager must never *move* our file); Move for
        # pending items reordered inside the list. The view picks one per drag.
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def mimeData(self, indexes: Sequence[_Index]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        generations = [self._rows[r] for r in rows]
        mime = QMimeData()
        mime.setData(ID_MIME_TYPE, json.dumps([g.id for g in generations]).encode())
        urls = [
            QUrl.fromLocalFile(g.video_path)
            for g in generations
            if g.stage is Stage.DONE and g.video_path
        ]
        if urls:
            mime.setUrls(urls)
        return mime

    def canDropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: _Index,
    ) -> bool:
        if action != Qt.DropAction.MoveAction:
            return False
        ids = self._dropped_ids(data)
        return bool(ids) and all(
            (g := self.generation(i)) is not None and g.stage is Stage.PENDING for i in ids
        )

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: _Index,
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._rows)
        ids = self._dropped_ids(data)
        moving = set(ids)
        # Dropped under a waiting item: run just before it (it shows just below it). Nothing
        # waiting above the drop point: run last, which shows at the top.
        before_id = next(
            (g.id for g in reversed(self._rows[:row])
             if g.stage is Stage.PENDING and g.id not in moving),
            None,
        )
        # Bottom row first: each lands just below `before_id`, so the list order is kept.
        for generation_id in sorted(ids, key=lambda i: self._fresh_row(i) or 0, reverse=True):
            self.reorder_requested.emit(generation_id, before_id)
        # True: the drop was handled. No rows are removed at the source because this model
        # implements neither removeRows nor moveRows; the engine's upserts do the moving.
        return True

    @staticmethod
    def _dropped_ids(data: QMimeData) -> list[int]:
        if not data.hasFormat(ID_MIME_TYPE):
            return []
        try:
            ids = json.loads(bytes(data.data(ID_MIME_TYPE).data()).decode())
        except (ValueError, UnicodeDecodeError):
            return []
        if not isinstance(ids, list):
            return []
        return [i for i in ids if isinstance(i, int)]

    # -- internals -----------------------------------------------------------------------

    def _insert(self, generation: Generation) -> None:
        row = bisect.bisect_left(self._rows, sort_key(generation), key=sort_key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, generation)
        self._row_of[generation.id] = row
        self._mark_stale(row)  # every row from here on moved down one
        self._track(generation)
        self.endInsertRows()

    def _update(self, row: int, generation: Generation) -> None:
        old = self._rows[row]
        self._untrack(old)
        self._track(generation)
        new_key = sort_key(generation)
        if new_key != sort_key(old):
            slot = bisect.bisect_left(self._rows, new_key, key=sort_key)  # old still in the list
            new_row = slot - 1 if slot > row else slot
            if new_row != row:
                # A move (not remove + insert) keeps the selection and the current item.
                destination = new_row + 1 if new_row > row else new_row
                self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
                del self._rows[row]
                self._rows.insert(new_row, generation)
                self._reindex(min(row, new_row), max(row, new_row))
                self.endMoveRows()
                row = new_row
        self._rows[row] = generation
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _reindex(self, first: int, last: int) -> None:
        for row in range(first, last + 1):
            self._row_of[self._rows[row].id] = row

    def _mark_stale(self, row: int) -> None:
        if row < len(self._rows):
            self._stale_from = row if self._stale_from is None else min(self._stale_from, row)

    def _fresh_row(self, generation_id: int) -> int | None:
        """The row of `generation_id` now (renumbering stale rows first), or None."""
        row = self._row_of.get(generation_id)
        if row is None or self._stale_from is None or row < self._stale_from:
            return row
        self._reindex(self._stale_from, len(self._rows) - 1)
        self._stale_from = None
        return self._row_of[generation_id]

    def _track(self, generation: Generation) -> None:
        self._stage_counts[generation.stage] += 1
        if generation.stage is Stage.PENDING or queue_text.is_running(generation):
            self._active[generation.id] = generation
        for source in _pictures(generation):
            self._ids_by_thumbnail.setdefault(source, set()).add(generation.id)

    def _untrack(self, generation: Generation) -> None:
        self._stage_counts[generation.stage] -= 1
        if self._stage_counts[generation.stage] <= 0:
            del self._stage_counts[generation.stage]
        self._active.pop(generation.id, None)
        for source in _pictures(generation):
            ids = self._ids_by_thumbnail.get(source)
            if ids is not None:
                ids.discard(generation.id)
                if not ids:
                    del self._ids_by_thumbnail[source]

    def _on_thumbnail_loaded(self, path: str) -> None:
        for generation_id in self._ids_by_thumbnail.get(path, ()):
            row = self._fresh_row(generation_id)
            if row is None:
                continue
            generation = self._rows[row]
            roles = [role for role, source in ((Roles.ThumbnailRole, thumbnail_source(generation)),
                                               (Roles.StartImageRole,
                                                start_image_inset(generation)))
                     if source == path]
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, roles)

    def _schedule_totals(self) -> None:
        if not self._totals_timer.isActive():
            self._totals_timer.start()

    def _emit_totals(self) -> None:
        totals = self.totals()
        if totals != self._last_totals:
            self._last_totals = totals
            self.totals_changed.emit(*totals)
        self.summary_changed.emit()


def _with_note(text: str, note: str | None, separator: str) -> str:
    return f"{text}{separator}{note}" if note else text
