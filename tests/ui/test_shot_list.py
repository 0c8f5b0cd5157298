"""The sequence view's take pictures (ui/shot_list.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QImage

from runway_desktop.ui.shot_list import THUMB, thumb_icon


def test_a_take_picture_has_the_pixels_of_a_2x_screen(qapp: object, tmp_path: Path) -> None:
    """On a 2× screen the shots' and takes' pictures were 128 px stretched to 256: blurry."""
    picture = QImage(320, 180, QImage.Format.Format_RGB32)  # a history thumbnail's size
    picture.fill(QColor(40, 90, 160))
    path = tmp_path / "thumb.png"
    picture.save(str(path))
    for ratio in (1.0, 1.5, 2.0):
        shown = thumb_icon(str(path), ratio).pixmap(THUMB, ratio)
        assert shown.width() == round(THUMB.width() * ratio), ratio  # device pixels
        assert shown.deviceIndependentSize().toSize() == THUMB, ratio
    assert thumb_icon(str(tmp_path / "gone.png"), 2.0).isNull()
