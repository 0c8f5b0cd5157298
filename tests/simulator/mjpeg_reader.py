"""An independent little reader of the simulator's Motion-JPEG MP4s: the tables, then the frames.

It walks the boxes itself (not the simulator's writer, not the engine's parser) so a test sees
what any MP4 reader would: the sample entry, the picture size, the timing and every frame.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


@dataclass(frozen=True)
class MjpegClip:
    brand: bytes
    top_level: list[bytes]
    entry: bytes  # the sample entry's type
    width: int
    height: int
    timescale: int
    duration: int  # in timescale units (mdhd)
    frame_ticks: list[int]  # each frame's duration (stts)
    frames: list[bytes]

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale

    @property
    def fps(self) -> float:
        return len(self.frames) / self.seconds

    def picture(self, index: int) -> Image.Image:
        with Image.open(io.BytesIO(self.frames[index])) as img:
            return img.convert("RGB")


def boxes(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """Every box under [start, end), containers opened, by type: (payload start, end)."""
    found: dict[bytes, tuple[int, int]] = {}
    at = start
    while at < end:
        size, kind = struct.unpack_from(">I4s", data, at)
        assert size >= 8, f"bad box size {size} at {at}"
        found.setdefault(kind, (at + 8, at + size))
        if kind in CONTAINERS:
            for inner, span in boxes(data, at + 8, at + size).items():
                found.setdefault(inner, span)
        at += size
    assert at == end, "box sizes don't add up"
    return found


def read_mjpeg(data: bytes) -> MjpegClip:
    top: list[bytes] = []
    at = 0
    while at < len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        top.append(kind)
        at += size
    assert at == len(data), "top-level boxes don't add up to the file"
    found = boxes(data, 0, len(data))
    ftyp = found[b"ftyp"][0]
    mdhd = found[b"mdhd"][0]
    timescale, duration = struct.unpack_from(">II", data, mdhd + 12)
    stsd = found[b"stsd"][0]
    entry = data[stsd + 12 : stsd + 16]
    width, height = struct.unpack_from(">HH", data, stsd + 8 + 32)
    stts = found[b"stts"][0]
    (runs,) = struct.unpack_from(">I", data, stts + 4)
    ticks: list[int] = []
    for run in range(runs):
        count, delta = struct.unpack_from(">II", data, stts + 8 + 8 * run)
        ticks += [delta] * count
    stsz = found[b"stsz"][0]
    fixed, count = struct.unpack_from(">II", data, stsz + 4)
    sizes = [fixed] * count if fixed else list(struct.unpack_from(f">{count}I", data, stsz + 12))
    stsc = found[b"stsc"][0]
    assert struct.unpack_from(">IIII", data, stsc + 4) == (1, 1, count, 1), "one chunk"
    stco = found[b"stco"][0]
    (chunks, offset) = struct.unpack_from(">II", data, stco + 4)
    assert chunks == 1
    mdat_start, mdat_end = found[b"mdat"]
    assert mdat_start <= offset
    assert offset + sum(sizes) <= mdat_end
    frames = []
    for size in sizes:
        frames.append(data[offset : offset + size])
        offset += size
    return MjpegClip(
        data[ftyp : ftyp + 4], top, entry, width, height, timescale, duration, ticks, frames
    )
