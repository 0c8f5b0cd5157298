"""The Sequences window's keys and what they do, as data: the window (ui/sequence_view.py and
ui/sequence_bar.py) makes its shortcuts from this table, and Help ▸ Keyboard Shortcuts lists it
whether or not the window was ever opened (it is loaded only on first use)."""

from __future__ import annotations

from typing import NamedTuple

SEQUENCES_AREA = "Sequences window"


class WindowKey(NamedTuple):
    key: str  # a QKeySequence's portable text
    text: str  # what it does, as Help ▸ Keyboard Shortcuts says it


RENAME = WindowKey("F2", "Rename the sequence")
UNDO_DELETE = WindowKey("Ctrl+Z", "Undo deleting a sequence")
SHOT_UP = WindowKey("Ctrl+Up", "Move the selected shot up")
SHOT_DOWN = WindowKey("Ctrl+Down", "Move the selected shot down")

SEQUENCE_WINDOW_KEYS: tuple[WindowKey, ...] = (RENAME, UNDO_DELETE, SHOT_UP, SHOT_DOWN)
