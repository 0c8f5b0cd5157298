"""Do an MP4's video frames hold a real bitstream? Checked before a download counts as done.

`mp4_check` proves the top-level boxes add up; a file can pass that and still be unplayable:
its index (`moov`) intact, its media (`mdat`) noise — a CDN's cache serving a corrupted copy,
or a body spliced from two files of the same length. This module walks every sample of the
video track, as a decoder's first stage (the parser in front of the pixel decoder) would:

- H.264 (`avc1`/`avc3`) and H.265 (`hvc1`/`hev1`): each sample is a run of length-prefixed
  NAL units (the length size from `avcC`/`hvcC`) that must fill the sample exactly, each with a
  valid header (forbidden bit clear, a defined unit type; H.265's temporal id set), and the
  first sample must carry a picture (a VCL unit), not only parameter sets;
- Motion-JPEG (QuickTime `jpeg`, what the simulator's image clips use): each sample is a JPEG
  (SOI … EOI) and the first one decodes with Pillow.

Noise fails this at its first length prefix. Codecs it doesn't know (AV1, VP9, …) and
fragmented MP4s (no sample tables in `moov`) are not judged: the box walk is their proof.
Blocking: run it in a worker thread. It reads a few bytes per NAL unit (at most MAX_UNITS of
them), never the whole media, except Motion-JPEG's first frame (bounded by MAX_JPEG_BYTES).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from runway_desktop.engine.video.mp4_boxes import Mp4FormatError, parse_boxes, read_moov
from runway_desktop.engine.video.mp4_tables import Track, read_track, samples_per_chunk

AVC = (b"avc1", b"avc3")
HEVC = (b"hvc1", b"hev1")
JPEG = (b"jpeg", b"mjpa")
VISUAL_ENTRY_FIELDS = 78  # VisualSampleEntry's fixed fields after the box header (14496-12)
MAX_SAMPLES = 1_000_000  # a 10 s clip has a few hundred; more is not a video of ours
MAX_NALS_PER_SAMPLE = 10_000
# NAL units read in all: a 10 s clip has about a thousand. Past this the frames read so far are
# the proof (samples may overlap, so the file size alone doesn't bound the walk).
MAX_UNITS = 200_000
MAX_JPEG_BYTES = 32 * 1024 * 1024
MAX_JPEG_PIXELS = 16_000_000  # a video frame is at most 4K; a larger one is not decoded here


class UnplayableVideo(Exception):
    """The frames can't be decoded; `reason` says where, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_video_frames(path: Path) -> None:
    """Return if the video track's frames are a well-formed bitstream (or can't be judged);
    raise UnplayableVideo if they aren't. Blocking."""
    try:
        _ftyp, moov, file_size = read_moov(path)
        tracks = [read_track(trak) for trak in moov.all(b"trak")]
    except Mp4FormatError as exc:
        if "fragmented" in exc.message:
            return  # no sample tables to follow
        raise UnplayableVideo(exc.message) from None
    video = next((t for t in tracks if t.handler == b"vide"), None)
    if video is None:
        raise UnplayableVideo("it has no video track")
    if not video.sizes:
        raise UnplayableVideo("its video track has no frames")
    if video.sample_count > MAX_SAMPLES:
        raise UnplayableVideo(f"its video track claims {video.sample_count:,} frames")
    codec, entry = _sample_entry(video)
    with Path(path).open("rb") as f:
        samples = _samples(video, file_size)
        if codec in AVC or codec in HEVC:
            hevc = codec in HEVC
            length_size = _nal_length_size(entry, hevc)
            units = 0
            for number, (offset, size) in enumerate(samples, start=1):
                kinds = _nal_units(f, offset, size, length_size, hevc, number)
                if number == 1 and not any(_is_picture(kind, hevc) for kind in kinds):
                    raise UnplayableVideo("its first frame holds no picture")
                units += len(kinds)
                if units > MAX_UNITS:
                    return
        elif codec in JPEG:
            for number, (offset, size) in enumerate(samples, start=1):
                _check_jpeg(f, offset, size, number, decode=number == 1)


