"""Image preparation: check, orient, convert, shrink and clean a local image for Runway.

Runway (through apiframe) takes JPEG, PNG and WebP, each side under 8000 px, width/height
between 0.5 and 2.0, and at most 16 MB when given by URL (apiframe's upload limit is 25 MB).
`prepare_image` returns the file to upload: the original, untouched, when it already fits and
carries nothing personal, otherwise a new file in `work_dir`.

Privacy by default: personal metadata (EXIF with the GPS position, XMP, IPTC, comments, text
chunks, a phone's extra pictures) never leaves the machine. A JPEG, PNG or WebP that needs no
other change is cleaned without re-encoding (`image_metadata`: pixels byte for byte); anything
else is re-encoded, which writes no metadata but the ICC colour profile. The EXIF orientation
is applied to the pixels first. `keep_metadata=True` (the "keep image metadata" setting) sends
a fitting file as it is and keeps the EXIF of a re-encoded one.

Encoding choices when a new picture has to be written:
- an image with transparency → PNG (JPEG has no alpha);
- a lossy source (JPEG, WebP, HEIC, AVIF) without transparency → JPEG, quality 95 (a photo as
  PNG is 5-10x bigger and gains nothing);
- any other source (GIF, BMP, TIFF, PNG) → PNG, lossless;
- when the result is over 16 MB: a picture without alpha is re-encoded as JPEG at falling
  quality, one with alpha is shrunk further; if nothing fits in 16 MB, the smallest result
  under 25 MB is used, and above that the image is refused.
A picture that is re-encoded anyway is brought down to 4096 px on its long side: plenty for a
720p video, and it bounds the memory every later step needs.

Bounded memory (any accepted image is prepared in well under 300 MB): Pillow's own
decompression-bomb limit is replaced by ours, counted in decoded bytes, checked from the header
before any pixel is decoded (`MAX_DECODE_BYTES`). A JPEG is decoded at 1/2, 1/4 or 1/8 scale
by libjpeg when that is all we need (draft mode), and shrinking works in bands of rows, so
only the decoded picture and the (small) result are ever in memory at once. A plain 8-bit PNG
over the budget (Pillow can't decode one scaled) is read a band of rows at a time instead
(`png_bands`), up to `MAX_BANDED_PIXELS`: a 9000 × 9000 render is prepared in ~130 MB.

Every path is checked before it is opened: only regular files are read (a FIFO would block the
open for ever, a device never ends), and the file is opened non-blocking and checked again.

`prepare_image` is CPU-heavy and blocking: call `prepare_image_async` (a thread) from the loop.
`check_image` is the cheap header-only check the window's drop zone and the CLI share.
OSError while writing into `work_dir` is not the image's fault and propagates unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import os
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile, UnidentifiedImageError, features

from runway_desktop.engine.fingerprints import sha256_of
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.image_metadata import STRIPPERS, NotStrippable
from runway_desktop.engine.png_bands import CorruptPng, PngRows, Region, exif_chunk
from runway_desktop.regular_files import kind_problem as _file_kind_problem

MB = 1024 * 1024
TARGET_BYTES = 16 * MB  # Runway's limit for an image given by URL
HARD_MAX_BYTES = 25 * MB  # apiframe's upload limit: above this nothing can be sent
MAX_SIDE = 8000  # Runway wants each side *under* 8000 px
TARGET_SIDE = 4096  # what a re-encoded picture is shrunk to: plenty for a 720p video
MIN_RATIO, MAX_RATIO = 0.5, 2.0
JPEG_QUALITIES = (95, 90, 85, 80, 70, 60, 50)
ALPHA_SHRINK_STEPS = (1.0, 0.75, 0.5, 0.35, 0.25)
# The most memory one decoded picture may take (Pillow keeps RGB and RGBA at 4 bytes a pixel):
# 43 megapixels in colour, a 24-megapixel HEIC (libheif's own buffer comes on top). With the
# interpreter (~42 MB) and the shrunk result (at most 4096² × 4 = 64 MB, plus a few MB of
# bands) a preparation stays under ~290 MB whatever the file (benchmarks/bench_images.py).
MAX_DECODE_BYTES = 172 * MB
# Above this many pixels in the header even a 1/8-scale JPEG decode takes too long.
MAX_HEADER_PIXELS = 400_000_000
# A plain 8-bit PNG over the decode budget is read a band of rows at a time (png_bands), in
# bounded memory, up to this many pixels (a 9000 × 9000 render: ~1.5 s for each reading).
MAX_BANDED_PIXELS = 90_000_000
BAND_BYTES = 2 * MB  # shrinking works through the picture in bands of about this size
# Files being written in work_dir end in PART_SUFFIX; one older than this was abandoned by an
# interrupted preparation (the worst takes seconds) and is deleted by the next one.
PART_SUFFIX = ".part"
STALE_PART_SECONDS = 15 * 60

# Pillow's decompression-bomb check prints a raw DecompressionBombWarning between 89 and 179
# megapixels and refuses above, counted before any draft scaling. Ours (`_check_decode_cost`)
# replaces it: counted in decoded bytes, after draft scaling, always with a clear message.
# Process-wide on purpose: a per-call `warnings.catch_warnings()` isn't thread-safe, and this
# module is the app's only Pillow user.
Image.MAX_IMAGE_PIXELS = None


def _register_heif() -> bool:
    """HEIC/HEIF (every iPhone photo) through pi-heif: libheif + libde265, decoding only."""
    try:
        import pi_heif  # type: ignore[import-untyped]
    except ImportError:  # an install without it still takes every other format
        return False
    pi_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    return True


HEIF_SUPPORTED = _register_heif()
AVIF_SUPPORTED = bool(features.check("avif"))  # Pillow's own plugin (libavif, dav1d)

# Pillow format names we open; anything else is refused with one clear sentence.
OPENABLE_FORMATS: tuple[str, ...] = (
    "PNG", "JPEG", "WEBP", "GIF", "BMP", "DIB", "TIFF",  # JPEG opens MPO too
    *(("HEIF",) if HEIF_SUPPORTED else ()),
    *(("AVIF",) if AVIF_SUPPORTED else ()),
)
# What the person is told we take, in their words, and the file name endings we offer.
ACCEPTED_NAMES: tuple[str, ...] = (
    "PNG", "JPEG", "WebP",
    *(("HEIC",) if HEIF_SUPPORTED else ()),
    *(("AVIF",) if AVIF_SUPPORTED else ()),
    "GIF", "BMP", "TIFF",
)
ACCEPTED_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp",
    *((".heic", ".heif", ".hif") if HEIF_SUPPORTED else ()),
    *((".avif",) if AVIF_SUPPORTED else ()),
    ".gif", ".bmp", ".dib", ".tif", ".tiff",
)
# Formats Runway takes as they are (MPO is a phone's multi-picture JPEG: a JPEG to everyone).
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
# After "the file doesn't exist": what the person can do (the window and the CLI alike).
_CHOOSE_AGAIN = "Choose it again from where it is now, or another picture."
FORMAT_NAMES = {"MPO": "JPEG", "WEBP": "WebP", "DIB": "BMP", "HEIF": "HEIC"}
LOSSY_FORMATS = frozenset({"JPEG", "MPO", "WEBP", "HEIF", "AVIF"})
JPEG_FORMATS = frozenset({"JPEG", "MPO"})
ROTATING_ORIENTATIONS = frozenset(range(2, 9))  # EXIF orientation 1 (or none) = already upright
EXIF_ORIENTATION = 0x0112
TIFF_IMAGE_WIDTH, TIFF_IMAGE_LENGTH = 256, 257
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def accepted_formats_sentence() -> str:
    """"PNG, JPEG, WebP, HEIC, AVIF, GIF, BMP or TIFF": for messages, here and in the window."""
    return ", ".join(ACCEPTED_NAMES[:-1]) + " or " + ACCEPTED_NAMES[-1]


def file_dialog_patterns() -> str:
    """"*.png *.jpg …": the file chooser's filter for the accepted formats."""
    return " ".join(f"*{ext}" for ext in ACCEPTED_EXTENSIONS)


