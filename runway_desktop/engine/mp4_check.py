"""Is an MP4 on disk whole? A walk over its top-level ISO-BMFF boxes, end to end.

A download whose body simply ends when the server hangs up (no Content-Length, no chunking)
can't tell a finished file from a cut one. The file itself can: every top-level box starts
with its own size, so the sizes of a whole file add up to exactly its length, and a playable
one has an `ftyp` first, a `moov` (the index) and an `mdat` (the media).
"""

from __future__ import annotations

import enum
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

REQUIRED = (b"ftyp", b"moov", b"mdat")
MAX_BOXES = 100_000  # a fragmented MP4 has a moof/mdat pair per fragment; far fewer in practice


class Mp4Verdict(enum.Enum):
    WHOLE = "whole"  # the box sizes add up to the file size and every required box is there
    TRUNCATED = "truncated"  # a box runs past the end, or the file stops before moov/mdat
    MALFORMED = "malformed"  # not a box structure at all (garbage, a splice, not an MP4)


@dataclass(frozen=True)
class Mp4Check:
    verdict: Mp4Verdict
    reason: str
    boxes: tuple[bytes, ...] = ()  # the top-level box types in file order

    @property
    def whole(self) -> bool:
        return self.verdict is Mp4Verdict.WHOLE


def check_mp4(path: Path) -> Mp4Check:
    """Walk the top-level boxes of `path` (reads a few bytes per box, never the media)."""
    with Path(path).open("rb") as f:
        return check_mp4_stream(f, os.fstat(f.fileno()).st_size)


def check_mp4_stream(f: BinaryIO, size: int) -> Mp4Check:
    """The same walk over an open, seekable binary stream of `size` bytes."""
    boxes: list[bytes] = []
    offset = 0
    while offset < size:
        if len(boxes) >= MAX_BOXES:
            return Mp4Check(Mp4Verdict.MALFORMED, f"more than {MAX_BOXES:,} top-level boxes")
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            return _cut(boxes, f"a box header at byte {offset:,} is cut off")
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if not _is_box_type(box_type):
            found = f"no box at byte {offset:,} (found {box_type!r})"
            return Mp4Check(Mp4Verdict.MALFORMED, found, tuple(boxes))
        if not boxes and box_type != b"ftyp":
            return Mp4Check(Mp4Verdict.MALFORMED, f"starts with {box_type!r}, not 'ftyp'")
        header_size = 8
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                return _cut(boxes, f"the large box header at byte {offset:,} is cut off")
            box_size = struct.unpack(">Q", header[8:16])[0]
            header_size = 16
        elif box_size == 0:
            # "Extends to the end of the file": nothing in the file says where that end is,
            # so a cut file would look whole. Refuse to vouch for it.
            return Mp4Check(
                Mp4Verdict.MALFORMED,
                f"the {_name(box_type)} box at byte {offset:,} has no size",
                tuple(boxes),
            )
        if box_size < header_size:
            return Mp4Check(
                Mp4Verdict.MALFORMED,
                f"the {_name(box_type)} box at byte {offset:,} claims {box_size} bytes",
                tuple(boxes),
            )
        boxes.append(box_type)
        end = offset + box_size
        if end > size:
            return _cut(
                boxes,
                f"the {_name(box_type)} box needs {end:,} bytes, the file has {size:,}",
            )
        offset = end
    missing = [_name(t) for t in REQUIRED if t not in boxes]
    if missing:
        return _cut(boxes, f"no {', '.join(missing)} box")
    return Mp4Check(Mp4Verdict.WHOLE, f"{len(boxes)} boxes, {size:,} bytes", tuple(boxes))


def _cut(boxes: list[bytes], reason: str) -> Mp4Check:
    return Mp4Check(Mp4Verdict.TRUNCATED, reason, tuple(boxes))


def _is_box_type(box_type: bytes) -> bool:
    # Four printable ASCII characters (`©xyz`-style types live inside boxes, not at the top).
    return all(0x20 <= b <= 0x7E for b in box_type)


def _name(box_type: bytes) -> str:
    return box_type.decode("ascii", "replace")
