"""Compare two results: the menu entry and the key that open `compare_view.CompareView`.

"Compare Side by Side" is added to the queue's menu (and so to the gallery's, which is the
queue's) and C to both lists; it is enabled when exactly two finished videos are selected. The
player window and QtMultimedia load only when a comparison opens.

A comparison closes when one of its results leaves the history (removed, its video moved to
the trash, or another history shown): it went on playing what the person had just deleted, and
held the file open while it was moved. Undo of that removal opens the comparison again (the
two results back, their videos finished and on disk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QListView, QMainWindow, QMenu, QWidget

from runway_desktop.engine.records import Generation, Stage

if TYPE_CHECKING:
    from runway_desktop.ui.compare_view import CompareView
    from runway_desktop.ui.queue_model import QueueModel

COMPARE_SHORTCUT = "C"
# The comparison window's keys and what they do: compare_view makes its shortcuts from this
# table, and Help ▸ Keyboard Shortcuts lists it (the window itself exists only while open).
COMPARE_WINDOW_KEYS: tuple[tuple[str, str], ...] = (
    ("Space", "Play or pause both videos"),
    ("Left", "Both videos back one second"),
    ("Right", "Both videos forward one second"),
    ("L", "Loop on or off"),
    ("Esc", "Close the comparison"),
)


def finished_video(generation: Generation) -> bool:
    """Done, with its video on disk (one moved or deleted since would show a black pane)."""
    return (generation.stage is Stage.DONE and bool(generation.video_path)
            and Path(generation.video_path or "").is_file())


def comparable(generations: Sequence[Generation]) -> list[Generation]:
    """The two finished videos to compare, or [] unless exactly two are given."""
    videos = [g for g in generations if finished_video(g)]
    return videos if len(videos) == 2 == len(generations) else []


class CompareCommand(QObject):
    """Compare in the queue's menu (so the gallery's too) and on C in both lists."""

    def __init__(self, window: QWidget, queue: QObject,
                 lists: Sequence[tuple[QListView, Callable[[], list[Generation]]]]) -> None:
        """`lists`: each list view with how to read its selection."""
        super().__init__(window)
        self._window = window
        self.last_opened: CompareView | None = None
        self._open: list[CompareView] = []
        # The comparison last closed because a result of it was removed: (left, right) ids,
        # opened again when both are back (Undo).
        self._closed_by_removal: tuple[int, int] | None = None
        extensions = getattr(queue, "menu_extensions", None)
        if extensions is not None:
            extensions.append(self._extend_menu)
        self._model: QueueModel | None = getattr(queue, "model", None)
        if self._model is not None:
            # About to be removed: the players let go of a video before it moves to the trash.
            self._model.rowsAboutToBeRemoved.connect(self._on_rows_leaving)
            self._model.modelReset.connect(self._on_reset)
            self._model.rowsInserted.connect(self._on_rows_back)
        self.shortcut_actions: list[QAction] = []
        for view, selected in lists:
            action = QAction(self.tr("Compare Side by Side"), view)
            action.setObjectName("compare")
            action.setShortcut(QKeySequence(COMPARE_SHORTCUT))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, s=selected: self.compare_from_key(s()))
            view.addAction(action)
            self.shortcut_actions.append(action)

    def compare(self, generations: Sequence[Generation]) -> CompareView | None:
        pair = comparable(generations)
        if not pair:
            return None
        from runway_desktop.ui.compare_view import CompareView

        view = CompareView(pair[0], pair[1], self._window)
        view.destroyed.connect(lambda _o=None: self._forget(view))
        self._open.append(view)
        view.show()
        view.raise_()
        view.activateWindow()
        self.last_opened = view
        return view

    def compare_from_key(self, generations: Sequence[Generation]) -> CompareView | None:
        """C in a list: the comparison, or (nothing happened before) why not and what to do,
        in the status bar."""
        view = self.compare(generations)
        if view is None and isinstance(self._window, QMainWindow):
            self._window.statusBar().showMessage(self.why_not(generations), 8000)
        return view

    def why_not(self, generations: Sequence[Generation]) -> str:
        """Why these can't be compared, and what to do instead."""
        if len(generations) > 2:
            return self.tr("{0} videos are selected; Compare shows two side by side. Select "
                           "just two finished videos, then press C.").format(len(generations))
        gone = [g for g in generations if g.stage is Stage.DONE and g.video_path
                and not finished_video(g)]
        if gone:
            return self.tr("The video of #{0} isn't on disk any more (moved or deleted?). "
                           "Right-click it: Download Again, then compare.").format(gone[0].id)
        if not all(finished_video(g) for g in generations):
            return self.tr("Only finished videos can be compared. Select two that are done, "
                           "then press C.")
        return self.tr("Select a second finished video (Ctrl+click it, or Shift+arrow), then "
                       "press C to compare the two side by side.")

    def open_views(self) -> list[CompareView]:
        """The comparisons open now."""
        return list(self._open)

    def _forget(self, view: CompareView) -> None:
        if self.last_opened is view:
            self.last_opened = None
        if view in self._open:
            self._open.remove(view)

    def _close_showing(self, gone: Callable[[int], bool]) -> list[tuple[int, int]]:
        """Close the comparisons showing a result that is gone; their (left, right) ids."""
        closed: list[tuple[int, int]] = []
        for view in list(self._open):
            ids = [pane.generation.id for pane in view.panes]
            if any(gone(i) for i in ids):
                self._forget(view)
                view.close()
                closed.append((ids[0], ids[1]))
        return closed

    def _on_rows_leaving(self, _parent: QModelIndex, first: int, last: int) -> None:
        model = self._model
        assert model is not None
        leaving = {model.generation_at(row).id for row in range(first, last + 1)}
        if closed := self._close_showing(leaving.__contains__):
            self._closed_by_removal = closed[-1]

    def _on_reset(self) -> None:
        model = self._model
        assert model is not None
        self._closed_by_removal = None  # another history: its numbers are other results
        self._close_showing(lambda generation_id: model.generation(generation_id) is None)

    def _on_rows_back(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        """Undo of a removal that closed a comparison: it opens again once both are back."""
        model = self._model
        pair = self._closed_by_removal
        if model is None or pair is None:
            return
        back = [g for i in pair if (g := model.generation(i)) is not None]
        if len(back) < 2:
            return
        self._closed_by_removal = None
        if all(finished_video(g) for g in back):
            self.compare(back)

    def _extend_menu(self, menu: QMenu, _primary: Generation,
                     targets: list[Generation]) -> None:
        pair = comparable(targets)
        menu.addSeparator()
        action = menu.addAction(self.tr("Compare Side by Side"))
        action.setObjectName("compare")
        action.setEnabled(bool(pair))
        if not pair:
            action.setToolTip(self.why_not(targets))  # and what to do
        action.setShortcut(QKeySequence(COMPARE_SHORTCUT))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.setShortcutVisibleInContextMenu(True)
        action.triggered.connect(lambda _=False, p=pair: self.compare(p))
