"""Thumbnails in the queue are cut, scaled and rounded once, then blitted (ui/rounded_pixmaps.py):
scaling them through a rounded clip on every paint was where the GUI thread lagged most."""

from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from runway_desktop.ui.queue_view import QueueView
from runway_desktop.ui.rounded_pixmaps import RoundedPixmaps
from tests.ui.test_queue_rows import NOW, done, image


def test_a_picture_is_cut_scaled_and_rounded_once(qapp: QApplication) -> None:
    source = QPixmap(320, 180)
    source.fill(QColor(0, 0, 255))
    cache = RoundedPixmaps(capacity=2)
    first = cache.picture(source, QRectF(0, 0, 320, 180), QSize(96, 54), 6.0, 1.0)
    again = cache.picture(source, QRectF(0, 0, 320, 180), QSize(96, 54), 6.0, 1.0)
    assert first.cacheKey() == again.cacheKey()
    assert len(cache) == 1
    picture = first.toImage()
    assert (picture.width(), picture.height()) == (96, 54)
    assert picture.pixelColor(48, 27) == QColor(0, 0, 255)
    assert picture.pixelColor(0, 0).alpha() == 0  # the rounded corner is see-through
    sharp = cache.picture(source, QRectF(0, 0, 320, 180), QSize(192, 108), 6.0, 2.0)
    assert sharp.devicePixelRatio() == 2.0
    assert sharp.toImage().width() == 192 * 2
    cache.picture(source, QRectF(0, 0, 160, 90), QSize(96, 54), 6.0, 1.0)
    assert len(cache) == 2  # bounded: the oldest went
    edged = cache.picture(source, QRectF(0, 0, 320, 180), QSize(96, 54), 6.0, 1.0,
                          QColor(255, 0, 0)).toImage()
    assert edged.pixelColor(48, 0).red() > 100  # the hairline edge is part of the picture
    assert edged.pixelColor(48, 27) == QColor(0, 0, 255)


def test_repainting_the_queue_blits_the_rounded_thumbnail(qtbot: QtBot, tmp_path: Path) -> None:
    view = QueueView(clock=lambda: NOW)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    qtbot.waitExposed(view)
    frame_file = image(tmp_path / "frame.png", QColor(0, 0, 255), 320, 180)
    view.model.reset([done(1, datetime.datetime(2026, 11, 29, 9, 0),
                           thumbnail_path=frame_file)])
    cache = view.model.thumbnails
    qtbot.waitUntil(lambda: cache.peek(frame_file) is not None, timeout=5_000)
    viewport = view.list_view.viewport()
    viewport.repaint()
    rounded = view.delegate._rounded
    made = len(rounded)
    assert 1 <= made <= 2  # the thumbnail (and the placeholder painted before it arrived)
    for _ in range(3):
        viewport.repaint()
        QApplication.processEvents()
    assert len(rounded) == made  # made once, not per paint
    shot = viewport.grab().toImage()
    blue = [shot.pixelColor(x, y) for x in range(0, shot.width(), 4)
            for y in range(0, shot.height(), 4)]
    assert any(c.blue() == 255 and c.red() == 0 for c in blue)  # the thumbnail is shown
