"""An MP4's comment: read it, or write it in place of the old one, atomically.

The comment is the iTunes-style item `moov/udta/meta/ilst/©cmt/data` (UTF-8), the form FFmpeg's
own muxer writes for `-metadata comment=…`: ffprobe shows it as `comment`, exiftool as
`Comment`, and every player ignores it. Whatever else `udta` holds (an encoder name, other
items) is kept.

A bigger `moov` moves the bytes after it, so when the index comes before the media (the
"fast start" layout of Runway's clips) every chunk offset (`stco`/`co64`) after it moves by the
same amount. The new file is written beside the old one, checked whole (`mp4_check`), fsynced,
and renamed over it: a crash leaves the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from runway_desktop.engine.durable import fsync_dir
from runway_desktop.engine.mp4_check import check_mp4
from runway_desktop.engine.video.mp4_boxes import (
    Box,
    Mp4FormatError,
    parse_boxes,
    read_box,
    top_level,
)
from runway_desktop.engine.video.mp4_tables import chunk_offsets_box

COMMENT = b"\xa9cmt"
UTF8 = 1  # the `data` box's well-known type for UTF-8 text
STALE_AFTER_S = 3600.0  # a temporary file this old beside a video is a crash's leftover
MAX_BOXES = 100_000  # top-level boxes read before giving up (mp4_check's limit)
MAX_UDTA = 16 * 1024 * 1024  # a joined film of many shots has a few hundred KB of settings
# The handler of an iTunes-style metadata box: 'mdir' (metadata directory), maker 'appl'.
MDIR_HDLR = struct.pack(">II4s4sII", 0, 0, b"mdir", b"appl", 0, 0) + b"\x00"
# Tables that point at the media by absolute file offset besides stco/co64; moving the media
# under them would need them rebuilt too, so such files keep their layout (no comment written).
OTHER_OFFSETS = (b"saio",)


def read_comment(path: Path) -> str | None:
    """The comment of the MP4 at `path`, or None when it has none.

    Reads only box headers and `udta`. Raises Mp4FormatError for a file that isn't an MP4 this
    code can read, OSError when it can't be read at all.
    """
    with Path(path).open("rb") as f:
        size = f.seek(0, 2)
        moov_at = _find_top(f, size, b"moov")
        if moov_at is None:
            raise Mp4FormatError("it has no moov box: not a playable MP4")
        udta = _find_udta(f, *moov_at)
    if udta is None:
        return None
    return comment_in(udta)


def comment_in(udta: Box) -> str | None:
    """The first ©cmt text inside a `udta` box (a leaf), or None."""
    for meta in parse_boxes(udta.payload):
        if meta.type != b"meta":
            continue
        for box in _meta_children(meta.payload):
            if box.type != b"ilst":
                continue
            for item in parse_boxes(box.payload):
                if item.type != COMMENT:
                    continue
                for data in parse_boxes(item.payload):
                    if data.type == b"data" and len(data.payload) >= 8:
                        kind = struct.unpack_from(">I", data.payload)[0] & 0xFFFFFF
                        if kind == UTF8:
                            return data.payload[8:].decode("utf-8")
    return None


def with_comment(moov: Box, text: str | None) -> Box:
    """A copy of `moov` whose `udta` carries `text` as its comment (None: no comment)."""
    children = list(moov.children or ())
    at = next((i for i, box in enumerate(children) if box.type == b"udta"), None)
    old = children[at] if at is not None else Box(b"udta")
    udta = Box(b"udta", payload=_udta_payload(old.payload, text))
    if at is None:
        if text is None:
            return Box(moov.type, children=children)
        children.append(udta)
    elif udta.payload:
        children[at] = udta
    else:
        del children[at]
    return Box(moov.type, children=children)


def write_comment(path: Path, text: str | None) -> None:
    """Give the MP4 at `path` the comment `text` (None removes ours), replacing the file
    atomically. Raises Mp4FormatError (nothing changed) or OSError."""
    path = Path(path)
    with path.open("rb") as src:
        size = src.seek(0, 2)
        layout = top_level(src, size)
        if layout.first(b"moof") is not None or layout.first(b"mfra") is not None:
            raise Mp4FormatError("it is a fragmented MP4 (streaming layout)")
        moov_at = layout.first(b"moov")
        if moov_at is None:
            raise Mp4FormatError("it has no moov box: not a playable MP4")
        moov_offset, moov_size = moov_at
        moov = read_box(src, moov_offset, moov_size)
        if moov.find(b"mvex") is not None:
            raise Mp4FormatError("it is a fragmented MP4 (streaming layout)")
        new_moov = _placed(with_comment(moov, text), moov_offset, moov_size)
        _replace(path, src, size, moov_offset, moov_size, new_moov.to_bytes())


def _placed(moov: Box, offset: int, old_size: int) -> Box:
    """`moov` with the chunk offsets after it moved by its change in size (an `stco` that
    overflows becomes `co64`, which grows the box again: placed until it stays put)."""
    shifted = moov
    for _attempt in range(4):
        delta = len(shifted.to_bytes()) - old_size
        if delta == 0 and shifted is moov:
            return moov
        if _has_other_offsets(moov):
            raise Mp4FormatError("its media is indexed by tables this app doesn't move")
        shifted = _shift(moov, offset, delta)
        if len(shifted.to_bytes()) - old_size == delta:
            return shifted
    raise Mp4FormatError("its index can't be placed")


def _shift(box: Box, after: int, delta: int) -> Box:
    if box.type in (b"stco", b"co64"):
        offsets = _chunk_offsets(box)
        return chunk_offsets_box([o + delta if o > after else o for o in offsets])
    if box.children is None:
        return box
    return Box(box.type, children=[_shift(child, after, delta) for child in box.children])


def _chunk_offsets(box: Box) -> list[int]:
    payload = box.payload
    if len(payload) < 8:
        raise Mp4FormatError(f"its {box.type.decode('latin-1')} box is cut off")
    count = struct.unpack_from(">I", payload, 4)[0]
    fmt = "Q" if box.type == b"co64" else "I"
    if 8 + count * struct.calcsize(fmt) > len(payload):
        raise Mp4FormatError(f"its {box.type.decode('latin-1')} box is cut off")
    return list(struct.unpack_from(f">{count}{fmt}", payload, 8))


def _has_other_offsets(box: Box) -> bool:
    if box.type in OTHER_OFFSETS:
        return True
    return any(_has_other_offsets(child) for child in box.children or ())


def _udta_payload(payload: bytes, text: str | None) -> bytes:
    """`udta`'s payload with its iTunes-style comment replaced (other items and boxes kept)."""
    boxes = parse_boxes(payload)
    item = None if text is None else _comment_item(text)
    placed = False
    out: list[Box] = []
    for box in boxes:
        if box.type == b"meta" and not placed and _is_mdir(box.payload):
            out.append(_meta_with(box.payload, item))
            placed = True
        else:
            out.append(box)
    if not placed and item is not None:
        children = [Box(b"hdlr", payload=MDIR_HDLR), Box(b"ilst", payload=item.to_bytes())]
        out.append(Box(b"meta", payload=b"\x00\x00\x00\x00" + _joined(children)))
    return _joined(out)


