"""A demo clip made from the start image: the picture framed as Runway frames it, then moving.

`render_clip` decodes the uploaded image with Pillow, frames it to the output size (cover crop,
like a Runway output of that ratio), and films a camera move over it (`motion.choose_move`), one
Motion-JPEG frame at a time, into an MP4 (`mp4_writer`). The first frame is the framed picture
itself, so a clip extended from another clip's last frame starts where that one ended.

Blocking and CPU-bound: the simulator runs it on a worker thread (`clip_maker`).
"""

from __future__ import annotations

import io
import threading

from PIL import Image, ImageOps, UnidentifiedImageError

from runway_desktop.simulator.motion import Box, Move, choose_move
from runway_desktop.simulator.mp4_writer import mjpeg_mp4

JPEG_QUALITY = 90
# Uploads are at most 25 MB and under 8000 px a side (contract §5, §10); anything bigger than
# that many pixels is refused here rather than decoded.
MAX_PIXELS = 8000 * 8000


class NotAPicture(Exception):
    """The upload can't be decoded as a still picture; the simulator serves a stock clip."""


class Stopped(Exception):
    """`stop` was set while the clip was being made."""


def render_clip(
    image: bytes, size: tuple[int, int], seconds: int, fps: int, seed: int,
    *, quality: int = JPEG_QUALITY, stop: threading.Event | None = None,
) -> bytes:
    """An MP4 of seconds × fps frames at `size` moving over `image`.

    NotAPicture if the image can't be decoded; Stopped as soon as `stop` is set.
    """
    out_w, out_h = size
    picture = _decode(image, size)
    move = choose_move(seed, picture.width, picture.height, out_w, out_h, seconds)
    picture, move = _reduced(picture, move, out_w)
    count = max(1, seconds * fps)
    frames = []
    for index in range(count):
        if stop is not None and stop.is_set():
            raise Stopped
        box = move.at(index / (count - 1) if count > 1 else 0.0)
        frame = picture.resize(size, Image.Resampling.BILINEAR, box=box.corners())
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=quality)
        frames.append(out.getvalue())
    return mjpeg_mp4(frames, out_w, out_h, fps)


def _decode(image: bytes, size: tuple[int, int]) -> Image.Image:
    try:
        with Image.open(io.BytesIO(image)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise NotAPicture(f"{opened.width}x{opened.height} is too many pixels")
            # A big JPEG decodes at 1/2, 1/4 or 1/8 scale when both sides stay at least twice
            # the output's longer side (enough for any crop, turned by EXIF or not, and zoom).
            side = 2 * max(size)
            opened.draft("RGB", (side, side))
            upright = ImageOps.exif_transpose(opened)
            return upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise NotAPicture(str(e)) from None


def _reduced(picture: Image.Image, move: Move, out_width: int) -> tuple[Image.Image, Move]:
    """A picture no bigger than the tightest frame needs, and the move in its pixels.

    Every frame then resizes from at most a little more than its own size: cheap.
    """
    factor = out_width / move.smallest_width
    if factor >= 1:
        return picture, move
    target = (max(1, round(picture.width * factor)), max(1, round(picture.height * factor)))
    # Exact factors per axis, so the move's boxes still cover the same pixels.
    fx, fy = target[0] / picture.width, target[1] / picture.height
    smaller = picture.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)

    def moved(box: Box) -> Box:
        return Box(box.left * fx, box.top * fy, box.width * fx, box.height * fy)

    return smaller, Move(move.kind, moved(move.start), moved(move.end))
