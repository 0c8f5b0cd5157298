"""How rows look (issue 12, Deliver 6): a light selection, a star one sees, visible focus."""

from __future__ import annotations

import datetime

import pytest
from PySide6.QtCore import QItemSelectionModel, QRect, Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from runway_desktop.ui.queue_delegate import favourite_colour
from runway_desktop.ui.queue_view import QueueView
from runway_desktop.ui.theme import LIGHT, palette_for
from tests.ui.test_queue_rows import done


@pytest.fixture
def view(qtbot: QtBot) -> QueueView:
    widget = QueueView()
    widget.setPalette(palette_for(LIGHT))
    qtbot.addWidget(widget)
    widget.resize(640, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.model.reset([done(1, datetime.datetime(2026, 11, 29, 9, 0), favourite=True),
                        done(2, datetime.datetime(2026, 11, 29, 8, 0))])
    return widget


def row_image(view: QueueView, row: int) -> tuple[QImage, QRect]:
    rect = view.list_view.visualRect(view.proxy.index(row, 0))
    return view.list_view.viewport().grab().toImage(), rect


def row_of(view: QueueView, generation_id: int) -> int:
    return view.proxy.mapFromSource(view.model.index_of(generation_id)).row()


def test_a_selected_row_is_a_light_tint_its_text_keeps_its_colour(view: QueueView) -> None:
    flags = QItemSelectionModel.SelectionFlag
    view.list_view.selectionModel().select(view.proxy.index(0, 0), flags.ClearAndSelect)
    image, rect = row_image(view, 0)
    # Between the prompt and the star: background only.
    background = image.pixelColor(rect.center().x(), rect.top() + 4)
    assert background.lightnessF() > 0.85, background.name()  # not the full accent block
    assert background != QColor(LIGHT.base)  # but it shows
    # The prompt is drawn in the text colour, not the selection's white.
    colours = {image.pixelColor(x, y).name() for x in range(rect.left(), rect.right())
               for y in range(rect.top(), rect.bottom())}
    assert QColor(LIGHT.on_accent).name() not in colours or LIGHT.on_accent == LIGHT.base
    assert any(QColor(c).lightnessF() < 0.25 for c in colours)  # dark text on the tint


def test_the_favourite_star_is_a_decent_size(view: QueueView) -> None:
    image, rect = row_image(view, row_of(view, 1))
    star = favourite_colour(view.palette())

    def starry(colour: QColor) -> bool:  # the star's colour, its smoothed edge included
        return (abs(colour.red() - star.red()) + abs(colour.green() - star.green())
                + abs(colour.blue() - star.blue())) < 90

    xs = [x for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())
          if starry(image.pixelColor(x, y))]
    assert xs, "the star is painted"
    line = view.list_view.fontMetrics().lineSpacing()
    assert max(xs) - min(xs) + 1 >= 1.1 * line  # wider than a letter or two


def test_the_row_the_keyboard_is_on_has_a_ring(qtbot: QtBot, view: QueueView) -> None:
    view.window().activateWindow()
    qtbot.waitUntil(view.window().isActiveWindow)
    view.list_view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(view.list_view.hasFocus)
    flags = QItemSelectionModel.SelectionFlag
    view.list_view.selectionModel().setCurrentIndex(view.proxy.index(1, 0), flags.NoUpdate)
    image, rect = row_image(view, 1)
    accent = QColor(LIGHT.accent)
    edge = [image.pixelColor(x, rect.center().y()) for x in range(rect.left(), rect.left() + 5)]
    assert any(abs(c.red() - accent.red()) + abs(c.blue() - accent.blue()) < 60 for c in edge)


def test_the_gallery_cell_the_keyboard_is_on_has_a_ring(qtbot: QtBot) -> None:
    from runway_desktop.ui.gallery import GalleryView
    from tests.ui.test_gallery import generation, index_of

    queue = QueueView()
    qtbot.addWidget(queue)
    gallery = GalleryView(queue)
    gallery.setPalette(palette_for(LIGHT))
    qtbot.addWidget(gallery)
    gallery.resize(420, 700)
    gallery.show()
    qtbot.waitExposed(gallery)
    queue.model.reset([generation(1, finished_at=1_700_000_000.0)])
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 2)  # the day's heading, the cell
    gallery.activateWindow()
    qtbot.waitUntil(gallery.isActiveWindow)
    gallery.list_view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    index = index_of(gallery, 1)
    flags = QItemSelectionModel.SelectionFlag
    gallery.list_view.selectionModel().setCurrentIndex(index, flags.NoUpdate)
    rect = gallery.list_view.visualRect(index)
    image = gallery.list_view.viewport().grab().toImage()
    accent = QColor(LIGHT.accent)
    edge = [image.pixelColor(rect.left() + dx, rect.center().y()) for dx in range(4)]
    assert any(abs(c.red() - accent.red()) + abs(c.blue() - accent.blue()) < 60 for c in edge)
