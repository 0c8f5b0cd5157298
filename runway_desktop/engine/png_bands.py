"""A huge PNG read a band of rows at a time, so it is prepared in bounded memory.

Pillow decodes a PNG whole (it can't decode one scaled, as libjpeg can a JPEG): a 9000 × 9000
RGB PNG needs 324 MB before anything is shrunk, over `images.MAX_DECODE_BYTES`. A PNG's pixels
are one zlib stream of filtered rows, each row's filter reading at most the row above it; so a
band of rows decodes on its own when it is preceded by that row, unfiltered. `PngRows` inflates
the stream with zlib, wraps each band (the row above it first, with filter "none") in a small
PNG of its own and lets Pillow unfilter it: only a band and the shrunk result are ever held.

Only what that works for: a non-interlaced PNG of 8 bits per sample (grey, RGB, palette, grey
with alpha, RGBA), the kind big renders and scans are; anything else is left to the caller.
Rows are read top to bottom; asking for rows above the last band read starts the stream again.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAND_BYTES = 4 * 1024 * 1024  # raw bytes of rows decoded at once
# PNG colour type → (samples per pixel, Pillow's mode of the decoded band)
_COLOUR_TYPES = {0: (1, "L"), 2: (3, "RGB"), 3: (1, "P"), 4: (2, "LA"), 6: (4, "RGBA")}


class CorruptPng(ValueError):
    """The chunks or the pixel stream are broken (cut short, bad CRC, bad zlib data)."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def exif_chunk(handle: BinaryIO) -> bytes | None:
    """The data of a PNG's eXIf chunk wherever it is (before or after the pixels), reading
    chunk headers only; None without one or when the chunks can't be walked. The handle's
    position is left as it was."""
    position = handle.tell()
    try:
        handle.seek(0)
        if handle.read(8) != SIGNATURE:
            return None
        while len(header := handle.read(8)) == 8:
            length, kind = struct.unpack(">I4s", header)
            if kind == b"eXIf":
                data = handle.read(length)
                return data if len(data) == length else None
            if kind == b"IEND":
                return None
            handle.seek(length + 4, io.SEEK_CUR)
        return None
    except (OSError, struct.error):
        return None
    finally:
        handle.seek(position)


