"""A finished row shows when it was made and the start image beside its video (issue 12,
defect 9: 5ca3b5d showed neither)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QLocale, QRectF, QSize, QTime
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui.queue_delegate import aspect_of, fit_aspect
from runway_desktop.ui.queue_view import QueueView

NOW = datetime.datetime(2026, 11, 29, 18, 0).timestamp()


def image(path: Path, colour: QColor, width: int, height: int) -> str:
    picture = QImage(width, height, QImage.Format.Format_RGB32)
    picture.fill(colour)
    picture.save(str(path))
    return str(path)


def done(gid: int, finished: datetime.datetime, **fields: Any) -> Generation:
    at = finished.timestamp()
    return Generation(
        id=gid, settings=GenerationSettings(prompt=f"result {gid}",
                                            image_path=fields.pop("image_path", None)),
        idempotency_key=f"k{gid}", stage=Stage.DONE, created_at=at - 60, updated_at=at,
        submitted_at=at - 50, finished_at=at, position=float(gid),
        video_path=f"/videos/{gid}.mp4", **fields)


@pytest.fixture
def view(qtbot: QtBot) -> QueueView:
    widget = QueueView(clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.resize(640, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


class RecordingPainter(QPainter):
    """Paints as usual and keeps every text drawn."""

    def __init__(self, device: QImage) -> None:
        super().__init__(device)
        self.texts: list[str] = []

    def drawText(self, *args: Any) -> None:  # type: ignore[override] # records every form
        self.texts.extend(a for a in args if isinstance(a, str))
        super().drawText(*args)


def painted_texts(view: QueueView, row: int) -> list[str]:
    index = view.proxy.index(row, 0)
    option = QStyleOptionViewItem()
    option.initFrom(view.list_view)
    option.rect = view.list_view.visualRect(index)
    option.font = view.list_view.font()
    canvas = QImage(QSize(view.width(), option.rect.bottom() + 1), QImage.Format.Format_ARGB32)
    painter = RecordingPainter(canvas)
    try:
        view.delegate.paint(painter, option, index)
    finally:
        painter.end()
    return painter.texts


def test_a_finished_row_says_when_it_was_made(view: QueueView) -> None:
    clock = QLocale().toString(QTime(14, 32), QLocale.FormatType.ShortFormat)
    view.model.reset([
        done(3, datetime.datetime(2026, 11, 29, 14, 32)),
        done(2, datetime.datetime(2026, 11, 28, 14, 32)),
        done(1, datetime.datetime(2025, 10, 3, 14, 32)),
    ])
    QApplication.processEvents()
    texts = [" ".join(painted_texts(view, row)) for row in range(3)]
    assert f"today {clock}" in texts[0]
    assert f"yesterday {clock}" in texts[1]
    assert QLocale().toString(QDate(2025, 10, 3), "d MMM yyyy") in texts[2]


def test_a_finished_row_shows_its_start_image_beside_the_video(
    qtbot: QtBot, view: QueueView, tmp_path: Path
) -> None:
    frame_file = image(tmp_path / "frame.png", QColor(0, 0, 255), 320, 180)
    start_file = image(tmp_path / "start.png", QColor(255, 0, 0), 300, 300)
    view.model.reset([done(1, datetime.datetime(2026, 11, 29, 9, 0),
                           thumbnail_path=frame_file, image_path=start_file)])
    cache = view.model.thumbnails
    list_view = view.list_view
    qtbot.waitUntil(lambda: cache.peek(frame_file) is not None, timeout=5_000)
    list_view.viewport().repaint()  # asks for whatever else the row shows
    cache.wait_for_idle()
    QApplication.processEvents()  # the reads' results arrive here

    index = view.proxy.index(0, 0)
    rect = list_view.visualRect(index)
    layout = view.delegate.row_layout(rect, list_view.font())
    frame = fit_aspect(QRectF(layout.thumb), aspect_of("16:9")).toAlignedRect()
    shot = list_view.viewport().grab().toImage()
    centre = shot.pixelColor(frame.center())
    corner = shot.pixelColor(frame.left() + 8, frame.bottom() - 8)
    assert (centre.blue(), centre.red()) == (255, 0)  # the video's frame
    assert (corner.red(), corner.blue()) == (255, 0)  # the start image, inset


def test_a_narrow_row_keeps_its_price_whole(view: QueueView) -> None:
    """Beside the stage (a 1400 × 800 window) a row read 'seed 3987754089 · 8 cre…': the price
    was what the narrow line cut. Too narrow for it all, the seed (in the tooltip) goes first."""
    from dataclasses import replace

    from runway_desktop.ui import queue_text

    generation = done(1, datetime.datetime(2026, 11, 29, 9, 0), credit_cost=8)
    generation = replace(generation, settings=replace(generation.settings, seed=3_987_754_089))
    view.model.reset([generation])
    QApplication.processEvents()
    assert queue_text.meta_text(generation) in painted_texts(view, 0)  # wide: all of it

    view.resize(420, 400)
    QApplication.processEvents()
    texts = painted_texts(view, 0)
    assert queue_text.meta_text(generation) not in texts  # too narrow for all of it
    assert queue_text.meta_text(generation, with_seed=False) in texts
    assert "seed 3987754089" in queue_text.tooltip_text(generation)
