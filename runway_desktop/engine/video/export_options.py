"""The choices of a clip export: its format, size preset, quality and in/out range.

Kept apart from engine/video/exports.py (which needs Qt) so that the command line can offer
them in its help without loading QtMultimedia.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AnimationFormat(enum.Enum):
    GIF = "gif"
    WEBP = "webp"
    WEBM = "webm"  # VP8 key frames (intra-only) in WebM: see engine/video/webm_writer.py


@dataclass(frozen=True)
class SizePreset:
    name: str
    width: int  # the longest side is not the point: width is what a page or chat shows
    fps: int


# GIF frame delays are whole hundredths of a second, so 10 and 12.5 fps are exact; 15 fps
# comes out as 7/6/7 hundredths in turn (Pillow rounds each delay).
SIZE_PRESETS: dict[str, SizePreset] = {
    "small": SizePreset("small", 320, 10),
    "medium": SizePreset("medium", 480, 12),
    "large": SizePreset("large", 720, 15),
}
MAX_FRAMES = 1500  # 60 s at 25 fps: more would be a video, not an animation
DEFAULT_QUALITY = 80  # libwebp's 0–100 scale (WebP and WebM)


@dataclass(frozen=True)
class Trim:
    """In and out points in milliseconds; `end_ms=None` runs to the end of the clip."""

    start_ms: int = 0
    end_ms: int | None = None


WHOLE_CLIP = Trim()
