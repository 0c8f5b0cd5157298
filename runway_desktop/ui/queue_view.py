"""The queue & history panel: filter and search, total progress, the list, its actions.

The view never acts on generations itself: every command leaves as a signal carrying ids, and
the window decides (and confirms) what happens. Only the clipboard actions are done here.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QEvent,
    QItemSelection,
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
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAction,
    QColor,
    QDragMoveEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QStatusTipEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QProgressBar,
    QProxyStyle,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.ui import queue_text
from runway_desktop.ui.queue_delegate import QueueDelegate
from runway_desktop.ui.queue_filter import QueueFilterModel, StatusFilter
from runway_desktop.ui.queue_model import QueueModel, Roles
from runway_desktop.ui.search_keys import SearchFieldKeys

_CONTEXT = "QueueView"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name lupdate looks for
    """Qt's translation marker, typed (PySide6's stub says it returns object): the text as is;
    `_tr` translates it where it is shown."""
    return text


class Scope(enum.Enum):
    ONE = "one"  # the item under the cursor / the current item
    ALL = "all"  # every selected item the action applies to


@dataclass(frozen=True)
class ActionSpec:
    name: str  # object name of the QAction and key in QueueView.shortcut_actions
    text: str  # untranslated (marked for lupdate); translated when the action is built
    shortcuts: tuple[QKeySequence.StandardKey | str, ...]
    command: Command  # the lifecycle table says when it applies (allowed_commands)
    scope: Scope = Scope.ONE
    checkable: bool = False
    separator_before: bool = False
    many: str = ""  # Scope.ALL: the text naming how many it acts on ("Remove {count} …")
    # Shown in that action's place (and its keys do this) where it applies and that one
    # doesn't; absent from the menu otherwise. Retry of a failure sent anew shows the copy.
    replaces: str = ""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "play", QT_TRANSLATE_NOOP(_CONTEXT, "Play"), ("Return", "Enter"), Command.PLAY
    ),
    ActionSpec("open", QT_TRANSLATE_NOOP(_CONTEXT, "Open File"), ("Ctrl+O",), Command.OPEN),
    ActionSpec(
        "reveal",
        QT_TRANSLATE_NOOP(_CONTEXT, "Reveal in Folder"),
        ("Ctrl+Shift+R",),
        Command.REVEAL,
    ),
    ActionSpec(
        "copy_url",
        QT_TRANSLATE_NOOP(_CONTEXT, "Copy Video URL"),
        ("Ctrl+Shift+C",),
        Command.COPY_URL,
        separator_before=True,
    ),
    ActionSpec("copy_prompt", QT_TRANSLATE_NOOP(_CONTEXT, "Copy Prompt"),
               (QKeySequence.StandardKey.Copy,), Command.COPY_PROMPT),
    ActionSpec("copy_seed", QT_TRANSLATE_NOOP(_CONTEXT, "Copy Seed"), ("Alt+Shift+C",),
               Command.COPY_SEED),
    ActionSpec(
        "favourite",
        QT_TRANSLATE_NOOP(_CONTEXT, "Favourite"),
        ("F",),
        Command.FAVOURITE,
        scope=Scope.ALL,
        checkable=True,
        separator_before=True,
        many=QT_TRANSLATE_NOOP(_CONTEXT, "Favourite {count} Generations"),
    ),
    ActionSpec(
        "reuse", QT_TRANSLATE_NOOP(_CONTEXT, "Re-use Settings"), ("Ctrl+E",), Command.REUSE
    ),
    ActionSpec(
        "rerun",
        QT_TRANSLATE_NOOP(_CONTEXT, "Re-run with New Seed"),
        ("Ctrl+Shift+E",),
        Command.RERUN,
    ),
    ActionSpec(
        "extend",
        QT_TRANSLATE_NOOP(_CONTEXT, "Extend…"),
        ("X",),
        Command.EXTEND,
    ),
    ActionSpec(
        "retry",
        QT_TRANSLATE_NOOP(_CONTEXT, "Retry"),
        ("Ctrl+Shift+T",),
        Command.RETRY,
        scope=Scope.ALL,
        separator_before=True,
        many=QT_TRANSLATE_NOOP(_CONTEXT, "Retry {count} Generations"),
    ),
    ActionSpec(
        "show_sent_again",
        QT_TRANSLATE_NOOP(_CONTEXT, "Show #{id}, Sent Again"),
        (),  # in Retry's place, with Retry's keys (no action, no keys of its own)
        Command.SHOW_SENT_AGAIN,
        replaces="retry",
    ),
    ActionSpec(
        "redownload",
        QT_TRANSLATE_NOOP(_CONTEXT, "Download Again"),
        ("Ctrl+Shift+D",),
        Command.REDOWNLOAD,
    ),
    ActionSpec(
        "stop_following",
        QT_TRANSLATE_NOOP(_CONTEXT, "Stop Following…"),
        ("Ctrl+Shift+F",),
        Command.STOP_FOLLOWING,
    ),
    ActionSpec(
        "run_next",
        QT_TRANSLATE_NOOP(_CONTEXT, "Run Next"),
        ("Ctrl+Shift+N",),
        Command.REORDER,
        scope=Scope.ALL,
        many=QT_TRANSLATE_NOOP(_CONTEXT, "Run {count} Generations Next"),
    ),
    ActionSpec(
        "cancel",
        QT_TRANSLATE_NOOP(_CONTEXT, "Cancel"),
        ("Ctrl+Backspace",),
        Command.CANCEL,
        scope=Scope.ALL,
        many=QT_TRANSLATE_NOOP(_CONTEXT, "Cancel {count} Generations"),
    ),
    ActionSpec(
        "remove",
        QT_TRANSLATE_NOOP(_CONTEXT, "Remove from History"),
        ("Delete",),
        Command.REMOVE,
        scope=Scope.ALL,
        separator_before=True,
        many=QT_TRANSLATE_NOOP(_CONTEXT, "Remove {count} Generations from History"),
    ),
    ActionSpec(
        "remove_with_file",
        QT_TRANSLATE_NOOP(_CONTEXT, "Remove and Move Video to Trash"),
        ("Shift+Delete",),
        Command.REMOVE_WITH_FILE,
        scope=Scope.ALL,
        many=QT_TRANSLATE_NOOP(
            _CONTEXT, "Remove {count} Generations and Move Their Videos to Trash"
        ),
    ),
)
ACTION_SPECS = {spec.name: spec for spec in ACTIONS}


def action_text(spec: ActionSpec, count: int, primary: Generation | None = None) -> str:
    """The menu text; an action on several items says how many."""
    if count > 1 and spec.many:
        return _tr(spec.many).format(count=count)
    if spec.command is Command.SHOW_SENT_AGAIN and primary is not None:
        return _tr(spec.text).format(id=primary.sent_again_as)
    return _tr(spec.text)


_REPLACED_BY = {spec.replaces: spec for spec in ACTIONS if spec.replaces}


def _why_not(spec: ActionSpec, primary: Generation, count: int) -> str:
    """Why `spec` does nothing for `primary` (and `count` rows in all); "" when unsaid."""
    if count == 1 or not spec.many:
        return queue_text.unavailable_text(primary, spec.command)
    return _tr("None of the {count} selected.").format(count=count)


def _say_why_not(action: QAction, spec: ActionSpec, primary: Generation, count: int) -> None:
    """A greyed-out action says why: as its tooltip (the mouse) and its status tip (the
    window's status bar, also while the keys move through the menu: `_GreyedReasons`)."""
    why = _why_not(spec, primary, count)
    action.setToolTip(why)
    action.setStatusTip(why)


class _GreyedReachableStyle(QProxyStyle):
    """The keys reach a greyed-out menu entry, as in the native menus of Windows and macOS:
    Fusion skipped them, so a keyboard user never met the reason one gives."""

    def styleHint(self, hint: QStyle.StyleHint, option: QStyleOption | None = None,
                  widget: QWidget | None = None, returnData: Any = None) -> int:
        if hint == QStyle.StyleHint.SH_Menu_AllowActiveAndDisabled:
            return 1
        return super().styleHint(hint, option, widget, returnData)

    def drawControl(self, element: QStyle.ControlElement, option: QStyleOption,
                    painter: QPainter, widget: QWidget | None = None) -> None:
        """Fusion highlights only an enabled entry: the keys' place on a greyed one is shown
        by a paler highlight under its greyed words."""
        state = QStyle.StateFlag
        if (element == QStyle.ControlElement.CE_MenuItem and option.state & state.State_Selected
                and not option.state & state.State_Enabled):
            colour = QColor(option.palette.color(QPalette.ColorGroup.Active,
                                                 QPalette.ColorRole.Highlight))
            colour.setAlphaF(0.18)
            painter.fillRect(option.rect, colour)
        super().drawControl(element, option, painter, widget)


class _GreyedReasons(QObject):
    """A greyed-out entry the keys (or the mouse) land on says why: in the window's status
    bar, to a screen reader (an announcement), and, reached by the keys, in a tooltip beside
    it (the mouse has Qt's own). Qt says an entry's status tip only while it is enabled."""

    def __init__(self, menu: QMenu, status_target: QWidget) -> None:
        super().__init__(menu)
        self._menu = menu
        self._status_target = status_target
        self._by_keys = False
        self._said = False
        self._tip: tuple[QAction, str] | None = None  # to show once the key is let go
        menu.installEventFilter(self)
        menu.hovered.connect(self._on_hovered)
        menu.aboutToHide.connect(self._clear)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            self._by_keys = True
            self._tip = None
        elif event.type() == QEvent.Type.KeyRelease and self._tip is not None:
            # Now: Qt's tooltip hides itself at any key's press or release (the app's filter
            # has seen this release already).
            (action, why), self._tip = self._tip, None
            if self._menu.activeAction() is action:
                place = self._menu.actionGeometry(action)  # beside it, not over the next
                QToolTip.showText(self._menu.mapToGlobal(place.topRight()), why, self._menu,
                                  place)
        elif event.type() == QEvent.Type.MouseMove:
            self._by_keys = False
        return False

    def _on_hovered(self, action: QAction) -> None:
        why = "" if action.isEnabled() else action.statusTip()
        if not why:
            self._said = False  # an enabled entry's own status tip replaces ours
            return
        self._said = True
        QCoreApplication.sendEvent(self._status_target, QStatusTipEvent(why))
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(
            self._menu, f"{action.text().replace('&', '')}: {why}"))
        if self._by_keys:
            self._tip = (action, why)

    def _clear(self) -> None:
        if self._said:
            QCoreApplication.sendEvent(self._status_target, QStatusTipEvent(""))
            self._said = False


