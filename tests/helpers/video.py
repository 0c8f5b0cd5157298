"""Real video files and pixel comparisons for the video tests.

Reference frames in tests/engine/video/data/ were decoded by Debian's ffmpeg 5.1 (a decoder
independent of QtMultimedia) from the same files; data/README.md there says how. CI needs
no ffmpeg.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image, ImageChops, ImageStat
from PySide6.QtGui import QImage

from runway_desktop.engine.video.exports import to_pil

ROOT = Path(__file__).resolve().parents[2]
CLIPS = ROOT / "resources" / "clips"
DATA = ROOT / "tests" / "engine" / "video" / "data"
CLIP = CLIPS / "16x9.mp4"  # 320×180, 24 fps, 48 frames, 2.000 s: testsrc2 from 0 s
NEXT = DATA / "16x9-next.mp4"  # the same encoder settings, testsrc2 from 2 s: a continuation
FRAME_US = 1_000_000 / 24

T = TypeVar("T")
Drive = Callable[[Coroutine[Any, Any, T]], T]


def rgb(image: QImage | Path) -> Image.Image:
    if isinstance(image, QImage):
        return to_pil(image)
    with Image.open(image) as img:
        return img.convert("RGB")


def mean_difference(a: QImage | Path | Image.Image, b: QImage | Path | Image.Image) -> float:
    """Mean absolute difference per channel, 0–255 (two decoders of one frame: below 1)."""
    left = a if isinstance(a, Image.Image) else rgb(a)
    right = b if isinstance(b, Image.Image) else rgb(b)
    assert left.size == right.size
    return sum(ImageStat.Stat(ImageChops.difference(left, right)).mean) / 3
