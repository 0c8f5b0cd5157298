"""Image preparation: check, orient, convert and shrink a local image so Runway will take it.

Runway (through apiframe) takes JPEG, PNG and WebP, each side under 8000 px, width/height
between 0.5 and 2.0, and at most 16 MB when given by URL (apiframe's upload limit is 25 MB).
`prepare_image` returns the file to upload: the original, untouched, when it already fits,
otherwise a new file in `work_dir`.

Encoding choices when a new file has to be written:
- an image with transparency → PNG (JPEG has no alpha);
- a lossy source (JPEG, WebP) without transparency → JPEG, quality 95 (a photo as PNG is
  5-10x bigger and gains nothing);
- any other source (GIF, BMP, TIFF, PNG) → PNG, lossless;
- when the result is over 16 MB: a picture without alpha is re-encoded as JPEG at falling
  quality, one with alpha is shrunk further; if nothing fits in 16 MB, the smallest result
  under 25 MB is used, and above that the image is refused.
Re-encoded files keep the ICC profile but drop EXIF (so GPS tags don't leave the machine).

`prepare_image` is CPU-heavy and blocking: call `prepare_image_async` (a thread) from the loop.
OSError while writing into `work_dir` is not the image's fault and propagates unchanged.
"""

from __future__ import annotations

import asyncio
import errno
import io
import math
import uuid
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MB = 1024 * 1024
TARGET_BYTES = 16 * MB  # Runway's limit for an image given by URL
HARD_MAX_BYTES = 25 * MB  # apiframe's upload limit: above this nothing can be sent
MAX_SIDE = 8000  # Runway wants each side *under* 8000 px
TARGET_SIDE = 4096  # what we shrink to: plenty for a 720p video
MIN_RATIO, MAX_RATIO = 0.5, 2.0
JPEG_QUALITIES = (95, 90, 85, 80, 70, 60, 50)
ALPHA_SHRINK_STEPS = (1.0, 0.75, 0.5, 0.35, 0.25)

# Pillow format names we open; anything else is refused with one clear sentence.
OPENABLE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "DIB", "TIFF")  # JPEG opens MPO too
# Formats Runway takes as they are (MPO is a phone's multi-picture JPEG: a JPEG to everyone).
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
FORMAT_NAMES = {"MPO": "JPEG", "WEBP": "WebP", "DIB": "BMP"}
LOSSY_FORMATS = frozenset({"JPEG", "MPO", "WEBP"})
ROTATING_ORIENTATIONS = frozenset(range(2, 9))  # EXIF orientation 1 (or none) = already upright
EXIF_ORIENTATION = 0x0112


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
    converted: bool
    note: str | None = None  # e.g. "Converted GIF to PNG (first frame)"


def image_info(path: Path) -> tuple[int, int]:
    """Width and height as shown upright (EXIF orientation applied), from the header only."""
    path = Path(path)
    _check_file(path)
    with _open(path) as img:
        return _upright_size(img.size, _orientation(img, decoded=False))


async def prepare_image_async(source: Path, work_dir: Path) -> PreparedImage:
    return await asyncio.to_thread(prepare_image, source, work_dir)


