"""The studio's layout: compose on the left, the video at the centre, queue and gallery right.

The stage (the preview) takes every pixel the window gains, in both directions: a 9:16 result
is as tall as the window allows, a 21:9 one as wide as the stage. The side panels keep their
own widths (and can be dragged or collapsed); in a window too narrow for both beside the stage
(a laptop's 1024 × 640) the lists go under it. The stage also goes full screen (the player
becomes a window of its own, so nothing else in the main window is touched) and steps through
finished results with the keyboard in the order the visible list or gallery shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QLabel,
    QMenu,
    QMenuBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.ui.gallery import has_video
from runway_desktop.ui.preview import PreviewPlayer
from runway_desktop.ui.queue_model import Roles

if TYPE_CHECKING:
    from runway_desktop.ui.gallery import GalleryView
    from runway_desktop.ui.queue_view import QueueView


STAGE_SHARE_ABOVE_LISTS = 60  # percent of the height, lists under the stage (startup_shell too)


def step_queue(queue: QueueView, delta: int) -> bool:
    """Select the finished video before (-1) or after (+1) the queue's current row, in the
    order the list shows (its filter and search apply)."""
    proxy = queue.proxy
    current = queue.list_view.currentIndex()
    row = current.row() if current.isValid() else (-1 if delta > 0 else proxy.rowCount())
    row += delta
    while 0 <= row < proxy.rowCount():
        generation = proxy.index(row, 0).data(Roles.GenerationRole)
        if generation is not None and has_video(generation):
            return queue.select_generation(generation.id)
        row += delta
    return False


class StageHolder(QWidget):
    """Holds the player in the layout; says where it went while it is full screen."""

    def __init__(self, player: PreviewPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stage")
        self.player = player
        self.away_label = QLabel(self.tr("Playing full screen. Press Esc to come back."), self)
        self.away_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.away_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.away_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # A player that is a window of its own takes no room here (QWidgetItem.isEmpty).
        layout.addWidget(player, 1)
        layout.addWidget(self.away_label, 1)


class StudioLayout(QObject):
    """Builds the splitters; owns full screen and stepping.

    `splitter`: compose | right_splitter; `right_splitter`: stage | side tabs (queue, gallery).
    `step` moves the selection of the visible side view, so the preview, the context menu and
    the window's actions all follow the same item.
    """

    full_screen_changed = Signal(bool)

    def __init__(
        self,
        window: QWidget,
        compose: QWidget,
        player: PreviewPlayer,
        queue: QueueView,
        gallery: GalleryView,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._player = player
        self.queue = queue
        self.gallery = gallery
        self.stage = StageHolder(player, window)
        self.side_tabs = QTabWidget(window)
        self.side_tabs.setObjectName("side_tabs")
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.addTab(queue, self.tr("&Queue"))
        self.side_tabs.addTab(gallery, self.tr("&Gallery"))
        self.side_tabs.setTabToolTip(0, self.tr("Everything you made, waiting and running"))
        self.side_tabs.setTabToolTip(1, self.tr("Finished videos as a grid, by day"))

        self.right_splitter = QSplitter(Qt.Orientation.Horizontal, window)
        self.right_splitter.setObjectName("stage_splitter")
        self.right_splitter.addWidget(self.stage)
        self.right_splitter.addWidget(self.side_tabs)
        self.right_splitter.setStretchFactor(0, 1)  # the stage takes what the window gains
        self.right_splitter.setStretchFactor(1, 0)
        self.right_splitter.setCollapsible(0, False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, window)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(compose)
        self.splitter.addWidget(self.right_splitter)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)

        # Too narrow for the stage and the lists side by side, the lists go under the stage:
        # the window may be as small as a laptop's screen (side by side it could not be made
        # narrower than ~1340 px).
        self._keep_minimum_width()
        self._split_sizes: dict[Qt.Orientation, list[int]] = {}  # per orientation, as left
        self.right_splitter.installEventFilter(self)
        # The player gains buttons later (Extend, Export Clip: ui/clip_actions.py): its
        # minimum width is followed, or they were squeezed to "Exp…ip…" at the smallest size.
        self.stage.installEventFilter(self)

        self.side_tabs.currentChanged.connect(self._carry_selection)
        player.full_screen_requested.connect(self.toggle_full_screen)
        player.step_requested.connect(self.step)
        self.actions = self._build_actions(window)
        window.installEventFilter(self)  # closing the window brings the player back first

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Close:
            self.set_full_screen(False)
        elif watched is self.right_splitter and event.type() == QEvent.Type.Resize:
            self._fit_stage_and_lists()
        elif watched is self.stage and event.type() == QEvent.Type.LayoutRequest:
            self._keep_minimum_width()
        return super().eventFilter(watched, event)

    def _keep_minimum_width(self) -> None:
        """Under each other (a vertical splitter doesn't count its children's widths), the
        stage and the lists still need their own minimum widths."""
        self.right_splitter.setMinimumWidth(max(self.stage.minimumSizeHint().width(),
                                                self.side_tabs.minimumSizeHint().width()))

    def side_by_side_width(self) -> int:
        """The width the stage and the lists need side by side."""
        return (self.stage.minimumSizeHint().width() + self.side_tabs.minimumSizeHint().width()
                + self.right_splitter.handleWidth())

    def _fit_stage_and_lists(self) -> None:
        splitter = self.right_splitter
        wide = splitter.width() >= self.side_by_side_width()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if splitter.orientation() == orientation:
            return
        self._split_sizes[splitter.orientation()] = splitter.sizes()
        splitter.setOrientation(orientation)
        kept = self._split_sizes.get(orientation)
        if kept:  # as the person left it in this orientation
            splitter.setSizes(kept)
        elif not wide:  # the stage takes most of the height: the video stays at the centre
            height = splitter.height()
            splitter.setSizes([height * STAGE_SHARE_ABOVE_LISTS // 100,
                               height - height * STAGE_SHARE_ABOVE_LISTS // 100])

    # -- the View menu ------------------------------------------------------------------------

    def _build_actions(self, window: QWidget) -> dict[str, QAction]:
        """The View menu's entries, all working anywhere in the window: F11, Ctrl+1/2, and K/J
        (a text field still types them: it takes letters before shortcuts). Left/Right step
        only while the player has the keys: elsewhere they move in text, the grid and the
        ratio buttons (the player's own shortcuts; full screen it has K/J and F11 too)."""
        actions: dict[str, QAction] = {}

        def add(name: str, text: str, key: str, slot: Callable[[], object]) -> None:
            action = QAction(text, window)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _=False: slot())
            window.addAction(action)
            actions[name] = action

        add("full_screen", self.tr("&Full Screen Preview"), "F11", self.toggle_full_screen)
        add("previous_result", self.tr("&Previous Result"), "K", lambda: self.step(-1))
        add("next_result", self.tr("&Next Result"), "J", lambda: self.step(1))
        add("show_queue", self.tr("&Queue"), "Ctrl+1",
            lambda: self.show_gallery(False, focus=True))
        add("show_gallery", self.tr("&Gallery"), "Ctrl+2",
            lambda: self.show_gallery(True, focus=True))
        return actions

    def add_view_menu(self, bar: QMenuBar) -> QMenu:
        menu = bar.addMenu(self.tr("&View"))
        for name in ("full_screen", "previous_result", "next_result"):
            menu.addAction(self.actions[name])
        menu.addSeparator()
        for name in ("show_queue", "show_gallery"):
            menu.addAction(self.actions[name])
        return menu

    # -- full screen --------------------------------------------------------------------------

    def is_full_screen(self) -> bool:
        return self._player.isWindow()

    def toggle_full_screen(self) -> None:
        self.set_full_screen(not self.is_full_screen())

    def set_full_screen(self, on: bool) -> None:
        player = self._player
        if on == self.is_full_screen():
            return
        with player.moving():
            if on:
                player.setWindowFlags(Qt.WindowType.Window)
                player.set_full_screen(True)
                self.stage.away_label.show()
                # The screen the window is on, sized here too: without a window manager
                # (a kiosk X session) nobody else would resize it.
                player.setGeometry(self._window.screen().geometry())
                player.showFullScreen()
                player.activateWindow()
                player.setFocus(Qt.FocusReason.OtherFocusReason)
            else:
                player.setWindowState(Qt.WindowState.WindowNoState)
                player.setWindowFlags(Qt.WindowType.Widget)
                player.set_full_screen(False)
                self.stage.away_label.hide()
                player.show()
                self._window.activateWindow()
                player.setFocus(Qt.FocusReason.OtherFocusReason)
        self.full_screen_changed.emit(on)

    # -- stepping -----------------------------------------------------------------------------

    def gallery_shown(self) -> bool:
        return self.side_tabs.currentWidget() is self.gallery

    def show_gallery(self, on: bool = True, *, focus: bool = False) -> None:
        """Show the gallery (or the queue); `focus`: its list takes the keys too (Ctrl+1/2,
        so the list's own keys, Return, F, Delete…, work straight away)."""
        self.side_tabs.setCurrentWidget(self.gallery if on else self.queue)
        if focus:
            view = self.gallery.list_view if on else self.queue.list_view
            view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _carry_selection(self, _index: int) -> None:
        """The list coming into sight selects what the other one had (the preview shows it),
        so its keys act on what is seen: after Ctrl+2 the grid had nothing selected, and
        Del, Return or F did nothing while the preview showed a video."""
        if self.gallery_shown():
            shown = self.queue.current_generation()
            if shown is not None and shown != self.gallery.current_generation():
                self.gallery.adopt(shown.id)
        else:
            shown = self.gallery.current_generation()
            if shown is not None and shown != self.queue.current_generation():
                self.queue.adopt(shown.id)

    def step(self, delta: int) -> bool:
        """Show the previous (-1) or next (+1) finished result of the visible list; a playing
        video goes on playing with the new one."""
        playing = self._player.is_playing()
        if self.gallery_shown():
            moved = self.gallery.step_result(delta)
        else:
            moved = step_queue(self.queue, delta)
        if moved and playing:
            self._player.play()
        return moved
