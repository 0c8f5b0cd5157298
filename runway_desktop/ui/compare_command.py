"""Compare two results: the menu entry and the key that open `compare_view.CompareView`.

"Compare Side by Side" is added to the queue's menu (and so to the gallery's, which is the
queue's) and C to both lists; it is enabled when exactly two finished videos are selected. The
player window and QtMultimedia load only when a comparison opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QListView, QMenu, QWidget

from runway_desktop.engine.records import Generation, Stage

if TYPE_CHECKING:
    from runway_desktop.ui.compare_view import CompareView

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


def comparable(generations: Sequence[Generation]) -> list[Generation]:
    """The two finished videos to compare, or [] unless exactly two are given."""
    videos = [g for g in generations if g.stage is Stage.DONE and g.video_path]
    return videos if len(videos) == 2 == len(generations) else []


class CompareCommand(QObject):
    """Compare in the queue's menu (so the gallery's too) and on C in both lists."""

    def __init__(self, window: QWidget, queue: QObject,
                 lists: Sequence[tuple[QListView, Callable[[], list[Generation]]]]) -> None:
        """`lists`: each list view with how to read its selection."""
        super().__init__(window)
        self._window = window
        self.last_opened: CompareView | None = None
        extensions = getattr(queue, "menu_extensions", None)
        if extensions is not None:
            extensions.append(self._extend_menu)
        self.shortcut_actions: list[QAction] = []
        for view, selected in lists:
            action = QAction(self.tr("Compare Side by Side"), view)
            action.setObjectName("compare")
            action.setShortcut(QKeySequence(COMPARE_SHORTCUT))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, s=selected: self.compare(s()))
            view.addAction(action)
            self.shortcut_actions.append(action)

    def compare(self, generations: Sequence[Generation]) -> CompareView | None:
        pair = comparable(generations)
        if not pair:
            return None
        from runway_desktop.ui.compare_view import CompareView

        view = CompareView(pair[0], pair[1], self._window)
        view.destroyed.connect(lambda _o=None: self._forget(view))
        view.show()
        view.raise_()
        view.activateWindow()
        self.last_opened = view
        return view

    def _forget(self, view: CompareView) -> None:
        if self.last_opened is view:
            self.last_opened = None

    def _extend_menu(self, menu: QMenu, _primary: Generation,
                     targets: list[Generation]) -> None:
        pair = comparable(targets)
        menu.addSeparator()
        action = menu.addAction(self.tr("Compare Side by Side"))
        action.setObjectName("compare")
        action.setEnabled(bool(pair))
        if not pair:
            action.setToolTip(self.tr("Select two finished videos to compare them"))
        action.setShortcut(QKeySequence(COMPARE_SHORTCUT))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.setShortcutVisibleInContextMenu(True)
        action.triggered.connect(lambda _=False, p=pair: self.compare(p))