class ImageRejected(Exception):
    """The image can't be used; `message` says what the person can do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PreparedImage:
    path: Path  # the file to upload: the original or a new file in work_dir
    width: int
    height: int
    content_type: str
    byte_size: int
    converted: bool  # True: `path` is a new file in work_dir, the caller deletes it after use
    note: str | None = None  # e.g. "Converted GIF to PNG (first frame)"
    # SHA-256 of the source file as read for this (before any change): the picture it was
    # made from, told from another put at the same path since.
    source_sha256: str | None = None


def check_image(path: Path) -> tuple[int, int]:
    """Upright width and height of an image we can prepare, from its header only.

    Raises ImageRejected for anything `prepare_image` would refuse before decoding: not a
    regular file, empty, not an image we read, a ratio Runway refuses, too many pixels.
    """
    path = Path(path)
    with _open_file(path) as (handle, _size), _open(handle, path) as img:
        width, height = _upright_size(_stored_size(img), _orientation(img, decoded=False))
        _check_ratio(width, height)
        if not _reads_in_bands(img):
            _check_decode_cost(img, path, _decode_scale(img, validate_only=False))
        return width, height


def verify_image(path: Path) -> tuple[int, int]:
    """`check_image`, then every pixel read as `prepare_image` reads it (a JPEG at 1/8 scale):
    a file cut short or corrupt is refused here, in `prepare_image`'s words, before anything
    is journaled. What the CLI refuses before a generation, the window refuses at the drop.

    Blocking (it decodes the picture): call it off the GUI thread.
    """
    path = Path(path)
    with _open_file(path) as (handle, _size), _open(handle, path) as img:
        fmt = img.format or ""
        stored_size = _stored_size(img)
        _check_ratio(*_upright_size(stored_size, _orientation(img, decoded=False)))
        if rows := _rows_of(img, handle, path):
            _read_through(rows, path)
            orientation = _orientation_of(rows.exif)
        else:
            _check_decode_cost(img, path, _decode_scale(img, validate_only=False))
            scale = _decode_scale(img, validate_only=True)
            if scale > 1:
                img.draft(None, (max(1, img.width // scale), max(1, img.height // scale)))
            _decode(img, path)
            orientation = _orientation(img, decoded=True)
        width, height = _upright_size(stored_size, orientation)
        _check_ratio(width, height)  # a PNG's orientation may only be known now
        if fmt == "PNG":
            _verify_png(handle, path)
        return width, height


def preview_rgba(path: Path, edge: int) -> tuple[int, int, bytes]:
    """(width, height, RGBA bytes) of the upright picture scaled to fit `edge` × `edge`.

    For previews of formats the window's toolkit can't decode itself (HEIC, AVIF). Bounded like
    `prepare_image`: refused above the decode budget, a JPEG decoded at a fraction of its size.
    """
    path = Path(path)
    with _open_file(path) as (handle, _size), _open(handle, path) as img:
        if rows := _rows_of(img, handle, path):
            orientation = _orientation_of(rows.exif)
            picture = _resample_rows(rows, min(1.0, edge / max(rows.size)), path)
        else:
            _check_decode_cost(img, path, _decode_scale(img, validate_only=False))
            img.draft(None, (edge, edge))  # JPEG only: at least `edge`, decoded smaller
            _decode(img, path)
            orientation = _orientation(img, decoded=True)
            picture = _resample(img, min(1.0, edge / max(img.size)))
        img.close()
    if orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[orientation])
    picture = picture.convert("RGBA")
    return picture.width, picture.height, picture.tobytes()


def exif_orientation(path: Path) -> int | None:
    """The EXIF orientation (1–8) `prepare_image` turns this picture by, from the header only
    (None: it has none). For a window whose toolkit reads none in PNG or WebP files."""
    path = Path(path)
    with _open_file(path) as (handle, _size), _open(handle, path) as img:
        return _orientation(img, decoded=False)


def image_info(path: Path) -> tuple[int, int]:
    """Width and height as shown upright (EXIF orientation applied), from the header only."""
    path = Path(path)
    with _open_file(path) as (handle, _size), _open(handle, path) as img:
        return _upright_size(_stored_size(img), _orientation(img, decoded=False))


async def prepare_image_async(
    source: Path, work_dir: Path, *, keep_metadata: bool = False, frame: ImageFrame | None = None
) -> PreparedImage:
    """`prepare_image` in a daemon thread of its own, never blocking the loop.

    Not the loop's executor (`asyncio.to_thread`): on Ctrl-C `asyncio.run` joins that
    executor's threads, and Python joins them again at exit, so a long preparation (seconds
    for a big picture) would hold the exit. Cancelled, this returns at once; the thread's work
    is dropped (a file it made is deleted) or ends with the process.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[PreparedImage] = loop.create_future()

    def deliver(result: PreparedImage | None, error: BaseException | None) -> None:
        if future.cancelled():
            _discard(result)
        elif error is not None:
            future.set_exception(error)
        else:
            assert result is not None
            future.set_result(result)

    def work() -> None:
        result, error = None, None
        try:
            result = prepare_image(source, work_dir, keep_metadata=keep_metadata, frame=frame)
        except BaseException as exc:  # handed to the awaiting task, which re-raises it
            error = exc
        try:
            loop.call_soon_threadsafe(deliver, result, error)
        except RuntimeError:  # the loop is closed: nobody waits for this any more
            _discard(result)

    threading.Thread(target=work, name="prepare-image", daemon=True).start()
    return await future


