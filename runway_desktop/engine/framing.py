"""Which part of a start image becomes the video's first frame: the frame inside the picture.

A frame is a rectangle in the upright picture's own coordinates, as fractions of its width and
height (so it survives any preview scale). It always has the aspect ratio of the video and
stays inside the picture. The window pans and zooms it; `images.prepare_image` crops to it, so
what is uploaded is exactly what the frame shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_ZOOM = 8.0  # the frame never gets narrower than 1/8 of the widest frame that fits


@dataclass(frozen=True)
class ImageFrame:
    """`left`, `top`, `width`, `height` as fractions (0…1) of the upright picture."""

    left: float
    top: float
    width: float
    height: float

    def to_json(self) -> list[float]:
        return [round(v, 6) for v in (self.left, self.top, self.width, self.height)]

    @classmethod
    def from_json(cls, value: object) -> ImageFrame | None:
        """What `to_json` wrote, or None for anything else (an old or hand-edited journal)."""
        if not isinstance(value, list | tuple) or len(value) != 4:
            return None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return None
        left, top, width, height = (float(v) for v in value)
        if not (0 < width <= 1 and 0 < height <= 1):
            return None
        if not (0 <= left <= 1 - width + 1e-6 and 0 <= top <= 1 - height + 1e-6):
            return None
        return cls(left, top, width, height)

    def is_whole(self) -> bool:
        """True when the frame is the whole picture (nothing to crop)."""
        return self.width >= 1 - 1e-6 and self.height >= 1 - 1e-6

    def pixel_box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in whole pixels of a `width` × `height` picture."""
        left = round(self.left * width)
        top = round(self.top * height)
        right = max(left + 1, min(width, round((self.left + self.width) * width)))
        bottom = max(top + 1, min(height, round((self.top + self.height) * height)))
        return left, top, right, bottom


def ratio_value(ratio: str) -> float:
    """'16:9' → 1.777…"""
    w, h = (float(part) for part in ratio.split(":"))
    return w / h


def widest(image_size: tuple[int, int], ratio: str) -> tuple[float, float]:
    """Width and height (fractions) of the largest frame of `ratio` that fits the picture."""
    iw, ih = image_size
    target = ratio_value(ratio)
    if iw / ih > target:  # the picture is wider than the video: full height
        return (ih * target) / iw, 1.0
    return 1.0, (iw / target) / ih


def centred(image_size: tuple[int, int], ratio: str) -> ImageFrame:
    """The widest frame of `ratio`, centred: what Runway itself would keep."""
    w, h = widest(image_size, ratio)
    return ImageFrame((1 - w) / 2, (1 - h) / 2, w, h)


def zoom_of(frame: ImageFrame, image_size: tuple[int, int], ratio: str) -> float:
    """How far `frame` is zoomed in: 1.0 is the widest frame that fits."""
    return widest(image_size, ratio)[0] / frame.width


def zoomed(frame: ImageFrame, image_size: tuple[int, int], ratio: str, zoom: float,
           anchor: tuple[float, float] | None = None) -> ImageFrame:
    """`frame` at `zoom` (1…MAX_ZOOM), keeping `anchor` (picture fractions; default: the
    frame's centre) at the same place inside the frame."""
    zoom = min(MAX_ZOOM, max(1.0, zoom))
    full_w, full_h = widest(image_size, ratio)
    w, h = full_w / zoom, full_h / zoom
    ax, ay = anchor if anchor is not None else (frame.left + frame.width / 2,
                                                 frame.top + frame.height / 2)
    # The anchor's relative place inside the frame stays put.
    fx = (ax - frame.left) / frame.width if frame.width else 0.5
    fy = (ay - frame.top) / frame.height if frame.height else 0.5
    return _clamped(ImageFrame(ax - fx * w, ay - fy * h, w, h))


def panned(frame: ImageFrame, dx: float, dy: float) -> ImageFrame:
    """`frame` moved by (dx, dy) picture fractions, kept inside the picture."""
    return _clamped(ImageFrame(frame.left + dx, frame.top + dy, frame.width, frame.height))


def refit(frame: ImageFrame | None, image_size: tuple[int, int], old_ratio: str,
          new_ratio: str) -> ImageFrame:
    """`frame` (of `old_ratio`) for `new_ratio`: the same zoom and centre where they fit."""
    if frame is None:
        return centred(image_size, new_ratio)
    zoom = zoom_of(frame, image_size, old_ratio)
    full_w, full_h = widest(image_size, new_ratio)
    w, h = full_w / zoom, full_h / zoom
    cx, cy = frame.left + frame.width / 2, frame.top + frame.height / 2
    return _clamped(ImageFrame(cx - w / 2, cy - h / 2, w, h))


def nearest_ratio(image_size: tuple[int, int], ratios: Iterable[str]) -> str | None:
    """The ratio closest to the picture's own shape (compared as log ratios: 2:1 and 1:2 are
    equally far from 1:1)."""
    iw, ih = image_size
    if iw <= 0 or ih <= 0:
        return None
    shape = math.log(iw / ih)
    best: tuple[float, str] | None = None
    for ratio in ratios:
        distance = abs(math.log(ratio_value(ratio)) - shape)
        if best is None or distance < best[0]:
            best = (distance, ratio)
    return best[1] if best else None


def frame_from(images: Mapping[str, object]) -> ImageFrame | None:
    """The frame stored in a settings JSON's image entry, if any."""
    return ImageFrame.from_json(images.get("frame"))


def _clamped(frame: ImageFrame) -> ImageFrame:
    w, h = min(1.0, frame.width), min(1.0, frame.height)
    left = min(max(0.0, frame.left), 1.0 - w)
    top = min(max(0.0, frame.top), 1.0 - h)
    return ImageFrame(left, top, w, h)
