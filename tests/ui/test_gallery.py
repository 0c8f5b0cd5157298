"""The gallery: finished videos by day over the queue's own model, in a real QListView."""

from __future__ import annotations

import datetime
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui.gallery import GalleryView, day_title
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.queue_delegate import fit_aspect
from runway_desktop.ui.queue_filter import StatusFilter
from runway_desktop.ui.queue_model import QueueModel
from runway_desktop.ui.queue_view import ACTIONS, QueueView
from runway_desktop.ui.shortcuts import shortcut_entries
from runway_desktop.ui.thumbnail_cache import ThumbnailCache

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)

CLIP = Path(__file__).resolve().parents[2] / "resources" / "clips" / "16x9.mp4"
DAY = 86_400.0


def image(path: Path, colour: QColor, width: int = 320, height: int = 180) -> str:
    picture = QImage(width, height, QImage.Format.Format_RGB32)
    picture.fill(colour)
    picture.save(str(path))
    return str(path)


def noon(days_ago: int) -> float:
    today = datetime.datetime.combine(datetime.date.today(), datetime.time(12, 0))
    return (today - datetime.timedelta(days=days_ago)).timestamp()


def generation(gid: int, *, finished_at: float, stage: Stage = Stage.DONE,
               thumbnail: str | None = None, start_image: str | None = None) -> Generation:
    return Generation(
        id=gid, settings=GenerationSettings(prompt=f"result {gid}", image_path=start_image),
        idempotency_key=f"k{gid}", stage=stage, created_at=finished_at - 60,
        updated_at=finished_at, finished_at=finished_at if stage is Stage.DONE else None,
        position=float(gid), video_path=str(CLIP) if stage is Stage.DONE else None,
        thumbnail_path=thumbnail)


@pytest.fixture
def gallery(qtbot: QtBot) -> GalleryView:
    queue = QueueView()
    qtbot.addWidget(queue)
    view = GalleryView(queue)
    qtbot.addWidget(view)
    view.resize(420, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def current_id(view: GalleryView) -> int:
    current = view.current_generation()
    assert current is not None
    return current.id


def index_of(view: GalleryView, gid: int) -> QModelIndex:
    row = view.model.row_of(gid)
    assert row is not None
    return view.model.index(row)


def rows(view: GalleryView) -> list[str | int]:
    """Each row: a header's text, or a result's id."""
    model = view.model
    found: list[str | int] = []
    for row in range(model.rowCount()):
        g = model.generation_at(row)
        found.append(g.id if g is not None else model.index(row).data())
    return found


def test_results_are_grouped_by_day_newest_first(qtbot: QtBot, gallery: GalleryView) -> None:
    queue_model = gallery.queue.model
    queue_model.reset([
        generation(1, finished_at=noon(3)),
        generation(2, finished_at=noon(1)),
        generation(3, finished_at=noon(0) - 60),
        generation(4, finished_at=noon(0), stage=Stage.FAILED),
        generation(5, finished_at=noon(0)),
        generation(6, finished_at=noon(0), stage=Stage.PROCESSING),
    ])
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 7)
    long_date = day_title((datetime.date.today() - datetime.timedelta(days=3)).toordinal())
    assert rows(gallery) == ["Today · 2 videos", 5, 3, "Yesterday · 1 video", 2,
                             f"{long_date} · 1 video", 1]
    assert long_date not in ("Today", "Yesterday")
    assert str(datetime.date.today().year) in long_date

    # Each day starts a row of its own: a header spans the grid, its results sit under it.
    view = gallery.list_view
    qtbot.waitUntil(lambda: view.visualRect(gallery.model.index(6)).isValid())
    width = view.viewport().width()
    for row in gallery.model.header_rows():
        header = view.visualRect(gallery.model.index(row))
        first = view.visualRect(gallery.model.index(row + 1))
        assert header.width() >= width * 0.9
        assert first.top() > header.bottom()
        assert first.left() == header.left()


