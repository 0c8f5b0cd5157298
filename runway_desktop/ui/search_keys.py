"""The keys of a list's search field: Down or Return go on to the results, Esc clears the search
and, pressed again, goes back to the list (the queue's and the gallery's fields alike)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit

_TO_RESULTS = (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
# As Help ▸ Keyboard Shortcuts lists them (no QShortcut it could read).
SEARCH_AREA = "Search field (queue and gallery)"
SEARCH_FIELD_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Down", "Return", "Enter"), "Go to the results"),
    (("Esc",), "Clear the search (once empty: go to the results)"),
)
_PLAIN = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)


class SearchFieldKeys(QObject):
    """Installed on `field` (and owned by it); `to_results` moves the focus to the results."""

    def __init__(self, field: QLineEdit, to_results: Callable[[], None]) -> None:
        super().__init__(field)
        self._field = field
        self._to_results = to_results
        field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._field and isinstance(event, QKeyEvent) \
                and event.type() == QEvent.Type.KeyPress and event.modifiers() in _PLAIN:
            key = event.key()
            if key == Qt.Key.Key_Escape and self._field.text():
                self._field.clear()
                return True
            if key in _TO_RESULTS:
                self._to_results()
                return True
        return super().eventFilter(watched, event)
