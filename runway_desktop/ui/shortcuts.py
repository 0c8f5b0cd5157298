"""Help ▸ Keyboard Shortcuts: every key of the window, read from its actions and shortcuts.

The table is built from the live QActions and QShortcuts (and the key tables of the
comparison and Sequences windows, which exist only once opened), so it cannot go stale: a new
action with a key appears by itself. `shortcut_entries` gives the rows; `conflicts` finds two
that answer the same key where both can fire.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.ui.compare_command import COMPARE_WINDOW_KEYS
from runway_desktop.ui.drop_zone import START_IMAGE_KEYS
from runway_desktop.ui.frame_editing import FRAME_AREA, FRAME_KEYS
from runway_desktop.ui.screen_room import resize_to_fit
from runway_desktop.ui.search_keys import SEARCH_AREA, SEARCH_FIELD_KEYS
from runway_desktop.ui.sequence_keys import SEQUENCE_WINDOW_KEYS, SEQUENCES_AREA

WINDOW_AREA = "Anywhere in the window"
COMPARE_AREA = "Compare window"
_WINDOW_WIDE = (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut)


@dataclass(frozen=True)
class ShortcutEntry:
    area: str  # where it works: "Anywhere in the window", "Preview", "Generations"…
    text: str  # what it does
    keys: tuple[QKeySequence, ...]
    source: QObject | None = field(default=None, compare=False)  # the QAction / QShortcut
    scope: QObject | None = field(default=None, compare=False)  # where it can fire

    def keys_text(self) -> str:
        return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in self.keys)


def plain(text: str) -> str:
    """A menu text without its mnemonic ampersand and trailing dots."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def _area_of(widget: QObject | None, window: QWidget) -> str:
    """The nearest named part (accessible name) of the window that holds `widget`; for a
    widget of another named window (the Sequences window), that window ("Sequences window"),
    as its static key table lists it."""
    top = widget.window() if isinstance(widget, QWidget) else None
    if top is not None and top is not window and top.accessibleName():
        return f"{top.accessibleName()} window"
    while isinstance(widget, QWidget) and widget is not window:
        if widget.accessibleName():
            return widget.accessibleName()
        widget = widget.parentWidget()
    return WINDOW_AREA


def _in_window_menu(action: QAction, window: QWidget) -> str:
    """The menu bar menu the action is in ("File"…), or ""."""
    if not isinstance(window, QMainWindow):
        return ""
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if isinstance(menu, QMenu) and action in menu.actions():
            return plain(menu.title())
    return ""


def shortcut_entries(window: QWidget) -> list[ShortcutEntry]:
    """Every key the window answers: its QActions and QShortcuts, and the comparison and
    Sequences windows' keys (listed from their tables, open or not). Context-menu entries
    (children of a QMenu) repeat a list's actions and are left out."""
    entries: list[ShortcutEntry] = []
    for action in window.findChildren(QAction):
        keys = tuple(k for k in action.shortcuts() if not k.isEmpty())
        if not keys or isinstance(action.parent(), QMenu):
            continue
        parent = action.parent()
        window_wide = action.shortcutContext() in _WINDOW_WIDE
        scope: QObject | None = window if window_wide else parent
        menu = _in_window_menu(action, window)
        area = (f"{menu} menu" if menu else WINDOW_AREA) if window_wide else _area_of(
            parent, window)
        if menu and not window_wide:  # a menu entry for keys another widget answers
            scope = None
            area = f"{menu} menu"
        entries.append(ShortcutEntry(area, plain(action.text()), keys, action, scope))
    for shortcut in window.findChildren(QShortcut):
        key = shortcut.key()
        if key.isEmpty():
            continue
        parent = shortcut.parent()
        if shortcut.context() in _WINDOW_WIDE:
            area, scope = WINDOW_AREA, window
        else:
            area, scope = _area_of(parent, window), parent
        if not shortcut.isEnabled():
            scope = None  # answers only in another state (e.g. full screen): no clash now
        entries.append(ShortcutEntry(area, plain(shortcut.whatsThis()), (key,), shortcut,
                                     scope))
    entries += [ShortcutEntry(COMPARE_AREA, text, (QKeySequence(key),))
                for key, text in COMPARE_WINDOW_KEYS]
    entries += [ShortcutEntry(SEQUENCES_AREA, text, (QKeySequence(key),))
                for key, text in SEQUENCE_WINDOW_KEYS]
    entries += [ShortcutEntry(FRAME_AREA, text, tuple(QKeySequence(key) for key in keys))
                for keys, text in FRAME_KEYS]  # answered in keyPressEvent: no QShortcut
    entries += [ShortcutEntry(FRAME_AREA, text, tuple(k for key in keys for k in _bindings(key)))
                for keys, text in START_IMAGE_KEYS]  # the same (Ctrl+V was nowhere)
    entries += [ShortcutEntry(SEARCH_AREA, text, tuple(QKeySequence(key) for key in keys))
                for keys, text in SEARCH_FIELD_KEYS]  # an event filter's: no QShortcut
    return entries


