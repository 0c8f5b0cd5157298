"""Remove personal metadata from a JPEG, PNG or WebP file without touching its pixels.

What goes: EXIF (camera, GPS position, dates, serial numbers), XMP, IPTC/Photoshop blocks,
comments and text chunks, embedded thumbnails and anything after a JPEG's end (a phone's
second pictures, a "motion photo" video). What stays: the compressed pixel data byte for byte,
what is needed to decode it the same (JFIF, the Adobe colour transform, transparency, gamma,
colour primaries) and the ICC colour profile, which describes colours, not people.

Each function takes the whole file and returns the cleaned bytes, or raises `NotStrippable`
when the container doesn't look the way the format says (the caller then re-encodes instead).
The caller has decoded the image first: these functions only walk container structures.
"""

from __future__ import annotations

import struct


class NotStrippable(ValueError):
    """The file's structure is not what its format promises: re-encode it instead."""


# --- JPEG ----------------------------------------------------------------------------------

_SOI, _EOI, _SOS = b"\xff\xd8", b"\xff\xd9", 0xDA
_APP0, _APP2, _APP14 = 0xE0, 0xE2, 0xEE
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length


def strip_jpeg(data: bytes) -> bytes:
    """SOI, the segments a decoder needs, the scans, EOI; no APPn but JFIF/ICC/Adobe, no COM."""
    if not data.startswith(_SOI):
        raise NotStrippable("no JPEG start marker")
    out = [_SOI]
    pos = 2
    while True:
        # Markers may be preceded by any number of 0xFF fill bytes.
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) \
                and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise NotStrippable(f"no JPEG marker at byte {pos}")
        marker = data[pos + 1]
        if marker in _STANDALONE:
            out.append(data[pos:pos + 2])
            pos += 2
            continue
        if marker == _EOI[1]:
            raise NotStrippable("JPEG ends before any scan")
        if pos + 4 > len(data):
            raise NotStrippable("JPEG segment header cut short")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise NotStrippable(f"JPEG segment at byte {pos} runs past the end")
        if marker == _SOS:
            # Entropy-coded data can't contain 0xFFD9 (0xFF is always stuffed or a marker),
            # so the first EOI after the first scan ends this picture; later scans, tables
            # and restart markers in between are copied as they are.
            eoi = data.find(_EOI, end)
            if eoi < 0:
                raise NotStrippable("JPEG has no end marker")
            out.append(data[pos:eoi + 2])
            return b"".join(out)
        if _keep_jpeg_segment(marker, data[pos + 4:end]):
            out.append(data[pos:end])
        pos = end


def _keep_jpeg_segment(marker: int, body: bytes) -> bool:
    if marker == 0xFE:  # COM: a free-text comment
        return False
    if 0xE0 <= marker <= 0xEF:  # APPn: metadata, except what decoding needs
        return (
            (marker == _APP0 and body.startswith(b"JFIF\x00"))
            or (marker == _APP2 and body.startswith(b"ICC_PROFILE\x00"))
            or (marker == _APP14 and body.startswith(b"Adobe"))
        )
    return True  # SOFn, DHT, DQT, DRI, DNL, DAC, EXP...: needed to decode


# --- PNG -----------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Ancillary chunks that change how pixels look; every other ancillary chunk (tEXt, zTXt, iTXt,
# eXIf, tIME, private chunks) is dropped. Critical chunks (IHDR, PLTE, IDAT, IEND) always stay.
_PNG_KEPT = frozenset(
    {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP", b"mDCV", b"cLLI", b"pHYs",
     b"bKGD"}
)


def strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise NotStrippable("no PNG signature")
    out = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise NotStrippable("PNG chunk header cut short")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise NotStrippable(f"PNG chunk {kind!r} runs past the end")
        critical = kind[:1].isupper()
        if critical or kind in _PNG_KEPT:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            return b"".join(out)
    raise NotStrippable("PNG has no IEND chunk")


# --- WebP ----------------------------------------------------------------------------------

_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotStrippable("no RIFF WEBP header")
    (riff_size,) = struct.unpack("<I", data[4:8])
    stop = min(len(data), 8 + riff_size)
    chunks = []
    pos = 12
    while pos < stop:
        if pos + 8 > stop:
            raise NotStrippable("WebP chunk header cut short")
        kind = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        end = pos + 8 + size + (size & 1)  # chunks are padded to an even size
        if pos + 8 + size > stop:
            raise NotStrippable(f"WebP chunk {kind!r} runs past the end")
        chunk = data[pos:min(end, stop)]
        if kind == b"VP8X" and size >= 1:
            flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in (b"EXIF", b"XMP "):
            chunks.append(chunk + (b"\x00" if len(chunk) & 1 else b""))
        pos = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


STRIPPERS = {"JPEG": strip_jpeg, "MPO": strip_jpeg, "PNG": strip_png, "WEBP": strip_webp}

__all__ = ["STRIPPERS", "NotStrippable", "strip_jpeg", "strip_png", "strip_webp"]
