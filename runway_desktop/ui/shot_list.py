"""The sequence view's list of shots: in order, each with its chosen take's picture; a drag
says where a shot goes (`moved`), and the sequence service moves it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QWidget

THUMB = QSize(128, 72)
ID_ROLE = Qt.ItemDataRole.UserRole


def thumb_icon(path: str, ratio: float) -> QIcon:
    """A take's picture at THUMB with the pixels of a `ratio`× screen: made at THUMB's own
    pixels, it was stretched to twice that on a 2× screen, blurry."""
    picture = QPixmap(path)
    if picture.isNull():
        return QIcon()
    pixels = QSize(round(THUMB.width() * ratio), round(THUMB.height() * ratio))
    scaled = picture.scaled(pixels, Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation)
    scaled.setDevicePixelRatio(ratio)
    return QIcon(scaled)


class ShotList(QListWidget):
    """The shots in order; a drag reorders them (`moved(shot id, before shot id or None)`)."""

    moved = Signal(int, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shot_list")
        self.setAccessibleName(self.tr("Shots"))
        self.setIconSize(THUMB)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setWordWrap(True)

    def shot_ids(self) -> list[int]:
        return [int(self.item(row).data(ID_ROLE)) for row in range(self.count())]

    def dropEvent(self, event: QDropEvent) -> None:
        """Say where the dragged shot goes; the sequence service moves it and the list is
        shown again from the sequence (Qt's own move of the items is not used)."""
        item = self.currentItem()  # what is dragged is the selected shot (single selection)
        if item is None or event.source() not in (self, None):
            event.ignore()
            return
        ids = self.shot_ids()
        moved = int(item.data(ID_ROLE))
        point = event.position().toPoint()
        target = self.itemAt(point)
        if target is None:
            row = len(ids) if point.y() > 0 else 0
        else:
            below = point.y() > self.visualItemRect(target).center().y()
            row = self.row(target) + (1 if below else 0)
        before = ids[row] if row < len(ids) else None
        # Copy, not move: the view must not delete the dragged item after the drop.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        here = ids.index(moved)
        if before != moved and before != (ids[here + 1] if here + 1 < len(ids) else None):
            self.moved.emit(moved, before)
