"""ISO-BMFF (MP4) boxes as a small tree: read a file's `moov`, change a few leaves, write it back.

Only the boxes a join has to understand are opened (the container boxes on the way to the
sample tables); every other box is kept as raw bytes and written back unchanged. The media
(`mdat`) is never read here: the sample tables say where each chunk of it is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# Boxes whose payload is nothing but other boxes, on the path moov → trak → mdia → minf → stbl.
CONTAINERS = frozenset({b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl"})
MAX_MOOV = 256 * 1024 * 1024  # a 10 s clip's index is a few KB; this only stops nonsense


class Mp4FormatError(Exception):
    """The file isn't an MP4 this code can read; `message` is for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Box:
    type: bytes
    payload: bytes = b""  # a leaf's bytes after its header (empty for containers)
    children: list[Box] | None = None  # set for containers only

    def child(self, box_type: bytes) -> Box:
        """The first child of `box_type`; Mp4FormatError when there is none."""
        for box in self.children or ():
            if box.type == box_type:
                return box
        raise Mp4FormatError(f"no {_name(box_type)} box inside {_name(self.type)}")

    def find(self, box_type: bytes) -> Box | None:
        for box in self.children or ():
            if box.type == box_type:
                return box
        return None

    def all(self, box_type: bytes) -> list[Box]:
        return [box for box in self.children or () if box.type == box_type]

    def to_bytes(self) -> bytes:
        if self.children is None:
            body = self.payload
        else:
            body = b"".join(child.to_bytes() for child in self.children)
        size = 8 + len(body)
        if size > 0xFFFFFFFF:
            return struct.pack(">I4sQ", 1, self.type, size + 8) + body
        return struct.pack(">I4s", size, self.type) + body


@dataclass(frozen=True)
class TopLevel:
    """Where the top-level boxes of a file are: type, offset, size (header included)."""

    boxes: tuple[tuple[bytes, int, int], ...] = field(default_factory=tuple)

    def first(self, box_type: bytes) -> tuple[int, int] | None:
        for kind, offset, size in self.boxes:
            if kind == box_type:
                return offset, size
        return None


def top_level(f: BinaryIO, file_size: int) -> TopLevel:
    """Walk the top-level boxes of an open file (reads only their headers)."""
    found: list[tuple[bytes, int, int]] = []
    offset = 0
    while offset < file_size:
        f.seek(offset)
        header = f.read(16)
        if len(header) < 8:
            raise Mp4FormatError(f"a box header at byte {offset:,} is cut off")
        size, kind = struct.unpack(">I4s", header[:8])
        if size == 1:
            if len(header) < 16:
                raise Mp4FormatError(f"a box header at byte {offset:,} is cut off")
            size = struct.unpack(">Q", header[8:16])[0]
        elif size == 0:
            size = file_size - offset
        if size < 8 or offset + size > file_size:
            raise Mp4FormatError(f"the {_name(kind)} box at byte {offset:,} runs past the end")
        found.append((kind, offset, size))
        offset += size
    return TopLevel(tuple(found))


def read_box(f: BinaryIO, offset: int, size: int) -> Box:
    """Read the whole box at `offset` and open its containers."""
    if size > MAX_MOOV:
        raise Mp4FormatError(f"a {size:,}-byte index is more than this app reads")
    f.seek(offset)
    data = f.read(size)
    if len(data) != size:
        raise Mp4FormatError(f"the box at byte {offset:,} is cut off")
    boxes = parse_boxes(data)
    if len(boxes) != 1:
        raise Mp4FormatError(f"the box at byte {offset:,} isn't one box")
    return boxes[0]


def parse_boxes(data: bytes) -> list[Box]:
    boxes: list[Box] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise Mp4FormatError("a box header is cut off")
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if len(data) - offset < 16:
                raise Mp4FormatError("a box header is cut off")
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header or offset + size > len(data):
            raise Mp4FormatError(f"the {_name(kind)} box claims {size:,} bytes")
        body = data[offset + header : offset + size]
        if kind in CONTAINERS:
            boxes.append(Box(kind, children=parse_boxes(body)))
        else:
            boxes.append(Box(kind, payload=body))
        offset += size
    return boxes


def read_moov(path: Path) -> tuple[bytes, Box, int]:
    """The `ftyp` bytes (whole box), the parsed `moov`, and the file size of `path`."""
    with Path(path).open("rb") as f:
        file_size = f.seek(0, 2)
        layout = top_level(f, file_size)
        if layout.first(b"moof") is not None or layout.first(b"mfra") is not None:
            raise Mp4FormatError("it is a fragmented MP4 (streaming layout)")
        ftyp_at = layout.first(b"ftyp")
        moov_at = layout.first(b"moov")
        if ftyp_at is None or moov_at is None:
            raise Mp4FormatError("it has no ftyp or moov box: not a playable MP4")
        f.seek(ftyp_at[0])
        ftyp = f.read(ftyp_at[1])
        if ftyp[4:8] != b"ftyp" or struct.unpack(">I", ftyp[:4])[0] != len(ftyp):
            ftyp = Box(b"ftyp", payload=ftyp[16:]).to_bytes()  # a 64-bit ftyp header: normalise
        moov = read_box(f, *moov_at)
        if moov.find(b"mvex") is not None:
            raise Mp4FormatError("it is a fragmented MP4 (streaming layout)")
        return ftyp, moov, file_size


def full_box_header(payload: bytes) -> tuple[int, int]:
    """Version and flags of a full box."""
    if len(payload) < 4:
        raise Mp4FormatError("a full box is too short")
    word = struct.unpack_from(">I", payload)[0]
    return word >> 24, word & 0xFFFFFF


def _name(box_type: bytes) -> str:
    return "'" + box_type.decode("latin-1") + "'"
