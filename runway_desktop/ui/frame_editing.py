"""Pan and zoom the video's frame over the start image: drag, wheel, keys, double-click.

Holds the frame (engine.framing.ImageFrame, fractions of the upright picture) for the image the
drop zone shows and turns pointer and key input into new frames. The canvas draws what
`frame()` says; the compose panel sends the same frame with the generation, so what is
uploaded is exactly what the frame shows.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent

from runway_desktop.engine import framing
from runway_desktop.engine.framing import ImageFrame

# The keys the start image's frame answers (the drop zone holding the focus), as Help ▸
# Keyboard Shortcuts lists them: (portable key texts, what they do). `FrameEditor.key` acts.
FRAME_AREA = "Start image"  # the drop zone's accessible name
FRAME_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Left", "Right", "Up", "Down"), "Move the frame over the picture"),
    (("Shift+Left", "Shift+Right", "Shift+Up", "Shift+Down"), "Move the frame faster"),
    (("+", "="), "Zoom in on the picture"),
    (("-",), "Zoom out"),
    (("0",), "Recentre the frame (or double-click)"),
)
# Over a framed picture: how to frame it (what the pointer and keys do).
FRAME_HINT = ("Drag to move the frame · scroll or + / − to zoom · arrow keys to nudge · "
              "0 or double-click to recentre")

DRAG_THRESHOLD_PX = 4  # less than this between press and release is a click, not a pan
WHEEL_STEP = 1.15  # zoom factor per wheel notch
KEY_PAN = 0.02  # arrow keys move the frame by this fraction of the picture (Shift: 5×)


class FrameEditor(QObject):
    """The frame of one picture at one ratio, and the gestures that move it."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._size: tuple[int, int] | None = None
        self._ratio = "16:9"
        self._frame: ImageFrame | None = None  # None: the centred frame
        self._press: QPointF | None = None
        self._press_frame: ImageFrame | None = None
        self._dragging = False

    # -- state ------------------------------------------------------------------------------
    def set_image_size(self, size: QSize) -> None:
        """A new picture (or none): the frame starts centred."""
        valid = size.isValid() and not size.isEmpty()
        self._size = (size.width(), size.height()) if valid else None
        self._frame = None
        self._press = None
        self.changed.emit()

    def set_ratio(self, ratio: str) -> None:
        if ratio == self._ratio:
            return
        if self._size is not None and self._frame is not None:
            self._frame = framing.refit(self._frame, self._size, self._ratio, ratio)
        self._ratio = ratio
        self.changed.emit()

    def frame(self) -> ImageFrame | None:
        """The frame now (None when there is no picture of known size)."""
        if self._size is None:
            return None
        return self._frame or framing.centred(self._size, self._ratio)

    def set_frame(self, frame: ImageFrame | None) -> None:
        """Restore a frame (e.g. after a restart); kept only if it has the current ratio.
        None: back to the centred frame."""
        if frame is None:
            self.reset()
            return
        if self._size is None:
            return
        expected = framing.ratio_value(self._ratio)
        shape = (frame.width * self._size[0]) / (frame.height * self._size[1])
        if abs(shape / expected - 1) < 0.01:
            self._frame = framing.panned(frame, 0, 0)
            self.changed.emit()

    def is_moved(self) -> bool:
        """True when the person moved or zoomed the frame away from the centred one."""
        return self._frame is not None and self._frame != self.frame_centred()

    def frame_centred(self) -> ImageFrame | None:
        return framing.centred(self._size, self._ratio) if self._size else None

    def zoom(self) -> float:
        frame = self.frame()
        return framing.zoom_of(frame, self._size, self._ratio) if frame and self._size else 1.0

    def dragging(self) -> bool:
        return self._dragging

    # -- gestures ---------------------------------------------------------------------------
    def reset(self) -> None:
        if self._frame is not None:
            self._frame = None
            self.changed.emit()

    def zoom_by(self, factor: float, anchor: tuple[float, float] | None = None) -> None:
        frame = self.frame()
        if frame is None or self._size is None:
            return
        self._set(framing.zoomed(frame, self._size, self._ratio, self.zoom() * factor, anchor))

    def pan_by(self, dx: float, dy: float) -> None:
        frame = self.frame()
        if frame is not None:
            self._set(framing.panned(frame, dx, dy))

    def press(self, pos: QPointF) -> None:
        self._press, self._press_frame, self._dragging = pos, self.frame(), False

    def move(self, pos: QPointF, image_rect: QRectF) -> None:
        """The pointer moved with the button held: drag the frame along with it."""
        if self._press is None or self._press_frame is None or image_rect.isEmpty():
            return
        delta = pos - self._press
        if not self._dragging and delta.manhattanLength() < DRAG_THRESHOLD_PX:
            return
        self._dragging = True
        self._set(framing.panned(self._press_frame, delta.x() / image_rect.width(),
                                 delta.y() / image_rect.height()))

    def release(self) -> bool:
        """The button went up; True if that ended a drag (so it was not a click)."""
        dragged = self._dragging
        self._press, self._press_frame, self._dragging = None, None, False
        return dragged

    def wheel(self, notches: float, pos: QPointF, image_rect: QRectF) -> None:
        if image_rect.isEmpty():
            return
        anchor = ((pos.x() - image_rect.left()) / image_rect.width(),
                  (pos.y() - image_rect.top()) / image_rect.height())
        anchor = (min(1.0, max(0.0, anchor[0])), min(1.0, max(0.0, anchor[1])))
        self.zoom_by(WHEEL_STEP ** notches, anchor)

    def key(self, event: QKeyEvent) -> bool:
        """Arrows pan, + and - zoom, 0 recentres; True when the key was one of those."""
        if self._size is None:
            return False
        step = KEY_PAN * (5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
        moves = {Qt.Key.Key_Left: (-step, 0.0), Qt.Key.Key_Right: (step, 0.0),
                 Qt.Key.Key_Up: (0.0, -step), Qt.Key.Key_Down: (0.0, step)}
        key = Qt.Key(event.key())
        if key in moves:
            self.pan_by(*moves[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(WHEEL_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / WHEEL_STEP)
        elif key == Qt.Key.Key_0:
            self.reset()
        else:
            return False
        return True

    def _set(self, frame: ImageFrame) -> None:
        if frame != self._frame:
            self._frame = frame
            self.changed.emit()
