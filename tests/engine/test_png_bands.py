"""png_bands reads a PNG a band of rows at a time: the same pixels Pillow decodes whole."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageChops

from runway_desktop.engine import png_bands
from runway_desktop.engine.png_bands import CorruptPng, PngRows


def _noise(size: tuple[int, int]) -> Image.Image:
    grey = Image.frombytes("L", size, random.Random(3).randbytes(size[0] * size[1]))
    return Image.merge("RGB", (grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                               grey.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))


def _png(kind: str, size: tuple[int, int] = (301, 203), **params: object) -> bytes:
    rgb = _noise(size)
    pictures = {
        "L": rgb.convert("L"),
        "RGB": rgb,
        "RGBA": Image.merge("RGBA", (*rgb.split(), rgb.convert("L"))),
        "LA": Image.merge("LA", (rgb.convert("L"), rgb.getchannel(1))),
        "P": rgb.quantize(64),
        "P+tRNS": rgb.quantize(64),
    }
    if kind == "P+tRNS":
        params["transparency"] = 3
    out = io.BytesIO()
    pictures[kind].save(out, "PNG", **params)  # Pillow picks each row's filter adaptively
    return out.getvalue()


def _same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a.convert("RGBA"), b.convert("RGBA")).getbbox() is None


@pytest.mark.parametrize("kind", ["L", "RGB", "RGBA", "LA", "P", "P+tRNS"])
@pytest.mark.parametrize("optimize", [False, True])
def test_bands_read_the_pixels_pillow_reads_whole(
    monkeypatch: pytest.MonkeyPatch, kind: str, optimize: bool
) -> None:
    monkeypatch.setattr(png_bands, "BAND_BYTES", 5000)  # a few rows a band
    data = _png(kind, optimize=optimize)
    rows = PngRows.open(io.BytesIO(data))
    assert rows is not None
    with Image.open(io.BytesIO(data)) as whole:
        whole.load()
        expected = whole.convert(rows.mode)
    assert rows.mode == {"P": "RGB", "P+tRNS": "RGBA"}.get(kind, kind)
    # Overlapping bands going down, as images._resample asks for them, then one above: the
    # stream starts again.
    for top in range(0, 203, 17):
        box = (7, max(0, top - 5), 290, min(203, top + 23))
        assert _same(rows.crop(box), expected.crop(box)), box
    assert _same(rows.crop((0, 10, 301, 20)), expected.crop((0, 10, 301, 20)))
    region = rows.region((50, 60, 250, 160))
    assert region.size == (200, 100)
    assert _same(region.crop((10, 0, 190, 100)), expected.crop((60, 60, 240, 160)))


def test_pngs_it_does_not_read_are_left_to_pillow() -> None:
    sixteen = io.BytesIO()
    Image.new("I;16", (40, 30), 1000).save(sixteen, "PNG")
    assert PngRows.open(io.BytesIO(sixteen.getvalue())) is None  # 16 bits a sample
    assert PngRows.open(io.BytesIO(b"GIF89a" + bytes(40))) is None


def test_a_cut_or_damaged_stream_raises_corrupt_png() -> None:
    data = _png("RGB")
    with pytest.raises(CorruptPng):
        PngRows.open(io.BytesIO(data[: len(data) * 2 // 3]))  # the chunks end early
    rows = PngRows.open(io.BytesIO(data))
    assert rows is not None
    rows._idat = [(offset, length // 2) for offset, length in rows._idat]  # half the pixels
    with pytest.raises(CorruptPng):
        rows.read_through()
