"""Image preparation against real files written by Pillow."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import struct
import tempfile
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from runway_desktop.engine import images
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.images import (
    ImageRejected,
    PreparedImage,
    image_info,
    prepare_image,
    prepare_image_async,
)

MB = 1024 * 1024


def _save(img: Image.Image, path: Path, fmt: str | None = None, **params: object) -> Path:
    img.save(path, fmt, **params)
    return path


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture with some structure, so encoders behave like on a real image."""
    img = Image.linear_gradient("L").resize(size)
    return img.convert(mode)


def _noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    channels = len(mode)
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * channels))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path / "work"


# --- accepted as they are ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "fmt", "content_type"),
    [("png", "PNG", "image/png"), ("jpg", "JPEG", "image/jpeg"), ("webp", "WEBP", "image/webp")],
)
def test_acceptable_file_is_kept_byte_for_byte(
    tmp_path: Path, work: Path, ext: str, fmt: str, content_type: str
) -> None:
    src = _save(_gradient((640, 360)), tmp_path / f"pic.{ext}", fmt)
    before = src.read_bytes()

    result = prepare_image(src, work)

    assert result == PreparedImage(
        path=src,
        width=640,
        height=360,
        content_type=content_type,
        byte_size=len(before),
        converted=False,
        note=None,
        source_sha256=hashlib.sha256(before).hexdigest(),  # the picture it was made from
    )
    assert src.read_bytes() == before
    assert not work.exists() or not any(work.iterdir())


def test_sixteen_bit_png_is_kept(tmp_path: Path, work: Path) -> None:
    src = _save(Image.new("I;16", (300, 200), 40000), tmp_path / "deep.png")
    result = prepare_image(src, work)
    assert result.path == src
    assert not result.converted


# --- converted -----------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "fmt", "name"), [("bmp", "BMP", "BMP"), ("tif", "TIFF", "TIFF")])
def test_bmp_and_tiff_are_converted_to_png(
    tmp_path: Path, work: Path, ext: str, fmt: str, name: str
) -> None:
    src = _save(_gradient((400, 300)), tmp_path / f"pic.{ext}", fmt)

    result = prepare_image(src, work)

    assert result.converted
    assert result.path.parent == work
    assert result.path.suffix == ".png"
    assert result.content_type == "image/png"
    assert result.note == f"Converted {name} to PNG."
    assert result.byte_size == result.path.stat().st_size
    with Image.open(result.path) as out:
        assert out.format == "PNG"
        assert out.size == (400, 300) == (result.width, result.height)


def test_animated_gif_becomes_png_of_the_first_frame(tmp_path: Path, work: Path) -> None:
    red = Image.new("RGB", (120, 80), (255, 0, 0))
    blue = Image.new("RGB", (120, 80), (0, 0, 255))
    src = tmp_path / "anim.gif"
    red.save(src, save_all=True, append_images=[blue], duration=100, loop=0)

    result = prepare_image(src, work)

    assert result.converted
    assert result.note == "Converted GIF to PNG (first frame)."
    with Image.open(result.path) as out:
        assert out.format == "PNG"
        assert getattr(out, "n_frames", 1) == 1
        assert out.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


def test_transparent_gif_keeps_its_alpha(tmp_path: Path, work: Path) -> None:
    img = Image.new("P", (60, 60), 0)
    img.putpalette([0, 0, 0, 255, 255, 255])
    src = _save(img, tmp_path / "clear.gif", transparency=0)

    result = prepare_image(src, work)

    with Image.open(result.path) as out:
        assert out.mode == "RGBA"
        pixel = out.getpixel((5, 5))
        assert isinstance(pixel, tuple)
        assert pixel[3] == 0