def prepare_image(source: Path, work_dir: Path) -> PreparedImage:
    source, work_dir = Path(source), Path(work_dir)
    file_size = _check_file(source)
    with _open(source) as img:
        fmt = img.format or ""
        stored_size = img.size
        width, height = _upright_size(stored_size, _orientation(img, decoded=False))
        _check_ratio(width, height)  # cheap: before decoding any pixels
        oversized = max(width, height) >= MAX_SIDE or file_size > TARGET_BYTES
        if oversized and fmt in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a fraction of the memory and time.
            scale = TARGET_SIDE / max(width, height)
            img.draft(None, (math.ceil(img.width * scale), math.ceil(img.height * scale)))
        _decode(img, source)
        orientation = _orientation(img, decoded=True)
        width, height = _upright_size(stored_size, orientation)
        _check_ratio(width, height)  # again: a PNG's orientation may only be known now
        frames = getattr(img, "n_frames", 1)
        rotated = orientation in ROTATING_ORIENTATIONS
        reasons = _conversion_reasons(img, fmt, frames, rotated)

        if not reasons and not oversized:
            if fmt == "PNG":
                _verify_png(source)
            return PreparedImage(
                path=source,
                width=width,
                height=height,
                content_type=CONTENT_TYPES[fmt],
                byte_size=file_size,
                converted=False,
            )

        icc = img.info.get("icc_profile")
        picture = ImageOps.exif_transpose(img) if rotated else img.copy()
    original_mode = picture.mode
    picture = _normalise_mode(picture)
    if _colour_family(original_mode) != _colour_family(picture.mode):
        icc = None  # e.g. a CMYK profile would mislabel the RGB pixels made from it
    if oversized:
        picture = _shrink(picture, TARGET_SIDE / max(picture.size))
    data, out_fmt, picture = _encode_to_fit(picture, fmt, icc)

    ext = {"PNG": ".png", "JPEG": ".jpg"}[out_fmt]
    work_dir.mkdir(parents=True, exist_ok=True)
    # A unique name: several generations may prepare images into the same folder at once.
    dest = work_dir / f"{_stem(source)}-{uuid.uuid4().hex[:8]}{ext}"
    dest.write_bytes(data)
    return PreparedImage(
        path=dest,
        width=picture.width,
        height=picture.height,
        content_type=CONTENT_TYPES[out_fmt],
        byte_size=len(data),
        converted=True,
        note=_note(fmt, out_fmt, frames, reasons, oversized, (width, height), picture.size),
    )


# --- reading -------------------------------------------------------------------------------


def _check_file(path: Path) -> int:
    """The file's size; refuses missing, unreadable, non-regular and empty files."""
    name = path.name or str(path)
    try:
        if path.is_dir():
            raise ImageRejected(f"Can't read “{name}”: it's a folder, not a file.")
        size = path.stat().st_size
        with path.open("rb"):  # permission check that also holds on Windows
            pass
    except FileNotFoundError:
        raise ImageRejected(f"Can't read “{name}”: the file doesn't exist (any more).") from None
    except PermissionError:
        raise ImageRejected(f"Can't read “{name}”: permission denied.") from None
    except OSError as exc:
        raise ImageRejected(f"Can't read “{name}”: {exc.strerror or exc}.") from None
    if size == 0:
        raise ImageRejected("That file is empty (0 bytes). Choose an image file.")
    return size