def _comment_item(text: str) -> Box:
    data = Box(b"data", payload=struct.pack(">II", UTF8, 0) + text.encode("utf-8"))
    return Box(COMMENT, payload=data.to_bytes())


def _meta_with(payload: bytes, item: Box | None) -> Box:
    head = b"" if payload[4:8] == b"hdlr" else payload[:4]  # QuickTime's meta has no version
    children = _meta_children(payload)
    out: list[Box] = []
    found = False
    for box in children:
        if box.type == b"ilst" and not found:
            found = True
            items = [i for i in parse_boxes(box.payload) if i.type != COMMENT]
            if item is not None:
                items.append(item)
            out.append(Box(b"ilst", payload=_joined(items)))
        else:
            out.append(box)
    if not found and item is not None:
        out.append(Box(b"ilst", payload=item.to_bytes()))
    return Box(b"meta", payload=head + _joined(out))


def _meta_children(payload: bytes) -> list[Box]:
    """The boxes inside a `meta` (a full box in MP4, a plain one in QuickTime files)."""
    if payload[4:8] == b"hdlr":
        return parse_boxes(payload)
    if len(payload) < 4:
        raise Mp4FormatError("a meta box is too short")
    return parse_boxes(payload[4:])


def _is_mdir(payload: bytes) -> bool:
    for box in _meta_children(payload):
        if box.type == b"hdlr":
            return box.payload[8:12] == b"mdir"
    return False


