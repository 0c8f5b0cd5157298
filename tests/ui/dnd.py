"""Drag and drop as a file manager does it: real QMimeData, enter/move/drop events."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def url_mime(*urls: QUrl) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(list(urls))
    return mime


def file_mime(*paths: str | Path) -> QMimeData:
    return url_mime(*(QUrl.fromLocalFile(str(path)) for path in paths))


def drop_mime(widget: QWidget, mime: QMimeData) -> bool:
    """Send enter, move and drop; True when the widget accepted the drag."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    actions = Qt.DropAction.CopyAction
    buttons = Qt.MouseButton.LeftButton
    mods = Qt.KeyboardModifier.NoModifier
    # PySide6 6.11 takes QPoint for enter/move and QPointF for drop (6.12 moves all to QPointF).
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(widget, QDragMoveEvent(pos.toPoint(), actions, mime, buttons, mods))
    QApplication.sendEvent(widget, QDropEvent(pos, actions, mime, buttons, mods))
    return True


def drop_files(widget: QWidget, files: list[Path]) -> bool:
    return drop_mime(widget, file_mime(*files))
