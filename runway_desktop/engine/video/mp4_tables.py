"""The sample tables of an MP4 track, read into lists and written back.

A track's samples (video frames, audio packets) live in chunks inside `mdat`; the `stbl` box
says how long each sample lasts (stts), when it is shown relative to its decode time (ctts),
how big it is (stsz), which samples make up which chunk (stsc), where each chunk starts
(stco/co64) and which samples are key frames (stss). The edit list (elst) maps the media
timeline onto the movie's. ISO/IEC 14496-12 §8.5–8.7 and §8.6.6.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from runway_desktop.engine.video.mp4_boxes import Box, Mp4FormatError, full_box_header

MAX_ENTRIES = 50_000_000  # a table longer than this is corrupt, not a 10 s clip


@dataclass(frozen=True)
class Edit:
    segment_duration: int  # in the movie's timescale
    media_time: int  # in the track's timescale; -1 is an empty edit (a pause)
    rate: int = 0x00010000  # 16.16 fixed point; 1.0 plays normally


@dataclass
class Track:
    """One `trak` of a movie with its tables opened."""

    box: Box
    handler: bytes  # b"vide", b"soun", ...
    timescale: int  # the media's ticks per second
    sample_entry: bytes  # the `stsd` payload: codec and its parameters
    stts: list[tuple[int, int]]  # (sample count, duration in ticks)
    ctts: list[tuple[int, int]] | None  # (sample count, composition offset) or None
    sizes: list[int]  # per-sample byte sizes
    stsc: list[tuple[int, int, int]]  # (first chunk 1-based, samples per chunk, description)
    chunk_offsets: list[int]  # absolute file offsets
    sync: list[int] | None  # 1-based key-frame sample numbers; None: every sample is one
    edits: list[Edit] | None  # None: no edit list (the media plays from 0)

    @property
    def sample_count(self) -> int:
        return len(self.sizes)

    @property
    def media_duration(self) -> int:
        return sum(count * delta for count, delta in self.stts)

    def chunks(self) -> list[tuple[int, int]]:
        """(file offset, byte length) of every chunk, in chunk order."""
        per_chunk = samples_per_chunk(self.stsc, len(self.chunk_offsets))
        out: list[tuple[int, int]] = []
        cursor = 0
        for offset, count in zip(self.chunk_offsets, per_chunk, strict=True):
            out.append((offset, sum(self.sizes[cursor : cursor + count])))
            cursor += count
        if cursor != len(self.sizes):
            raise Mp4FormatError(
                f"its chunk table covers {cursor:,} samples but the size table has "
                f"{len(self.sizes):,}"
            )
        return out


def read_track(trak: Box) -> Track:
    mdia = trak.child(b"mdia")
    stbl = mdia.child(b"minf").child(b"stbl")
    hdlr = mdia.child(b"hdlr").payload
    if len(hdlr) < 12:
        raise Mp4FormatError("a track's handler box is too short")
    timescale, _ = read_mdhd(mdia.child(b"mdhd").payload)
    if timescale <= 0:
        raise Mp4FormatError("a track has no timescale")
    if stbl.find(b"stz2") is not None:
        raise Mp4FormatError("it uses compact sample sizes (stz2), which this app doesn't join")
    stsd = stbl.child(b"stsd").payload
    if len(stsd) < 8 or struct.unpack_from(">I", stsd, 4)[0] != 1:
        raise Mp4FormatError("a track has more than one sample description")
    stco = stbl.find(b"stco")
    offsets = (
        _u32_table(stco.payload)
        if stco is not None
        else [v for (v,) in _table(stbl.child(b"co64").payload, ">Q")]
    )
    stsc = [(a, b, c) for a, b, c in _table(stbl.child(b"stsc").payload, ">III")]
    if any(desc != 1 for _, _, desc in stsc):
        raise Mp4FormatError("a track refers to a sample description it doesn't have")
    stss = stbl.find(b"stss")
    ctts_box = stbl.find(b"ctts")
    edts = trak.find(b"edts")
    track = Track(
        box=trak,
        handler=hdlr[8:12],
        timescale=timescale,
        sample_entry=stsd,
        stts=[(a, b) for a, b in _table(stbl.child(b"stts").payload, ">II")],
        ctts=_read_ctts(ctts_box.payload) if ctts_box is not None else None,
        sizes=_read_stsz(stbl.child(b"stsz").payload),
        stsc=stsc,
        chunk_offsets=offsets,
        sync=_u32_table(stss.payload) if stss is not None else None,
        edits=read_elst(edts.child(b"elst").payload) if edts is not None else None,
    )
    stts_samples = sum(count for count, _ in track.stts)
    if stts_samples != track.sample_count:
        raise Mp4FormatError(
            f"its timing table has {stts_samples:,} samples, its size table {track.sample_count:,}"
        )
    if track.ctts is not None and sum(c for c, _ in track.ctts) != track.sample_count:
        raise Mp4FormatError("its composition-offset table doesn't match its sample count")
    return track


def read_mdhd(payload: bytes) -> tuple[int, int]:
    """(timescale, duration) of an mdhd or mvhd payload (same layout up to the duration)."""
    version, _ = full_box_header(payload)
    if version == 1:
        if len(payload) < 32:
            raise Mp4FormatError("a header box is too short")
        timescale, duration = struct.unpack_from(">IQ", payload, 20)
    else:
        if len(payload) < 20:
            raise Mp4FormatError("a header box is too short")
        timescale, duration = struct.unpack_from(">II", payload, 12)
    return int(timescale), int(duration)


def with_duration(payload: bytes, duration: int, *, timescale_field: bool = True) -> bytes:
    """An mvhd/mdhd (timescale_field=True) or tkhd payload with a new duration.

    A version-0 box whose new duration no longer fits 32 bits becomes version 1.
    """
    version, flags = full_box_header(payload)
    # Layout after version/flags: v0 = created u32, modified u32, [timescale|track id] u32,
    # [reserved u32 for tkhd], duration u32; v1 = created u64, modified u64, ..., duration u64.
    extra = 0 if timescale_field else 4  # tkhd has a reserved word before its duration
    if version == 0 and duration <= 0xFFFFFFFF:
        at = 16 + extra
        return payload[:at] + struct.pack(">I", duration) + payload[at + 4 :]
    if version == 0:
        created, modified, ident = struct.unpack_from(">III", payload, 4)
        rest = payload[20 + extra :]
        middle = payload[16 : 16 + extra]
        head = struct.pack(">IQQI", (1 << 24) | flags, created, modified, ident)
        return head + middle + struct.pack(">Q", duration) + rest
    at = 24 + extra
    return payload[:at] + struct.pack(">Q", duration) + payload[at + 8 :]


def read_elst(payload: bytes) -> list[Edit]:
    version, _ = full_box_header(payload)
    count = _count(payload)
    edits: list[Edit] = []
    step = 20 if version == 1 else 12
    if len(payload) < 8 + count * step:
        raise Mp4FormatError("the edit list is cut off")
    for i in range(count):
        at = 8 + i * step
        if version == 1:
            duration, media_time, rate = struct.unpack_from(">QqI", payload, at)
        else:
            duration, media_time, rate = struct.unpack_from(">IiI", payload, at)
        edits.append(Edit(int(duration), int(media_time), int(rate)))
    return edits


def elst_payload(edits: list[Edit]) -> bytes:
    wide = any(e.segment_duration > 0xFFFFFFFF or abs(e.media_time) > 0x7FFFFFFF for e in edits)
    if wide:
        rows = b"".join(
            struct.pack(">QqI", e.segment_duration, e.media_time, e.rate) for e in edits
        )
        return struct.pack(">II", 1 << 24, len(edits)) + rows
    rows = b"".join(struct.pack(">IiI", e.segment_duration, e.media_time, e.rate) for e in edits)
    return struct.pack(">II", 0, len(edits)) + rows


def stts_payload(entries: list[tuple[int, int]]) -> bytes:
    return _pack_table(0, entries, ">II")


def ctts_payload(entries: list[tuple[int, int]]) -> bytes:
    if any(offset < 0 for _, offset in entries):
        return _pack_table(1 << 24, entries, ">Ii")  # version 1: signed offsets
    return _pack_table(0, entries, ">II")


def stsc_payload(entries: list[tuple[int, int, int]]) -> bytes:
    return _pack_table(0, entries, ">III")


def stsz_payload(sizes: list[int]) -> bytes:
    if sizes and all(s == sizes[0] for s in sizes):
        return struct.pack(">III", 0, sizes[0], len(sizes))
    return struct.pack(">III", 0, 0, len(sizes)) + struct.pack(f">{len(sizes)}I", *sizes)


def chunk_offsets_box(offsets: list[int]) -> Box:
    if offsets and max(offsets) > 0xFFFFFFFF:
        body = struct.pack(f">II{len(offsets)}Q", 0, len(offsets), *offsets)
        return Box(b"co64", payload=body)
    return Box(b"stco", payload=struct.pack(f">II{len(offsets)}I", 0, len(offsets), *offsets))


def stss_payload(sync: list[int]) -> bytes:
    return struct.pack(f">II{len(sync)}I", 0, len(sync), *sync)


def samples_per_chunk(stsc: list[tuple[int, int, int]], chunk_count: int) -> list[int]:
    """Expand the run-length stsc table to one sample count per chunk."""
    out: list[int] = []
    for i, (first, per_chunk, _desc) in enumerate(stsc):
        last = stsc[i + 1][0] - 1 if i + 1 < len(stsc) else chunk_count
        if first < 1 or last < first - 1 or last > chunk_count:
            raise Mp4FormatError("its sample-to-chunk table is out of order")
        out.extend([per_chunk] * (last - first + 1))
    if len(out) != chunk_count:
        raise Mp4FormatError(
            f"its sample-to-chunk table covers {len(out):,} chunks, not {chunk_count:,}"
        )
    return out


def merge_runs(entries: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Run-length entries with neighbours of the same value merged (stts, ctts)."""
    out: list[tuple[int, int]] = []
    for count, value in entries:
        if count == 0:
            continue
        if out and out[-1][1] == value:
            out[-1] = (out[-1][0] + count, value)
        else:
            out.append((count, value))
    return out