def test_exif_rotated_jpeg_ends_upright(tmp_path: Path, work: Path) -> None:
    img = Image.new("RGB", (200, 100), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))  # a red marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    src = _save(img, tmp_path / "phone.jpg", "JPEG", exif=exif, quality=95)

    assert image_info(src) == (100, 200)
    result = prepare_image(src, work)

    assert result.converted
    assert (result.width, result.height) == (100, 200)
    assert result.content_type == "image/jpeg"
    assert result.note == "Rotated upright (EXIF orientation)."
    with Image.open(result.path) as out:
        assert out.size == (100, 200)
        assert out.getexif().get(0x0112) is None  # nothing left for a viewer to rotate again
        marker = out.getpixel((90, 10))  # the marker moved to the top-right
        assert isinstance(marker, tuple)
        red, _green, blue = marker
        assert red > 200
        assert blue < 60


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((300, 200), "CMYK"), tmp_path / "print.jpg", "JPEG")
    result = prepare_image(src, work)
    assert result.converted
    assert result.content_type == "image/jpeg"
    with Image.open(result.path) as out:
        assert out.mode == "RGB"


def test_animated_webp_becomes_first_frame(tmp_path: Path, work: Path) -> None:
    frames = [Image.new("RGB", (64, 64), c) for c in ((0, 255, 0), (0, 0, 255))]
    src = tmp_path / "anim.webp"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=100, lossless=True)

    result = prepare_image(src, work)

    assert result.converted
    assert result.content_type == "image/jpeg"  # lossy source without alpha → JPEG
    assert result.note == "Converted WebP to JPEG (first frame)."


# --- downscaling ---------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg")])
def test_side_of_8000_px_is_downscaled(tmp_path: Path, work: Path, fmt: str, ext: str) -> None:
    src = _save(Image.new("L", (4000, 8000), 128), tmp_path / f"tall.{ext}", fmt)

    result = prepare_image(src, work)

    assert result.converted
    assert (result.width, result.height) == (2048, 4096)
    assert result.note == "Downscaled from 4000 × 8000 to 2048 × 4096."
    with Image.open(result.path) as out:
        assert out.size == (2048, 4096)


def test_just_under_8000_px_is_kept(tmp_path: Path, work: Path) -> None:
    src = _save(Image.new("L", (7999, 4000), 128), tmp_path / "wide.png")
    assert prepare_image(src, work).path == src


def test_file_over_16_mb_is_brought_under(tmp_path: Path, work: Path) -> None:
    # Noise doesn't compress: an 18 MB PNG that stays too big as PNG and must become JPEG.
    src = _save(_noise((3000, 2000)), tmp_path / "noise.png", compress_level=0)
    assert src.stat().st_size > 16 * MB

    result = prepare_image(src, work)

    assert result.converted
    assert result.content_type == "image/jpeg"
    assert result.byte_size <= 16 * MB
    assert (result.width, result.height) == (3000, 2000)  # already under 4096: size kept
    assert result.note == "Re-encoded as JPEG to fit the 16 MB limit."


def test_large_image_with_alpha_is_shrunk_not_flattened(
    tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small limits keep this fast; the logic is the same as at 16 MB.
    monkeypatch.setattr(images, "TARGET_BYTES", 60_000)
    src = _save(_noise((200, 150), "RGBA"), tmp_path / "alpha.png", compress_level=0)

    result = prepare_image(src, work)

    assert result.content_type == "image/png"
    assert result.byte_size <= 60_000
    assert result.width < 200
    assert result.width / result.height == pytest.approx(200 / 150, rel=0.02)


def test_image_that_cannot_fit_the_upload_limit_is_refused(
    tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "TARGET_BYTES", 1000)
    monkeypatch.setattr(images, "HARD_MAX_BYTES", 2000)
    src = _save(_noise((300, 300), "RGBA"), tmp_path / "big.png", compress_level=0)

    with pytest.raises(ImageRejected, match="upload limit"):
        prepare_image(src, work)


# --- refused -------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path, work: Path) -> None:
    src = tmp_path / "empty.png"
    src.touch()
    with pytest.raises(ImageRejected) as exc:
        prepare_image(src, work)
    assert exc.value.message == "That file is empty (0 bytes). Choose an image file."


def test_text_file(tmp_path: Path, work: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("not a picture\n")
    with pytest.raises(ImageRejected) as exc:
        prepare_image(src, work)
    assert exc.value.message == (
        "“notes.txt” isn't an image Runway can use. Use a PNG, JPEG, WebP, HEIC, AVIF, GIF, BMP "
        "or TIFF file."
    )


def test_unsupported_image_format(tmp_path: Path, work: Path) -> None:
    src = _save(Image.new("RGB", (32, 32)), tmp_path / "icon.ico", "ICO")
    with pytest.raises(ImageRejected, match="isn't an image Runway can use"):
        prepare_image(src, work)


@pytest.mark.parametrize(("ext", "fmt"), [("png", "PNG"), ("jpg", "JPEG")])
def test_truncated_file(tmp_path: Path, work: Path, ext: str, fmt: str) -> None:
    src = _save(_noise((300, 200)), tmp_path / f"cut.{ext}", fmt)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])

    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        prepare_image(src, work)


