"""A minimal MP4 writer: one video track of Motion-JPEG frames, index first (`moov` before `mdat`).

Enough for the demo clips the simulator makes from a start image, with nothing but the standard
library: every frame is a whole JPEG (so every sample is a key frame and no `stss` is written:
ISO/IEC 14496-12 §8.6.2 says a track without one is all sync samples). The sample entry is
QuickTime's `jpeg` (Photo-JPEG), which FFmpeg's mov/mp4 demuxer maps to its MJPEG decoder —
the decoder QtMultimedia plays through.

Layout: ftyp, moov (mvhd, trak: tkhd, mdia: mdhd, hdlr, minf: vmhd, dinf, stbl: stsd, stts,
stsc, stsz, stco), mdat with the frames in order, all in one chunk.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

SAMPLE_ENTRY = b"jpeg"
BRANDS = (b"isom", b"iso2", b"mp41")
# The identity transformation matrix of mvhd/tkhd (16.16 and 2.30 fixed point).
MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
TICKS_PER_FRAME = 1000  # media timescale = fps * 1000: whole ticks for every frame


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def mjpeg_mp4(frames: Sequence[bytes], width: int, height: int, fps: int) -> bytes:
    """The bytes of an MP4 showing `frames` (baseline JPEGs of width×height) at `fps`."""
    if not frames:
        raise ValueError("an MP4 needs at least one frame")
    if not (0 < width < 0x10000 and 0 < height < 0x10000):
        raise ValueError(f"unsupported picture size {width}x{height}")
    if fps <= 0:
        raise ValueError("fps must be positive")
    timescale = fps * TICKS_PER_FRAME
    duration = len(frames) * TICKS_PER_FRAME
    media = sum(len(f) for f in frames)
    ftyp = box(b"ftyp", BRANDS[0], struct.pack(">I", 0x200), *BRANDS)
    # The moov's size doesn't depend on the chunk offset (stco is 32-bit), so build it once to
    # measure, then again with the real offset of the first frame.
    probe = _moov(frames, width, height, timescale, duration, chunk_offset=0)
    offset = len(ftyp) + len(probe) + 8
    if offset + media > 0xFFFFFFFF:
        raise ValueError("clip too large for a 32-bit MP4")
    moov = _moov(frames, width, height, timescale, duration, chunk_offset=offset)
    mdat = struct.pack(">I4s", 8 + media, b"mdat")
    return b"".join([ftyp, moov, mdat, *frames])


def _moov(
    frames: Sequence[bytes],
    width: int,
    height: int,
    timescale: int,
    duration: int,
    chunk_offset: int,
) -> bytes:
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, timescale, duration),
        struct.pack(">IH", 0x00010000, 0x0100), bytes(10),  # rate 1.0, volume 1.0, reserved
        MATRIX, bytes(24), struct.pack(">I", 2),  # pre_defined, next track id
    )
    tkhd = full_box(
        b"tkhd", 0, 0x3,  # enabled, in movie
        struct.pack(">IIII", 0, 0, 1, 0), struct.pack(">I", duration), bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0), MATRIX,  # layer, group, volume, reserved
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(
        b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, duration),
        struct.pack(">HH", _language("und"), 0),
    )
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\0")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _sample_entry(width, height)),
        full_box(b"stts", 0, 0, struct.pack(">III", 1, len(frames), TICKS_PER_FRAME)),
        full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, len(frames), 1)),
        full_box(
            b"stsz", 0, 0, struct.pack(">II", 0, len(frames)),
            struct.pack(f">{len(frames)}I", *(len(f) for f in frames)),
        ),
        full_box(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)),
    )
    minf = box(b"minf", vmhd, dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    return box(b"moov", mvhd, trak)


def _sample_entry(width: int, height: int) -> bytes:
    """A VisualSampleEntry (ISO/IEC 14496-12 §12.1.3) of type `jpeg`."""
    name = b"Photo - JPEG"
    compressor = bytes([len(name)]) + name + bytes(31 - len(name))
    return box(
        SAMPLE_ENTRY,
        bytes(6), struct.pack(">H", 1),  # reserved, data reference index
        bytes(16),  # pre_defined, reserved, pre_defined[3]
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000), bytes(4),  # 72 dpi, reserved
        struct.pack(">H", 1), compressor,  # frame count
        struct.pack(">Hh", 0x0018, -1),  # depth: colour, no alpha; pre_defined
    )


def _language(code: str) -> int:
    """ISO 639-2/T code packed as three 5-bit letters."""
    a, b, c = (ord(ch) - 0x60 for ch in code)
    return (a << 10) | (b << 5) | c
