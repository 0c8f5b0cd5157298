"""Thumbnails of start images too big for Qt's image limit (the queue row's inset)."""

from __future__ import annotations

from pathlib import Path

from runway_desktop.ui.thumbnail_cache import read_thumbnail
from tests.helpers.images import write_gradient_png


def test_a_start_image_over_qts_limit_gets_a_thumbnail_not_a_warning(
    qapp: object, tmp_path: Path, qt_image_limit_mb: int
) -> None:
    """A finished row's inset read its 9000 × 9000 start image with Qt, which refused it
    ("Rejecting image as it exceeds the current allocation limit", a warning) and the row
    showed a placeholder. It is read within bounds by engine.images instead."""
    big = write_gradient_png(tmp_path / "poster.png", 3000, 3000)
    assert qt_image_limit_mb * 1024 * 1024 < 3000 * 3000 * 4
    thumb = read_thumbnail(str(big), 100)
    assert (thumb.width(), thumb.height()) == (100, 100)
    assert thumb.pixelColor(95, 95).red() > 200  # the picture: red grows to the right
    assert thumb.pixelColor(95, 95).green() > 200  # and green downwards