def _sample_entry(track: Track) -> tuple[bytes, bytes]:
    """The codec's four-character code and its sample entry's payload."""
    stsd = track.sample_entry  # full box: version/flags, entry count, then the entries
    if len(stsd) < 16:
        raise UnplayableVideo("its video track has no sample description")
    size = struct.unpack_from(">I", stsd, 8)[0]
    if size < 8 or 8 + size > len(stsd):
        raise UnplayableVideo("its video sample description is cut")
    return stsd[12:16], stsd[16:8 + size]


def _nal_length_size(entry: bytes, hevc: bool) -> int:
    """From the `avcC` (byte 4) or `hvcC` (byte 21) record: 1, 2 or 4 bytes per length."""
    try:
        children = parse_boxes(entry[VISUAL_ENTRY_FIELDS:])
    except Mp4FormatError:
        children = []
    record = next((b.payload for b in children if b.type == (b"hvcC" if hevc else b"avcC")),
                  None)
    at = 21 if hevc else 4
    if record is None or len(record) <= at:
        raise UnplayableVideo("its video has no decoder configuration")
    size = (record[at] & 0x03) + 1
    if size == 3:
        raise UnplayableVideo("its decoder configuration names a 3-byte NAL length")
    return size


def _samples(track: Track, file_size: int) -> Iterator[tuple[int, int]]:
    """(file offset, size) of each sample, in decoding order; each inside the file."""
    per_chunk = samples_per_chunk(track.stsc, len(track.chunk_offsets))
    number = 0
    for chunk_offset, count in zip(track.chunk_offsets, per_chunk, strict=True):
        offset = chunk_offset
        for size in track.sizes[number:number + count]:
            if offset + size > file_size:
                raise UnplayableVideo(f"frame {number + 1} lies past the end of the file")
            yield offset, size
            offset += size
            number += 1
    if number != len(track.sizes):
        raise UnplayableVideo("its chunk table doesn't cover every frame")


def _nal_units(f: BinaryIO, offset: int, size: int, length_size: int, hevc: bool,
               number: int) -> list[int]:
    """The NAL unit types of one sample; UnplayableVideo unless they fill it exactly."""
    kinds: list[int] = []
    pos = 0
    while pos < size:
        if len(kinds) >= MAX_NALS_PER_SAMPLE or pos + length_size + 1 > size:
            raise UnplayableVideo(f"frame {number} isn't a sequence of NAL units")
        f.seek(offset + pos)
        head = f.read(length_size + 2)
        length = int.from_bytes(head[:length_size], "big")
        header = head[length_size:]
        if length == 0 or pos + length_size + length > size or not _valid_header(header, hevc):
            raise UnplayableVideo(f"frame {number} isn't a sequence of NAL units")
        kinds.append((header[0] >> 1) & 0x3F if hevc else header[0] & 0x1F)
        pos += length_size + length
    return kinds


def _valid_header(header: bytes, hevc: bool) -> bool:
    if not header or header[0] & 0x80:  # forbidden_zero_bit
        return False
    if hevc:
        kind = (header[0] >> 1) & 0x3F
        # 0-40 are defined (VCL 0-31 with gaps for reserved IRAP/non-IRAP, parameter sets,
        # delimiters, SEI); 41-47 reserved; 48-63 unspecified. TemporalIdPlus1 is never 0.
        return len(header) == 2 and kind <= 40 and header[1] & 0x07 != 0
    kind = header[0] & 0x1F
    return 1 <= kind <= 23  # 0 and 24-31 are unspecified


def _is_picture(kind: int, hevc: bool) -> bool:
    return kind <= 31 if hevc else 1 <= kind <= 5


def _check_jpeg(f: BinaryIO, offset: int, size: int, number: int, decode: bool) -> None:
    f.seek(offset)
    if decode and size <= MAX_JPEG_BYTES:
        data = f.read(size)
        head, tail = data[:3], data[-2:]
    else:
        head = f.read(3)
        f.seek(offset + size - 2)
        tail = f.read(2)
        data = b""
    if head != b"\xff\xd8\xff" or tail != b"\xff\xd9":
        raise UnplayableVideo(f"frame {number} isn't a JPEG picture")
    if data:
        from PIL import Image  # only for Motion-JPEG: most downloads never need it

        try:
            with Image.open(io.BytesIO(data)) as picture:
                if picture.width * picture.height <= MAX_JPEG_PIXELS:
                    picture.load()
        except Exception:  # Pillow's decoder errors have no common base
            raise UnplayableVideo(f"frame {number} doesn't decode") from None
