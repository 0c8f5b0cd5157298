"""A small EBML (Matroska/WebM) reader for tests: the element tree of a file, independent of the
writer in engine/video/webm_writer.py (it follows RFC 8794 on its own)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

# Master elements (they hold children), by ID as an integer with its length marker.
MASTERS = {
    0x1A45DFA3: "EBML",
    0x18538067: "Segment",
    0x114D9B74: "SeekHead",
    0x4DBB: "Seek",
    0x1549A966: "Info",
    0x1654AE6B: "Tracks",
    0xAE: "TrackEntry",
    0xE0: "Video",
    0x1F43B675: "Cluster",
    0x1C53BB6B: "Cues",
    0xBB: "CuePoint",
    0xB7: "CueTrackPositions",
}
NAMES = {
    **MASTERS,
    0x4286: "EBMLVersion",
    0x42F7: "EBMLReadVersion",
    0x42F2: "EBMLMaxIDLength",
    0x42F3: "EBMLMaxSizeLength",
    0x4282: "DocType",
    0x4287: "DocTypeVersion",
    0x4285: "DocTypeReadVersion",
    0x53AB: "SeekID",
    0x53AC: "SeekPosition",
    0x2AD7B1: "TimestampScale",
    0x4489: "Duration",
    0x4D80: "MuxingApp",
    0x5741: "WritingApp",
    0xD7: "TrackNumber",
    0x73C5: "TrackUID",
    0x83: "TrackType",
    0x9C: "FlagLacing",
    0x86: "CodecID",
    0x23E383: "DefaultDuration",
    0xB0: "PixelWidth",
    0xBA: "PixelHeight",
    0xE7: "Timestamp",
    0xA3: "SimpleBlock",
    0xB3: "CueTime",
    0xF7: "CueTrack",
    0xF1: "CueClusterPosition",
    0xEC: "Void",
}


@dataclass
class Element:
    name: str
    id: int
    offset: int  # of the element's ID in the file
    data_offset: int  # of its payload
    payload: bytes
    children: list[Element] = field(default_factory=list)

    def find(self, name: str) -> list[Element]:
        return [c for c in self.children if c.name == name]

    def one(self, name: str) -> Element:
        [found] = self.find(name)
        return found

    @property
    def uint(self) -> int:
        return int.from_bytes(self.payload, "big")

    @property
    def float(self) -> float:
        return struct.unpack(">d" if len(self.payload) == 8 else ">f", self.payload)[0]


def _vint(data: bytes, at: int, keep_marker: bool) -> tuple[int, int]:
    first = data[at]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    assert length <= 8, f"bad EBML variable-size integer at byte {at}"
    value = int.from_bytes(data[at : at + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, at + length


def parse(data: bytes, start: int = 0, end: int | None = None) -> list[Element]:
    """The elements between start and end; AssertionError unless they tile it exactly."""
    end = len(data) if end is None else end
    out: list[Element] = []
    at = start
    while at < end:
        element_id, after_id = _vint(data, at, keep_marker=True)
        size, data_at = _vint(data, after_id, keep_marker=False)
        assert data_at + size <= end, f"element {element_id:X} at {at} runs past its parent"
        name = NAMES.get(element_id, f"0x{element_id:X}")
        element = Element(name, element_id, at, data_at, data[data_at : data_at + size])
        if element_id in MASTERS:
            element.children = parse(data, data_at, data_at + size)
        out.append(element)
        at = data_at + size
    return out


def read(path: Path) -> list[Element]:
    return parse(Path(path).read_bytes())