def _read_ctts(payload: bytes) -> list[tuple[int, int]]:
    version, _ = full_box_header(payload)
    return [(a, b) for a, b in _table(payload, ">Ii" if version == 1 else ">II")]


def _read_stsz(payload: bytes) -> list[int]:
    if len(payload) < 12:
        raise Mp4FormatError("the sample size table is cut off")
    constant, count = struct.unpack_from(">II", payload, 4)
    if count > MAX_ENTRIES:
        raise Mp4FormatError(f"its sample size table claims {count:,} samples")
    if constant:
        return [constant] * count
    if len(payload) < 12 + 4 * count:
        raise Mp4FormatError("the sample size table is cut off")
    return list(struct.unpack_from(f">{count}I", payload, 12))


def _count(payload: bytes) -> int:
    if len(payload) < 8:
        raise Mp4FormatError("a sample table is cut off")
    count = int(struct.unpack_from(">I", payload, 4)[0])
    if count > MAX_ENTRIES:
        raise Mp4FormatError(f"a sample table claims {count:,} entries")
    return count


def _table(payload: bytes, fmt: str) -> list[tuple[int, ...]]:
    count = _count(payload)
    row = struct.calcsize(fmt)
    if len(payload) < 8 + count * row:
        raise Mp4FormatError("a sample table is cut off")
    return list(struct.iter_unpack(fmt, payload[8 : 8 + count * row]))


def _u32_table(payload: bytes) -> list[int]:
    count = _count(payload)
    if len(payload) < 8 + 4 * count:
        raise Mp4FormatError("a sample table is cut off")
    return list(struct.unpack_from(f">{count}I", payload, 8))


def _pack_table(version_flags: int, entries: Sequence[tuple[int, ...]], fmt: str) -> bytes:
    rows = b"".join(struct.pack(fmt, *entry) for entry in entries)
    return struct.pack(">II", version_flags, len(entries)) + rows