def _open(path: Path) -> Image.Image:
    try:
        return Image.open(path, formats=OPENABLE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow only warns between 89 and 179 megapixels; if warnings are errors, refuse too.
        limit = (Image.MAX_IMAGE_PIXELS or 0) // 1_000_000 * 2
        raise ImageRejected(
            f"“{path.name}” has too many pixels to open safely. "
            f"Use an image under about {limit} megapixels."
        ) from None
    except UnidentifiedImageError:
        raise ImageRejected(
            f"“{path.name}” isn't an image Runway can use. "
            "Use a PNG, JPEG, WebP, GIF, BMP or TIFF file."
        ) from None
    except PermissionError:
        raise ImageRejected(f"Can't read “{path.name}”: permission denied.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        # A header Pillow recognised but can't parse: a broken file, not an unknown type.
        raise _corrupt(path) from exc


def _decode(img: Image.Image, path: Path) -> None:
    """Decode every pixel: a truncated or corrupt file fails here, not on Runway's side."""
    try:
        img.load()
    except (Image.DecompressionBombError, MemoryError):
        raise ImageRejected(
            f"“{path.name}” is too large to decode in memory. Use a smaller image."
        ) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error...
        if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
            raise ImageRejected(f"Can't read “{path.name}”: permission denied.") from None
        raise _corrupt(path) from exc


def _verify_png(path: Path) -> None:
    """Check chunk CRCs up to IEND: `load()` stops after the pixel data."""
    try:
        with Image.open(path, formats=("PNG",)) as img:
            img.verify()
    except Exception as exc:
        raise _corrupt(path) from exc


def _corrupt(path: Path) -> ImageRejected:
    return ImageRejected(
        f"The image seems truncated or corrupt — “{path.name}” can't be read to the end. "
        "Export or download it again and retry."
    )


def _orientation(img: Image.Image, *, decoded: bool) -> int | None:
    # A PNG's eXIf chunk may follow the pixels: reading it before decoding means decoding.
    if img.format == "PNG" and "exif" not in img.info and not decoded:
        return None
    try:
        return img.getexif().get(EXIF_ORIENTATION)
    except Exception:  # broken EXIF is no reason to refuse a picture
        return None


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


def _conversion_reasons(img: Image.Image, fmt: str, frames: int, rotated: bool) -> list[str]:
    """Why this file can't be sent as it is; empty when it can."""
    reasons = []
    if fmt not in CONTENT_TYPES:
        reasons.append("format")
    elif frames > 1 and fmt != "MPO":
        reasons.append("animated")  # Runway wants a still; take the first frame
    elif fmt in ("JPEG", "MPO") and img.mode not in ("L", "RGB"):
        reasons.append("colours")  # CMYK JPEGs show wrong colours in most decoders
    elif fmt == "WEBP" and img.mode not in ("RGB", "RGBA"):
        reasons.append("colours")
    if rotated:
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


def _normalise_mode(img: Image.Image) -> Image.Image:
    """Bring any decoded mode to L, RGB or RGBA: what both PNG and JPEG writers take."""
    if img.mode in ("L", "RGB", "RGBA"):
        return img
    if img.mode in ("LA", "PA") or (img.mode == "P" and img.has_transparency_data):
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I;16"):
        return img.convert("I").point(lambda v: v / 257).convert("L")  # 16 → 8 bits, not clip
    if img.mode in ("I", "F"):
        low, high = img.getextrema()
        span = (high - low) or 1
        return img.point(lambda v: (v - low) * 255 / span).convert("L")
    return img.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV


def _shrink(img: Image.Image, scale: float) -> Image.Image:
    if scale >= 1:
        return img
    width = max(1, round(img.width * scale))
    height = max(1, round(img.height * scale))
    # Rounding must not push an accepted 2.0 ratio just outside the rule.
    width = min(width, 2 * height)
    height = min(height, 2 * width)
    return img.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(img: Image.Image, fmt: str, icc: bytes | None, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2, **extra)
    else:
        img.save(buf, "PNG", compress_level=6, **extra)
    return buf.getvalue()


def _encode_to_fit(
    img: Image.Image, source_fmt: str, icc: bytes | None
) -> tuple[bytes, str, Image.Image]:
    """Encode within TARGET_BYTES if possible; else the smallest try under HARD_MAX_BYTES."""
    tries = []
    if _has_alpha(img):
        base = img
        for step in ALPHA_SHRINK_STEPS:
            img = _shrink(base, step)
            tries.append((_encode(img, "PNG", icc), "PNG", img))
            if len(tries[-1][0]) <= TARGET_BYTES:
                return tries[-1]
    else:
        if source_fmt not in LOSSY_FORMATS:
            tries.append((_encode(img, "PNG", icc), "PNG", img))
            if len(tries[-1][0]) <= TARGET_BYTES:
                return tries[-1]
        for quality in JPEG_QUALITIES:
            tries.append((_encode(img, "JPEG", icc, quality), "JPEG", img))
            if len(tries[-1][0]) <= TARGET_BYTES:
                return tries[-1]
    smallest = min(tries, key=lambda t: len(t[0]))
    if len(smallest[0]) > HARD_MAX_BYTES:
        raise ImageRejected(
            f"Even shrunk, the image is still {len(smallest[0]) / MB:.1f} MB — over the "
            f"{HARD_MAX_BYTES // MB} MB upload limit. Save a smaller version and try again."
        )
    return smallest


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
    if after != before:
        parts.append(f"Downscaled from {before[0]} × {before[1]} to {after[0]} × {after[1]}")
    elif oversized:
        parts.append(f"Re-encoded as {out} to fit the 16 MB limit")
    if not parts:
        parts.append(f"Re-encoded as {out}")
    return "; ".join(parts) + "."


__all__ = [
    "ImageRejected",
    "PreparedImage",
    "image_info",
    "prepare_image",
    "prepare_image_async",
    "ratio_ok",
]
