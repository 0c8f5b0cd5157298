"""Join MP4 clips into one MP4 without re-encoding (a remux), when their codec settings match.

Every clip's compressed samples are copied as they are; only the index (`moov`) is rebuilt:
the sample tables of clip 2 are appended to clip 1's with its chunk numbers, sample numbers
and file offsets moved along, the edit lists are laid end to end, and the durations add up.
Nothing is decoded, so a join takes as long as copying the bytes and loses no quality.

That works only when one decoder set-up fits every clip: the same tracks, the same codec with
the same parameters (for H.264 the same SPS/PPS in `avcC`, which also fixes the picture size)
and the same time base. `check_joinable` says why clips don't fit ("needs re-encoding").

The output is written to a temporary file beside the destination and renamed over it only
when complete: a crash or a cancel never leaves a half file under the final name.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from runway_desktop.engine.durable import fsync_dir
from runway_desktop.engine.mp4_check import check_mp4
from runway_desktop.engine.video.metadata import film_settings
from runway_desktop.engine.video.mp4_boxes import Box, Mp4FormatError, parse_boxes, read_moov
from runway_desktop.engine.video.mp4_comment import with_comment
from runway_desktop.engine.video.mp4_tables import (
    Edit,
    Track,
    chunk_offsets_box,
    ctts_payload,
    elst_payload,
    merge_runs,
    read_mdhd,
    read_track,
    stsc_payload,
    stss_payload,
    stsz_payload,
    stts_payload,
    with_duration,
)
from runway_desktop.engine.video.partial_files import create_partial

COPY_BLOCK = 1024 * 1024
# In an stsd payload: version/flags and count (8), the entry's header (8), and a visual sample
# entry's fixed fields (78): its child boxes (avcC, pasp, colr, btrt...) start here.
VISUAL_CHILDREN = 8 + 8 + 78
AUDIO_CHILDREN = 8 + 8 + 28  # the same for a version-0 audio sample entry (mp4a...)
# Per-sample side tables that a join would have to rebuild; they are optional, so they are
# left out of the joined file rather than copied wrong.
DROPPED = frozenset(
    {b"sdtp", b"sbgp", b"sgpd", b"subs", b"saiz", b"saio", b"stps", b"cslg", b"padb", b"stdp"}
)
REBUILT = frozenset({b"stts", b"ctts", b"stsz", b"stsc", b"stco", b"co64", b"stss"})

Progress = Callable[[int, int], None]  # (bytes written, bytes in all)


class JoinError(Exception):
    """The join didn't happen; `message` says what and what to do. Nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NeedsReencode(JoinError):
    """The clips are fine but differ in a way a remux can't bridge (size, codec, settings)."""


class JoinCancelled(JoinError):
    """Stopped on request; the partial output was removed."""


@dataclass
class Clip:
    path: Path
    ftyp: bytes
    moov: Box
    movie_timescale: int
    movie_duration: int
    tracks: list[Track]


@dataclass(frozen=True)
class JoinResult:
    path: Path
    duration_s: float
    clips: int
    bytes_written: int


def read_clip(path: Path) -> Clip:
    """Open one clip's index; JoinError in words when it can't be joined at all."""
    path = Path(path)
    if not path.is_file():
        raise JoinError(f"Can't join: “{path.name}” doesn't exist.")
    verdict = check_mp4(path)
    if not verdict.whole:
        raise JoinError(f"Can't join “{path.name}”: the file isn't a whole MP4 ({verdict.reason}).")
    try:
        ftyp, moov, _size = read_moov(path)
        timescale, duration = read_mdhd(moov.child(b"mvhd").payload)
        tracks = [read_track(trak) for trak in moov.all(b"trak")]
    except Mp4FormatError as e:
        raise JoinError(f"Can't join “{path.name}”: {e.message}.") from None
    if not tracks:
        raise JoinError(f"Can't join “{path.name}”: it has no tracks.")
    if timescale <= 0:
        raise JoinError(f"Can't join “{path.name}”: its movie header has no timescale.")
    if duration == 0:  # some writers leave it out: the longest track is the movie
        duration = max(
            sum(e.segment_duration for e in _own_edits(track, timescale)) for track in tracks
        )
    return Clip(path, ftyp, moov, timescale, duration, tracks)