def test_the_grid_follows_the_queue_without_losing_the_selection(
    qtbot: QtBot, gallery: GalleryView
) -> None:
    queue_model = gallery.queue.model
    queue_model.reset([generation(1, finished_at=noon(1)), generation(2, finished_at=noon(0)),
                       generation(3, finished_at=noon(0), stage=Stage.PROCESSING)])
    qtbot.waitUntil(lambda: rows(gallery) == ["Today · 1 video", 2, "Yesterday · 1 video", 1])
    assert gallery.select_generation(1)
    resets: list[bool] = []
    gallery.model.modelReset.connect(lambda: resets.append(True))

    queue_model.upsert(generation(3, finished_at=noon(0) + 5))  # it finished
    qtbot.waitUntil(lambda: rows(gallery) == ["Today · 2 videos", 3, 2,
                                              "Yesterday · 1 video", 1])
    assert current_id(gallery) == 1  # the selected result stayed selected

    queue_model.remove(1)  # the last result of yesterday: its header goes too
    qtbot.waitUntil(lambda: rows(gallery) == ["Today · 2 videos", 3, 2])
    queue_model.upsert(generation(4, finished_at=noon(0) + 9))
    qtbot.waitUntil(lambda: rows(gallery) == ["Today · 3 videos", 4, 3, 2])
    assert not resets  # inserts and removals only: the view keeps its place


def test_a_hidden_gallery_does_no_work_until_shown(qtbot: QtBot, gallery: GalleryView) -> None:
    gallery.hide()
    gallery.queue.model.reset([generation(i, finished_at=noon(0) + i) for i in range(1, 4)])
    QApplication.processEvents()
    assert gallery.model.rowCount() == 0  # not followed while hidden
    gallery.show()
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 4)


def test_each_result_shows_its_start_image_as_an_inset(
    qtbot: QtBot, gallery: GalleryView, tmp_path: Path
) -> None:
    frame_file = image(tmp_path / "frame.png", QColor(0, 0, 255))
    start_file = image(tmp_path / "start.png", QColor(255, 0, 0), 200, 200)
    gallery.queue.model.reset([generation(1, finished_at=noon(0), thumbnail=frame_file,
                                          start_image=start_file)])
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 2)
    index = gallery.model.index(1)
    qtbot.waitUntil(lambda: not index.data(Qt.ItemDataRole.UserRole + 41).isNull()
                    and not index.data(Qt.ItemDataRole.UserRole + 4).isNull(), timeout=5_000)
    view = gallery.list_view
    rect = view.visualRect(index)
    shot = view.viewport().grab().toImage()
    m = gallery.delegate.metrics(view.font(), rect.width())
    box = QRectF(rect.left() + m.padding, rect.top() + m.padding, m.picture.width(),
                 m.picture.height())
    frame = fit_aspect(box, 16 / 9).toAlignedRect()  # the video's shape in the cell
    # The frame's centre is the video's first frame; its lower-left corner the start image.
    centre = shot.pixelColor(frame.center())
    corner = shot.pixelColor(frame.left() + 12, frame.bottom() - 12)
    assert (centre.blue(), centre.red()) == (255, 0)
    assert (corner.red(), corner.blue()) == (255, 0)


