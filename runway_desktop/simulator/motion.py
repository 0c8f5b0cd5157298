"""Camera moves over a still picture: a slow push-in or a pan, as boxes in the picture's pixels.

A move starts on the picture framed the way a Runway output frames its start image (the largest
centred box of the output's shape: a cover crop) and ends on a box inside the picture; `at(t)`
gives the box in between, at a constant speed, in float coordinates so the motion is sub-pixel
smooth. Pure geometry: no imaging here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Per 5 s of clip: a 10 s clip moves twice as far, so the camera's speed is the same in every
# shot, and every frame to the last moves (the last frame is told apart from the one before).
STEP_SECONDS = 5
PUSH_IN_ZOOM = 0.8  # a push-in narrows the frame to 80 % of its width every 5 s
PAN_TRAVEL = 0.12  # a pan moves by 12 % of the frame's width (or height) every 5 s
PAN_ZOOM = 0.85  # how far a pan zooms in (per 5 s) when the picture has no room beyond the frame
FOCUS_SPREAD = 0.1  # a push-in heads for a point up to 10 % off the centre


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def corners(self) -> tuple[float, float, float, float]:
        return self.left, self.top, self.right, self.bottom


@dataclass(frozen=True)
class Move:
    kind: str  # push-in | pan-left | pan-right | pan-up | pan-down
    start: Box
    end: Box

    def at(self, t: float) -> Box:
        """The box at `t` (0 = start, 1 = end), moving at a constant speed.

        No easing at the end: like a cut from a longer take, the last frames still move, so
        the last frame is told apart from the one before it (what Extend must start from).
        """
        k = min(1.0, max(0.0, t))
        a, b = self.start, self.end
        return Box(
            a.left + (b.left - a.left) * k,
            a.top + (b.top - a.top) * k,
            a.width + (b.width - a.width) * k,
            a.height + (b.height - a.height) * k,
        )

    @property
    def smallest_width(self) -> float:
        return min(self.start.width, self.end.width)


def cover_box(width: int, height: int, out_width: int, out_height: int) -> Box:
    """The largest centred box of out_width:out_height inside a width×height picture."""
    if width * out_height > height * out_width:  # the picture is wider: crop the sides
        box_width = height * out_width / out_height
        return Box((width - box_width) / 2, 0.0, box_width, float(height))
    box_height = width * out_height / out_width
    return Box(0.0, (height - box_height) / 2, float(width), box_height)


def choose_move(
    seed: int, width: int, height: int, out_width: int, out_height: int, seconds: float
) -> Move:
    """The move a job with this seed gets over `seconds`: a push-in or a pan, the same every time.
    """
    rng = random.Random(seed)
    start = cover_box(width, height, out_width, out_height)
    steps = seconds / STEP_SECONDS
    if rng.random() < 0.5:
        return _push_in(rng, start, steps)
    return _pan(rng, start, width, height, steps)


def _push_in(rng: random.Random, start: Box, steps: float) -> Move:
    zoom = PUSH_IN_ZOOM**steps
    w, h = start.width * zoom, start.height * zoom
    # Head for a point near the centre; the end box stays inside the first frame.
    cx = start.left + start.width * (0.5 + rng.uniform(-FOCUS_SPREAD, FOCUS_SPREAD))
    cy = start.top + start.height * (0.5 + rng.uniform(-FOCUS_SPREAD, FOCUS_SPREAD))
    left = _clamp(cx - w / 2, start.left, start.right - w)
    top = _clamp(cy - h / 2, start.top, start.bottom - h)
    return Move("push-in", start, Box(left, top, w, h))


def _pan(rng: random.Random, start: Box, width: int, height: int, steps: float) -> Move:
    room_x, room_y = width - start.width, height - start.height
    # Pan sideways, unless only a tall picture has room to tilt without zooming in.
    fits_x = room_x / 2 >= start.width * PAN_TRAVEL * steps
    fits_y = room_y / 2 >= start.height * PAN_TRAVEL * steps
    horizontal = fits_x or not fits_y
    forward = rng.random() < 0.5  # right or down
    kind = ("pan-right" if forward else "pan-left") if horizontal else (
        "pan-down" if forward else "pan-up")
    size = start.width if horizontal else start.height
    travel = size * PAN_TRAVEL * steps
    room = (room_x if horizontal else room_y) / 2  # beyond the centred frame, on each side
    zoom = 1.0 if room >= travel else PAN_ZOOM**steps
    w, h = start.width * zoom, start.height * zoom
    # A zoomed-in box may also use the margin it leaves inside the first frame.
    travel = min(travel, room + (size - size * zoom) / 2)
    step = travel if forward else -travel
    cx = start.left + start.width / 2 + (step if horizontal else 0.0)
    cy = start.top + start.height / 2 + (0.0 if horizontal else step)
    left = _clamp(cx - w / 2, 0.0, width - w)
    top = _clamp(cy - h / 2, 0.0, height - h)
    return Move(kind, start, Box(left, top, w, h))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))
