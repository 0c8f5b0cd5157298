"""The queue list as a creator with a long session uses it: many rows, the keys that move
through them, prompts in every script."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.ui.queue_model import QueueModel
from runway_desktop.ui.queue_view import QueueView
from runway_desktop.ui.thumbnail_cache import ThumbnailCache
from tests.ui.test_queue_rows import painted_texts
from tests.ui.test_queue_view import NOW, make

STAGES = (Stage.DONE, Stage.DONE, Stage.FAILED, Stage.PENDING, Stage.CANCELLED, Stage.ATTENTION)


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[QueueView]:
    view = QueueView(QueueModel(ThumbnailCache(capacity=50)), clock=lambda: NOW)
    qtbot.addWidget(view)
    view.model.reset([make(i, STAGES[i % len(STAGES)]) for i in range(1, 81)])
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()


def test_page_keys_move_through_a_short_list_and_a_tall_one(view: QueueView,
                                                             qtbot: QtBot) -> None:
    """The window at 1024 × 640 leaves the list under two rows high: Qt's PageDown stepped
    by its height less two rows, and went nowhere (or a row up)."""
    lst = view.list_view
    row_height = lst.sizeHintForRow(0)
    for rows_high, step in ((1.9, 1), (2.6, 1), (8.5, 7)):
        view.resize(560, 0)
        lst.setFixedHeight(int(row_height * rows_high) + 2 * lst.frameWidth())
        tall = int(row_height * rows_high) - 2
        qtbot.waitUntil(lambda tall=tall: lst.viewport().height() >= tall)  # type: ignore[misc]
        lst.setFocus()
        qtbot.keyClick(lst, Qt.Key.Key_Home)
        assert lst.currentIndex().row() == 0
        qtbot.keyClick(lst, Qt.Key.Key_PageDown)
        assert lst.currentIndex().row() == step, rows_high
        assert [i.row() for i in lst.selectionModel().selectedRows()] == [step]
        assert lst.viewport().rect().intersects(lst.visualRect(lst.currentIndex()))
        qtbot.keyClick(lst, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)
        assert sorted(i.row() for i in lst.selectionModel().selectedRows()) == list(
            range(step, 2 * step + 1)), rows_high
        qtbot.keyClick(lst, Qt.Key.Key_PageUp)
        assert lst.currentIndex().row() == step
        qtbot.keyClick(lst, Qt.Key.Key_End)
        qtbot.keyClick(lst, Qt.Key.Key_PageDown)  # at the end: stays on the last row
        assert lst.currentIndex().row() == view.proxy.rowCount() - 1
        qtbot.keyClick(lst, Qt.Key.Key_PageUp)
        assert lst.currentIndex().row() == view.proxy.rowCount() - 1 - step
    qtbot.keyClick(lst, Qt.Key.Key_Home)
    for _ in range(view.proxy.rowCount()):  # far past the top: stays on the first row
        qtbot.keyClick(lst, Qt.Key.Key_PageUp)
    assert lst.currentIndex().row() == 0


def test_a_prompt_starting_with_emoji_wraps_between_words(view: QueueView) -> None:
    """The second line was cut by UTF-16 counts on a Python string: two emoji before it
    moved the break two letters on ("golden ho" / "ur, cinematic")."""
    prompts = ["🌊🐚 waves rolling over shells at golden hour, cinematic 🎬",
               "قارب صغير على بحيرة هادئة عند الغروب والشمس تنعكس على الماء الهادئ 🌅🌅",
               "plain words only, rolling over shells at golden hour, cinematic and slow"]
    view.resize(430, 400)
    view.model.reset([make(1000 + n, prompt=p) for n, p in enumerate(prompts)])
    for n, prompt in enumerate(prompts):
        texts = painted_texts(view, view.model.row_of(1000 + n) or 0)
        words = prompt.split()
        first = texts[0].split()
        assert 0 < len(first) < len(words), texts  # it needs two lines at this width
        assert first == words[:len(first)], texts
        second = texts[1].split()
        assert second == words[len(first):len(first) + len(second)], texts
