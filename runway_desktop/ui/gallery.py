"""The gallery: finished videos as a grid of thumbnails, newest first, under a header per day.

`GalleryModel` reads the queue's own model (no second copy of the history): it keeps only the
finished videos, orders them by when they finished and puts a header row before each day. It
follows the queue model's signals with inserts and removals of its own rows (the grid keeps
its selection and scroll position); while the gallery is not shown it only notes that it is
out of date and catches up when shown, so a hidden gallery costs nothing while jobs run.

`GalleryView` is the grid (a QListView in icon mode: a header is as wide as the view, so each
day starts a row of its own). Its context menu and keys are the queue's own actions
(`QueueView.build_context_menu`): the gallery only says which items they act on. Above the grid
a search field (Ctrl+F) narrows it by prompt, seed or job id, as the queue's does: the two
lists share one search, so switching between them keeps what the person looked for. Beside it
"Favourites" shows only the videos marked with F.
"""

from __future__ import annotations

import datetime
import enum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QDate,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QHideEvent,
    QKeySequence,
    QPaintEvent,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.ui.gallery_delegate import (
    CELL_ROLE,
    HEADER_ROLE,
    START_IMAGE_ROLE,
    GalleryDelegate,
)
from runway_desktop.ui.queue_filter import matches_search
from runway_desktop.ui.queue_model import QueueModel, Roles, row_runs, thumbnail_source
from runway_desktop.ui.queue_view import paint_empty_text
from runway_desktop.ui.search_keys import SearchFieldKeys

_Index = QModelIndex | QPersistentModelIndex
SEARCH_PAUSE_MS = 150  # the grid follows the search field once typing pauses this long


class GalleryRoles(enum.IntEnum):
    HeaderRole = HEADER_ROLE  # the day's title on a header row; "" on a result
    StartImageRole = START_IMAGE_ROLE  # QPixmap of the start image (null: none yet)
    CellRole = CELL_ROLE  # what the delegate paints: the header's title or the Generation


def has_video(generation: Generation) -> bool:
    return generation.stage is Stage.DONE and bool(generation.video_path)


def finished_time(generation: Generation) -> float:
    return generation.finished_at or generation.updated_at or generation.created_at


def result_order(generation: Generation) -> tuple[float, int]:
    return (-finished_time(generation), -generation.id)  # newest first


def day_of(generation: Generation) -> int:
    """The local calendar day it finished on, as a proleptic ordinal (header keys are -day)."""
    return datetime.date.fromtimestamp(finished_time(generation)).toordinal()


def day_title(ordinal: int, today: datetime.date | None = None) -> str:
    """"Today", "Yesterday", or the date in the person's locale ("Sunday, 29 November 2026")."""
    from PySide6.QtCore import QCoreApplication, QLocale

    today = today or datetime.date.today()
    date = datetime.date.fromordinal(ordinal)
    if date == today:
        return QCoreApplication.translate("Gallery", "Today")
    if date == today - datetime.timedelta(days=1):
        return QCoreApplication.translate("Gallery", "Yesterday")
    return QLocale().toString(QDate(date.year, date.month, date.day),
                              QLocale.FormatType.LongFormat)