def _bindings(key: QKeySequence.StandardKey | str) -> list[QKeySequence]:
    """The platform's keys for a standard one (Paste: Ctrl+V, Shift+Ins…), or the key."""
    if isinstance(key, str):
        return [QKeySequence(key)]
    return [k for k in QKeySequence.keyBindings(key) if not k.isEmpty()]


def _overlaps(a: QObject, b: QObject, window: QWidget) -> bool:
    """Whether two scopes can be active at once: the same, one inside the other, or one
    the whole window — never two windows (the Sequences window is a child of the main one,
    and only the active window's keys answer)."""
    if a is b:
        return True
    if isinstance(a, QWidget) and isinstance(b, QWidget) and a.window() is not b.window():
        return False
    if a is window or b is window:
        return True
    return (isinstance(a, QWidget) and isinstance(b, QWidget)
            and (a.isAncestorOf(b) or b.isAncestorOf(a)))


def conflicts(window: QWidget, entries: list[ShortcutEntry] | None = None
              ) -> list[tuple[str, ShortcutEntry, ShortcutEntry]]:
    """(key, entry, entry) for two actions that answer the same key where both can fire
    (Qt then runs neither: "Ambiguous shortcut overload")."""
    by_key: dict[str, list[tuple[QObject, ShortcutEntry]]] = defaultdict(list)
    for entry in entries if entries is not None else shortcut_entries(window):
        if entry.scope is None:
            continue
        for key in entry.keys:
            text = key.toString(QKeySequence.SequenceFormat.PortableText)
            by_key[text].append((entry.scope, entry))
    found = []
    for key_text, same in by_key.items():
        for i, (scope_a, a) in enumerate(same):
            for scope_b, b in same[i + 1:]:
                if _overlaps(scope_a, scope_b, window):
                    found.append((key_text, a, b))
    return found


def merged(entries: list[ShortcutEntry], first: Sequence[str] = ()) -> list[ShortcutEntry]:
    """One row per action and area (K and Left for "Previous result" are two QShortcuts);
    the areas named in `first` lead in that order (the menus, as the menu bar has them),
    then the window-wide ones, then the rest by name."""
    rows: dict[tuple[str, str], list[QKeySequence]] = {}
    for entry in entries:
        keys = rows.setdefault((entry.area, entry.text), [])
        keys += [k for k in entry.keys if all(k != seen for seen in keys)]
    rank = {area: i for i, area in enumerate([*first, WINDOW_AREA])}
    return sorted((ShortcutEntry(area, text, tuple(keys)) for (area, text), keys in rows.items()),
                  key=lambda e: (rank.get(e.area, len(rank)), e.area, e.text))


def menu_areas(window: QWidget) -> list[str]:
    """The menu bar's menus as areas ("File menu"…), in its order."""
    if not isinstance(window, QMainWindow):
        return []
    return [f"{plain(a.text())} menu" for a in window.menuBar().actions() if a.menu()]


class ShortcutsDialog(QDialog):
    """The list, grouped by where each key works, with a filter."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle(self.tr("Keyboard Shortcuts"))
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText(self.tr("Filter by action or key"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName(self.tr("Filter shortcuts"))
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("shortcuts_tree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hint = QLabel(self.tr("Keys of a list or the player work while it has the focus "
                              "(click it, or Tab to it)."), self)
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.entries = merged(shortcut_entries(window), menu_areas(window))
        self._fill()
        self.filter_edit.textChanged.connect(self._filter)
        resize_to_fit(self, QSize(560, 620))

    def _fill(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        for entry in self.entries:
            group = groups.get(entry.area)
            if group is None:
                group = groups[entry.area] = QTreeWidgetItem(self.tree, [self.tr(entry.area)])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFirstColumnSpanned(True)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            QTreeWidgetItem(group, [entry.text, entry.keys_text()])
        self.tree.expandAll()

    def _groups(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        groups = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        return [(g, [c for j in range(g.childCount()) if (c := g.child(j)) is not None])
                for g in groups if g is not None]

    def listed(self) -> list[tuple[str, str, str]]:
        """(area, action, keys) as shown: what tests read."""
        return [(group.text(0), item.text(0), item.text(1))
                for group, items in self._groups() for item in items]

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for group, items in self._groups():
            shown = 0
            for item in items:
                match = not needle or any(
                    needle in t.lower() for t in (item.text(0), item.text(1), group.text(0)))
                item.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