_UNFAVOURITE = QT_TRANSLATE_NOOP(_CONTEXT, "Unfavourite")
_UNFAVOURITE_MANY = QT_TRANSLATE_NOOP(_CONTEXT, "Unfavourite {count} Generations")


def favourite_text(primary: Generation, targets: Sequence[Generation]) -> str:
    """Favourite for several rows: the row acted on decides the way (`_favourite`), and the
    count is of the rows that change. 'Favourite 120 Generations', ticked because the row
    right-clicked was one, took 17 favourites away."""
    on = not primary.favourite
    count = sum(1 for t in targets if t.favourite != on)
    if on:
        return action_text(ACTION_SPECS["favourite"], count)
    return _tr(_UNFAVOURITE_MANY).format(count=count) if count > 1 else _tr(_UNFAVOURITE)

_FILTERS: tuple[tuple[StatusFilter, str, str], ...] = (
    (
        StatusFilter.ALL,
        QT_TRANSLATE_NOOP(_CONTEXT, "All"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Show every generation"),
    ),
    (
        StatusFilter.ACTIVE,
        QT_TRANSLATE_NOOP(_CONTEXT, "Active"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Show waiting and running generations"),
    ),
    (
        StatusFilter.DONE,
        QT_TRANSLATE_NOOP(_CONTEXT, "Done"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Show finished videos"),
    ),
    (
        StatusFilter.FAILED,
        QT_TRANSLATE_NOOP(_CONTEXT, "Failed"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Show generations that failed or need attention"),
    ),
    (
        StatusFilter.FAVOURITES,
        QT_TRANSLATE_NOOP(_CONTEXT, "Favourites"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Show favourites only"),
    ),
)



def paint_empty_text(view: QAbstractItemView, text: str) -> None:
    """Say something in an empty list (from its paintEvent, after the list painted itself)."""
    model = view.model()
    if model is None or model.rowCount() or not text:
        return
    painter = QPainter(view.viewport())
    painter.setPen(view.palette().color(QPalette.ColorRole.PlaceholderText))
    painter.drawText(view.viewport().rect().adjusted(24, 24, -24, -24),
                     Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    painter.end()

class QueueListView(QListView):
    """The list itself: picks copy vs move per drag, says something when empty, and keeps the
    rows in sight where they are when others come or go above them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = ""
        self.hold_place = True  # off while the person filters (the list is theirs to move)
        self._anchor: tuple[QPersistentModelIndex, int, int] | None = None

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            model.rowsAboutToBeInserted.connect(self._hold_place)
            model.rowsAboutToBeRemoved.connect(self._hold_place)

    def _hold_place(self, *_: object) -> None:
        """Rows arrive or leave (a sequence's next take, a CLI batch, another window's Clear):
        the row at the top of the list as scrolled stays where it is. Rows above it pushed
        what the person read (and was about to click) down, or pulled it up. At the very top
        new rows show, as the newest always did. (Rows are one height: uniformItemSizes.)"""
        model = self.model()
        value = self.verticalScrollBar().value()
        if not self.hold_place or self._anchor is not None or not value or model is None:
            return
        row_height = self.sizeHintForRow(0)
        if row_height <= 0:
            return
        row = value // row_height
        if row < model.rowCount():
            self._anchor = (QPersistentModelIndex(model.index(row, 0)), row, value)

    def updateGeometries(self) -> None:
        super().updateGeometries()
        anchor, self._anchor = self._anchor, None
        if anchor is None or not anchor[0].isValid():
            return  # the row at the top went itself: Qt's own place
        index, row, value = anchor
        if index.row() != row:
            self.verticalScrollBar().setValue(value + (index.row() - row)
                                              * self.sizeHintForRow(0))

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        indexes = [i for i in self.selectedIndexes() if i.flags() & Qt.ItemFlag.ItemIsDragEnabled]
        if not indexes:
            return
        if all(allows(i.data(Roles.GenerationRole), Command.REORDER) for i in indexes):
            actions = Qt.DropAction.MoveAction  # reordering the queue
        else:
            actions = Qt.DropAction.CopyAction  # a video out to another app: never a move
        super().startDrag(actions)

    def moveCursor(self, cursorAction: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """PageUp/PageDown move by the rows in sight, at least one. Qt's own step is the
        viewport's height less two rows: in a list under three rows high (the window at
        1024 × 640) it went nowhere, or a row the wrong way."""
        move = QAbstractItemView.CursorAction
        current = self.currentIndex()
        model = self.model()
        if cursorAction not in (move.MovePageUp, move.MovePageDown) or not current.isValid() \
                or model is None:
            return super().moveCursor(cursorAction, modifiers)
        row_height = max(1, self.sizeHintForRow(current.row()))
        step = max(1, self.viewport().height() // row_height - 1)
        if cursorAction is move.MovePageUp:
            step = -step
        row = min(max(current.row() + step, 0), model.rowCount() - 1)
        return model.index(row, 0)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.source() is not self:  # only our own pending items are dropped here
            event.ignore()
            return
        super().dragMoveEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        paint_empty_text(self, self.empty_text)


class QueueView(QWidget):
    play_requested = Signal(int)
    open_requested = Signal(int)
    reveal_requested = Signal(int)
    favourite_toggled = Signal(int, bool)
    reuse_requested = Signal(int)
    rerun_requested = Signal(int)
    extend_requested = Signal(int)  # a next shot from its last frame (the compose panel asks)
    retry_requested = Signal(int)
    redownload_requested = Signal(int)  # a finished video whose file is gone
    stop_following_requested = Signal(int)  # the window asks for confirmation
    cancel_requested = Signal(list)  # [generation id]
    cancel_pending_requested = Signal()
    clear_finished_requested = Signal()
    remove_requested = Signal(list, bool)  # [generation id], delete the video file too
    reorder_requested = Signal(int, object)  # generation id, run before this id (None: last)
    selection_changed = Signal(object)  # the selected Generation or None
    action_requested = Signal(int, object)  # the fix shown on a problem row: id, Action

    def __init__(
        self,
        model: QueueModel | None = None,
        parent: QWidget | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("queueView")
        self.setAccessibleName(_tr("Queue"))
        self.model = model if model is not None else QueueModel(parent=self)
        self.proxy = QueueFilterModel(self)
        # Rows gone from the history (not only from the filter) are told apart: before the
        # proxy connects, so this runs before the proxy passes the removal on.
        self._source_removing = False
        self.model.rowsAboutToBeRemoved.connect(self._on_source_removing)
        self.proxy.setSourceModel(self.model)
        self.model.rowsRemoved.connect(self._on_source_removed)
        # Before the list's selection model connects: it drops the leaving rows' selection.
        self._selection_leaving = False
        self._filtering = False  # the person changes the filter or the search
        self.proxy.rowsAboutToBeRemoved.connect(self._before_rows_leave)
        self.delegate = QueueDelegate(self, clock=clock)
        self.list_view = QueueListView(self)
        self.shortcut_actions: dict[str, QAction] = {}
        self._last_selected: Generation | None = None
        self._holding = False
        self._added: list[int] | None = None  # new rows a command made (`_showing_added`)
        self._greyed_style: QStyle | None = None  # the row menus' (`_menu_style`)
        # Entries other parts add to the menu (the window's Compare): each is called with the
        # menu, the item under the mouse and the items the menu acts on.
        self.menu_extensions: list[Callable[[QMenu, Generation, list[Generation]], None]] = []
        Handler = Callable[[Generation, list[Generation]], None]
        self._handlers: dict[Command, Handler] = {
            Command.PLAY: self._play,
            Command.OPEN: self._open,
            Command.REVEAL: self._reveal,
            Command.COPY_URL: self._copy_url,
            Command.COPY_SEED: self._copy_seed,
            Command.COPY_PROMPT: self._copy_prompt,
            Command.SHOW_SENT_AGAIN: self._show_sent_again,
            Command.FAVOURITE: self._favourite,
            Command.REUSE: self._reuse,
            Command.RERUN: self._rerun,
            Command.EXTEND: self._extend,
            Command.RETRY: self._retry,
            Command.REORDER: self._run_next,
            Command.REDOWNLOAD: self._redownload,
            Command.STOP_FOLLOWING: self._stop_following,
            Command.CANCEL: self._cancel,
            Command.REMOVE: self._remove,
            Command.REMOVE_WITH_FILE: self._remove_with_file,
        }

        self._build_header()
        self._build_list()
        self._build_shortcuts()

        # Elapsed times of running rows tick once a second, and only while something runs.
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh_running_rows)
        self._actions_timer = QTimer(self)
        self._actions_timer.setSingleShot(True)
        self._actions_timer.setInterval(0)
        self._actions_timer.timeout.connect(self._update_shortcut_actions)

        self.model.reorder_requested.connect(self.reorder_requested)
        self.model.summary_changed.connect(self._refresh_summary)
        self.model.modelReset.connect(self._refresh_summary)
        self.model.dataChanged.connect(self._on_data_changed)
        self.delegate.action_requested.connect(self.action_requested)
        # Qt does not always report a selection that vanished with its rows: check ourselves.
        self.proxy.rowsRemoved.connect(self._after_rows_left)
        self.proxy.rowsRemoved.connect(self._on_selection_changed)
        self.proxy.modelReset.connect(self._on_selection_changed)
        self._refresh_summary()

    # -- construction --------------------------------------------------------------------

    def _build_header(self) -> None:
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_buttons: dict[StatusFilter, QToolButton] = {}
        filters = QHBoxLayout()
        filters.setSpacing(2)
        for status, text, tip in _FILTERS:
            button = QToolButton(self)
            button.setText(_tr(text))
            button.setToolTip(_tr(tip))
            button.setAccessibleName(_tr("Filter: {name}").format(name=_tr(text)))
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.toggled.connect(lambda on, s=status: self._on_filter_toggled(s, on))
            self.filter_group.addButton(button)
            self.filter_buttons[status] = button
            filters.addWidget(button)
        self.filter_buttons[StatusFilter.ALL].setChecked(True)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(_tr("Search prompts"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(_tr("Search generations"))
        self.search_edit.setToolTip(_tr("Search by prompt, seed or job ID (Ctrl+F)"))
        self.search_edit.setMinimumWidth(100)
        self.search_edit.textChanged.connect(self._on_search)
        SearchFieldKeys(self.search_edit, self._to_results)  # Down, Return, Esc
        find = QAction(_tr("Search Prompts"), self)
        find.setObjectName("find")
        find.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self._focus_search)
        self.addAction(find)

        self.summary_label = QLabel(self)
        self.summary_label.setAccessibleDescription(_tr("Queue progress"))  # read: its words
        self.total_bar = QProgressBar(self)
        self.total_bar.setRange(0, 100)
        self.total_bar.setTextVisible(False)
        self.total_bar.setFixedHeight(max(4, self.fontMetrics().height() // 3))
        self.total_bar.setMinimumWidth(48)
        self.total_bar.setMaximumWidth(180)
        self.total_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.total_bar.setAccessibleName(_tr("Total progress"))

        self.cancel_pending_button = QPushButton(_tr("Cancel pending"), self)
        self.cancel_pending_button.setToolTip(
            _tr("Cancel the waiting generations the list shows (nothing is charged)")
        )
        self.cancel_pending_button.setAccessibleName(_tr("Cancel pending generations"))
        self.cancel_pending_button.clicked.connect(self.cancel_pending_requested)
        self.clear_finished_button = QPushButton(_tr("Clear finished"), self)
        self.clear_finished_button.setToolTip(
            _tr("Remove the finished, failed and cancelled generations the list shows from it "
                "(files stay)")
        )
        self.clear_finished_button.setAccessibleName(_tr("Clear finished generations"))
        self.clear_finished_button.clicked.connect(self.clear_finished_requested)
        # The two buttons' keys, anywhere in the queue panel (the window confirms either).
        push: QAbstractButton
        for name, text, keys, push in (
                ("cancel_pending", _tr("Cancel Pending"), "Ctrl+Shift+Backspace",
                 self.cancel_pending_button),
                ("clear_finished", _tr("Clear Finished"), "Ctrl+Shift+Delete",
                 self.clear_finished_button)):
            action = QAction(text, self)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, b=push: b.isEnabled() and b.click())
            self.addAction(action)
            push.setToolTip(_tr("{tip} ({keys})").format(
                tip=push.toolTip(),
                keys=QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)))

        top = QHBoxLayout()
        top.addLayout(filters)
        top.addSpacing(8)
        top.addWidget(self.search_edit, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary_label)
        bottom.addWidget(self.total_bar, 1, Qt.AlignmentFlag.AlignVCenter)
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_pending_button)
        bottom.addWidget(self.clear_finished_button)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        header = QVBoxLayout()
        header.setContentsMargins(8, 8, 8, 8)
        header.setSpacing(6)
        header.addLayout(top)
        header.addLayout(bottom)
        outer.addLayout(header)

    def _build_list(self) -> None:
        view = self.list_view
        view.setObjectName("queueList")
        view.setAccessibleName(_tr("Generations"))
        view.setModel(self.proxy)
        view.setItemDelegate(self.delegate)
        view.setUniformItemSizes(True)  # one sizeHint for all rows: 10,000 rows stay smooth
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setFrameShape(QFrame.Shape.NoFrame)
        view.setMouseTracking(True)
        view.setDragEnabled(True)
        view.setAcceptDrops(True)
        view.setDropIndicatorShown(True)
        view.setDragDropOverwriteMode(False)
        view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        view.setDefaultDropAction(Qt.DropAction.MoveAction)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show_context_menu)
        view.doubleClicked.connect(self._on_double_clicked)
        view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        view.selectionModel().currentChanged.connect(self._on_selection_changed)
        rule = QFrame(self)
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Plain)
        rule.setForegroundRole(QPalette.ColorRole.Mid)  # a quiet line in light and dark
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addWidget(rule)
        layout.addWidget(view, 1)

    def _build_shortcuts(self) -> None:
        """One QAction per table row on the list: keyboard access to the same commands (and
        why one does nothing: `_say_why_keys_do_nothing`)."""
        self.list_view.installEventFilter(self)
        for spec in ACTIONS:
            if not spec.shortcuts:
                continue  # one shown in another's place has its keys (`_REPLACED_BY`)
            action = QAction(_tr(spec.text), self.list_view)
            action.setObjectName(spec.name)
            action.setShortcuts([QKeySequence(k) for k in spec.shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, s=spec: self._trigger_on_selection(s))
            self.list_view.addAction(action)
            self.shortcut_actions[spec.name] = action
        self._update_shortcut_actions()

    # -- public API ----------------------------------------------------------------------

    def current_generation(self) -> Generation | None:
        """The item the keyboard acts on: the current row if selected, else the first selected."""
        current = self.list_view.currentIndex()
        selection = self.list_view.selectionModel()
        if current.isValid() and selection.isSelected(current):
            return current.data(Roles.GenerationRole)
        selected = self.selected_generations()
        return selected[0] if selected else None

    def selected_generations(self) -> list[Generation]:
        rows = sorted(self.list_view.selectionModel().selectedRows(), key=lambda i: i.row())
        return [i.data(Roles.GenerationRole) for i in rows]

    def select_generation(self, generation_id: int) -> bool:
        """Make this the one selected row (whatever keys are held: Ctrl+Enter holds Ctrl,
        and setCurrentIndex then added each new row to the selection)."""
        index = self._list_index(generation_id)
        if not index.isValid():
            return False
        flags = QItemSelectionModel.SelectionFlag
        self.list_view.selectionModel().setCurrentIndex(
            index, flags.ClearAndSelect | flags.Rows
        )
        self.list_view.scrollTo(index)
        return True

    def select_generations(self, generation_ids: list[int]) -> None:
        """Exactly these rows selected (the first one current), e.g. rows brought back."""
        if not generation_ids or not self.select_generation(generation_ids[0]):
            return
        selection = self.list_view.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        for generation_id in generation_ids[1:]:
            if (index := self._list_index(generation_id)).isValid():
                selection.select(index, flags.Select | flags.Rows)

    def shown_ids(self, generation_ids: Iterable[int]) -> list[int]:
        """Those of these rows the list shows: the header's Clear finished and Cancel pending
        act on them only (a filter or a search hides the others from the person)."""
        if not self.proxy.search_text and self.proxy.status_filter is StatusFilter.ALL:
            return list(generation_ids)
        return [i for i in generation_ids if self._list_index(i).isValid()]

    def _list_index(self, generation_id: int) -> QModelIndex:
        """The row's index in the list as shown (invalid: not in the history, or filtered out)."""
        source = self.model.index_of(generation_id)
        return self.proxy.mapFromSource(source) if source.isValid() else QModelIndex()

    def adopt(self, generation_id: int) -> bool:
        """Select what the preview already shows (the gallery's selection, when the list comes
        into sight), without telling the preview again: it would load it anew, stopping it."""
        self._last_selected = self.model.generation(generation_id)
        if self._last_selected is not None and self.select_generation(generation_id):
            return True
        # Not in the list as filtered: nothing is selected, so no key acts on a row other
        # than the one shown (the list's earlier pick stayed selected, and Del removed it).
        self._last_selected = None
        self.list_view.clearSelection()
        return False

    def show_and_select(self, generation_id: int) -> bool:
        """Make this the one selected row and bring it into sight: a filter or a search that
        hides it is cleared (after Generate the new row is what the person looks for, and no
        row selected before may stay a target). False when the list doesn't have it."""
        if self.select_generation(generation_id):
            return True
        if not self.model.index_of(generation_id).isValid():
            self.list_view.clearSelection()
            return False
        self.search_edit.clear()
        self.set_status_filter(StatusFilter.ALL)
        return self.select_generation(generation_id)

    def show_added(self, generation: Generation | None, instead_of: int | None = None) -> None:
        """A command on a row made a new one (Re-run with New Seed; Retry of a failure apiframe
        refunded, sent anew): it is selected and brought into sight, as after Generate. It
        came in at the top, out of sight in a long list, and the row acted on stayed as it was:
        nothing seemed to happen, and a second Retry paid again. `instead_of`: the row acted
        on (a Retry that carried it on made nothing new)."""
        if generation is None or generation.id == instead_of:
            return
        if self._added is not None:  # several at once: selected together, after
            self._added.append(generation.id)
            return
        self._show_rows([generation.id])

    @contextlib.contextmanager
    def _showing_added(self) -> Iterator[None]:
        self._added = []
        try:
            yield
        finally:
            added, self._added = self._added, None
            if added:
                self._show_rows(added)

    def _show_rows(self, generation_ids: list[int]) -> None:
        """These rows selected and the first in sight; a filter or search that hides one of
        them is cleared (as `show_and_select`)."""
        known = [i for i in generation_ids if self.model.index_of(i).isValid()]
        if not known:
            return
        if not all(self._list_index(i).isValid() for i in known):
            self.search_edit.clear()
            self.set_status_filter(StatusFilter.ALL)
        self.select_generations(known)

    @contextlib.contextmanager
    def selection_held(self) -> Iterator[None]:
        """Report the selection once, after many rows change: removing selected rows one by
        one moved the selection (and the preview's loading) through each of them. When the
        selected rows went, the row now in their place (the list's current row) is selected:
        the keyboard's ring was left on a row that no key acted on (Del, Return, F…)."""
        selection = self.list_view.selectionModel()
        had_selection = selection.hasSelection()
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            current = self.list_view.currentIndex()
            # Not while the gallery shows (its own neighbour is selected there): two
            # selections would load two videos into the one preview.
            if had_selection and not selection.hasSelection() and current.isValid() \
                    and self.list_view.isVisible():
                flags = QItemSelectionModel.SelectionFlag
                selection.setCurrentIndex(current, flags.ClearAndSelect | flags.Rows)
            self._on_selection_changed()

    def set_status_filter(self, status: StatusFilter) -> None:
        self.filter_buttons[StatusFilter(status)].setChecked(True)

    def build_context_menu(
        self, generation: Generation, selection: Sequence[Generation] | None = None
    ) -> QMenu:
        """The menu for `generation` (and the rest of `selection` for actions on many)."""
        targets = list(selection) if selection else [generation]
        if all(t.id != generation.id for t in targets):
            targets = [generation]
        menu = QMenu(self.list_view)
        menu.setObjectName("queueContextMenu")
        menu.setToolTipsVisible(True)  # a greyed-out action says why (`_say_why_not`)
        menu.setStyle(self._menu_style())  # …and the keys reach it (`_GreyedReasons`)
        _GreyedReasons(menu, self.list_view)
        for spec in ACTIONS:
            if spec.replaces:
                continue  # shown in the place of the one it replaces, if at all
            applicable = self._applicable(spec, generation, targets)
            if not applicable and (instead := _REPLACED_BY.get(spec.name)) is not None \
                    and (instead_applicable := self._applicable(instead, generation, targets)):
                # In its place: its name (the slot's), its keys, the other's words and deed.
                spec, applicable = replace(instead, name=spec.name, shortcuts=spec.shortcuts,
                                           separator_before=spec.separator_before), \
                    instead_applicable
            if spec.separator_before and not menu.isEmpty():
                menu.addSeparator()
            action = menu.addAction(action_text(spec, len(applicable), generation))
            action.setObjectName(spec.name)
            action.setEnabled(bool(applicable))
            if not applicable:
                _say_why_not(action, spec, generation, len(targets))
            if spec.checkable and len(applicable) > 1:
                action.setText(favourite_text(generation, applicable))  # says which way
            elif spec.checkable:
                action.setCheckable(True)
                action.setChecked(generation.favourite)
            if spec.shortcuts:
                # Shown in the menu; WidgetShortcut keeps it from clashing with the list's.
                action.setShortcut(QKeySequence(spec.shortcuts[0]))
                action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
                action.setShortcutVisibleInContextMenu(True)
            action.triggered.connect(
                lambda _=False, s=spec, g=generation, t=applicable: self._run(s, g, t)
            )
        for extend in self.menu_extensions:
            extend(menu, generation, targets)
        return menu

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list_view and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent):
            self._say_why_keys_do_nothing(event)
        return super().eventFilter(watched, event)

    def _say_why_keys_do_nothing(self, event: QKeyEvent) -> None:
        """An action's keys pressed where it doesn't apply (Ctrl+O on a row with no video):
        the status bar says why, as its greyed-out menu entry does. Nothing happened, and
        nothing said so."""
        pressed = QKeySequence(event.keyCombination())
        match = QKeySequence.SequenceMatch.ExactMatch
        for name, action in self.shortcut_actions.items():
            if action.isEnabled() or not any(k.matches(pressed) == match
                                             for k in action.shortcuts()):
                continue
            primary = self.current_generation()
            spec = ACTION_SPECS[name]
            why = _why_not(spec, primary, len(self.selected_generations() or [primary])) \
                if primary is not None else ""
            if why:
                QCoreApplication.sendEvent(self.list_view, QStatusTipEvent(
                    _tr("{action}: {why}").format(action=_tr(spec.text), why=why)))
            return

    def _menu_style(self) -> QStyle:
        """One style for the row menus, made at the first (after the list: Qt deletes
        children in order, so the menus go before their style)."""
        if self._greyed_style is None:
            self._greyed_style = _GreyedReachableStyle()
            self._greyed_style.setParent(self)
        return self._greyed_style

    def shutdown(self) -> None:
        """Stop the timer and the thumbnail readers (call before the app quits)."""
        self._tick.stop()
        self._actions_timer.stop()
        self.model.thumbnails.shutdown()

    # -- actions -------------------------------------------------------------------------

    @staticmethod
    def _applicable(
        spec: ActionSpec, primary: Generation, targets: Sequence[Generation]
    ) -> list[Generation]:
        if spec.scope is Scope.ONE:
            return [primary] if allows(primary, spec.command) else []
        return [t for t in targets if allows(t, spec.command)]

    def _trigger_on_selection(self, spec: ActionSpec) -> None:
        primary = self.current_generation()
        if primary is None:
            return
        selected = self.selected_generations() or [primary]
        targets = self._applicable(spec, primary, selected)
        if not targets and (instead := _REPLACED_BY.get(spec.name)) is not None:
            spec, targets = instead, self._applicable(instead, primary, selected)
        if targets:
            self._run(spec, primary, targets)

    def _run(self, spec: ActionSpec, primary: Generation, targets: list[Generation]) -> None:
        if targets:
            self._handlers[spec.command](primary, targets)

    def _play(self, primary: Generation, targets: list[Generation]) -> None:
        self.play_requested.emit(primary.id)

    def _open(self, primary: Generation, targets: list[Generation]) -> None:
        self.open_requested.emit(primary.id)

    def _reveal(self, primary: Generation, targets: list[Generation]) -> None:
        self.reveal_requested.emit(primary.id)

    def _copy_url(self, primary: Generation, targets: list[Generation]) -> None:
        if primary.video_url:
            QGuiApplication.clipboard().setText(primary.video_url)

    def _copy_seed(self, primary: Generation, targets: list[Generation]) -> None:
        QGuiApplication.clipboard().setText(str(primary.settings.seed))

    def _copy_prompt(self, primary: Generation, targets: list[Generation]) -> None:
        QGuiApplication.clipboard().setText(primary.settings.prompt)

    def _show_sent_again(self, primary: Generation, targets: list[Generation]) -> None:
        self.show_sent_again(primary.id)

    def show_sent_again(self, generation_id: int) -> bool:
        """Select the generation Retry made of this failure, and bring it into sight (a filter
        or search hiding it is cleared); False when there is none."""
        generation = self.model.generation(generation_id)
        if generation is None or not allows(generation, Command.SHOW_SENT_AGAIN):
            return False
        copy = generation.sent_again_as or 0
        if not self.model.index_of(copy).isValid():
            # Out of the list while its removal can still be undone: nothing to show, said.
            QCoreApplication.sendEvent(self.list_view, QStatusTipEvent(_tr(
                "#{id} was removed: Undo (Ctrl+Z) brings it back.").format(id=copy)))
            return True
        self._show_rows([copy])
        return True

    def _favourite(self, primary: Generation, targets: list[Generation]) -> None:
        on = not primary.favourite  # the item acted on decides; the rest follow it
        for g in targets:
            if g.favourite != on:
                self.favourite_toggled.emit(g.id, on)

    def _reuse(self, primary: Generation, targets: list[Generation]) -> None:
        self.reuse_requested.emit(primary.id)

    def _rerun(self, primary: Generation, targets: list[Generation]) -> None:
        with self._showing_added():
            self.rerun_requested.emit(primary.id)

    def _extend(self, primary: Generation, targets: list[Generation]) -> None:
        self.extend_requested.emit(primary.id)

    def _retry(self, primary: Generation, targets: list[Generation]) -> None:
        with self._showing_added():
            for g in targets:
                self.retry_requested.emit(g.id)

    def _run_next(self, primary: Generation, targets: list[Generation]) -> None:
        """The chosen waiting rows run before every other one, in the order they had. (A drag
        was the only way: out of reach of the keys, and in a list two rows high, of most
        hands.) They move to the bottom of the waiting rows, still selected, kept in sight."""
        chosen = {g.id for g in targets}
        others = [g for g in self.model.generations()
                  if g.id not in chosen and allows(g, Command.REORDER)]
        if not others:
            return  # nothing else waits: they run next already
        first = min(others, key=lambda g: (g.position, g.id))
        for generation in sorted(targets, key=lambda g: (g.position, g.id)):
            self.reorder_requested.emit(generation.id, first.id)
        current = self.list_view.currentIndex()
        if current.isValid():
            self.list_view.scrollTo(current)

    def _redownload(self, primary: Generation, targets: list[Generation]) -> None:
        self.redownload_requested.emit(primary.id)

    def _stop_following(self, primary: Generation, targets: list[Generation]) -> None:
        self.stop_following_requested.emit(primary.id)

    def _cancel(self, primary: Generation, targets: list[Generation]) -> None:
        self.cancel_requested.emit([g.id for g in targets])

    def _remove(self, primary: Generation, targets: list[Generation]) -> None:
        self.remove_requested.emit([g.id for g in targets], False)

    def _remove_with_file(self, primary: Generation, targets: list[Generation]) -> None:
        self.remove_requested.emit([g.id for g in targets], True)

    # -- reactions -----------------------------------------------------------------------

    def _show_context_menu(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        if not index.isValid():
            return
        generation = index.data(Roles.GenerationRole)
        menu = self.build_context_menu(generation, self.selected_generations())
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.list_view.viewport().mapToGlobal(pos))  # not exec(): no nested loop

    def _on_double_clicked(self, index: QModelIndex) -> None:
        generation = index.data(Roles.GenerationRole)
        if generation is not None and allows(generation, Command.PLAY):
            self.play_requested.emit(generation.id)

    def _to_results(self) -> None:
        view = self.list_view
        if not view.selectionModel().hasSelection() and self.proxy.rowCount():
            flags = QItemSelectionModel.SelectionFlag
            view.selectionModel().setCurrentIndex(self.proxy.index(0, 0),
                                                  flags.ClearAndSelect | flags.Rows)
        view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_selection_changed(self, *_: QItemSelection | QModelIndex) -> None:
        if self._holding:
            return
        self._update_shortcut_actions()
        selected = self.current_generation()
        if selected != self._last_selected:
            self._last_selected = selected
            self.selection_changed.emit(selected)

    def _on_data_changed(self, *_: object) -> None:
        # The selected record may have changed stage: its actions' enabled state follows,
        # once per event-loop turn however many progress updates arrive.
        if not self._actions_timer.isActive():
            self._actions_timer.start()

    def _update_shortcut_actions(self) -> None:
        primary = self.current_generation()
        targets = self.selected_generations() if primary is not None else []
        for name, action in self.shortcut_actions.items():
            specs = [ACTION_SPECS[name]]
            if name in _REPLACED_BY:
                specs.append(_REPLACED_BY[name])
            action.setEnabled(primary is not None and any(
                self._applicable(spec, primary, targets or [primary]) for spec in specs))

    def _on_filter_toggled(self, status: StatusFilter, on: bool) -> None:
        if on:
            with self._person_filtering():
                self.proxy.set_status_filter(status)
            self._on_filtered()

    def _on_search(self, text: str) -> None:
        with self._person_filtering():
            self.proxy.set_search_text(text)
        self._on_filtered()

    @contextlib.contextmanager
    def _person_filtering(self) -> Iterator[None]:
        self._filtering = True
        self.list_view.hold_place = False
        try:
            yield
        finally:
            self._filtering = False
            self.list_view.hold_place = True

    def _on_source_removing(self, *_: object) -> None:
        self._source_removing = True

    def _on_source_removed(self, *_: object) -> None:
        self._source_removing = False

    def _before_rows_leave(self, _parent: QModelIndex, first: int, last: int) -> None:
        """Rows leave the filtered list by themselves (a favourite no longer one under
        Favourites, a finished row under Active, a retried one under Failed): when they take
        the whole selection, the row then in their place is selected (`_after_rows_left`)."""
        if self._holding or self._filtering or self._source_removing \
                or not self.list_view.isVisible():
            return  # a removal (the person's says itself: selection_held); a chosen filter;
            # the gallery shown (its selection is the preview's)
        selected = self.list_view.selectionModel().selectedRows()
        self._selection_leaving = bool(selected) and all(
            first <= index.row() <= last for index in selected)
        self._holding = self._selection_leaving  # the preview is told once, after

    def _after_rows_left(self, *_: object) -> None:
        if not self._selection_leaving:
            return
        self._selection_leaving = False
        self._holding = False
        selection = self.list_view.selectionModel()
        current = self.list_view.currentIndex()
        if not selection.hasSelection() and current.isValid():
            flags = QItemSelectionModel.SelectionFlag
            selection.setCurrentIndex(current, flags.ClearAndSelect | flags.Rows)
        self._on_selection_changed()

    def _on_filtered(self) -> None:
        filtering = bool(self.proxy.search_text) or (
            self.proxy.status_filter is not StatusFilter.ALL
        )
        text = (
            _tr("Nothing matches.")
            if filtering
            else _tr("No generations yet. Add an image and a prompt to make your first video.")
        )
        if text != self.list_view.empty_text:
            self.list_view.empty_text = text
            self.list_view.viewport().update()

    def _focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def _refresh_summary(self) -> None:
        running, pending, percent = self.model.totals()
        if running or pending:
            parts = []
            if running:
                parts.append(_tr("{count} running").format(count=running))
            if pending:
                parts.append(_tr("{count} waiting").format(count=pending))
            parts.append(_tr("{percent} %").format(percent=percent))
            self.summary_label.setText(" · ".join(parts))
            self.total_bar.setValue(percent)
            self.total_bar.setVisible(True)
        else:
            self.summary_label.setText(_tr("Nothing running"))
            self.total_bar.setValue(0)
            self.total_bar.setVisible(False)
        self.cancel_pending_button.setEnabled(pending > 0)
        self.clear_finished_button.setEnabled(self.model.finished_count() > 0)
        if running and not self._tick.isActive():
            self._tick.start()
        elif not running:
            self._tick.stop()
        self._on_filtered()

    def _refresh_running_rows(self) -> None:
        """Repaint only the visible rows whose elapsed time is ticking."""
        view = self.list_view
        viewport = view.viewport().rect()
        first = view.indexAt(viewport.topLeft())
        if not first.isValid():
            return
        last = view.indexAt(viewport.bottomLeft())
        last_row = last.row() if last.isValid() else self.proxy.rowCount() - 1
        for row in range(first.row(), last_row + 1):
            index = self.proxy.index(row, 0)
            if Stage(index.data(Roles.StageRole)).is_running:
                view.update(index)
