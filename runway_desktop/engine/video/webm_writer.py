"""WebM of VP8 key frames, licence-clean: Pillow's bundled libwebp (BSD) encodes each picture as
a lossy WebP, whose `VP8 ` chunk is a VP8 key frame (RFC 6386), and a small Matroska/EBML
writer here lays them out as a WebM (RFC 9559 element IDs; WebM container guidelines).

Every frame is a key frame (intra-only), so every block may start a cluster and be seeked to.
The file is: EBML header (DocType "webm"), Segment { SeekHead, Info (TimestampScale 1 ms,
Duration), Tracks (one V_VP8 track), Clusters of SimpleBlocks, Cues (one per cluster) }. Sizes,
the duration and the SeekHead are filled in by `close()`, which seeks back: write to a regular
file (the export writes a temporary file and renames it when whole).
"""

from __future__ import annotations

import io
import secrets
import struct
from fractions import Fraction
from typing import BinaryIO

from PIL import Image

# Element IDs, with their length markers (RFC 8794 / RFC 9559).
EBML = b"\x1a\x45\xdf\xa3"
EBML_VERSION, EBML_READ_VERSION = b"\x42\x86", b"\x42\xf7"
EBML_MAX_ID_LENGTH, EBML_MAX_SIZE_LENGTH = b"\x42\xf2", b"\x42\xf3"
DOC_TYPE, DOC_TYPE_VERSION, DOC_TYPE_READ_VERSION = b"\x42\x82", b"\x42\x87", b"\x42\x85"
SEGMENT = b"\x18\x53\x80\x67"
SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = b"\x11\x4d\x9b\x74", b"\x4d\xbb", b"\x53\xab", b"\x53\xac"
INFO, TIMESTAMP_SCALE, DURATION = b"\x15\x49\xa9\x66", b"\x2a\xd7\xb1", b"\x44\x89"
MUXING_APP, WRITING_APP = b"\x4d\x80", b"\x57\x41"
TRACKS, TRACK_ENTRY, TRACK_NUMBER, TRACK_UID = b"\x16\x54\xae\x6b", b"\xae", b"\xd7", b"\x73\xc5"
TRACK_TYPE, FLAG_LACING, CODEC_ID, DEFAULT_DURATION = b"\x83", b"\x9c", b"\x86", b"\x23\xe3\x83"
VIDEO, PIXEL_WIDTH, PIXEL_HEIGHT = b"\xe0", b"\xb0", b"\xba"
CLUSTER, TIMESTAMP, SIMPLE_BLOCK = b"\x1f\x43\xb6\x75", b"\xe7", b"\xa3"
CUES, CUE_POINT, CUE_TIME, CUE_TRACK_POSITIONS = b"\x1c\x53\xbb\x6b", b"\xbb", b"\xb3", b"\xb7"
CUE_TRACK, CUE_CLUSTER_POSITION = b"\xf7", b"\xf1"
VOID = b"\xec"

APP = "Runway Desktop"
CLUSTER_MS = 1000  # a new cluster (and cue) at least every second
_SEEK_HEAD_ROOM = 96  # reserved after the Segment header: SeekHead (3 entries, 68 bytes) + Void
_TRACK = 1


class Vp8Error(ValueError):
    """A picture couldn't be turned into a VP8 key frame (the message says why)."""


def vp8_key_frame(picture: Image.Image, quality: int = 80) -> bytes:
    """`picture` as one VP8 key frame: Pillow's lossy WebP, its `VP8 ` chunk's payload.

    Transparency has no place in a VP8 WebM track: a picture with alpha is flattened on black.
    """
    if picture.mode != "RGB":
        flat = Image.new("RGB", picture.size, (0, 0, 0))
        rgba = picture.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        picture = flat
    out = io.BytesIO()
    picture.save(out, format="WEBP", quality=quality, method=4, lossless=False, exact=False)
    return vp8_payload(out.getvalue())


def vp8_payload(webp: bytes) -> bytes:
    """The VP8 key frame inside a simple lossy WebP file (refuses lossless or alpha)."""
    if webp[:4] != b"RIFF" or webp[8:12] != b"WEBP":
        raise Vp8Error("not a WebP file")
    offset, frame = 12, b""
    while offset + 8 <= len(webp):
        kind = webp[offset : offset + 4]
        size = int.from_bytes(webp[offset + 4 : offset + 8], "little")
        payload = webp[offset + 8 : offset + 8 + size]
        if kind in (b"VP8L", b"ALPH", b"ANIM", b"ANMF"):
            raise Vp8Error(f"the WebP holds a {kind.decode().strip()} chunk, not one VP8 picture")
        if kind == b"VP8 ":
            frame = payload
        offset += 8 + size + (size & 1)
    if not frame:
        raise Vp8Error("the WebP holds no VP8 picture")
    frame_size(frame)  # checks that it is a key frame
    return frame


def frame_size(frame: bytes) -> tuple[int, int]:
    """Width and height from a VP8 key frame's header (RFC 6386 §9.1)."""
    if len(frame) < 10 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        raise Vp8Error("not a VP8 key frame")
    width, height = struct.unpack("<HH", frame[6:10])
    return width & 0x3FFF, height & 0x3FFF