def _discard(result: PreparedImage | None) -> None:
    if result is not None and result.converted:
        result.path.unlink(missing_ok=True)


def prepare_image(
    source: Path, work_dir: Path, *, keep_metadata: bool = False, frame: ImageFrame | None = None
) -> PreparedImage:
    """The file to upload for `source`: checked, converted where Runway needs it, stripped of
    metadata (unless `keep_metadata`), cropped to `frame` (the part the person framed)."""
    source, work_dir = Path(source), Path(work_dir)
    if frame is not None and frame.is_whole():
        frame = None
    _sweep(work_dir)
    with _open_file(source) as (handle, file_size), _open(handle, source) as img:
        fmt = img.format or ""
        source_sha256 = sha256_of(handle)  # the very bytes prepared, from the open file
        stored_size = img.size  # as Pillow has it: a TIFF's is upright (decoding turns it)
        width, height = _upright_size(_stored_size(img), _orientation(img, decoded=False))
        _check_ratio(width, height)  # cheap: before decoding any pixels
        oversized = max(width, height) >= MAX_SIDE or file_size > TARGET_BYTES
        frames = getattr(img, "n_frames", 1)
        # A JPEG's reasons are all known from its header: decode it only as far as needed.
        reasons = _conversion_reasons(img, fmt, frames, _orientation(img, decoded=False))
        if frame is not None:
            reasons.append("framed")
        cleaned = None
        if not reasons and not oversized and not keep_metadata:
            cleaned = _strip(handle, fmt)  # the container only: no pixels decoded yet
            if cleaned is None:
                reasons = ["metadata"]  # an odd container: re-encoding writes no metadata
        # A PNG too big to decode whole is read a band of rows at a time (png_bands).
        rows = _rows_of(img, handle, source)
        if rows is not None:
            if not reasons and not oversized:
                _read_through(rows, source)  # sent as it is: checked to the last row
            orientation = _orientation_of(rows.exif)
        else:
            scale = _decode_scale(img, validate_only=not (reasons or oversized))
            _check_decode_cost(img, source, scale)
            if scale > 1:
                img.draft(None, (max(1, img.width // scale), max(1, img.height // scale)))
            _decode(img, source)
            orientation = _orientation(img, decoded=True)
        width, height = _upright_size(stored_size, orientation)
        _check_ratio(width, height)  # again: a PNG's orientation may only be known now
        if orientation in ROTATING_ORIENTATIONS and "rotated" not in reasons:
            reasons.append("rotated")  # a PNG's eXIf chunk after its pixels
        if fmt == "PNG":
            _verify_png(handle, source)

        if not reasons and not oversized:
            kept = PreparedImage(
                path=source,
                width=width,
                height=height,
                content_type=CONTENT_TYPES[fmt],
                byte_size=file_size,
                converted=False,
                source_sha256=source_sha256,
            )
            if cleaned is None or len(cleaned) == file_size:
                return kept  # metadata kept on request, or nothing personal in it
            dest = _write(work_dir, source, _EXTENSIONS[fmt], cleaned)
            return replace(kept, path=dest, byte_size=len(cleaned), converted=True,
                           note="Removed the photo's metadata (location, camera, dates).")

        icc = img.info.get("icc_profile")
        exif = _exif_to_keep(img) if keep_metadata else None
        original_mode = img.mode
        if rows is not None:
            part: PngRows | Region = rows
            if frame is not None:
                part = rows.region(_stored_box(frame, rows.size, orientation))
                width, height = _upright_size(part.size, orientation)
            picture = _resample_rows(part, TARGET_SIDE / max(part.size), source)
        else:
            region: Image.Image = img
            if frame is not None:  # crop before resampling: a zoomed frame keeps its detail
                region = img.crop(_stored_box(frame, img.size, orientation))
                width, height = _upright_size(region.size, orientation)
            picture = _resample(region, TARGET_SIDE / max(region.size))
        img.close()  # free the decoded pixels before encoding
    if orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[orientation])
    if _colour_family(original_mode) != _colour_family(picture.mode):
        icc = None  # e.g. a CMYK profile would mislabel the RGB pixels made from it
    work_dir.mkdir(parents=True, exist_ok=True)
    dest, out_fmt, picture = _encode_to_fit(picture, fmt, icc, exif, _new_path(work_dir, source))
    return PreparedImage(
        path=dest,
        width=picture.width,
        height=picture.height,
        content_type=CONTENT_TYPES[out_fmt],
        byte_size=dest.stat().st_size,
        converted=True,
        note=_note(fmt, out_fmt, frames, reasons, oversized, (width, height), picture.size),
        source_sha256=source_sha256,
    )


_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "WEBP": ".webp"}


def _stored_box(
    frame: ImageFrame, stored: tuple[int, int], orientation: int | None
) -> tuple[int, int, int, int]:
    """`frame` (fractions of the upright picture) as a pixel box of the picture as stored,
    before its EXIF orientation is applied: cropping first keeps the rotation small."""
    u0, v0 = frame.left, frame.top
    u1, v1 = frame.left + frame.width, frame.top + frame.height
    # Where an upright point (u, v) lies in the stored picture, per EXIF orientation.
    to_stored: dict[int | None, Callable[[float, float], tuple[float, float]]] = {
        2: lambda u, v: (1 - u, v),
        3: lambda u, v: (1 - u, 1 - v),
        4: lambda u, v: (u, 1 - v),
        5: lambda u, v: (v, u),
        6: lambda u, v: (v, 1 - u),
        7: lambda u, v: (1 - v, 1 - u),
        8: lambda u, v: (1 - v, u),
    }
    convert = to_stored.get(orientation, _upright_point)
    (xa, ya), (xb, yb) = convert(u0, v0), convert(u1, v1)
    box = ImageFrame(min(xa, xb), min(ya, yb), abs(xb - xa), abs(yb - ya))
    return box.pixel_box(*stored)


def _upright_point(u: float, v: float) -> tuple[float, float]:
    return u, v


def _new_path(work_dir: Path, source: Path) -> Callable[[str], Path]:
    """A maker of unique file names in work_dir for `source` (several generations may prepare
    images into the same folder at once)."""
    return lambda ext: work_dir / f"{_stem(source)}-{uuid.uuid4().hex[:8]}{ext}"


def _write(work_dir: Path, source: Path, ext: str, data: bytes) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    dest = _new_path(work_dir, source)(ext)
    part = _part(dest)
    part.write_bytes(data)
    part.replace(dest)
    return dest


def _part(path: Path) -> Path:
    """Where `path` is written until it is complete and chosen."""
    return path.with_name(path.name + PART_SUFFIX)


def _sweep(work_dir: Path) -> None:
    """Delete what an interrupted preparation left (the process ended while it wrote)."""
    cutoff = time.time() - STALE_PART_SECONDS
    with contextlib.suppress(OSError):
        for part in work_dir.glob(f"*{PART_SUFFIX}"):
            with contextlib.suppress(OSError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()


def _strip(handle: BinaryIO, fmt: str) -> bytes | None:
    """The file without its metadata (pixels untouched); None when its structure is odd."""
    handle.seek(0)
    data = handle.read()
    try:
        return STRIPPERS[fmt](data)
    except NotStrippable:
        return None


def _exif_to_keep(img: Image.Image) -> bytes | None:
    """The EXIF block, minus the orientation the pixels now carry (setting: keep metadata)."""
    try:
        exif = img.getexif()
        if not exif:
            return None
        exif.pop(EXIF_ORIENTATION, None)
        return exif.tobytes()
    except Exception:  # broken EXIF: drop it rather than the picture
        return None


# --- reading -------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_file(path: Path) -> Iterator[tuple[BinaryIO, int]]:
    """The opened file and its size; refuses anything but a readable, non-empty regular file.

    The type is checked before opening (opening a FIFO blocks until a writer comes), then the
    file is opened non-blocking and checked again on the open descriptor, so a file swapped
    between the two checks can't hang us either.
    """
    name = path.name or str(path)
    try:
        try:
            info = path.stat()
        except FileNotFoundError:
            if path.is_symlink():
                raise ImageRejected(
                    f"Can't read “{name}”: it's a link to a file that doesn't exist. "
                    f"{_CHOOSE_AGAIN}") from None
            raise
        problem = _file_kind_problem(info.st_mode)
        if problem:
            raise ImageRejected(f"Can't read “{name}”: {problem}.")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ImageRejected(f"Can't read “{name}”: the file doesn't exist (any more: moved or "
                            f"deleted?). {_CHOOSE_AGAIN}") from None
    except PermissionError:
        raise ImageRejected(f"Can't read “{name}”: permission denied. Copy it to a folder of "
                            "yours, or choose another picture.") from None
    except OSError as exc:
        raise ImageRejected(f"Can't read “{name}”: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        problem = _file_kind_problem(info.st_mode)
        if problem:
            raise ImageRejected(f"Can't read “{name}”: {problem}.")
        if info.st_size == 0:
            raise ImageRejected("That file is empty (0 bytes). Choose an image file.")
        yield handle, info.st_size


def _open(handle: BinaryIO, path: Path) -> Image.Image:
    try:
        img = Image.open(handle, formats=OPENABLE_FORMATS)
    except UnidentifiedImageError:
        if _is_heif_family(handle):  # a HEIC/AVIF container its decoder couldn't read: cut
            raise _corrupt(path) from None
        raise ImageRejected(
            f"“{path.name}” isn't an image Runway can use. "
            f"Use a {accepted_formats_sentence()} file."
        ) from None
    except PermissionError:
        raise ImageRejected(f"Can't read “{path.name}”: permission denied.") from None
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        # A header Pillow recognised but can't parse: a broken file, not an unknown type.
        raise _corrupt(path) from exc
    if img.width * img.height > MAX_HEADER_PIXELS:
        img.close()
        raise _too_many_pixels(path, img.size, MAX_HEADER_PIXELS)
    return img


def _decode_scale(img: Image.Image, *, validate_only: bool) -> int:
    """1, 2, 4 or 8: how much smaller libjpeg should decode (1 for other formats).

    Only checking the file: 1/8 scale (every byte is still read and checked). Converting:
    the finest scale whose pixels fit the decode budget.
    """
    if img.format not in JPEG_FORMATS or len(getattr(img, "tile", ())) != 1:
        return 1
    if validate_only:
        return 8
    for scale in (1, 2, 4, 8):
        if _decoded_bytes(img, scale) <= MAX_DECODE_BYTES:
            return scale
    return 8


def _bytes_per_pixel(img: Image.Image) -> int:
    mode = img.mode
    if mode in ("1", "L", "P"):
        size = 1
    elif mode.startswith("I;16"):
        size = 2
    else:
        size = 4  # RGB, RGBA, LA, CMYK, YCbCr, I, F...: Pillow keeps 4 bytes a pixel
    if img.format == "HEIF":  # libheif decodes into its own buffer first, then Pillow copies
        size += len(mode) if mode in ("L", "LA", "RGB", "RGBA") else 4
    return size


def _decoded_bytes(img: Image.Image, scale: int) -> int:
    width, height = math.ceil(img.width / scale), math.ceil(img.height / scale)
    total = width * height * _bytes_per_pixel(img)
    if img.format in JPEG_FORMATS and img.info.get("progressive"):
        # A progressive JPEG keeps every DCT coefficient of the full-size picture until the
        # last scan, whatever the output scale: 2 bytes per sample of each component.
        layers = getattr(img, "layer", None) or [("", 1, 1, 0)] * len(img.getbands())
        h_max = max(layer[1] for layer in layers)
        v_max = max(layer[2] for layer in layers)
        total += sum(
            math.ceil(img.width * layer[1] / h_max) * math.ceil(img.height * layer[2] / v_max)
            for layer in layers
        ) * 2
    return total


def _check_decode_cost(img: Image.Image, path: Path, scale: int) -> None:
    if _decoded_bytes(img, scale) > MAX_DECODE_BYTES:
        limit = MAX_BANDED_PIXELS if _banded_kind(img) else (
            MAX_DECODE_BYTES // _bytes_per_pixel(img))
        raise _too_many_pixels(path, img.size, limit)


# Pillow's raw modes of the PNGs png_bands reads: 8 bits a sample.
_BANDED_RAW_MODES = frozenset({"L", "RGB", "P", "LA", "RGBA"})


def _banded_kind(img: Image.Image) -> bool:
    """A PNG png_bands can read a band of rows at a time: plain, non-interlaced, 8-bit."""
    tiles = img.tile if isinstance(img, ImageFile.ImageFile) else []
    return (img.format == "PNG" and len(tiles) == 1 and tiles[0].args in _BANDED_RAW_MODES
            and not img.info.get("interlace") and getattr(img, "n_frames", 1) == 1)


def _reads_in_bands(img: Image.Image) -> bool:
    """A PNG over the decode budget read in bands instead (bounded memory; up to
    MAX_BANDED_PIXELS, as each reading takes about a second per 80 megapixels)."""
    return (_decoded_bytes(img, 1) > MAX_DECODE_BYTES
            and img.width * img.height <= MAX_BANDED_PIXELS and _banded_kind(img))


def _rows_of(img: Image.Image, handle: BinaryIO, path: Path) -> PngRows | None:
    """The picture's rows, read in bands, when it is a PNG too big to decode whole."""
    if not _reads_in_bands(img):
        return None
    try:
        return PngRows.open(handle)
    except CorruptPng as exc:
        raise _corrupt(path) from exc


def _read_through(rows: PngRows, path: Path) -> None:
    try:
        rows.read_through()
    except CorruptPng as exc:
        raise _corrupt(path) from exc


def _resample_rows(rows: PngRows | Region, scale: float, path: Path) -> Image.Image:
    try:
        return _resample(rows, scale)
    except CorruptPng as exc:
        raise _corrupt(path) from exc


def _orientation_of(exif: bytes | None) -> int | None:
    """The orientation in a PNG's eXIf chunk (None without one, or when it can't be read)."""
    if not exif:
        return None
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        value = parsed.get(EXIF_ORIENTATION)
    except Exception:  # broken EXIF is no reason to refuse a picture
        return None
    return value if isinstance(value, int) else None


def _too_many_pixels(path: Path, size: tuple[int, int], limit: int) -> ImageRejected:
    megapixels = size[0] * size[1] / 1_000_000
    return ImageRejected(
        f"“{path.name}” is {size[0]} × {size[1]} ({megapixels:,.0f} megapixels): too many "
        f"pixels to prepare safely. Use an image under about {limit // 1_000_000} megapixels "
        "(export a smaller copy) and try again."
    )


def _decode(img: Image.Image, path: Path) -> None:
    """Decode every pixel: a truncated or corrupt file fails here, not on Runway's side."""
    try:
        img.load()
    except MemoryError:
        raise ImageRejected(
            f"“{path.name}” is too large to decode in memory. Use a smaller image."
        ) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error...
        if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
            raise ImageRejected(f"Can't read “{path.name}”: permission denied.") from None
        raise _corrupt(path) from exc


def _verify_png(handle: BinaryIO, path: Path) -> None:
    """Check chunk CRCs up to IEND: `load()` stops after the pixel data."""
    try:
        handle.seek(0)
        with Image.open(handle, formats=("PNG",)) as img:
            img.verify()
    except Exception as exc:
        raise _corrupt(path) from exc


# ISO-BMFF brands of HEIF (HEIC) and AVIF stills and sequences.
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                b"avif", b"avis")


def _is_heif_family(handle: BinaryIO) -> bool:
    """Whether the file starts as a HEIF/AVIF picture does (an `ftyp` box with its brand)."""
    try:
        handle.seek(0)
        head = handle.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _corrupt(path: Path) -> ImageRejected:
    return ImageRejected(
        f"The image seems truncated or corrupt — “{path.name}” can't be read to the end. "
        "Export or download it again and retry."
    )


def _orientation(img: Image.Image, *, decoded: bool) -> int | None:
    # A PNG's eXIf chunk may follow the pixels, where Pillow finds it only once decoded: the
    # chunk headers say where it is without decoding.
    if img.format == "PNG" and "exif" not in img.info and not decoded:
        handle = getattr(img, "fp", None)
        return _orientation_of(exif_chunk(handle)) if handle is not None else None
    try:
        value = img.getexif().get(EXIF_ORIENTATION)
    except Exception:  # broken EXIF is no reason to refuse a picture
        return None
    return value if isinstance(value, int) else None


def _stored_size(img: Image.Image) -> tuple[int, int]:
    """Width and height of the pixel grid as stored, before the EXIF orientation is applied.

    Pillow reports a TIFF's size already turned by its orientation (and turns its pixels while
    decoding, dropping the tag), unlike every other format: its header says what is stored.
    """
    if img.format == "TIFF":
        tags = getattr(img, "tag_v2", {})
        width, height = tags.get(TIFF_IMAGE_WIDTH), tags.get(TIFF_IMAGE_LENGTH)
        if isinstance(width, int) and isinstance(height, int):
            return width, height
    return img.size


def _upright_size(size: tuple[int, int], orientation: int | None) -> tuple[int, int]:
    width, height = size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)  # 90° turns


# --- checks --------------------------------------------------------------------------------


def ratio_ok(width: int, height: int) -> bool:
    """Runway's rule, in integers so 2.0 exactly is never lost to rounding."""
    return width > 0 and height > 0 and height <= 2 * width and width <= 2 * height


def _check_ratio(width: int, height: int) -> None:
    if not ratio_ok(width, height):
        raise ImageRejected(
            f"The image is {width} × {height} (ratio {_format_ratio(width, height)}). "
            "Runway needs a width/height ratio between 0.5 and 2.0 — crop it and try again."
        )


def _format_ratio(width: int, height: int) -> str:
    ratio = width / height if height else math.inf
    for digits in (2, 3, 4):
        text = f"{ratio:.{digits}f}"
        # Don't show "2.00" for a refused 2.001: add digits until it's visibly outside.
        if not MIN_RATIO <= float(text) <= MAX_RATIO:
            return text
    return f"{ratio:.4f}"


def _conversion_reasons(
    img: Image.Image, fmt: str, frames: int, orientation: int | None
) -> list[str]:
    """Why this file can't be sent as it is; empty when it can."""
    reasons = []
    if fmt not in CONTENT_TYPES:
        reasons.append("format")
    elif frames > 1 and fmt != "MPO":
        reasons.append("animated")  # Runway wants a still; take the first frame
    elif fmt in JPEG_FORMATS and img.mode not in ("L", "RGB"):
        reasons.append("colours")  # CMYK JPEGs show wrong colours in most decoders
    elif fmt == "WEBP" and img.mode not in ("RGB", "RGBA"):
        reasons.append("colours")
    if orientation in ROTATING_ORIENTATIONS:
        reasons.append("rotated")
    return reasons


# --- converting ----------------------------------------------------------------------------


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA") or (img.mode == "P" and img.has_transparency_data)


def _colour_family(mode: str) -> str:
    if mode in ("1", "L", "LA", "F") or mode.startswith("I"):
        return "grey"
    if mode in ("RGB", "RGBA", "RGBX", "P", "PA"):
        return "rgb"
    return mode


def _normalise_mode(img: Image.Image, extrema: tuple[float, float] | None = None) -> Image.Image:
    """Bring any decoded mode to L, RGB or RGBA: what both PNG and JPEG writers take.

    `extrema`: the whole picture's (low, high) for 32-bit modes, when `img` is one band of it.
    """
    if img.mode in ("L", "RGB", "RGBA"):
        return img
    if img.mode in ("LA", "PA") or (img.mode == "P" and img.has_transparency_data):
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v / 257).convert("L")  # 16 → 8 bits, not clip
    if img.mode in ("I", "F"):
        low, high = extrema or _extrema(img)
        span = (high - low) or 1
        return img.point(lambda v: (v - low) * 255 / span).convert("L")
    return img.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV


def _extrema(img: Image.Image) -> tuple[float, float]:
    """(low, high) of a one-band picture."""
    low, high = img.getextrema()
    assert isinstance(low, (int, float))
    assert isinstance(high, (int, float))
    return float(low), float(high)


def _resample(img: Image.Image | PngRows | Region, scale: float) -> Image.Image:
    """A new L/RGB/RGBA picture, `scale` times the size when that is < 1, built band by band.

    Converting or resizing the whole decoded picture at once would need one or two more
    full-size copies (Pillow resizes RGBA through a premultiplied copy); one band of rows at a
    time, with the filter's margin around it, gives the same pixels in a few MB.
    """
    extrema = _extrema(img) if isinstance(img, Image.Image) and img.mode in ("I", "F") else None
    width, height = img.size
    if scale < 1:
        width, height = _scaled_size(img.size, scale)
    out: Image.Image | None = None
    rows_per_band = max(1, BAND_BYTES // (4 * max(width, img.width)))
    step = img.height / height  # source rows per output row
    margin = math.ceil(3 * max(step, 1)) + 2  # LANCZOS reaches 3 output pixels each way
    for top in range(0, height, rows_per_band):
        bottom = min(height, top + rows_per_band)
        first = max(0, math.floor(top * step) - margin)
        last = min(img.height, math.ceil(bottom * step) + margin)
        band = _normalise_mode(img.crop((0, first, img.width, last)), extrema)
        if (width, height) != img.size:
            band = band.resize(
                (width, bottom - top), Image.Resampling.LANCZOS,
                box=(0, top * step - first, img.width, bottom * step - first),
            )
        else:
            band = band.crop((0, top - first, width, bottom - first))
        if out is None:
            out = Image.new(band.mode, (width, height))
        out.paste(band, (0, top))
    assert out is not None
    return out


def _scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    width = max(1, round(size[0] * scale))
    height = max(1, round(size[1] * scale))
    # Rounding must not push an accepted 2.0 ratio just outside the rule.
    return min(width, 2 * height), min(height, 2 * width)


def _encode(
    img: Image.Image, fmt: str, icc: bytes | None, exif: bytes | None, dest: Path,
    quality: int = 95,
) -> int:
    """Write `img` to `dest` (a file, not memory: a 4096² PNG of noise is 64 MB); its size."""
    extra: dict[str, bytes] = {}
    if icc:
        extra["icc_profile"] = icc
    if exif:
        extra["exif"] = exif
    if fmt == "JPEG":
        img.save(dest, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2,
                 comment=b"", **extra)
    else:
        img.save(dest, "PNG", compress_level=6, **extra)
    return dest.stat().st_size


def _encode_to_fit(
    img: Image.Image, source_fmt: str, icc: bytes | None, exif: bytes | None,
    new_path: Callable[[str], Path],
) -> tuple[Path, str, Image.Image]:
    """Encode within TARGET_BYTES if possible; else the smallest try under HARD_MAX_BYTES.

    Every try is a file in work_dir; only the smallest so far is kept.
    """
    best: tuple[Path, str, Image.Image, int] | None = None

    def attempt(picture: Image.Image, fmt: str, quality: int = 95) -> bool:
        nonlocal best
        dest = _part(new_path(_EXTENSIONS[fmt]))  # renamed once chosen
        try:
            size = _encode(picture, fmt, icc, exif, dest, quality)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        if best is None or size < best[3]:
            if best is not None:
                best[0].unlink(missing_ok=True)
            best = (dest, fmt, picture, size)
        else:
            dest.unlink()
        return size <= TARGET_BYTES

    try:
        if _has_alpha(img):
            for step in ALPHA_SHRINK_STEPS:
                # Banded, like the first shrink: no full-size premultiplied copy of the picture.
                if attempt(_resample(img, step) if step < 1 else img, "PNG"):
                    break
        else:
            fits = source_fmt not in LOSSY_FORMATS and attempt(img, "PNG")
            if not fits:
                for quality in JPEG_QUALITIES:
                    if attempt(img, "JPEG", quality):
                        break
    except BaseException:
        if best is not None:
            best[0].unlink(missing_ok=True)
        raise
    assert best is not None
    part, fmt, picture, size = best
    if size > HARD_MAX_BYTES:
        part.unlink(missing_ok=True)
        raise ImageRejected(
            f"Even shrunk, the image is still {size / MB:.1f} MB — over the "
            f"{HARD_MAX_BYTES // MB} MB upload limit. Save a smaller version and try again."
        )
    dest = part.with_name(part.name.removesuffix(PART_SUFFIX))
    part.replace(dest)
    return dest, fmt, picture


def _stem(path: Path) -> str:
    # Keep the work file recognisable but plain ASCII-safe and short.
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in path.stem)[:40]
    return safe or "image"


def _note(
    fmt: str,
    out_fmt: str,
    frames: int,
    reasons: list[str],
    oversized: bool,
    before: tuple[int, int],
    after: tuple[int, int],
) -> str:
    name = FORMAT_NAMES.get(fmt, fmt)
    out = FORMAT_NAMES.get(out_fmt, out_fmt)
    parts = []
    if "format" in reasons or "animated" in reasons:
        first = " (first frame)" if frames > 1 else ""
        parts.append(f"Converted {name} to {out}{first}")
    elif "colours" in reasons:
        parts.append(f"Converted {name} colours to RGB {out}")
    if "rotated" in reasons:
        parts.append("Rotated upright (EXIF orientation)")
    if "framed" in reasons:
        parts.append("Cropped to the frame you chose")
    if after != before:
        parts.append(f"Downscaled from {before[0]} × {before[1]} to {after[0]} × {after[1]}")
    elif oversized:
        parts.append(f"Re-encoded as {out} to fit the 16 MB limit")
    if not parts:
        parts.append(f"Re-encoded as {out}")
    return "; ".join(parts) + "."


__all__ = [
    "ACCEPTED_EXTENSIONS",
    "ACCEPTED_NAMES",
    "ImageRejected",
    "PreparedImage",
    "accepted_formats_sentence",
    "check_image",
    "file_dialog_patterns",
    "image_info",
    "prepare_image",
    "prepare_image_async",
    "preview_rgba",
    "ratio_ok",
    "verify_image",
]