def test_thumbnails_load_lazily_and_stay_bounded(qtbot: QtBot, tmp_path: Path) -> None:
    cache = ThumbnailCache(capacity=40)
    queue = QueueView(QueueModel(cache))  # the gallery reads the queue's model and cache
    qtbot.addWidget(queue)
    view = GalleryView(queue)
    qtbot.addWidget(view)
    view.resize(420, 600)
    master = image(tmp_path / "master.png", QColor(20, 120, 60))
    now = time.time()
    items = []
    for i in range(1, 2001):
        path = tmp_path / f"t{i}.png"
        path.hardlink_to(master)
        items.append(generation(i, finished_at=now - i * 600, thumbnail=str(path)))
    queue.model.reset(items)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.model.rowCount() > 2000)
    bar = view.list_view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    for value in range(0, bar.maximum(), max(1, bar.maximum() // 30)):
        bar.setValue(value)
        view.list_view.viewport().repaint()
        QApplication.processEvents()
    cache.wait_for_idle()
    assert cache.load_count < 600  # read as painted, not all 2,000
    assert len(cache) <= 40
    cache.shutdown()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    widget = MainWindow(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()  # keys go to the active window (matters on a real X server)
    qtbot.waitUntil(widget.isActiveWindow)
    return widget


def test_double_click_plays_it_in_the_preview(qtbot: QtBot, window: MainWindow) -> None:
    window.queue.model.reset([generation(1, finished_at=noon(0)),
                              generation(2, finished_at=noon(1))])
    window.studio.show_gallery()
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 4)
    index = index_of(gallery, 2)
    qtbot.waitUntil(lambda: gallery.list_view.visualRect(index).isValid())
    rect = gallery.list_view.visualRect(index)
    # A press first: Qt only reports a double click on the item that was pressed.
    qtbot.mouseClick(gallery.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(gallery.list_view.viewport(), Qt.MouseButton.LeftButton,
                      pos=rect.center())
    qtbot.waitUntil(window.preview.is_playing, timeout=10_000)
    assert window.preview.video_path() == str(CLIP)
    assert current_id(gallery) == 2

    played: list[int] = []  # Return plays too: the queue's Play, once
    window.queue.play_requested.connect(played.append)
    assert gallery.select_generation(1)
    gallery.list_view.setFocus()
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_Return)
    assert played == [1]


def test_the_menu_and_keys_are_the_queues_on_the_galleries_selection(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.queue.model.reset([generation(i, finished_at=noon(0) + i) for i in (1, 2, 3)])
    window.studio.show_gallery()
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.model.rowCount() == 4)
    assert gallery.select_generation(3)
    gallery.list_view.selectionModel().select(
        index_of(gallery, 2),
        gallery.list_view.selectionModel().SelectionFlag.Select)
    primary = gallery.current_generation()
    assert primary is not None
    menu = gallery.context_menu_for(primary)
    names = [a.objectName() for a in menu.actions() if not a.isSeparator()]
    queues = [spec.name for spec in ACTIONS if not spec.replaces]  # one in another's place
    assert names[:len(queues)] == queues
    # The window's own entries, added to the queue's.
    assert names[len(queues):] == ["compare", "export_clip", "new_sequence"]
    favourite = next(a for a in menu.actions() if a.objectName() == "favourite")
    assert favourite.text() == "Favourite 2 Generations"  # the gallery's two, not the queue's
    menu.deleteLater()

    toggled: list[tuple[int, bool]] = []
    window.queue.favourite_toggled.connect(lambda gid, on: toggled.append((gid, on)))
    gallery.list_view.setFocus()
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_F)
    assert sorted(toggled) == [(2, True), (3, True)]
    assert window.queue.selected_generations() == []  # the queue's selection was not used

    # The right-click menu pops up over the item under the mouse.
    rect = gallery.list_view.visualRect(index_of(gallery, 1))
    gallery._show_context_menu(QPoint(rect.center()))
    popup = QApplication.activePopupWidget()
    assert popup is not None
    assert popup.objectName() == "queueContextMenu"
    popup.close()
    assert current_id(gallery) == 1  # right-click on an unselected item selects it



def test_the_list_coming_into_sight_selects_what_the_preview_shows(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Ctrl+2 gave the keys to a grid with nothing selected while the preview showed the
    queue's video: Del, Return or F did nothing. The list shown takes the other's selection
    (without reloading the preview: a playing video would stop)."""
    window.queue.model.reset([generation(i, finished_at=noon(0) + i) for i in (1, 2, 3)])
    queue, gallery = window.queue, window.gallery
    assert queue.select_generation(2)
    assert window.preview.caption_label.text() == "result 2"
    told: list[object] = []
    queue.selection_changed.connect(told.append)
    gallery.selection_changed.connect(told.append)

    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    assert [g.id for g in gallery.selected_generations()] == [2]
    assert told == []  # the preview already shows it
    toggled: list[tuple[int, bool]] = []
    queue.favourite_toggled.connect(lambda gid, on: toggled.append((gid, on)))
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_F)  # the keys act on what is seen
    assert toggled == [(2, True)]

    assert gallery.select_generation(3)
    assert window.preview.caption_label.text() == "result 3"
    told.clear()
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(queue.list_view.hasFocus)
    assert [g.id for g in queue.selected_generations()] == [3]
    assert told == []
    assert window.preview.caption_label.text() == "result 3"

    # A click on the tab does the same; the person's own selection there is kept when the
    # other list shows the same video.
    window.studio.side_tabs.setCurrentWidget(gallery)
    assert [g.id for g in gallery.selected_generations()] == [3]


def test_a_list_without_the_shown_video_selects_nothing_so_no_key_acts_on_another(
    qtbot: QtBot, window: MainWindow
) -> None:
    """The queue filtered to Favourites, a video that isn't one picked in the gallery, then
    Ctrl+1: the queue kept its earlier pick selected while the preview showed the gallery's,
    so Del or F acted on a row the person wasn't looking at. Likewise the grid after a failed
    row was picked in the queue. The list shown selects nothing then; the preview keeps
    showing what was picked, and the keys act on nothing until the person picks again."""
    favourite = replace(generation(3, finished_at=noon(0) + 3), favourite=True)
    failed = generation(4, finished_at=noon(0) + 4, stage=Stage.FAILED)
    window.queue.model.reset([generation(1, finished_at=noon(0) + 1),
                              generation(2, finished_at=noon(0) + 2), favourite, failed])
    queue, gallery = window.queue, window.gallery
    toggled: list[tuple[int, bool]] = []
    queue.favourite_toggled.connect(lambda gid, on: toggled.append((gid, on)))
    queue.set_status_filter(StatusFilter.FAVOURITES)
    assert queue.select_generation(3)

    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    assert gallery.select_generation(1)  # not a favourite: not in the queue as filtered
    assert window.preview.caption_label.text() == "result 1"
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(queue.list_view.hasFocus)
    assert queue.selected_generations() == []
    assert window.preview.caption_label.text() == "result 1"  # still what was picked
    qtbot.keyClick(queue.list_view, Qt.Key.Key_F)
    assert toggled == []  # not #3, which the person no longer looks at

    queue.set_status_filter(StatusFilter.ALL)
    assert queue.select_generation(2)
    qtbot.keyClick(queue.list_view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    assert [g.id for g in gallery.selected_generations()] == [2]
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(queue.list_view.hasFocus)
    assert queue.select_generation(4)  # failed: no video, not in the grid
    qtbot.keyClick(queue.list_view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    assert gallery.selected_generations() == []
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_F)
    assert toggled == []  # not #2, picked there before


def test_the_keys_move_from_video_to_video_never_stopping_on_a_days_heading(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Home, Up or Down onto a day's heading (not selectable) left nothing selected: the
    preview went blank and the next key acted on nothing."""
    window.queue.model.reset([generation(i, finished_at=noon(i // 3) + i) for i in range(1, 8)])
    gallery = window.gallery
    assert window.queue.select_generation(4)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    view = gallery.list_view
    ids = gallery.model.result_ids()
    assert len(gallery.model.header_rows()) == 3  # three days

    def selected() -> list[int]:
        return [g.id for g in gallery.selected_generations()]

    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert selected() == [ids[0]]
    seen = [ids[0]]
    for _ in range(len(ids) + 2):  # past the end: it stays on the last
        qtbot.keyClick(view, Qt.Key.Key_Down)
        assert len(selected()) == 1, seen
        seen.append(selected()[0])
    assert seen[-1] == ids[-1]
    for _ in range(len(ids) + 2):
        qtbot.keyClick(view, Qt.Key.Key_Up)
        assert len(selected()) == 1
    assert selected() == [ids[0]]
    for key in (Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Right,
                Qt.Key.Key_Left, Qt.Key.Key_Home, Qt.Key.Key_Left):
        qtbot.keyClick(view, key)
        assert len(selected()) == 1, key
    assert selected() == [ids[0]]
    assert window.preview.caption_label.text() == f"result {ids[0]}"


def test_ctrl_f_searches_the_gallery_and_the_queue_keeps_the_search(
        qtbot: QtBot, window: MainWindow) -> None:
    """In the gallery Ctrl+F did nothing (the queue's search field was out of sight) and the
    queue's search didn't narrow the grid: a person looking for one video among many had no
    way to find it there. The gallery has the search field too (one search for both lists),
    and its keys work as the queue's: Down/Return go on to the results, Esc clears, then
    goes back to the grid."""
    queue_model = window.queue.model
    prompts = {1: "red kite over hills", 2: "blue whale", 3: "a red fox", 4: "paper boat"}
    made = [generation(gid, finished_at=noon(0) + gid) for gid in prompts]
    queue_model.reset([replace(g, settings=replace(g.settings, prompt=prompts[g.id]))
                       for g in made])
    gallery = window.gallery
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(gallery.list_view.hasFocus)
    qtbot.waitUntil(lambda: len(gallery.model.result_ids()) == 4)

    assert any(entry.area == "Gallery" and entry.keys_text() == "Ctrl+F"
               for entry in shortcut_entries(window))  # Help ▸ Keyboard Shortcuts says so
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert gallery.search_edit.hasFocus()
    qtbot.keyClicks(gallery.search_edit, "red")
    qtbot.waitUntil(lambda: sorted(gallery.model.result_ids()) == [1, 3])
    assert rows(gallery)[0] == "Today · 2 videos"
    qtbot.keyClick(gallery.search_edit, Qt.Key.Key_Down)  # on to the results
    assert gallery.list_view.hasFocus()
    assert current_id(gallery) == 3  # the newest match
    assert window.preview.caption_label.text() == "a red fox"

    # The queue, shown, keeps the search; the gallery follows a search typed there.
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.queue.search_edit.text() == "red"
    assert window.queue.proxy.rowCount() == 2
    window.queue.search_edit.setText("whale")
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [2])
    assert gallery.search_edit.text() == "whale"

    # Nothing matches: the grid says so and what to do.
    gallery.search_edit.setText("zebra")
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [])
    assert "zebra" in gallery.list_view.empty_text
    assert "Esc" in gallery.list_view.empty_text

    gallery.focus_search()
    qtbot.keyClick(gallery.search_edit, Qt.Key.Key_Escape)  # Esc clears the search first…
    assert gallery.search_edit.text() == ""
    assert window.queue.search_edit.text() == ""
    assert len(gallery.model.result_ids()) == 4
    assert gallery.search_edit.hasFocus()
    qtbot.keyClick(gallery.search_edit, Qt.Key.Key_Escape)  # …then goes back to the grid
    assert gallery.list_view.hasFocus()
    assert gallery.current_generation() is not None


def test_up_and_down_across_a_days_heading_keep_the_column(
        qtbot: QtBot, gallery: GalleryView) -> None:
    """Up from the first video of a day went to the far end of the day above (the next video
    in reading order, in the last column), Down from the last column to the first: the ring
    jumped sideways. Across a heading the keys keep the column, as within a day."""
    gallery.resize(700, 700)
    gallery.queue.model.reset([generation(gid, finished_at=noon(0 if gid > 3 else 1) + gid)
                               for gid in range(1, 7)])
    qtbot.waitUntil(lambda: rows(gallery) == ["Today · 3 videos", 6, 5, 4,
                                              "Yesterday · 3 videos", 3, 2, 1])
    view = gallery.list_view
    qtbot.waitUntil(lambda: view.visualRect(index_of(gallery, 1)).isValid())
    tops = {view.visualRect(index_of(gallery, gid)).top() for gid in (6, 5, 4)}
    assert len(tops) == 1  # each day one line of three
    view.setFocus()
    for start, key, expected in ((3, Qt.Key.Key_Up, 6), (1, Qt.Key.Key_Up, 4),
                                 (4, Qt.Key.Key_Down, 1), (5, Qt.Key.Key_Down, 2)):
        assert gallery.select_generation(start)
        qtbot.keyClick(view, key)
        assert current_id(gallery) == expected, (start, key)
        assert view.visualRect(view.currentIndex()).left() == view.visualRect(
            index_of(gallery, start)).left()


def test_favourites_shows_only_the_videos_marked_with_f(
        qtbot: QtBot, window: MainWindow) -> None:
    """F marked a video in the grid, but the grid had no way to show only those: finding
    them again meant the queue's list. "Favourites" beside the search shows only them."""
    window.queue.model.reset([generation(gid, finished_at=noon(0) + gid) for gid in (1, 2, 3)])
    gallery = window.gallery

    def mark(gid: int, on: bool) -> None:  # as the engine does
        marked = window.queue.model.generation(gid)
        assert marked is not None
        window.queue.model.upsert(replace(marked, favourite=on))

    window.queue.favourite_toggled.connect(mark)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sorted(gallery.model.result_ids()) == [1, 2, 3])
    button = gallery.favourites_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert gallery.model.result_ids() == []
    assert "press F" in gallery.list_view.empty_text

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # all again
    qtbot.waitUntil(lambda: sorted(gallery.model.result_ids()) == [1, 2, 3])
    for gid in (3, 1):
        assert gallery.select_generation(gid)
        qtbot.keyClick(gallery.list_view, Qt.Key.Key_F)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [3, 1])
    assert rows(gallery)[0] == "Today · 2 videos"

    assert gallery.select_generation(3)
    gallery.list_view.setFocus()
    qtbot.keyClick(gallery.list_view, Qt.Key.Key_F)  # no longer one: it leaves the grid
    qtbot.waitUntil(lambda: gallery.model.result_ids() == [1])
    assert current_id(gallery) == 1  # the one now in its place takes the keys