class PngRows:
    """The rows of one PNG file, decoded on demand, a band at a time.

    Quacks like the part of a Pillow image `images._resample` uses: `size`, `width`,
    `height`, `mode` and `crop(box)`, which returns a real image of just those pixels. A
    palette picture comes out as RGB (RGBA with transparency), as the encoders need it.
    """

    def __init__(self, handle: BinaryIO, width: int, height: int, colour_type: int,
                 head: bytes, idat: list[tuple[int, int]], info: dict[str, bytes],
                 exif: bytes | None) -> None:
        self._handle = handle
        self.size = (width, height)
        self.width, self.height = width, height
        self._samples, self._raw_mode = _COLOUR_TYPES[colour_type]
        self._head = head  # IHDR's fields after the size, then PLTE and tRNS: every band's
        self._idat = idat  # (offset, length) of each IDAT chunk's data
        self.info = info  # {"icc_profile": …} when the file has one
        self.exif = exif  # the eXIf chunk's data, if any
        transparent = b"tRNS" in head
        self.mode = (("RGBA" if transparent else "RGB") if self._raw_mode == "P"
                     else self._raw_mode)
        self._row_bytes = 1 + width * self._samples
        self._restart()

    # -- reading ----------------------------------------------------------------------------
    @classmethod
    def open(cls, handle: BinaryIO) -> PngRows | None:
        """The file's rows, or None when it is not a PNG this reads (interlaced, 16-bit, an
        APNG…). Reads the chunk headers only. Raises CorruptPng for broken chunks."""
        handle.seek(0)
        if handle.read(8) != SIGNATURE:
            return None
        ihdr: bytes | None = None
        extra: list[bytes] = []
        idat: list[tuple[int, int]] = []
        info: dict[str, bytes] = {}
        exif: bytes | None = None
        while True:
            header = handle.read(8)
            if len(header) < 8:
                raise CorruptPng("the file ends before IEND")
            length, kind = struct.unpack(">I4s", header)
            start = handle.tell()
            if kind == b"IDAT":
                idat.append((start, length))
                handle.seek(start + length + 4)  # CRCs of pixel data: checked by verify()
                continue
            data = handle.read(length)
            crc = handle.read(4)
            if len(data) < length or len(crc) < 4:
                raise CorruptPng("a chunk is cut short")
            if struct.unpack(">I", crc)[0] != zlib.crc32(kind + data) & 0xFFFFFFFF:
                raise CorruptPng(f"the CRC of a {kind!r} chunk is wrong")
            if kind == b"IHDR":
                ihdr = data
            elif kind in (b"PLTE", b"tRNS"):
                extra.append(_chunk(kind, data))
            elif kind == b"iCCP":
                _name, _, rest = data.partition(b"\0")
                with contextlib.suppress(zlib.error):  # a broken profile: keep the picture
                    info["icc_profile"] = zlib.decompress(rest[1:])
            elif kind == b"eXIf":
                exif = data
            elif kind == b"acTL":
                return None  # animated: Pillow's first frame, not these rows
            elif kind == b"IEND":
                break
        if ihdr is None or len(ihdr) != 13 or not idat:
            raise CorruptPng("no IHDR or no pixel data")
        width, height, depth, colour_type, _method, _filter, interlace = struct.unpack(
            ">IIBBBBB", ihdr)
        if depth != 8 or interlace or colour_type not in _COLOUR_TYPES:
            return None
        head = ihdr[8:] + b"".join(extra)
        return cls(handle, width, height, colour_type, head, idat, info, exif)

    def _restart(self) -> None:
        self._inflate = zlib.decompressobj()
        self._chunks = self._compressed()
        self._pending = b""  # inflated bytes not yet cut into rows
        self._next_row = 0
        self._above = b""  # the raw (unfiltered) row above the next one
        self._last: tuple[int, Image.Image] | None = None  # (top, rows) of the last crop

    def _compressed(self) -> Iterator[bytes]:
        for offset, length in self._idat:
            self._handle.seek(offset)
            left = length
            while left:
                piece = self._handle.read(min(left, 1024 * 1024))
                if not piece:
                    raise CorruptPng("the pixel data is cut short")
                left -= len(piece)
                yield piece

    def _filtered_rows(self, count: int) -> bytes:
        """The next `count` rows as stored (each with its filter byte)."""
        wanted = count * self._row_bytes
        while len(self._pending) < wanted:
            if self._inflate.unconsumed_tail:
                data = self._inflate.unconsumed_tail
            else:
                data = next(self._chunks, b"")
                if not data:
                    raise CorruptPng("the pixel data ends before the last row")
            try:
                self._pending += self._inflate.decompress(data, wanted - len(self._pending))
            except zlib.error as exc:
                raise CorruptPng(str(exc)) from exc
        rows, self._pending = self._pending[:wanted], self._pending[wanted:]
        return rows

    def _band(self, count: int) -> Image.Image:
        """Decode the next `count` rows (unfiltered by Pillow, from a PNG of their own)."""
        rows = self._filtered_rows(count)
        seed = b"\0" + self._above if self._above else b""
        tall = count + (1 if seed else 0)
        png = (SIGNATURE + _chunk(b"IHDR", struct.pack(">II", self.width, tall) + self._head[:5])
               + self._head[5:] + _chunk(b"IDAT", zlib.compress(seed + rows, 0))
               + _chunk(b"IEND", b""))
        try:
            with Image.open(io.BytesIO(png), formats=("PNG",)) as img:
                img.load()
                band = img.crop((0, 1 if seed else 0, self.width, tall))
        except Exception as exc:  # a bad filter byte: Pillow raises OSError or SyntaxError
            raise CorruptPng(str(exc)) from exc
        self._above = band.crop((0, count - 1, self.width, count)).tobytes()
        self._next_row += count
        if band.mode != self.mode:  # a palette: to the RGB(A) the encoders take
            band = band.convert(self.mode)
        return band

    def rows(self, top: int, bottom: int) -> Image.Image:
        """Rows `top` to `bottom` (excluded), the whole width."""
        if not self._can_serve(top, bottom):
            self._restart()  # rows above what is still held: read the stream again
        out = Image.new(self.mode, (self.width, bottom - top))
        if self._last is not None:
            last_top, last = self._last
            overlap = min(bottom, last_top + last.height) - top
            if top >= last_top and overlap > 0:
                out.paste(last.crop((0, top - last_top, self.width, top - last_top + overlap)))
        most = max(1, BAND_BYTES // self._row_bytes)
        while self._next_row < bottom:
            first = self._next_row
            band = self._band(min(bottom - first, most))
            if first + band.height > top:
                cut = max(0, top - first)
                out.paste(band.crop((0, cut, self.width, band.height)), (0, first + cut - top))
        self._last = (top, out)
        return out

    def _can_serve(self, top: int, bottom: int) -> bool:
        """Whether rows `top`…`bottom` are held (the last rows given) or still to come."""
        if top >= self._next_row:
            return True
        if self._last is None:
            return False
        last_top, last = self._last
        return last_top <= top and last_top + last.height >= min(bottom, self._next_row)

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        left, top, right, bottom = box
        rows = self.rows(top, bottom)
        return rows if (left, right) == (0, self.width) else rows.crop(
            (left, 0, right, bottom - top))

    def region(self, box: tuple[int, int, int, int]) -> Region:
        """A part of the picture that reads like the whole (for a frame's crop)."""
        return Region(self, box)

    def read_through(self) -> None:
        """Decode every row (a file cut short or corrupt raises CorruptPng)."""
        self._restart()
        most = max(1, BAND_BYTES // self._row_bytes)
        while self._next_row < self.height:
            self._band(min(self.height - self._next_row, most))


class Region:
    """`box` of a PngRows, with the same reading interface."""

    def __init__(self, rows: PngRows, box: tuple[int, int, int, int]) -> None:
        self._rows = rows
        self._box = box
        self.width, self.height = box[2] - box[0], box[3] - box[1]
        self.size = (self.width, self.height)
        self.mode = rows.mode
        self.info = rows.info

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        x, y = self._box[:2]
        return self._rows.crop((x + box[0], y + box[1], x + box[2], y + box[3]))


__all__ = ["CorruptPng", "PngRows", "Region", "exif_chunk"]