class WebmWriter:
    """Writes VP8 key frames of one size, at a constant frame rate, into a WebM `file`."""

    def __init__(self, file: BinaryIO, width: int, height: int, fps: Fraction) -> None:
        if fps <= 0 or width <= 0 or height <= 0:
            raise ValueError("the frame rate and picture size must be positive")
        self._file = file
        self.size = (width, height)
        self._frame_ms = 1000 / Fraction(fps)
        self.frames = 0
        self._cluster: list[bytes] = []
        self._cluster_ms = 0
        self._cues: list[tuple[int, int]] = []  # (cluster time ms, position in the segment)
        file.write(
            _element(
                EBML,
                b"".join(
                    (
                        _uint(EBML_VERSION, 1),
                        _uint(EBML_READ_VERSION, 1),
                        _uint(EBML_MAX_ID_LENGTH, 4),
                        _uint(EBML_MAX_SIZE_LENGTH, 8),
                        _element(DOC_TYPE, b"webm"),
                        _uint(DOC_TYPE_VERSION, 2),
                        _uint(DOC_TYPE_READ_VERSION, 2),
                    )
                ),
            )
        )
        self._segment_size_at = file.tell() + len(SEGMENT)
        file.write(SEGMENT + b"\x01" + bytes(7))  # an 8-byte size, filled in by close()
        self._segment_start = file.tell()
        file.write(_void(_SEEK_HEAD_ROOM))
        self._info_at = file.tell() - self._segment_start
        info = b"".join(
            (
                _uint(TIMESTAMP_SCALE, 1_000_000),  # timestamps in milliseconds
                _element(MUXING_APP, APP.encode()),
                _element(WRITING_APP, APP.encode()),
            )
        )
        file.write(_element(INFO, info + DURATION + _size(8) + bytes(8)))
        self._duration_at = file.tell() - 8
        self._tracks_at = file.tell() - self._segment_start
        file.write(
            _element(
                TRACKS,
                _element(
                    TRACK_ENTRY,
                    b"".join(
                        (
                            _uint(TRACK_NUMBER, _TRACK),
                            _uint(TRACK_UID, secrets.randbits(63) | 1),
                            _uint(TRACK_TYPE, 1),
                            _uint(FLAG_LACING, 0),
                            _element(CODEC_ID, b"V_VP8"),
                            _uint(DEFAULT_DURATION, round(self._frame_ms * 1_000_000)),
                            _element(
                                VIDEO, _uint(PIXEL_WIDTH, width) + _uint(PIXEL_HEIGHT, height)
                            ),
                        )
                    ),
                ),
            )
        )

    def add(self, frame: bytes) -> None:
        """Append one VP8 key frame (the next in time)."""
        if frame_size(frame) != self.size:
            raise Vp8Error(f"a {frame_size(frame)} frame in a {self.size} track")
        at = round(self.frames * self._frame_ms)
        if self._cluster and at - self._cluster_ms >= CLUSTER_MS:
            self._flush()
        if not self._cluster:
            self._cluster_ms = at
        header = _size(1 + 2 + 1 + len(frame)) + bytes((0x80 | _TRACK,))
        flags = 0x80  # key frame
        self._cluster.append(
            SIMPLE_BLOCK + header + struct.pack(">hB", at - self._cluster_ms, flags) + frame
        )
        self.frames += 1

    def close(self) -> None:
        """Write the last cluster and the cues; fill in the sizes, the duration, the SeekHead."""
        if not self.frames:
            raise Vp8Error("a WebM needs at least one frame")
        self._flush()
        file = self._file
        cues_at = file.tell() - self._segment_start
        file.write(
            _element(
                CUES,
                b"".join(
                    _element(
                        CUE_POINT,
                        _uint(CUE_TIME, ms)
                        + _element(
                            CUE_TRACK_POSITIONS,
                            _uint(CUE_TRACK, _TRACK) + _uint(CUE_CLUSTER_POSITION, position),
                        ),
                    )
                    for ms, position in self._cues
                ),
            )
        )
        end = file.tell()
        file.seek(self._segment_size_at)
        file.write(_size(end - self._segment_start, length=8))
        file.seek(self._duration_at)
        file.write(struct.pack(">d", float(self.frames * self._frame_ms)))
        file.seek(self._segment_start)
        seek_head = _element(
            SEEK_HEAD,
            b"".join(
                _element(
                    SEEK,
                    _element(SEEK_ID, kind)
                    + SEEK_POSITION
                    + _size(8)
                    + position.to_bytes(8, "big"),
                )
                for kind, position in (
                    (INFO, self._info_at),
                    (TRACKS, self._tracks_at),
                    (CUES, cues_at),
                )
            ),
        )
        file.write(seek_head + _void(_SEEK_HEAD_ROOM - len(seek_head)))
        file.seek(end)

    def _flush(self) -> None:
        if not self._cluster:
            return
        self._cues.append((self._cluster_ms, self._file.tell() - self._segment_start))
        self._file.write(
            _element(CLUSTER, _uint(TIMESTAMP, self._cluster_ms) + b"".join(self._cluster))
        )
        self._cluster = []


def _size(value: int, length: int | None = None) -> bytes:
    """An EBML variable-size integer (the all-ones value of each length means "unknown")."""
    if length is None:
        length = 1
        while value >= (1 << (7 * length)) - 1:
            length += 1
    if length > 8 or value >= (1 << (7 * length)) - 1:
        raise ValueError(f"{value} doesn't fit an EBML size of {length} bytes")
    return ((1 << (7 * length)) | value).to_bytes(length, "big")


def _element(element_id: bytes, payload: bytes) -> bytes:
    return element_id + _size(len(payload)) + payload


def _uint(element_id: bytes, value: int) -> bytes:
    return _element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _void(total: int) -> bytes:
    """A Void element of exactly `total` bytes (at least 2)."""
    if total < 2:
        raise ValueError("a Void element takes at least 2 bytes")
    length = 1 if total - 2 < 127 else 8
    return VOID + _size(total - 1 - length, length=length) + bytes(total - 1 - length)