def _joined(boxes: list[Box]) -> bytes:
    return b"".join(box.to_bytes() for box in boxes)


def _find_top(f: BinaryIO, size: int, box_type: bytes) -> tuple[int, int] | None:
    """(offset, size) of the first top-level box of `box_type`, reading only headers and
    giving up after MAX_BOXES of them (a file of millions of tiny boxes is not a video)."""
    offset = 0
    for _ in range(MAX_BOXES):
        if offset >= size:
            return None
        f.seek(offset)
        head = f.read(16)
        if len(head) < 8:
            raise Mp4FormatError(f"a box header at byte {offset:,} is cut off")
        box_size, kind = struct.unpack_from(">I4s", head)
        if box_size == 1:
            if len(head) < 16:
                raise Mp4FormatError(f"a box header at byte {offset:,} is cut off")
            box_size = struct.unpack_from(">Q", head, 8)[0]
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8 or offset + box_size > size:
            raise Mp4FormatError(f"the box at byte {offset:,} runs past the end")
        if kind == box_type:
            return offset, box_size
        offset += box_size
    raise Mp4FormatError(f"more than {MAX_BOXES:,} top-level boxes")


def _find_udta(f: BinaryIO, moov_offset: int, moov_size: int) -> Box | None:
    """moov's `udta`, reading only the headers of its other children."""
    f.seek(moov_offset)
    header = f.read(16)
    start = moov_offset + (16 if struct.unpack_from(">I", header)[0] == 1 else 8)
    end = moov_offset + moov_size
    offset = start
    while offset + 8 <= end:
        f.seek(offset)
        head = f.read(16)
        if len(head) < 8:
            raise Mp4FormatError("a box header is cut off")
        size, kind = struct.unpack_from(">I4s", head)
        if size == 1:
            if len(head) < 16:
                raise Mp4FormatError("a box header is cut off")
            size = struct.unpack_from(">Q", head, 8)[0]
        elif size == 0:
            size = end - offset
        if size < 8 or offset + size > end:
            raise Mp4FormatError("a box inside moov runs past its end")
        if kind == b"udta":
            if size > MAX_UDTA:
                raise Mp4FormatError(f"a {size:,}-byte udta box is more than this app reads")
            return read_box(f, offset, size)
        offset += size
    return None


def sweep_stale(path: Path, *, older_than_s: float = STALE_AFTER_S) -> None:
    """Remove what an interrupted rewrite of `path` left beside it (`.<name>.*.partial`, older
    than `older_than_s`: a rewrite in progress is never that old)."""
    cutoff = time.time() - older_than_s
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.partial"):
            with contextlib.suppress(OSError):
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def _replace(path: Path, src: BinaryIO, size: int, moov_offset: int, moov_size: int,
             moov: bytes) -> None:
    sweep_stale(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy(src, out, 0, moov_offset)
            out.write(moov)
            _copy(src, out, moov_offset + moov_size, size - moov_offset - moov_size)
            out.flush()
            os.fsync(out.fileno())
        check = check_mp4(tmp)
        if not check.whole:
            raise Mp4FormatError(f"the rewritten file isn't whole ({check.reason})")
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _copy(src: BinaryIO, out: BinaryIO, offset: int, length: int) -> None:
    src.seek(offset)
    left = length
    while left > 0:
        block = src.read(min(left, 1024 * 1024))
        if not block:
            raise Mp4FormatError("the file got shorter while it was rewritten")
        out.write(block)
        left -= len(block)