class GalleryModel(QAbstractListModel):
    """Rows: a header (key -day) then that day's results (key: generation id), newest first."""

    def __init__(self, source: QueueModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self._keys: list[int] = []  # >0: a generation id; <0: -day of a header
        self._row_of: dict[int, int] = {}
        self._generations: dict[int, Generation] = {}
        self._day_counts: dict[int, int] = {}  # day → results that day
        self._ids_by_image: dict[str, set[int]] = {}  # start image → ids (insets load lazily)
        self._active = False
        self._dirty = True
        self._needle = ""  # the search, case-folded: only the results it matches are shown
        self._favourites_only = False
        self._today = datetime.date.today()
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)  # once per event-loop turn, however many changes
        self._rebuild_timer.timeout.connect(self.rebuild)
        source.modelReset.connect(self._on_source_reset)
        source.rowsInserted.connect(self._on_rows_inserted)
        source.rowsAboutToBeRemoved.connect(self._on_rows_removed)
        source.dataChanged.connect(self._on_data_changed)
        source.thumbnails.loaded.connect(self._on_image_loaded)

    # -- following the queue ---------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        """Shown: follow every change. Hidden: only note that something changed."""
        self._active = active
        if active and self._dirty:
            self.rebuild()

    @property
    def search_text(self) -> str:
        return self._needle

    def set_search_text(self, text: str) -> None:
        """Show only the results whose prompt has `text` (or whose seed or job id starts
        with it); rebuilt at once while shown, so the grid follows each key."""
        needle = text.strip().casefold()
        if needle == self._needle:
            return
        self._needle = needle
        self._dirty = True
        if self._active:
            self.rebuild()

    @property
    def favourites_only(self) -> bool:
        return self._favourites_only

    def set_favourites_only(self, on: bool) -> None:
        """Show only the favourites (F), or every result."""
        if on == self._favourites_only:
            return
        self._favourites_only = on
        self._dirty = True
        if self._active:
            self.rebuild()

    def accepts(self, generation: Generation) -> bool:
        return (has_video(generation) and matches_search(generation, self._needle)
                and (generation.favourite or not self._favourites_only))

    def _changed(self) -> None:
        self._dirty = True
        if self._active and not self._rebuild_timer.isActive():
            self._rebuild_timer.start()

    def _on_source_reset(self) -> None:
        self._changed()

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if any(self.accepts(self.source.generation_at(r)) for r in range(first, last + 1)):
            self._changed()

    def _on_rows_removed(self, _parent: QModelIndex, first: int, last: int) -> None:
        ids = (self.source.generation_at(r).id for r in range(first, last + 1))
        if any(i in self._row_of for i in ids):
            self._changed()

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, *_roles: object) -> None:
        if self._dirty:
            return  # a rebuild is due anyway
        for row in range(top.row(), bottom.row() + 1):
            generation = self.source.generation_at(row)
            listed = generation.id in self._row_of
            if self.accepts(generation) != listed:
                self._changed()  # finished, or no longer a video
                return
            if listed:
                old = self._generations[generation.id]
                if result_order(old) != result_order(generation):
                    self._changed()
                    return
                self._generations[generation.id] = generation
                index = self.index(self._row_of[generation.id])
                self.dataChanged.emit(index, index)

    def _on_image_loaded(self, path: str) -> None:
        for generation_id in self._ids_by_image.get(path, ()):
            row = self._row_of.get(generation_id)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index, [GalleryRoles.StartImageRole])

    def rebuild(self) -> None:
        """Bring the rows in line with the queue: removals, then insertions, in runs."""
        self._rebuild_timer.stop()
        self._dirty = False
        today = datetime.date.today()
        results = sorted((g for g in self.source.generations() if self.accepts(g)),
                         key=result_order)
        generations = {g.id: g for g in results}
        day_counts: dict[int, int] = {}
        new_keys: list[int] = []
        for g in results:
            day = day_of(g)
            if day not in day_counts:
                day_counts[day] = 0
                new_keys.append(-day)
            day_counts[day] += 1
            new_keys.append(g.id)
        new_set = set(new_keys)
        old_set = set(self._keys)

        self._remove_runs([row for row, key in enumerate(self._keys) if key not in new_set])
        if [k for k in new_keys if k in old_set] != self._keys:
            self._reorder([k for k in new_keys if k in old_set])
        self._generations.update(generations)  # inserted rows paint from here
        self._insert_runs(new_keys, old_set)
        self._generations = generations
        self._ids_by_image = {}
        for g in results:
            if g.settings.image_path:
                self._ids_by_image.setdefault(g.settings.image_path, set()).add(g.id)
        headers_changed = day_counts != self._day_counts or today != self._today
        self._day_counts = day_counts
        self._today = today
        if headers_changed:
            for key in new_keys:
                if key < 0:
                    index = self.index(self._row_of[key])
                    self.dataChanged.emit(index, index, [GalleryRoles.HeaderRole])

    def _remove_runs(self, rows: list[int]) -> None:
        runs = row_runs(list(reversed(rows)))  # bottom up: the rows above keep their numbers
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._keys[first:last + 1]
            self.endRemoveRows()
        if runs:
            self._reindex()

    def _insert_runs(self, new_keys: list[int], old_set: set[int]) -> None:
        row = 0
        while row < len(new_keys):
            if new_keys[row] in old_set:
                row += 1
                continue
            end = row
            while end + 1 < len(new_keys) and new_keys[end + 1] not in old_set:
                end += 1
            # Rows before `row` already equal new_keys[:row]: insert the run right there.
            self.beginInsertRows(QModelIndex(), row, end)
            self._keys[row:row] = new_keys[row:end + 1]
            self.endInsertRows()
            row = end + 1
        self._reindex()

    def _reorder(self, keys: list[int]) -> None:
        self.layoutAboutToBeChanged.emit()
        old_indexes = self.persistentIndexList()
        old_keys = [self._keys[i.row()] for i in old_indexes]
        self._keys = keys
        self._reindex()
        self.changePersistentIndexList(
            old_indexes, [self.index(self._row_of[k]) for k in old_keys])
        self.layoutChanged.emit()

    def _reindex(self) -> None:
        self._row_of = {key: row for row, key in enumerate(self._keys)}

    # -- queries ---------------------------------------------------------------------------

    def generation_at(self, row: int) -> Generation | None:
        key = self._keys[row]
        return self._generations.get(key) if key > 0 else None

    def row_of(self, generation_id: int) -> int | None:
        return self._row_of.get(generation_id)

    def result_ids(self) -> list[int]:
        return [k for k in self._keys if k > 0]

    def header_rows(self) -> list[int]:
        return [row for row, key in enumerate(self._keys) if key < 0]

    # -- Qt model API ----------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._keys)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._keys[index.row()] < 0:
            return Qt.ItemFlag.ItemIsEnabled  # a header: not selectable
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._keys):
            return None
        key = self._keys[index.row()]
        if key < 0:
            return self._header_data(-key, role)
        g = self._generations[key]
        match role:
            case GalleryRoles.HeaderRole:
                return ""  # never None (see QueueModel.data)
            case Roles.GenerationRole | GalleryRoles.CellRole:
                return g
            case Roles.IdRole:
                return g.id
            case Roles.ThumbnailRole:
                return self.source.thumbnails.get(thumbnail_source(g)) or QPixmap()
            case GalleryRoles.StartImageRole:
                path = g.settings.image_path
                return (self.source.thumbnails.get(path) if path else None) or QPixmap()
            case Qt.ItemDataRole.DisplayRole:
                return g.settings.prompt
            case Qt.ItemDataRole.ToolTipRole:
                return g.settings.prompt
            case Qt.ItemDataRole.AccessibleTextRole:
                return self.tr("{prompt}, {ratio}, {seconds} seconds").format(
                    prompt=g.settings.prompt, ratio=g.settings.aspect_ratio,
                    seconds=g.settings.duration)
        return None

    def _header_data(self, day: int, role: int) -> Any:
        if role in (GalleryRoles.HeaderRole, GalleryRoles.CellRole,
                    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            count = self._day_counts.get(day, 0)
            title = day_title(day, self._today)
            return self.tr("{day} · {count} videos").format(day=title, count=count) if (
                count != 1) else self.tr("{day} · 1 video").format(day=title)
        return None


class GalleryListView(QListView):
    """The grid: says something when there is nothing to show yet; the keys move from video
    to video (a day's heading can't be selected: landing on one left nothing selected)."""

    empty_text = ""

    def moveCursor(self, action: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        index = super().moveCursor(action, modifiers)
        model = self.model()
        if not index.isValid() or model.flags(index) & Qt.ItemFlag.ItemIsSelectable:
            return index
        moves = QAbstractItemView.CursorAction
        backwards = action in (moves.MoveUp, moves.MoveLeft, moves.MovePrevious,
                               moves.MovePageUp)
        rows = model.rowCount()
        ahead = range(index.row() - 1, -1, -1) if backwards else range(index.row() + 1, rows)
        if action in (moves.MoveUp, moves.MoveDown):
            across = self._same_column_across(ahead)
            if across is not None:
                return across
        for row in ahead:
            candidate = model.index(row, 0)
            if model.flags(candidate) & Qt.ItemFlag.ItemIsSelectable:
                return candidate
        return self.currentIndex()  # nothing that way: stay

    def _same_column_across(self, ahead: range) -> QModelIndex | None:
        """Up or Down onto a day's heading: the video across it in the line of videos next to
        it, nearest the current one's column (taking the next video in reading order instead,
        Up from the first column landed on the far end of the day above)."""
        current = self.currentIndex()
        if not current.isValid():
            return None
        model = self.model()
        column = self.visualRect(current).center().x()
        line_top: int | None = None
        best: tuple[int, QModelIndex] | None = None
        for row in ahead:
            candidate = model.index(row, 0)
            if not model.flags(candidate) & Qt.ItemFlag.ItemIsSelectable:
                break  # another heading: that day's line ended
            rect = self.visualRect(candidate)
            if line_top is None:
                line_top = rect.top()
            elif rect.top() != line_top:
                break  # the line next to the heading ended
            distance = abs(rect.center().x() - column)
            if best is None or distance < best[0]:
                best = (distance, candidate)
        return best[1] if best is not None else None

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        paint_empty_text(self, self.empty_text)


class GalleryView(QWidget):
    """The gallery tab. Signals are the queue's: the window handles both the same way."""

    selection_changed = Signal(object)  # the current Generation or None
    play_requested = Signal(int)

    def __init__(self, queue: Any, parent: QWidget | None = None) -> None:
        """`queue`: the QueueView whose model this shows and whose actions it offers."""
        super().__init__(parent)
        self.setObjectName("galleryView")
        self.setAccessibleName(self.tr("Gallery"))  # Help ▸ Keyboard Shortcuts names its keys so
        self.queue = queue
        self.model = GalleryModel(queue.model, self)
        # Before the view's selection model connects: it drops the rows' selection first.
        self._had_selection = False
        self.model.rowsAboutToBeRemoved.connect(self._before_rows_removed)
        self.delegate = GalleryDelegate(queue.model.thumbnails, self)
        self.list_view = GalleryListView(self)
        view = self.list_view
        view.setObjectName("galleryList")
        view.setAccessibleName(self.tr("Gallery of finished videos"))
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setMovement(QListView.Movement.Static)
        view.setFlow(QListView.Flow.LeftToRight)
        view.setWrapping(True)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setLayoutMode(QListView.LayoutMode.Batched)  # 10,000 items lay out in slices
        view.setBatchSize(200)
        view.setSpacing(4)
        view.setUniformItemSizes(False)  # headers are as wide as the view
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setFrameShape(QFrame.Shape.NoFrame)
        view.setMouseTracking(True)
        view.setDragEnabled(False)
        view.setModel(self.model)
        view.setItemDelegate(self.delegate)
        view.verticalScrollBar().setSingleStep(24)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show_context_menu)
        view.doubleClicked.connect(self._on_double_clicked)
        view.selectionModel().currentChanged.connect(self._on_current_changed)
        view.selectionModel().selectionChanged.connect(self._on_current_changed)
        self.model.rowsRemoved.connect(self._keep_a_selection)
        self.model.rowsRemoved.connect(self._on_current_changed)
        self._last: Generation | None = None
        self._searching = False  # the person changes the search: nothing selects itself
        self._build_favourites_button()
        self._build_search()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.favourites_button)
        layout.addLayout(top)
        layout.addWidget(view)
        self.setTabOrder(self.search_edit, self.favourites_button)
        self.setTabOrder(self.favourites_button, view)
        self._build_shortcuts()

    # -- public ----------------------------------------------------------------------------

    def current_generation(self) -> Generation | None:
        current = self.list_view.currentIndex()
        if current.isValid() and self.list_view.selectionModel().isSelected(current):
            generation: Generation | None = current.data(Roles.GenerationRole)
            return generation
        selected = self.selected_generations()
        return selected[0] if selected else None

    def selected_generations(self) -> list[Generation]:
        rows = sorted(self.list_view.selectionModel().selectedIndexes(), key=lambda i: i.row())
        found = (self.model.generation_at(i.row()) for i in rows)
        return [g for g in found if g is not None]

    def select_generation(self, generation_id: int) -> bool:
        self.model.set_active(True)
        row = self.model.row_of(generation_id)
        if row is None:
            return False
        index = self.model.index(row)
        flags = QItemSelectionModel.SelectionFlag
        self.list_view.selectionModel().setCurrentIndex(index, flags.ClearAndSelect)
        self.list_view.scrollTo(index)
        return True

    def select_generations(self, generation_ids: list[int]) -> None:
        """Exactly these results selected (the first one current), e.g. rows brought back."""
        if not generation_ids or not self.select_generation(generation_ids[0]):
            return
        selection = self.list_view.selectionModel()
        for generation_id in generation_ids[1:]:
            row = self.model.row_of(generation_id)
            if row is not None:
                selection.select(self.model.index(row), QItemSelectionModel.SelectionFlag.Select)

    def adopt(self, generation_id: int) -> bool:
        """Select what the preview already shows (the queue's selection, when the grid comes
        into sight), without telling the preview again: it would load it anew, stopping it."""
        row = self.model.row_of(generation_id)
        generation = self.model.generation_at(row) if row is not None else None
        if generation is None:
            # Not in the grid (not finished, or outside the search): nothing is selected here,
            # so no key acts on a video other than the one shown (the grid's earlier pick
            # stayed selected, and Del removed it). The preview keeps what it shows.
            self._last = None
            self.list_view.selectionModel().clearSelection()
            return False
        self._last = generation
        return self.select_generation(generation_id)

    def step_result(self, delta: int) -> bool:
        """Select the previous (-1) or next (+1) result in the grid's order."""
        ids = self.model.result_ids()
        if not ids:
            return False
        current = self.current_generation()
        if current is None or self.model.row_of(current.id) is None:
            target = ids[0] if delta > 0 else ids[-1]
        else:
            position = ids.index(current.id) + delta
            if not 0 <= position < len(ids):
                return False
            target = ids[position]
        return self.select_generation(target)

    def context_menu_for(self, generation: Generation) -> Any:
        """The queue's menu, acting on the gallery's selection."""
        return self.queue.build_context_menu(generation, self.selected_generations())

    # -- search -----------------------------------------------------------------------------

    def _build_favourites_button(self) -> None:
        self.favourites_button = QToolButton(self)
        self.favourites_button.setObjectName("galleryFavourites")
        self.favourites_button.setText(self.tr("Favourites"))
        self.favourites_button.setToolTip(self.tr("Show favourites only (F marks a video)"))
        self.favourites_button.setAccessibleName(self.tr("Show favourites only"))
        self.favourites_button.setCheckable(True)
        self.favourites_button.setAutoRaise(True)
        self.favourites_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.favourites_button.toggled.connect(self._on_favourites_toggled)

    def _on_favourites_toggled(self, on: bool) -> None:
        self._searching = True  # the person narrows the grid: nothing selects itself
        try:
            self.model.set_favourites_only(on)
        finally:
            self._searching = False
        self._update_empty_text()

    def _build_search(self) -> None:
        """The search field above the grid, one search with the queue's: typed in either list,
        it narrows both (the queue's field follows this one and this one the queue's)."""
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("gallerySearch")
        self.search_edit.setPlaceholderText(self.tr("Search finished videos"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(self.tr("Search finished videos"))
        self.search_edit.setToolTip(self.tr("Search by prompt, seed or job ID (Ctrl+F)"))
        SearchFieldKeys(self.search_edit, self._to_results)  # Down, Return, Esc
        queue_search: QLineEdit | None = getattr(self.queue, "search_edit", None)
        if queue_search is not None:
            self.search_edit.setText(queue_search.text())
            queue_search.textChanged.connect(self.search_edit.setText)
        # The grid follows once typing pauses: each rebuild of 10,000 results takes a
        # noticeable moment, once per key it made typing stutter.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_PAUSE_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_edit.textChanged.connect(self._on_search)
        self._apply_search()
        find = QAction(self.tr("Search Finished Videos"), self)
        find.setObjectName("find")
        find.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self.focus_search)
        self.addAction(find)
        self.find_action = find

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def _on_search(self, text: str) -> None:
        queue_search: QLineEdit | None = getattr(self.queue, "search_edit", None)
        if queue_search is not None and queue_search.text() != text:
            queue_search.setText(text)
        if text.strip():
            self._search_timer.start()
        else:
            self._apply_search()  # cleared: everything back at once

    def _apply_search(self) -> None:
        self._search_timer.stop()
        text = self.search_edit.text()
        self._searching = True
        try:
            self.model.set_search_text(text)
        finally:
            self._searching = False
        self._update_empty_text()

    def _update_empty_text(self) -> None:
        """What the grid says when it is empty: how to get results, or out of a filter."""
        needle = self.search_edit.text().strip()
        favourites = self.model.favourites_only
        if needle and favourites:
            text = self.tr("No favourite matches “{0}”. Press Esc in the search field, or "
                           "turn off Favourites, to see more.").format(needle)
        elif needle:
            text = self.tr("No finished video matches “{0}”. Press Esc in the search field "
                           "to see them all.").format(needle)
        elif favourites:
            text = self.tr("No favourites yet: press F on a video to make it one, or turn "
                           "off Favourites to see them all.")
        else:
            text = self.tr("Finished videos appear here, grouped by day.")
        self.list_view.empty_text = text
        self.list_view.viewport().update()

    def _to_results(self) -> None:
        if self._search_timer.isActive():
            self._apply_search()  # what was typed, before a result is chosen from it
        if self.current_generation() is None:
            ids = self.model.result_ids()
            if ids:
                self.select_generation(ids[0])
        self.list_view.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- actions: the queue's, on this selection ------------------------------------------

    def _build_shortcuts(self) -> None:
        """The queue's keyboard actions, on the gallery's selection: each key builds the
        queue's menu for that selection and triggers the entry of the same name, so what an
        action does and when it applies stay defined once, in the queue."""
        from runway_desktop.ui.queue_view import ACTIONS, action_text

        self.shortcut_actions: dict[str, QAction] = {}
        for spec in ACTIONS:
            if not spec.shortcuts:
                continue
            action = QAction(action_text(spec, 1), self.list_view)
            action.setObjectName(spec.name)
            action.setShortcuts([QKeySequence(k) for k in spec.shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, name=spec.name: self.trigger(name))
            self.list_view.addAction(action)
            self.shortcut_actions[spec.name] = action

    def trigger(self, name: str) -> bool:
        """Run the queue action `name` on the gallery's selection, if it applies."""
        primary = self.current_generation()
        if primary is None:
            return False
        menu = self.context_menu_for(primary)
        try:
            action = menu.findChild(QAction, name)
            if action is None or not action.isEnabled():
                return False
            action.trigger()
            return True
        finally:
            menu.deleteLater()

    # -- reactions -------------------------------------------------------------------------

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        generation = self.model.generation_at(index.row()) if index.isValid() else None
        if generation is None:
            return
        if not self.list_view.selectionModel().isSelected(index):
            self.select_generation(generation.id)
        menu = self.context_menu_for(generation)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.list_view.viewport().mapToGlobal(pos))  # not exec(): no nested loop

    def _on_double_clicked(self, index: QModelIndex) -> None:
        generation = self.model.generation_at(index.row()) if index.isValid() else None
        if generation is not None:
            self.play_requested.emit(generation.id)

    def _before_rows_removed(self, *_: object) -> None:
        self._had_selection = self.list_view.selectionModel().hasSelection()

    def _keep_a_selection(self, *_: object) -> None:
        """The selected videos went (Del): select the one now in their place, as the queue
        does. The keyboard's ring was left on a cell no key acted on, the preview blank."""
        selection = self.list_view.selectionModel()
        if not self._had_selection or selection.hasSelection() or not self.isVisible() \
                or self._searching:
            return
        rows = self.model.rowCount()
        current = self.list_view.currentIndex()
        start = current.row() if current.isValid() else 0
        # The nearest video, looking on (a day's header may be in the way), then back.
        for row in (*range(start, rows), *range(min(start, rows) - 1, -1, -1)):
            if self.model.generation_at(row) is not None:
                flags = QItemSelectionModel.SelectionFlag
                selection.setCurrentIndex(self.model.index(row), flags.ClearAndSelect)
                return

    def _on_current_changed(self, *_: object) -> None:
        current = self.current_generation()
        if current != self._last:
            self._last = current
            self.selection_changed.emit(current)

    def showEvent(self, event: QShowEvent) -> None:
        self.model.set_active(True)
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.model.set_active(False)
        super().hideEvent(event)