def test_png_with_a_broken_tail_is_refused(tmp_path: Path, work: Path) -> None:
    # The pixels decode, but the chunk after them is damaged: verify() catches it.
    src = _save(_gradient((64, 64)), tmp_path / "tail.png")
    data = bytearray(src.read_bytes())
    data[-5] ^= 0xFF  # inside IEND's CRC
    src.write_bytes(bytes(data))

    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        prepare_image(src, work)


@pytest.mark.parametrize("damage", ["cut PNG", "cut JPEG", "PNG tail", "fine"])
def test_verify_image_refuses_what_prepare_image_refuses_in_its_words(
    tmp_path: Path, work: Path, damage: str
) -> None:
    """The window's drop reads a picture through with `verify_image` (header checks missed a
    file cut short); it must refuse exactly what the CLI's `prepare_image` refuses."""
    fmt = "JPEG" if "JPEG" in damage else "PNG"
    src = _save(_noise((300, 200)), tmp_path / f"still.{fmt.lower()}", fmt)
    data = bytearray(src.read_bytes())
    if damage.startswith("cut"):
        data = data[: len(data) // 2]
    elif damage == "PNG tail":
        data[-5] ^= 0xFF  # inside IEND's CRC
    src.write_bytes(bytes(data))
    if damage == "fine":
        assert images.verify_image(src) == (300, 200)
        prepare_image(src, work)
        return
    with pytest.raises(ImageRejected) as by_prepare:
        prepare_image(src, work)
    with pytest.raises(ImageRejected) as by_verify:
        images.verify_image(src)
    assert by_verify.value.message == by_prepare.value.message
    assert "truncated or corrupt" in by_verify.value.message


@pytest.mark.parametrize(
    ("size", "shown"), [((49, 100), "0.49"), ((201, 100), "2.01"), ((2001, 1000), "2.001")]
)
def test_ratio_outside_half_to_two_is_refused(
    tmp_path: Path, work: Path, size: tuple[int, int], shown: str
) -> None:
    src = _save(_gradient(size), tmp_path / "odd.png")
    with pytest.raises(ImageRejected) as exc:
        prepare_image(src, work)
    assert exc.value.message == (
        f"The image is {size[0]} × {size[1]} (ratio {shown}). Runway needs a width/height "
        "ratio between 0.5 and 2.0 — crop it and try again."
    )


@pytest.mark.parametrize("size", [(50, 100), (200, 100)])
def test_ratio_at_the_limits_is_accepted(tmp_path: Path, work: Path, size: tuple[int, int]) -> None:
    src = _save(_gradient(size), tmp_path / "edge.png")
    assert prepare_image(src, work).path == src


def test_ratio_is_judged_upright(tmp_path: Path, work: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    src = _save(_gradient((300, 100)), tmp_path / "rot.jpg", "JPEG", exif=exif)
    with pytest.raises(ImageRejected, match=r"100 × 300 \(ratio 0.33\)"):
        prepare_image(src, work)


# --- EXIF orientation: every size reported is the upright one, as uploaded ------------------

# Applied to the upright picture, each gives the pixel grid a file with that orientation stores.
_STORED_FROM_UPRIGHT: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # shown after turning 90° clockwise
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
_QUADRANTS = ((220, 40, 40), (40, 200, 40), (40, 40, 220), (230, 230, 40))
_ORIENTED_FORMATS = [
    pytest.param("TIFF", "tif", {}, id="tiff"),
    pytest.param("TIFF", "tif", {"compression": "tiff_lzw"}, id="tiff-lzw"),
    pytest.param("JPEG", "jpg", {"quality": 95}, id="jpeg"),
    pytest.param("PNG", "png", {}, id="png"),
    pytest.param("WEBP", "webp", {"lossless": True}, id="webp"),
    pytest.param("AVIF", "avif", {"quality": 95}, id="avif", marks=pytest.mark.skipif(
        not images.AVIF_SUPPORTED, reason="no AVIF in this Pillow")),
]


def _quadrants(size: tuple[int, int]) -> Image.Image:
    """Four flat colours (red, green / blue, yellow): where a pixel lies shows in its colour."""
    w, h = size
    img = Image.new("RGB", size)
    for index, colour in enumerate(_QUADRANTS):
        x, y = index % 2, index // 2
        img.paste(colour, (x * w // 2, y * h // 2, (x + 1) * w // 2, (y + 1) * h // 2))
    return img


def _stored_sideways(
    upright: Image.Image, orientation: int, path: Path, fmt: str, params: dict[str, object]
) -> Path:
    """`upright` saved as a camera stores it: the grid turned, the EXIF tag saying how to
    show it."""
    turn = _STORED_FROM_UPRIGHT[orientation]
    stored = upright.transpose(turn) if turn is not None else upright
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return _save(stored, path, fmt, exif=exif, **params)


def _colour_at(img: Image.Image, fx: float, fy: float) -> tuple[int, ...]:
    pixel = img.convert("RGB").getpixel((int(fx * img.width), int(fy * img.height)))
    assert isinstance(pixel, tuple)
    return pixel


def _close(colour: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(colour, expected, strict=True))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("fmt", "ext", "params"), _ORIENTED_FORMATS)
def test_every_size_reported_is_the_upright_one_that_is_uploaded(
    tmp_path: Path, work: Path, fmt: str, ext: str, params: dict[str, object], orientation: int
) -> None:
    """A 1280 × 720-like grid with orientation 5-8 is a portrait: the drop zone, the CLI and the
    ratio that follows the image are told its upright size, the size of what is uploaded.
    (Pillow reports a TIFF's size already turned: it was turned a second time.)"""
    upright = _quadrants((72, 128))
    src = _stored_sideways(upright, orientation, tmp_path / f"turned.{ext}", fmt, params)

    assert images.check_image(src) == (72, 128)
    assert image_info(src) == (72, 128)
    width, height, _rgba = images.preview_rgba(src, 64)
    assert (width, height) == (36, 64)

    result = prepare_image(src, work)
    assert (result.width, result.height) == (72, 128)
    with Image.open(result.path) as out:
        assert out.size == (72, 128)
        for index, colour in enumerate(_QUADRANTS):  # each corner where it is shown
            fx, fy = 0.25 + 0.5 * (index % 2), 0.25 + 0.5 * (index // 2)
            assert _close(_colour_at(out, fx, fy), colour), (index, _colour_at(out, fx, fy))


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
@pytest.mark.parametrize(("fmt", "ext", "params"), _ORIENTED_FORMATS)
def test_a_frame_on_a_turned_picture_crops_what_it_shows_upright(
    tmp_path: Path, work: Path, fmt: str, ext: str, params: dict[str, object], orientation: int
) -> None:
    upright = _quadrants((72, 128))
    src = _stored_sideways(upright, orientation, tmp_path / f"turned.{ext}", fmt, params)
    top_right = ImageFrame(0.5, 0.0, 0.5, 0.5)  # the green quadrant, upright

    result = prepare_image(src, work, frame=top_right)

    assert (result.width, result.height) == (36, 64)
    with Image.open(result.path) as out:
        assert out.size == (36, 64)
        assert _close(_colour_at(out, 0.5, 0.5), _QUADRANTS[1]), _colour_at(out, 0.5, 0.5)


@pytest.mark.parametrize(("fmt", "ext"), [("TIFF", "tif"), ("JPEG", "jpg"), ("PNG", "png")])
def test_a_refused_turned_picture_is_described_upright(
    tmp_path: Path, work: Path, fmt: str, ext: str
) -> None:
    src = _stored_sideways(_gradient((100, 300)), 8, tmp_path / f"tall.{ext}", fmt, {})
    for check in (images.check_image, lambda path: prepare_image(path, work)):
        with pytest.raises(ImageRejected, match=r"100 × 300 \(ratio 0.33\)"):
            check(src)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused(tmp_path: Path, work: Path) -> None:
    src = tmp_path / "bomb.png"
    src.write_bytes(_png_header_only(20000, 20000))
    with pytest.raises(ImageRejected, match="too many pixels"):
        prepare_image(src, work)


def test_missing_file(tmp_path: Path, work: Path) -> None:
    with pytest.raises(ImageRejected) as exc:
        prepare_image(tmp_path / "gone.png", work)
    assert exc.value.message == ("Can't read “gone.png”: the file doesn't exist (any more: "
                                 "moved or deleted?). Choose it again from where it is now, or "
                                 "another picture.")


def test_directory(tmp_path: Path, work: Path) -> None:
    folder = tmp_path / "pictures.png"
    folder.mkdir()
    with pytest.raises(ImageRejected) as exc:
        prepare_image(folder, work)
    assert exc.value.message == "Can't read “pictures.png”: it's a folder, not a file."


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files despite chmod 000"
)
def test_unreadable_file(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((64, 64)), tmp_path / "x.png")
    src.chmod(0)
    try:
        with pytest.raises(ImageRejected) as exc:
            prepare_image(src, work)
    finally:
        src.chmod(0o644)
    assert exc.value.message == ("Can't read “x.png”: permission denied. Copy it to a folder "
                                 "of yours, or choose another picture.")


def test_image_info_refuses_like_prepare(tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    with pytest.raises(ImageRejected, match="isn't an image"):
        image_info(src)


def test_async_wrapper_runs_in_a_thread(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((320, 240)), tmp_path / "pic.bmp", "BMP")
    result = asyncio.run(prepare_image_async(src, work))
    assert result.converted
    assert result.path.exists()


# --- the ratio rule, over many sizes -------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(1, 400), height=st.integers(1, 400))
def test_accept_or_refuse_follows_the_ratio_rule(width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = _save(Image.new("RGB", (width, height), (10, 20, 30)), Path(tmp) / "p.png")
        allowed = 0.5 <= width / height <= 2.0
        if allowed:
            result = prepare_image(src, Path(tmp) / "work")
            assert (result.width, result.height) == (width, height)
        else:
            with pytest.raises(ImageRejected, match="ratio"):
                prepare_image(src, Path(tmp) / "work")


# --- privacy: no metadata leaves the machine unless the person asks -------------------------

GPS_IFD = 0x8825
DATA = Path(__file__).parent / "data"


def _gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "SecretCam 1.0"  # Software
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    return exif


EXIF_ORIENTATION = 0x0112
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>home address</secret></x:xmpmeta>'
PERSONAL = (b"Exif", b"PhoneMaker", b"SecretCam", b"home address", b"a private comment")


def _assert_nothing_personal(data: bytes) -> None:
    for needle in PERSONAL:
        assert needle not in data, needle
    with Image.open(io.BytesIO(data)) as img:
        assert not img.getexif(), dict(img.getexif())
        assert "xmp" not in img.info
        assert "comment" not in img.info


def _pixels(path_or_bytes: Path | bytes) -> bytes:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(source) as img:
        return img.convert("RGBA").tobytes()


def test_a_fitting_jpeg_loses_its_gps_but_not_one_pixel(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((640, 360)), tmp_path / "phone.jpg", "JPEG", exif=_gps_exif(1),
                xmp=XMP, comment=b"a private comment", quality=90)
    src.write_bytes(src.read_bytes() + b"\xff\xd8 a phone's second picture or a motion video")
    assert b"PhoneMaker" in src.read_bytes()

    result = prepare_image(src, work)

    assert result.converted  # a new file in work_dir: the original is never changed
    assert result.path.parent == work
    assert result.content_type == "image/jpeg"
    data = result.path.read_bytes()
    assert result.byte_size == len(data) < src.stat().st_size
    _assert_nothing_personal(data)
    assert b"motion video" not in data
    assert _pixels(data) == _pixels(src)  # the compressed pixels were copied, not re-encoded
    assert b"PhoneMaker" in src.read_bytes()


def test_a_fitting_png_loses_its_exif_and_text(tmp_path: Path, work: Path) -> None:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "a private comment")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    src = _save(_gradient((320, 200), "RGBA"), tmp_path / "shot.png", exif=_gps_exif(),
                pnginfo=text)

    result = prepare_image(src, work)

    data = result.path.read_bytes()
    _assert_nothing_personal(data)
    assert _pixels(data) == _pixels(src)


def test_a_fitting_webp_loses_its_exif_and_xmp(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((320, 200)), tmp_path / "shot.webp", "WEBP", exif=_gps_exif(),
                xmp=XMP, lossless=True)
    assert b"PhoneMaker" in src.read_bytes()

    result = prepare_image(src, work)

    assert result.content_type == "image/webp"
    data = result.path.read_bytes()
    _assert_nothing_personal(data)
    assert _pixels(data) == _pixels(src)


def test_the_setting_keeps_a_fitting_file_as_it_is(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((640, 360)), tmp_path / "phone.jpg", "JPEG", exif=_gps_exif(1))
    result = prepare_image(src, work, keep_metadata=True)
    assert result.path == src
    assert not result.converted


def test_a_rotated_photo_is_turned_upright_then_cleaned(tmp_path: Path, work: Path) -> None:
    img = Image.new("RGB", (200, 100), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))
    src = _save(img, tmp_path / "phone.jpg", "JPEG", exif=_gps_exif(6), xmp=XMP,
                comment=b"a private comment", quality=95)

    result = prepare_image(src, work)

    assert (result.width, result.height) == (100, 200)
    data = result.path.read_bytes()
    _assert_nothing_personal(data)
    with Image.open(result.path) as out:
        marker = out.getpixel((90, 10))
        assert isinstance(marker, tuple)
        assert marker[0] > 200  # the marker moved to the top-right

    kept = prepare_image(src, work, keep_metadata=True)
    with Image.open(kept.path) as out:
        exif = out.getexif()
        assert exif.get(EXIF_ORIENTATION) is None  # the pixels carry the orientation now
        assert exif.get_ifd(GPS_IFD)[1] == "N"


def test_a_heic_photo_is_converted_upright_without_metadata(work: Path) -> None:
    """An iPhone-like HEIC: 120 × 80 stored, turned 90° (a red mark top-left), GPS in EXIF.

    data/phone-gps.heic was written once with pillow-heif's encoder (x265, GPL: a developer's
    tool, never shipped); the app reads it with pi-heif (decoding only).
    """
    src = DATA / "phone-gps.heic"
    assert b"Exif" in src.read_bytes()
    assert image_info(src) == (80, 120)

    result = prepare_image(src, work)

    assert result.converted
    assert result.content_type == "image/jpeg"
    assert result.note == "Converted HEIC to JPEG."
    assert (result.width, result.height) == (80, 120)
    data = result.path.read_bytes()
    _assert_nothing_personal(data)
    assert b"\x88\x25" not in data.split(b"\xff\xda")[0]  # no GPS IFD tag in the headers
    with Image.open(result.path) as out:
        marker = out.convert("RGB").getpixel((70, 5))
        assert isinstance(marker, tuple)
        red, _green, blue = marker
        assert red > 200
        assert blue < 60


def test_an_avif_image_is_converted_without_metadata(tmp_path: Path, work: Path) -> None:
    src = _save(_gradient((300, 200)), tmp_path / "pic.avif", "AVIF", exif=_gps_exif())
    result = prepare_image(src, work)
    assert result.content_type == "image/jpeg"
    assert result.note == "Converted AVIF to JPEG."
    _assert_nothing_personal(result.path.read_bytes())


def test_the_accepted_formats_are_one_list() -> None:
    assert images.ACCEPTED_NAMES == ("PNG", "JPEG", "WebP", "HEIC", "AVIF", "GIF", "BMP", "TIFF")
    patterns = images.file_dialog_patterns().split()
    for ext in ("*.png", "*.jpg", "*.jpeg", "*.webp", "*.heic", "*.avif", "*.gif", "*.bmp",
                "*.tif", "*.tiff"):
        assert ext in patterns
    assert images.accepted_formats_sentence() == (
        "PNG, JPEG, WebP, HEIC, AVIF, GIF, BMP or TIFF")


# --- only regular files are opened ----------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_before_it_is_opened(tmp_path: Path, work: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer for ever
    for check in (lambda: prepare_image(fifo, work), lambda: image_info(fifo),
                  lambda: images.check_image(fifo)):
        with pytest.raises(ImageRejected) as exc:
            check()
        assert exc.value.message == "Can't read “pipe.png”: it's a pipe (FIFO), not a regular file."


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused(work: Path) -> None:
    with pytest.raises(ImageRejected) as exc:
        prepare_image(Path("/dev/zero"), work)  # would read for ever
    assert exc.value.message == "Can't read “zero”: it's a device, not a regular file."


def test_a_dangling_link_is_refused(tmp_path: Path, work: Path) -> None:
    link = tmp_path / "photo.jpg"
    link.symlink_to(tmp_path / "moved-away.jpg")
    with pytest.raises(ImageRejected) as exc:
        prepare_image(link, work)
    assert exc.value.message == ("Can't read “photo.jpg”: it's a link to a file that doesn't "
                                 "exist. Choose it again from where it is now, or another "
                                 "picture.")


def test_a_link_to_a_good_image_is_followed(tmp_path: Path, work: Path) -> None:
    real = _save(_gradient((320, 200)), tmp_path / "real.png")
    link = tmp_path / "link.png"
    link.symlink_to(real)
    assert prepare_image(link, work).path == link


# --- bounded decoding -------------------------------------------------------------------------


def test_pillows_bomb_warning_is_never_printed(tmp_path: Path, work: Path) -> None:
    """100 megapixels: Pillow would print a raw DecompressionBombWarning; we say it plainly."""
    import warnings

    src = tmp_path / "huge.png"
    src.write_bytes(_png_header_only(10_000, 10_000))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageRejected) as exc:
            prepare_image(src, work)
        with pytest.raises(ImageRejected):
            images.check_image(src)
    assert [str(w.message) for w in caught] == []
    assert exc.value.message == (  # a PNG is read in bands up to MAX_BANDED_PIXELS
        "“huge.png” is 10000 × 10000 (100 megapixels): too many pixels to prepare safely. "
        "Use an image under about 90 megapixels (export a smaller copy) and try again."
    )


def test_a_big_jpeg_is_decoded_at_a_fraction_of_its_size(
    tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Budget for 1 MB of decoded pixels: 1200 × 800 RGB (3.8 MB) only fits at 1/2 scale.
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 1 * MB)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # must be converted, so it is decoded for real
    src = _save(_gradient((1200, 800)), tmp_path / "big.jpg", "JPEG", exif=exif)

    result = prepare_image(src, work)

    assert (result.width, result.height) == (400, 600)
    assert result.note == (
        "Rotated upright (EXIF orientation); Downscaled from 800 × 1200 to 400 × 600."
    )
    # The same pixels as a PNG can't be decoded smaller: read a band of rows at a time
    # (png_bands), checked to the last row, and sent as it is.
    png = _save(_gradient((1200, 800)), tmp_path / "big.png")
    assert prepare_image(png, work).path == png


def test_a_png_turned_by_an_exif_chunk_after_its_pixels_is_upright_from_its_header(
    tmp_path: Path, work: Path
) -> None:
    """The header-only reads (the drop zone's size and turn, the CLI's check) looked for the
    orientation only before the pixels: such a PNG was shown and framed lying on its side
    (800 × 450, 16:9) and uploaded upright (450 × 800), the frame landing elsewhere."""
    from tests.helpers.images import add_late_exif

    src = add_late_exif(_save(_gradient((800, 450), "RGB"), tmp_path / "late.png"), 6)
    assert images.exif_orientation(src) == 6
    assert images.check_image(src) == (450, 800)
    assert images.image_info(src) == (450, 800)
    result = prepare_image(src, work)
    assert (result.width, result.height) == (450, 800)


def test_a_png_over_the_budget_is_read_in_bands_framed_and_checked(
    tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 9000 × 9000 render (324 MB decoded) was refused as "too many pixels" though Runway
    takes it shrunk (issue 12 §8 says it generates): Pillow can't decode a PNG scaled. It is
    now read a band of rows at a time. Here a 1 MB budget makes a small PNG stand for it."""
    from tests.helpers.images import write_gradient_png

    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 1 * MB)
    src = write_gradient_png(tmp_path / "render.png", 1800, 1200)
    assert images.check_image(src) == (1800, 1200)
    assert images.verify_image(src) == (1800, 1200)
    width, height, _rgba = images.preview_rgba(src, 600)
    assert (width, height) == (600, 400)

    frame = ImageFrame(0.5, 0.25, 0.25, 0.25)  # x 900…1350, y 300…600
    result = prepare_image(src, work, frame=frame)
    assert (result.width, result.height) == (450, 300)
    with Image.open(result.path) as sent:
        first, last = sent.convert("RGB").getpixel((0, 0)), sent.getpixel((449, 299))
    assert first == (127, 63, 100)  # red x·255/1799, green y·255/1199 at (900, 300)
    assert last == pytest.approx((191, 127, 100), abs=1)

    cut = write_gradient_png(tmp_path / "cut.png", 1800, 1200, cut=True)
    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        images.verify_image(cut)  # what the drop zone asks (check_image reads headers only)
    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        prepare_image(cut, work, frame=frame)


def test_a_progressive_jpeg_counts_its_coefficients(
    tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libjpeg keeps every coefficient of a progressive JPEG, whatever the output scale."""
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 1 * MB)
    baseline = _save(_gradient((1200, 800)), tmp_path / "base.jpg", "JPEG")
    progressive = _save(_gradient((1200, 800)), tmp_path / "prog.jpg", "JPEG", progressive=True)
    assert prepare_image(baseline, work).path == baseline  # checked at 1/8 scale
    with pytest.raises(ImageRejected, match="too many pixels"):
        prepare_image(progressive, work)


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "P", "I;16", "LA"])
def test_shrinking_in_bands_matches_shrinking_at_once(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(images, "BAND_BYTES", 4096)  # a few rows per band
    size = (301, 157)
    noise = Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))
    # Alpha from 96 up: where a pixel is nearly transparent, un-premultiplying makes any
    # rounding difference of its colour large, and invisible.
    alpha = _gradient(size, "L").point(lambda v: 96 + v * 159 // 255)
    source = Image.merge("RGBA", (*noise.split(), alpha)).convert(mode) if mode != "I;16" \
        else _gradient(size, "L").convert("I").point(lambda v: v * 200).convert("I;16")

    banded = images._resample(source, 0.37)
    whole = images._normalise_mode(source).resize(banded.size, Image.Resampling.LANCZOS)

    assert banded.mode == whole.mode
    diff = [abs(a - b) for a, b in zip(banded.tobytes(), whole.tobytes(), strict=True)]
    assert max(diff) <= 2  # the filter's window may start one source row apart: rounding


# --- an interrupted preparation neither holds the exit nor leaves files -------------------------


def test_a_cancelled_preparation_returns_at_once_and_its_file_is_deleted(
    tmp_path: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    src = _save(_gradient((320, 240)), tmp_path / "pic.bmp", "BMP")
    release, finished = threading.Event(), threading.Event()
    real = images.prepare_image
    made: list[PreparedImage] = []

    def slow(*args: object, **kwargs: bool) -> PreparedImage:
        release.wait()  # the preparation is still running when its task is cancelled
        made.append(real(src, work))
        finished.set()
        return made[-1]

    monkeypatch.setattr(images, "prepare_image", slow)

    async def cancel_it() -> None:
        task = asyncio.ensure_future(prepare_image_async(src, work))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # returns although the thread is blocked: nothing joins it
        release.set()
        await asyncio.get_running_loop().run_in_executor(None, finished.wait)
        await asyncio.sleep(0)  # let the thread's hand-over run on the loop

    asyncio.run(cancel_it())

    assert made[0].converted
    assert not made[0].path.exists()  # dropped: nobody will upload it
    assert list(work.iterdir()) == []


def test_files_left_by_an_interrupted_preparation_are_swept(tmp_path: Path, work: Path) -> None:
    work.mkdir()
    stale, fresh = work / "old-1234.png.part", work / "busy-5678.png.part"
    stale.write_bytes(b"half a picture")
    fresh.write_bytes(b"being written right now")
    long_ago = time.time() - images.STALE_PART_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    keep = work / "pasted"
    keep.mkdir()
    (keep / "pasted-1.png").write_bytes(b"the window's pasted image")

    prepare_image(_save(_gradient((320, 240)), tmp_path / "pic.bmp", "BMP"), work)

    assert not stale.exists()
    assert fresh.exists()
    assert (keep / "pasted-1.png").exists()
