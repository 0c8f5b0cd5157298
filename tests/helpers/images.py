"""Real image files for tests, drawn with Qt (no fixtures checked into the repo)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage


def make_png(folder: Path, name: str, width: int = 640, height: int = 360,
             colour: str = "#2878c8") -> str:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    path = folder / name
    assert image.save(str(path), "PNG")  # type: ignore[call-overload]  # PySide6's stub wants bytes; it takes str
    return str(path)


def write_gradient_png(path: Path, width: int, height: int, *, cut: bool = False) -> Path:
    """An 8-bit RGB PNG of any size written a row at a time (never held whole): red grows
    left to right, green top to bottom, blue is 100, so any crop says where it came from.
    `cut`: the file ends halfway through its pixel data, as an interrupted download leaves it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    red = bytes(x * 255 // max(1, width - 1) for x in range(width))
    blue = bytes([100]) * width
    squeeze = zlib.compressobj(1)
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n"
                  + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        pending = bytearray()
        for y in range(height):
            green = bytes([y * 255 // max(1, height - 1)]) * width
            row = bytearray(3 * width)
            row[0::3], row[1::3], row[2::3] = red, green, blue
            pending += b"\0" + row
            if len(pending) > 8 << 20 or y == height - 1:
                data = squeeze.compress(bytes(pending))
                if y == height - 1:
                    data += squeeze.flush()
                pending.clear()
                if cut and y >= height // 2:
                    out.write(chunk(b"IDAT", data[: len(data) // 2]))  # and nothing after
                    return path
                out.write(chunk(b"IDAT", data))
        out.write(chunk(b"IEND", b""))
    return path


def add_late_exif(path: Path, orientation: int) -> Path:
    """Put an eXIf chunk with `orientation` after a PNG's pixel data (just before IEND), as
    the PNG extensions allow and some tools write it."""
    import struct
    import zlib

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    body = exif.tobytes()
    crc = zlib.crc32(b"eXIf" + body) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", crc)
    data = path.read_bytes()
    iend = data.rfind(b"IEND") - 4
    path.write_bytes(data[:iend] + chunk + data[iend:])
    return path