def check_joinable(clips: Sequence[Clip]) -> None:
    """Raise NeedsReencode, naming the first difference, unless one index can serve all clips."""
    first = clips[0]
    for clip in clips[1:]:
        if [t.handler for t in clip.tracks] != [t.handler for t in first.tracks]:
            raise NeedsReencode(
                f"“{clip.path.name}” has other tracks ({_kinds(clip)}) than "
                f"“{first.path.name}” ({_kinds(first)}): joining them needs re-encoding."
            )
        for mine, theirs in zip(first.tracks, clip.tracks, strict=True):
            same = _decoder_setup(mine) == _decoder_setup(theirs)
            if same and mine.timescale == theirs.timescale:
                continue
            raise NeedsReencode(
                f"“{clip.path.name}” can't be joined to “{first.path.name}” without "
                f"re-encoding: {_difference(mine, theirs)}."
            )


def join_mp4(
    sources: Sequence[Path],
    dest: Path,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> JoinResult:
    """Join `sources` in order into `dest` (replaced atomically). Blocking: run it in a thread.

    Raises NeedsReencode when the clips differ (nothing written), JoinCancelled when
    `cancelled()` turned true, JoinError for unreadable clips or a failed write.
    """
    if len(sources) < 1:
        raise JoinError("Nothing to join: no clips were given.")
    clips = [read_clip(Path(p)) for p in sources]
    check_joinable(clips)
    dest = Path(dest)
    plan = _plan(clips)
    total = sum(length for _clip, chunks in plan.copies for _off, length in chunks)
    head_len = len(clips[0].ftyp)
    # The film's settings (each shot's, in order) replace the first clip's own.
    film = film_settings([clip.path for clip in clips])
    comment = film.to_text() if film is not None else None
    moov = _joined_moov(clips, plan, mdat_data_start=0, comment=comment)  # sized once
    large = total + 8 > 0xFFFFFFFF
    mdat_header = (
        struct.pack(">I4sQ", 1, b"mdat", total + 16)
        if large
        else struct.pack(">I4s", total + 8, b"mdat")
    )
    start = head_len + len(moov.to_bytes()) + len(mdat_header)
    moov = _joined_moov(clips, plan, mdat_data_start=start, comment=comment)
    moov_bytes = moov.to_bytes()
    if head_len + len(moov_bytes) + len(mdat_header) != start:  # stco became co64: place again
        start = head_len + len(moov_bytes) + len(mdat_header)
        moov_bytes = _joined_moov(clips, plan, mdat_data_start=start,
                                  comment=comment).to_bytes()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = create_partial(dest)
    except OSError as e:
        raise JoinError(f"Can't write in {dest.parent}: {e.strerror or e}.") from None
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(clips[0].ftyp)
            out.write(moov_bytes)
            out.write(mdat_header)
            for clip, chunks in plan.copies:
                with clip.path.open("rb") as src:
                    for offset, length in chunks:
                        written = _copy(
                            src, out, offset, length, written, total, progress, cancelled
                        )
            out.flush()
            os.fsync(out.fileno())
        if cancelled is not None and cancelled():
            raise JoinCancelled("The join was cancelled; nothing was saved.")
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except JoinError:
        _remove(tmp)
        raise
    except OSError as e:
        _remove(tmp)
        raise JoinError(f"Couldn't write “{dest.name}”: {e.strerror or e}.") from None
    except BaseException:
        _remove(tmp)
        raise
    if progress is not None:
        progress(total, total)
    return JoinResult(
        dest, plan.movie_duration / plan.movie_timescale, len(clips), dest.stat().st_size
    )


@dataclass
class _Plan:
    movie_timescale: int
    movie_duration: int
    # For each clip, the chunks to copy in file order: (source offset, length).
    copies: list[tuple[Clip, list[tuple[int, int]]]]
    # For each clip and track, where each of its chunks lands relative to the mdat data start.
    placed: list[list[list[int]]]


def _plan(clips: Sequence[Clip]) -> _Plan:
    copies: list[tuple[Clip, list[tuple[int, int]]]] = []
    placed: list[list[list[int]]] = []
    position = 0
    for clip in clips:
        # All chunks of all tracks in file order, so interleaving (audio/video) is kept.
        owned = [
            (offset, length, t, c)
            for t, track in enumerate(clip.tracks)
            for c, (offset, length) in enumerate(track.chunks())
        ]
        owned.sort(key=lambda item: item[0])
        where: list[list[int]] = [[0] * len(track.chunk_offsets) for track in clip.tracks]
        chunks: list[tuple[int, int]] = []
        for offset, length, t, c in owned:
            where[t][c] = position
            chunks.append((offset, length))
            position += length
        copies.append((clip, chunks))
        placed.append(where)
    timescale = clips[0].movie_timescale
    duration = sum(
        _in_movie_time(clip.movie_duration, clip.movie_timescale, timescale) for clip in clips
    )
    return _Plan(timescale, duration, copies, placed)


def _joined_moov(clips: Sequence[Clip], plan: _Plan, *, mdat_data_start: int,
                 comment: str | None = None) -> Box:
    first = clips[0]
    track_durations: list[int] = []
    new_traks: list[Box] = []
    for t, template in enumerate(first.tracks):
        parts = [clip.tracks[t] for clip in clips]
        offsets = [mdat_data_start + pos for where in plan.placed for pos in where[t]]
        edits = _joined_edits(clips, t, plan.movie_timescale)
        duration = sum(e.segment_duration for e in edits)
        track_durations.append(duration)
        new_traks.append(_joined_trak(template, parts, offsets, edits, duration))
    moov_children: list[Box] = []
    traks = iter(new_traks)
    for box in first.moov.children or ():
        if box.type == b"trak":
            moov_children.append(next(traks))
        elif box.type == b"mvhd":
            payload = with_duration(box.payload, max(track_durations, default=0))
            moov_children.append(Box(b"mvhd", payload=payload))
        else:
            moov_children.append(box)
    return with_comment(Box(b"moov", children=moov_children), comment)


def _joined_trak(
    template: Track, parts: list[Track], offsets: list[int], edits: list[Edit], duration: int
) -> Box:
    stts = merge_runs([entry for part in parts for entry in part.stts])
    ctts: list[tuple[int, int]] | None = None
    if any(part.ctts is not None for part in parts):
        ctts = merge_runs(
            [
                entry
                for part in parts
                for entry in (part.ctts if part.ctts is not None else [(part.sample_count, 0)])
            ]
        )
    sizes = [size for part in parts for size in part.sizes]
    stsc: list[tuple[int, int, int]] = []
    sync: list[int] | None = [] if any(part.sync is not None for part in parts) else None
    chunk_base = sample_base = 0
    for part in parts:
        for first_chunk, per_chunk, desc in part.stsc:
            if not stsc or stsc[-1][1:] != (per_chunk, desc):
                stsc.append((first_chunk + chunk_base, per_chunk, desc))
        if sync is not None:
            numbers = part.sync if part.sync is not None else range(1, part.sample_count + 1)
            sync.extend(n + sample_base for n in numbers)
        chunk_base += len(part.chunk_offsets)
        sample_base += part.sample_count
    media_duration = sum(part.media_duration for part in parts)

    stbl_children: list[Box] = []
    for box in template.box.child(b"mdia").child(b"minf").child(b"stbl").children or ():
        if box.type in DROPPED or box.type in REBUILT:
            continue
        stbl_children.append(box)  # stsd and anything else that describes, not indexes
    stbl_children += [Box(b"stts", payload=stts_payload(stts))]
    if ctts is not None:
        stbl_children.append(Box(b"ctts", payload=ctts_payload(ctts)))
    stbl_children += [
        Box(b"stsc", payload=stsc_payload(stsc)),
        Box(b"stsz", payload=stsz_payload(sizes)),
        chunk_offsets_box(offsets),
    ]
    if sync is not None:
        stbl_children.append(Box(b"stss", payload=stss_payload(sync)))

    def rebuild(box: Box) -> Box:
        if box.type == b"stbl":
            return Box(b"stbl", children=stbl_children)
        if box.type == b"mdhd":
            return Box(b"mdhd", payload=with_duration(box.payload, media_duration))
        if box.type == b"tkhd":
            return Box(b"tkhd", payload=with_duration(box.payload, duration, timescale_field=False))
        if box.type == b"edts":
            return Box(b"edts", children=[Box(b"elst", payload=elst_payload(edits))])
        if box.children is not None:
            return Box(box.type, children=[rebuild(child) for child in box.children])
        return box

    trak = rebuild(template.box)
    if trak.find(b"edts") is None and trak.children is not None:
        at = next(i for i, b in enumerate(trak.children) if b.type == b"tkhd") + 1
        trak.children.insert(at, Box(b"edts", children=[Box(b"elst", payload=elst_payload(edits))]))
    return trak


def _joined_edits(clips: Sequence[Clip], t: int, movie_timescale: int) -> list[Edit]:
    """The track's edit list: every clip's edits, their media times moved along, end to end.

    Each clip's part is cut or padded to that clip's movie duration, so tracks of different
    lengths (audio a little longer than video) never drift apart at the seams.
    """
    edits: list[Edit] = []
    media_base = 0
    for clip in clips:
        track = clip.tracks[t]
        scale = Fraction(movie_timescale, clip.movie_timescale)
        budget = clip.movie_duration
        for edit in _own_edits(track, clip.movie_timescale):
            if budget <= 0:
                break
            length = min(edit.segment_duration, budget)
            budget -= length
            media_time = edit.media_time + media_base if edit.media_time >= 0 else -1
            edits.append(Edit(round(length * scale), media_time, edit.rate))
        if budget > 0:  # this track ends before the clip does: hold a pause
            edits.append(Edit(round(budget * scale), -1))
        media_base += track.media_duration
    return _merge_edits(edits, clips[0].tracks[t].timescale, movie_timescale)


def _own_edits(track: Track, movie_timescale: int) -> list[Edit]:
    """The track's edits with their lengths spelled out.

    No edit list means the whole media from its start; an edit of length 0 (some writers)
    means the rest of the media.
    """
    if track.edits is None:
        return [Edit(_in_movie_time(track.media_duration, track.timescale, movie_timescale), 0)]
    out: list[Edit] = []
    for edit in track.edits:
        if edit.segment_duration == 0 and edit.media_time >= 0:
            rest = max(0, track.media_duration - edit.media_time)
            edit = replace(
                edit, segment_duration=_in_movie_time(rest, track.timescale, movie_timescale)
            )
        out.append(edit)
    return out


def _merge_edits(edits: list[Edit], media_timescale: int, movie_timescale: int) -> list[Edit]:
    """Neighbouring edits that continue each other exactly become one (what players like)."""
    out: list[Edit] = []
    for edit in edits:
        if out:
            last = out[-1]
            if edit.media_time == -1 and last.media_time == -1:
                out[-1] = replace(
                    last, segment_duration=last.segment_duration + edit.segment_duration
                )
                continue
            follows = Fraction(last.segment_duration * media_timescale, movie_timescale)
            if (
                edit.media_time >= 0
                and last.media_time >= 0
                and edit.rate == last.rate == 0x00010000
                and follows.denominator == 1
                and last.media_time + int(follows) == edit.media_time
            ):
                out[-1] = replace(
                    last, segment_duration=last.segment_duration + edit.segment_duration
                )
                continue
        out.append(edit)
    return out


def _copy(
    src: BinaryIO,
    out: BinaryIO,
    offset: int,
    length: int,
    written: int,
    total: int,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> int:
    src.seek(offset)
    left = length
    while left:
        if cancelled is not None and cancelled():
            raise JoinCancelled("The join was cancelled; nothing was saved.")
        block = src.read(min(COPY_BLOCK, left))
        if not block:
            raise JoinError("A clip got shorter while it was being joined; nothing was saved.")
        out.write(block)
        left -= len(block)
        written += len(block)
        if progress is not None:
            progress(written, total)
    return written


def _in_movie_time(duration: int, from_scale: int, to_scale: int) -> int:
    return round(Fraction(duration * to_scale, from_scale))


def _kinds(clip: Clip) -> str:
    names = {b"vide": "video", b"soun": "audio"}
    return " + ".join(names.get(t.handler, t.handler.decode("latin-1")) for t in clip.tracks)


def _difference(mine: Track, theirs: Track) -> str:
    codec_a, codec_b = _codec(mine), _codec(theirs)
    if codec_a != codec_b:
        return f"its codec is {codec_b}, the first clip's is {codec_a}"
    size_a, size_b = _picture_size(mine), _picture_size(theirs)
    if mine.handler == b"vide" and size_a != size_b and size_a and size_b:
        return (
            f"its picture is {size_b[0]}×{size_b[1]}, the first clip's is {size_a[0]}×{size_a[1]}"
        )
    if mine.timescale != theirs.timescale:
        return f"its time base is 1/{theirs.timescale}, the first clip's is 1/{mine.timescale}"
    return "its encoder settings (the codec's parameter sets) differ from the first clip's"


def _decoder_setup(track: Track) -> bytes:
    """The sample description without what doesn't reach the decoder: bit-rate notes.

    Two encodes with the same settings differ only there: `btrt` (video and audio) and the
    buffer size and bit rates of an `esds` decoder configuration (AAC).
    """
    entry = track.sample_entry
    if track.handler == b"vide":
        start = VISUAL_CHILDREN
    elif track.handler == b"soun" and len(entry) >= AUDIO_CHILDREN and entry[24:26] == b"\0\0":
        start = AUDIO_CHILDREN  # a version-0 audio entry (QuickTime v1/v2 are compared whole)
    else:
        return entry
    if len(entry) < start:
        return entry
    try:
        children = parse_boxes(entry[start:])
    except Mp4FormatError:
        return entry
    kept = b"".join(
        Box(b"esds", payload=_without_bit_rates(box.payload)).to_bytes()
        if box.type == b"esds"
        else box.to_bytes()
        for box in children
        if box.type != b"btrt"
    )
    return entry[:start] + kept


def _without_bit_rates(esds: bytes) -> bytes:
    """An esds payload with its DecoderConfigDescriptor's buffer size and bit rates zeroed."""
    data = bytearray(esds)
    at = 4  # version and flags
    tag, body = _descriptor(data, at)
    if tag != 0x03 or body < 0:
        return esds
    flags = data[body + 2] if body + 2 < len(data) else 0
    at = body + 3  # ES_ID (2), flags (1)
    if flags & 0x80:
        at += 2  # dependsOn_ES_ID
    if flags & 0x40 and at < len(data):
        at += 1 + data[at]  # URL
    if flags & 0x20:
        at += 2  # OCR_ES_Id
    tag, body = _descriptor(data, at)
    if tag != 0x04 or body < 0 or body + 13 > len(data):
        return esds
    data[body + 2 : body + 13] = bytes(11)  # bufferSizeDB (3), maxBitrate (4), avgBitrate (4)
    return bytes(data)


def _descriptor(data: bytearray, at: int) -> tuple[int, int]:
    """(tag, where its body starts) of the MPEG-4 descriptor at `at`; (-1, -1) if cut off."""
    if at >= len(data):
        return -1, -1
    tag = data[at]
    at += 1
    for _ in range(4):  # the size: up to 4 bytes, 7 bits each, high bit = more follow
        if at >= len(data):
            return -1, -1
        more = data[at] & 0x80
        at += 1
        if not more:
            return tag, at
    return tag, at


def _codec(track: Track) -> str:
    entry = track.sample_entry
    return entry[12:16].decode("latin-1") if len(entry) >= 16 else "unknown"


def _picture_size(track: Track) -> tuple[int, int] | None:
    # stsd: version/flags, count, then the entry: size, type, 6 reserved, data ref index,
    # and for a visual entry 16 more bytes before width and height (u16 each).
    entry = track.sample_entry
    if len(entry) < 8 + 36:
        return None
    width, height = struct.unpack_from(">HH", entry, 8 + 32)
    return int(width), int(height)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
