"""The frame inside a start image: its arithmetic, and that the uploaded file is what it shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageOps

from runway_desktop.api.catalog import RUNWAY_RATIOS
from runway_desktop.engine import framing
from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.images import prepare_image
from runway_desktop.engine.records import GenerationSettings

sizes = st.tuples(st.integers(50, 5000), st.integers(50, 5000)).filter(
    lambda s: s[1] <= 2 * s[0] and s[0] <= 2 * s[1]
)
ratios = st.sampled_from(RUNWAY_RATIOS)


def _shape(frame: ImageFrame, size: tuple[int, int]) -> float:
    return (frame.width * size[0]) / (frame.height * size[1])


@given(sizes, ratios)
def test_centred_frame_is_the_widest_of_the_ratio_inside_the_picture(
    size: tuple[int, int], ratio: str
) -> None:
    frame = framing.centred(size, ratio)
    assert _shape(frame, size) == pytest.approx(framing.ratio_value(ratio), rel=1e-9)
    assert max(frame.width, frame.height) == pytest.approx(1.0)
    assert frame.left == pytest.approx((1 - frame.width) / 2)
    assert frame.top == pytest.approx((1 - frame.height) / 2)


@given(sizes, ratios, st.floats(0.5, 20), st.floats(-2, 2), st.floats(-2, 2),
       st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_zoom_and_pan_keep_the_ratio_and_stay_inside(
    size: tuple[int, int], ratio: str, zoom: float, dx: float, dy: float,
    anchor: tuple[float, float],
) -> None:
    frame = framing.zoomed(framing.centred(size, ratio), size, ratio, zoom, anchor)
    frame = framing.panned(frame, dx, dy)
    assert _shape(frame, size) == pytest.approx(framing.ratio_value(ratio), rel=1e-6)
    assert frame.left >= 0
    assert frame.left + frame.width <= 1 + 1e-9
    assert frame.top >= 0
    assert frame.top + frame.height <= 1 + 1e-9
    assert 1.0 - 1e-9 <= framing.zoom_of(frame, size, ratio) <= framing.MAX_ZOOM + 1e-9


@given(sizes, ratios, ratios, st.floats(1, 8))
def test_refit_to_another_ratio_keeps_the_zoom(
    size: tuple[int, int], old: str, new: str, zoom: float
) -> None:
    frame = framing.zoomed(framing.centred(size, old), size, old, zoom)
    refitted = framing.refit(frame, size, old, new)
    assert _shape(refitted, size) == pytest.approx(framing.ratio_value(new), rel=1e-6)
    assert framing.zoom_of(refitted, size, new) == pytest.approx(zoom, rel=1e-6)


def test_zoom_keeps_the_anchor_under_the_pointer() -> None:
    size, ratio = (1600, 900), "16:9"
    frame = framing.centred(size, ratio)
    anchor = (0.25, 0.5)
    zoomed = framing.zoomed(frame, size, ratio, 2.0, anchor)
    # The anchor was a quarter of the way across the frame; it still is.
    assert (anchor[0] - zoomed.left) / zoomed.width == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1080, 1920), "9:16"), ((1920, 1080), "16:9"), ((1000, 1000), "1:1"),
     ((1000, 800), "4:3"), ((800, 1000), "3:4"), ((2100, 900), "21:9")],
)
def test_nearest_ratio_follows_the_picture(size: tuple[int, int], expected: str) -> None:
    assert framing.nearest_ratio(size, RUNWAY_RATIOS) == expected


@given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(), st.booleans(),
                          st.none()), max_size=5))
def test_stored_frames_are_read_tolerantly(value: list[object]) -> None:
    frame = ImageFrame.from_json(value)
    if frame is not None:
        assert 0 < frame.width <= 1
        assert 0 < frame.height <= 1


def test_settings_keep_their_frame_through_the_journal_json() -> None:
    frame = ImageFrame(0.1, 0.2, 0.5, 0.3)
    settings = GenerationSettings(prompt="p", image_path="/tmp/a.png", frame=frame)
    again = GenerationSettings.from_json(settings.to_json())
    assert again.frame == ImageFrame(*frame.to_json())
    assert GenerationSettings.from_json({"params": {"prompt": "p"}}).frame is None


def _quadrants(size: tuple[int, int]) -> Image.Image:
    """Four flat colours, so a crop's content is easy to check after any rotation."""
    w, h = size
    img = Image.new("RGB", size)
    for (x, y), colour in zip([(0, 0), (1, 0), (0, 1), (1, 1)],
                              [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)], strict=True):
        img.paste(colour, (x * w // 2, y * h // 2, (x + 1) * w // 2, (y + 1) * h // 2))
    return img


@pytest.mark.parametrize("orientation", range(1, 9))
def test_uploaded_file_is_exactly_what_the_frame_shows(tmp_path: Path, orientation: int) -> None:
    stored = _quadrants((1200, 800))
    exif = Image.Exif()
    exif[0x0112] = orientation
    source = tmp_path / "photo.png"
    stored.save(source, exif=exif)
    upright = ImageOps.exif_transpose(Image.open(source))
    assert upright is not None
    ratio = "1:1"
    frame = framing.zoomed(framing.centred(upright.size, ratio), upright.size, ratio, 2.0)
    frame = framing.panned(frame, -1, -1)  # the top-left corner of the upright picture

    prepared = prepare_image(source, tmp_path / "work", frame=frame)

    expected = upright.crop(frame.pixel_box(*upright.size)).convert("RGB")
    with Image.open(prepared.path) as sent:
        got = sent.convert("RGB").resize(expected.size)
    assert prepared.converted
    assert "frame" in (prepared.note or "")
    assert ImageChops.difference(got, expected).getbbox() is None or _mean_difference(
        got, expected) < 2.0


def test_a_whole_picture_frame_uploads_the_file_as_it_is(tmp_path: Path) -> None:
    source = tmp_path / "flat.png"
    Image.new("RGB", (1280, 720), (10, 20, 30)).save(source)
    prepared = prepare_image(source, tmp_path / "work",
                             frame=framing.centred((1280, 720), "16:9"))
    assert not prepared.converted
    assert prepared.path == source


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a, b).convert("L")
    return sum(i * n for i, n in enumerate(diff.histogram())) / (a.width * a.height)
