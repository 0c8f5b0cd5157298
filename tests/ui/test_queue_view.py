"""The queue panel with real widgets: lazy thumbnails over 10,000 rows, menus, keys, painting."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter
from PySide6.QtWidgets import QMenu, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.ui.queue_filter import StatusFilter
from runway_desktop.ui.queue_model import QueueModel, Roles
from runway_desktop.ui.queue_view import ACTIONS, QueueView
from runway_desktop.ui.thumbnail_cache import ThumbnailCache
from tests.conftest import ARTIFACTS

NOW = 1_700_000_000.0
SCREENSHOT = ARTIFACTS / "queue.png"


def make(
    gid: int,
    stage: Stage = Stage.DONE,
    *,
    created: float | None = None,
    prompt: str | None = None,
    seed: int = 42,
    ratio: str = "16:9",
    duration: int = 5,
    image: str | None = None,
    **fields: Any,
) -> Generation:
    settings = GenerationSettings(
        prompt=prompt or f"prompt {gid}",
        seed=seed,
        aspect_ratio=ratio,
        duration=duration,
        image_path=image,
    )
    return Generation(
        id=gid,
        settings=settings,
        idempotency_key=f"key-{gid}",
        stage=stage,
        created_at=NOW + gid if created is None else created,
        updated_at=NOW,
        **fields,
    )


def png(path: Path, colour: str = "#d00000", size: tuple[int, int] = (160, 90)) -> str:
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path))
    return str(path)


def scene(path: Path, first: str, second: str, size: tuple[int, int] = (640, 360)) -> str:
    """A small landscape-ish picture, so the screenshot looks like real thumbnails."""
    image = QImage(*size, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    gradient = QLinearGradient(0, 0, size[0], size[1])
    gradient.setColorAt(0, QColor(first))
    gradient.setColorAt(1, QColor(second))
    painter.fillRect(image.rect(), gradient)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 110))
    painter.drawEllipse(QPoint(int(size[0] * 0.7), int(size[1] * 0.35)), size[1] // 8, size[1] // 8)
    painter.setBrush(QColor(0, 0, 0, 70))
    painter.drawRect(0, int(size[1] * 0.75), size[0], size[1])
    painter.end()
    assert image.save(str(path))
    return str(path)


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[QueueView]:
    cache = ThumbnailCache(capacity=300)
    view = QueueView(QueueModel(cache), clock=lambda: NOW)
    qtbot.addWidget(view)
    view.resize(560, 720)
    yield view
    view.shutdown()
    assert cache._pool.activeThreadCount() == 0  # no reader thread outlives the test
    assert not view._tick.isActive()


def shown(qtbot: QtBot, view: QueueView) -> None:
    with qtbot.waitExposed(view):
        view.show()


def settle(qtbot: QtBot, view: QueueView) -> None:
    """Paint until a paint asks for no new thumbnail and every read has been delivered."""
    cache = view.model.thumbnails
    for _ in range(50):
        before = cache.load_count
        view.list_view.viewport().repaint()
        qtbot.waitUntil(lambda: not cache.is_busy(), timeout=10_000)
        if cache.load_count == before:
            break
    view.list_view.viewport().repaint()


def visible_rows(view: QueueView) -> int:
    row_height = view.list_view.sizeHintForRow(0)
    return view.list_view.viewport().height() // row_height + 1


# -- many rows -------------------------------------------------------------------------------


def test_ten_thousand_rows_scroll_and_load_thumbnails_lazily(
    view: QueueView, qtbot: QtBot, tmp_path: Path
) -> None:
    real = png(tmp_path / "real.png")
    generations = [
        make(
            i,
            Stage.DONE,
            video_path=str(tmp_path / f"{i}.mp4"),
            # a few real files, the rest are missing: both are fine for the cache
            thumbnail_path=real if i % 1000 == 0 else str(tmp_path / f"thumb-{i}.jpg"),
        )
        for i in range(10_000)
    ]
    view.model.reset(generations)
    shown(qtbot, view)
    settle(qtbot, view)
    assert view.model.rowCount() == 10_000
    assert view.proxy.rowCount() == 10_000
    assert view.list_view.uniformItemSizes()
    rows = visible_rows(view)
    first_loads = view.model.thumbnails.load_count
    assert 0 < first_loads <= rows  # only what is on screen

    view.list_view.scrollToBottom()
    settle(qtbot, view)
    bottom = view.list_view.indexAt(QPoint(1, view.list_view.viewport().height() - 2))
    assert bottom.row() == 9_999
    view.list_view.scrollToTop()
    settle(qtbot, view)
    assert view.list_view.indexAt(QPoint(1, 1)).row() == 0

    loads = view.model.thumbnails.load_count
    assert loads <= 2 * rows  # top and bottom pages once each, not 10,000
    assert len(view.model.thumbnails) <= view.model.thumbnails.capacity


# -- thumbnails are painted ------------------------------------------------------------------


def test_real_thumbnails_are_painted(view: QueueView, qtbot: QtBot, tmp_path: Path) -> None:
    red = png(tmp_path / "red.png", "#d00000")
    view.model.reset(
        [
            make(1, Stage.DONE, thumbnail_path=red, video_path="/tmp/a.mp4"),
            make(2, Stage.PROCESSING, image=red, progress=30),  # input image until a frame
            make(3, Stage.PENDING, image=str(tmp_path / "missing.png")),
        ]
    )
    shown(qtbot, view)
    settle(qtbot, view)
    grab = view.list_view.viewport().grab().toImage()
    background = view.list_view.palette().color(view.list_view.viewport().backgroundRole())
    for row in range(3):
        index = view.proxy.index(row, 0)
        layout = view.delegate.row_layout(view.list_view.visualRect(index), view.list_view.font())
        pixel = grab.pixelColor(layout.thumb.center())
        generation = index.data(Roles.GenerationRole)
        if generation.id == 3:  # missing file: a quiet placeholder, not red, not an error
            assert pixel != QColor("#d00000")
            assert pixel.rgb() != 0xFF000000
        else:
            assert pixel != background
            assert pixel.red() > 180, (generation.id, pixel.name())
            assert pixel.green() < 60, (generation.id, pixel.name())
    assert len(view.model.thumbnails) == 2  # red (shared by two rows) and the failed one


# -- context menu ----------------------------------------------------------------------------


def menu_state(menu: QMenu) -> dict[str, bool]:
    return {a.objectName(): a.isEnabled() for a in menu.actions() if not a.isSeparator()}


def enabled(menu: QMenu) -> set[str]:
    return {name for name, on in menu_state(menu).items() if on}


ALWAYS = {"copy_prompt", "copy_seed", "favourite", "reuse", "rerun"}


@pytest.mark.parametrize(
    ("generation", "expected"),
    [
        (make(1, Stage.PENDING), {"run_next", "cancel", "remove"}),
        (make(1, Stage.PREPARING), {"cancel", "remove"}),
        (make(1, Stage.UPLOADING), {"cancel", "remove"}),
        # The POST may be in flight, or the video streaming: no cancel, but a way out.
        (make(1, Stage.SUBMITTING), {"stop_following", "remove"}),
        (make(1, Stage.QUEUED), {"stop_following", "remove"}),
        (make(1, Stage.PROCESSING), {"stop_following", "remove"}),
        (make(1, Stage.DOWNLOADING, video_url="https://cdn/x.mp4"),
         {"copy_url", "stop_following", "remove", "extend"}),  # extend waits for the file
        (
            make(1, Stage.DONE, video_path="/v/1.mp4", video_url="https://cdn/x.mp4"),
            {"play", "open", "reveal", "copy_url", "remove", "remove_with_file"},
        ),
        (make(1, Stage.DONE), {"remove"}),  # a finished record whose file is not known
        (make(1, Stage.DONE, job_id="job-1"), {"remove", "redownload"}),  # its file is gone
        (make(1, Stage.FAILED), {"retry", "remove"}),
        (make(1, Stage.ATTENTION, action=Action.BUY_CREDITS), {"retry", "remove"}),
        (make(1, Stage.CANCELLED), {"remove"}),
        (make(1, Stage.ABANDONED), {"retry", "remove"}),
    ],
    ids=lambda v: v.stage.value if isinstance(v, Generation) else None,
)
def test_context_menu_enables_actions_by_stage(
    view: QueueView, generation: Generation, expected: set[str]
) -> None:
    menu = view.build_context_menu(generation)
    assert [a.objectName() for a in menu.actions() if not a.isSeparator()] == [
        s.name for s in ACTIONS if not s.replaces  # in another's place only where it applies
    ]
    assert enabled(menu) == expected | ALWAYS
    assert all(a.text() for a in menu.actions() if not a.isSeparator())
    menu.deleteLater()


def test_menu_shows_shortcuts_and_favourite_state(view: QueueView) -> None:
    menu = view.build_context_menu(make(1, favourite=True))
    actions = {a.objectName(): a for a in menu.actions()}
    assert actions["favourite"].isCheckable()
    assert actions["favourite"].isChecked()
    assert actions["remove"].shortcut().toString() == "Del"
    assert actions["play"].shortcut().toString() == "Return"
    menu.deleteLater()


def test_menu_actions_emit_signals(view: QueueView, qtbot: QtBot) -> None:
    done = make(5, Stage.DONE, video_path="/v/5.mp4", video_url="https://cdn/5.mp4", seed=987)
    menu = view.build_context_menu(done)
    actions = {a.objectName(): a for a in menu.actions()}
    for name, signal, args in [
        ("play", view.play_requested, [5]),
        ("open", view.open_requested, [5]),
        ("reveal", view.reveal_requested, [5]),
        ("favourite", view.favourite_toggled, [5, True]),
        ("reuse", view.reuse_requested, [5]),
        ("rerun", view.rerun_requested, [5]),
        ("remove", view.remove_requested, [[5], False]),
        ("remove_with_file", view.remove_requested, [[5], True]),
    ]:
        with qtbot.waitSignal(signal, timeout=1000) as blocker:
            actions[name].trigger()
        assert blocker.args == args, name
    actions["copy_seed"].trigger()
    assert QGuiApplication.clipboard().text() == "987"
    actions["copy_url"].trigger()
    assert QGuiApplication.clipboard().text() == "https://cdn/5.mp4"
    menu.deleteLater()

    failed = view.build_context_menu(make(6, Stage.FAILED))
    with qtbot.waitSignal(view.retry_requested) as blocker:
        next(a for a in failed.actions() if a.objectName() == "retry").trigger()
    assert blocker.args == [6]
    running = view.build_context_menu(make(7, Stage.PROCESSING))
    with qtbot.waitSignal(view.stop_following_requested) as blocker:
        next(a for a in running.actions() if a.objectName() == "stop_following").trigger()
    assert blocker.args == [7]


def test_menu_for_a_selection_acts_on_every_applicable_item(view: QueueView, qtbot: QtBot) -> None:
    selection = [
        make(1, Stage.PENDING),
        make(2, Stage.UPLOADING),
        make(3, Stage.PROCESSING),
        make(4, Stage.DONE),
    ]
    menu = view.build_context_menu(selection[0], selection)
    actions = {a.objectName(): a for a in menu.actions()}
    assert actions["cancel"].isEnabled()
    assert actions["remove"].isEnabled()
    with qtbot.waitSignal(view.cancel_requested) as blocker:
        actions["cancel"].trigger()
    assert blocker.args == [[1, 2]]
    with qtbot.waitSignal(view.remove_requested) as blocker:
        actions["remove"].trigger()
    assert blocker.args == [[1, 2, 3, 4], False]  # removing is always the person's to choose
    toggled: list[tuple[int, bool]] = []
    view.favourite_toggled.connect(lambda gid, on: toggled.append((gid, on)))
    actions["favourite"].trigger()
    assert toggled == [(1, True), (2, True), (3, True), (4, True)]
    # Right-click outside the selection: only that item.
    other = view.build_context_menu(make(9, Stage.FAILED), selection)
    assert {a.objectName() for a in other.actions() if a.isEnabled()} >= {"retry"}
    with qtbot.waitSignal(view.remove_requested) as blocker:
        next(a for a in other.actions() if a.objectName() == "remove").trigger()
    assert blocker.args == [[9], False]


# -- keyboard --------------------------------------------------------------------------------


def focus_row(view: QueueView, qtbot: QtBot, generation_id: int) -> None:
    shown(qtbot, view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.list_view.setFocus()
    assert view.select_generation(generation_id)
    view.list_view.selectionModel().select(
        view.list_view.currentIndex(),
        view.list_view.selectionModel().SelectionFlag.ClearAndSelect,
    )


def test_delete_keys_emit_remove_requested(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset([make(1, Stage.DONE, video_path="/v/1.mp4"), make(2, Stage.PROCESSING)])
    focus_row(view, qtbot, 1)
    with qtbot.waitSignal(view.remove_requested) as blocker:
        qtbot.keyClick(view.list_view, Qt.Key.Key_Delete)
    assert blocker.args == [[1], False]
    with qtbot.waitSignal(view.remove_requested) as blocker:
        qtbot.keyClick(view.list_view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert blocker.args == [[1], True]

    # A running item can be removed too (the window asks first: the server may still charge
    # it); it has no video file to move to the trash.
    removed: list[Any] = []
    view.remove_requested.connect(lambda *a: removed.append(a))
    focus_row(view, qtbot, 2)
    assert view.shortcut_actions["remove"].isEnabled()
    assert not view.shortcut_actions["remove_with_file"].isEnabled()
    qtbot.keyClick(view.list_view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert removed == []
    qtbot.keyClick(view.list_view, Qt.Key.Key_Delete)
    assert removed == [([2], False)]


def test_keys_play_favourite_and_reuse(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset([make(1, Stage.DONE, video_path="/v/1.mp4")])
    focus_row(view, qtbot, 1)
    with qtbot.waitSignal(view.play_requested) as blocker:
        qtbot.keyClick(view.list_view, Qt.Key.Key_Return)
    assert blocker.args == [1]
    with qtbot.waitSignal(view.favourite_toggled) as blocker:
        qtbot.keyClick(view.list_view, Qt.Key.Key_F)
    assert blocker.args == [1, True]
    with qtbot.waitSignal(view.reuse_requested) as blocker:
        qtbot.keyClick(view.list_view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == [1]
    with qtbot.waitSignal(view.open_requested) as blocker:
        qtbot.keyClick(view.list_view, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == [1]


def test_double_click_plays_a_finished_video(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset([make(1, Stage.DONE, video_path="/v/1.mp4"), make(2, Stage.PENDING)])
    shown(qtbot, view)
    played: list[int] = []
    view.play_requested.connect(played.append)
    for gid in (1, 2):
        rect = view.list_view.visualRect(view.proxy.mapFromSource(view.model.index_of(gid)))
        # A press first: Qt only reports a double click on the row that was pressed.
        qtbot.mouseClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert played == [1]


def test_selection_changed_carries_the_generation(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset([make(1), make(2)])
    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.select_generation(2)
    assert blocker.args[0].id == 2
    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.list_view.clearSelection()
    assert blocker.args == [None]


def test_clicking_the_fix_of_a_problem_row(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset([make(1, Stage.ATTENTION, error="No credits", action=Action.BUY_CREDITS)])
    shown(qtbot, view)
    index = view.proxy.index(0, 0)
    opt = QStyleOptionViewItem()
    opt.initFrom(view.list_view)
    opt.rect = view.list_view.visualRect(index)
    opt.font = view.list_view.font()
    hint = view.delegate.action_rect(opt, index.data(Roles.GenerationRole))
    assert not hint.isEmpty()
    with qtbot.waitSignal(view.action_requested) as blocker:
        qtbot.mouseClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=hint.center())
    assert blocker.args == [1, Action.BUY_CREDITS]


# -- header ----------------------------------------------------------------------------------


def test_header_totals_buttons_and_tick(view: QueueView, qtbot: QtBot) -> None:
    assert view.summary_label.text() == "Nothing running"
    assert not view.cancel_pending_button.isEnabled()
    assert not view.clear_finished_button.isEnabled()
    view.model.reset(
        [
            make(1, Stage.PENDING),
            make(2, Stage.PENDING),
            make(3, Stage.PROCESSING, progress=50),
            make(4, Stage.DONE),
        ]
    )
    qtbot.waitUntil(lambda: "running" in view.summary_label.text())
    assert view.summary_label.text() == "1 running · 2 waiting · 16 %"
    assert view.total_bar.value() == 16
    assert view.cancel_pending_button.isEnabled()
    assert view.clear_finished_button.isEnabled()
    assert view._tick.isActive()  # an elapsed time is ticking
    with qtbot.waitSignal(view.cancel_pending_requested):
        view.cancel_pending_button.click()
    with qtbot.waitSignal(view.clear_finished_requested):
        view.clear_finished_button.click()

    third = view.model.generation(3)
    assert third is not None
    view.model.upsert(dataclasses.replace(third, stage=Stage.DONE))
    qtbot.waitUntil(lambda: not view._tick.isActive())  # nothing runs: no more ticking
    view.model.remove(1)
    view.model.remove(2)
    qtbot.waitUntil(lambda: view.summary_label.text() == "Nothing running")
    assert not view.cancel_pending_button.isEnabled()


def test_filter_buttons_and_search_field(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset(
        [
            make(1, Stage.PENDING, prompt="Red fox"),
            make(2, Stage.DONE, prompt="Blue sea", favourite=True),
            make(3, Stage.FAILED, prompt="Red car"),
        ]
    )
    view.filter_buttons[StatusFilter.FAILED].click()
    assert view.proxy.rowCount() == 1
    view.filter_buttons[StatusFilter.ALL].click()
    qtbot.keyClicks(view.search_edit, "RED")
    assert view.proxy.rowCount() == 2
    view.set_status_filter(StatusFilter.FAVOURITES)
    assert view.proxy.rowCount() == 0
    assert view.list_view.empty_text == "Nothing matches."
    view.search_edit.clear()
    assert view.proxy.rowCount() == 1
    assert view.search_edit.placeholderText() == "Search prompts"
    assert view.search_edit.isClearButtonEnabled()
    for button in view.filter_buttons.values():
        assert button.toolTip()
        assert button.accessibleName()


# -- a look at it ----------------------------------------------------------------------------


def test_render_screenshot(view: QueueView, qtbot: QtBot, tmp_path: Path) -> None:
    pictures = {
        "lighthouse": scene(tmp_path / "a.png", "#1e3c72", "#f0a060"),
        "road": scene(tmp_path / "b.png", "#355c3c", "#d9a441"),
        "neon": scene(tmp_path / "c.png", "#2b1055", "#d53a9d", (840, 360)),
        "cat": scene(tmp_path / "d.png", "#f6d365", "#fda085", (360, 360)),
        "fisher": scene(tmp_path / "e.png", "#485563", "#29323c", (300, 400)),
    }
    items = [
        make(
            1,
            Stage.PENDING,
            position=1.0,
            prompt="Close-up of a hummingbird drinking from a red flower, shallow depth of field",
            ratio="9:16",
        ),
        make(
            2,
            Stage.PENDING,
            position=2.0,
            prompt="A lighthouse on a cliff at dusk, waves crashing, slow dolly in",
            image=pictures["lighthouse"],
        ),
        make(
            3,
            Stage.QUEUED,
            created=NOW - 20,
            prompt="Paper boats drifting down a stream",
            submitted_at=NOW - 12,
            job_id="job_q",
        ),
        make(
            4,
            Stage.PROCESSING,
            created=NOW - 90,
            prompt=(
                "Aerial shot of a winding mountain road through an autumn forest, golden hour, "
                "cinematic drone movement following a red car"
            ),
            duration=10,
            seed=1234567,
            progress=65,
            submitted_at=NOW - 65,
            job_id="job_abc",
            image=pictures["road"],
        ),
        make(
            5,
            Stage.DOWNLOADING,
            created=NOW - 150,
            prompt="Neon city street in the rain at night",
            ratio="21:9",
            progress=40,
            submitted_at=NOW - 130,
            image=pictures["neon"],
        ),
        make(
            6,
            Stage.ATTENTION,
            created=NOW - 300,
            prompt="Portrait of an old fisherman, wind in his beard",
            ratio="3:4",
            finished_at=NOW - 290,
            error="Not enough credits: 15 needed, 3 left.",
            action=Action.BUY_CREDITS,
            image=pictures["fisher"],
        ),
        make(
            7,
            Stage.FAILED,
            created=NOW - 600,
            prompt="Astronaut riding a horse on the moon",
            seed=99,
            submitted_at=NOW - 600,
            finished_at=NOW - 560,
            error="The server could not generate this video (credits refunded).",
            action=Action.RETRY,
        ),
        make(
            8,
            Stage.DONE,
            created=NOW - 800,
            prompt="A cat walking across a sunny kitchen table",
            ratio="1:1",
            seed=7,
            submitted_at=NOW - 790,
            finished_at=NOW - 700,
            favourite=True,
            video_path="/v/8.mp4",
            thumbnail_path=pictures["cat"],
            credit_cost=8,
        ),
        make(9, Stage.CANCELLED, created=NOW - 900, prompt="Time-lapse of clouds", duration=10),
    ]
    view.model.reset(items)
    view.resize(560, 860)
    shown(qtbot, view)
    view.select_generation(5)
    settle(qtbot, view)
    image = view.grab().toImage()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(SCREENSHOT))
    assert view.model.thumbnails.load_count == len(pictures)


# -- reorder and ticking ---------------------------------------------------------------------


def test_dropping_pending_rows_in_the_view_requests_a_reorder(
    view: QueueView, qtbot: QtBot
) -> None:
    view.model.reset([make(i, Stage.PENDING, position=float(i)) for i in (1, 2, 3)])
    proxy = view.proxy  # newest on top: 3, 2, 1 (1 runs next)
    mime = proxy.mimeData([proxy.index(0, 0)])
    with qtbot.waitSignal(view.reorder_requested) as blocker:
        assert proxy.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, proxy.index(-1, 0))
    assert blocker.args == [3, 1]  # to the bottom: runs before 1
    assert view.list_view.dragDropMode() == view.list_view.DragDropMode.DragDrop
    assert view.list_view.dragEnabled()


def test_the_second_tick_repaints_only_visible_running_rows(
    view: QueueView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    view.model.reset(
        [make(i, Stage.PROCESSING if i % 2 else Stage.DONE, progress=10) for i in range(200)]
    )
    shown(qtbot, view)
    updated: list[int] = []
    monkeypatch.setattr(view.list_view, "update", lambda index: updated.append(index.row()))
    view._refresh_running_rows()
    rows = visible_rows(view)
    assert updated
    assert len(updated) <= rows
    assert all(
        view.proxy.index(r, 0).data(Roles.GenerationRole).stage is Stage.PROCESSING for r in updated
    )


def test_removing_the_selected_row_clears_the_selection(view: QueueView, qtbot: QtBot) -> None:
    view.model.reset([make(1), make(2)])
    view.select_generation(1)
    with qtbot.waitSignal(view.selection_changed) as blocker:
        view.model.remove(1)
    assert blocker.args == [None]
    assert view.current_generation() is None


def test_from_the_search_field_the_keys_go_on_to_the_results(
        qtbot: QtBot, view: QueueView) -> None:
    """Ctrl+F, type, then Down or Return: the keys stayed in the search field (the results
    were out of reach but by Tab past the filters); Esc did nothing."""
    view.model.reset([make(1, prompt="red kite"), make(2, prompt="blue whale"),
                      make(3, prompt="red fox")])
    shown(qtbot, view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.list_view.clearSelection()
    view.search_edit.setFocus()
    qtbot.keyClicks(view.search_edit, "red")
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 2)
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Down)
    assert view.list_view.hasFocus()
    first = view.proxy.index(0, 0).data(Roles.GenerationRole)
    assert [g.id for g in view.selected_generations()] == [first.id]  # the first result

    view.search_edit.setFocus()
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    assert view.list_view.hasFocus()
    assert [g.id for g in view.selected_generations()] == [first.id]  # a choice is kept

    view.search_edit.setFocus()
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Escape)  # Esc clears the search first…
    assert view.search_edit.text() == ""
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 3)
    assert view.search_edit.hasFocus()
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Escape)  # …then goes back to the list
    assert view.list_view.hasFocus()
    assert [g.id for g in view.selected_generations()] == [first.id]


def test_a_selected_row_that_leaves_the_filter_hands_the_selection_to_the_next(
        qtbot: QtBot, view: QueueView) -> None:
    """Favourites shown, F on a row: it stopped being a favourite and left the list, and
    nothing was selected (the next F acted on nothing, the preview went blank). The row now
    in its place is selected; a filter the person changes selects nothing by itself."""
    rows = [make(i, favourite=True) for i in (1, 2, 3)]
    view.model.reset(rows)
    shown(qtbot, view)
    view.set_status_filter(StatusFilter.FAVOURITES)
    assert view.select_generation(3)
    told: list[Any] = []
    view.selection_changed.connect(told.append)

    view.model.upsert(dataclasses.replace(rows[2], favourite=False))  # what F comes back as
    assert view.proxy.rowCount() == 2
    assert [g.id for g in view.selected_generations()] == [2]
    assert [g.id for g in told] == [2]  # the preview follows

    view.model.upsert(dataclasses.replace(rows[1], favourite=False))
    assert [g.id for g in view.selected_generations()] == [1]

    # The person's own filter change: what it hides is not replaced by a guess.
    view.set_status_filter(StatusFilter.ALL)
    assert view.select_generation(3)
    view.set_status_filter(StatusFilter.FAVOURITES)
    assert view.selected_generations() == []


def test_a_hidden_queue_selects_nothing_when_a_row_leaves_its_filter(
        qtbot: QtBot, view: QueueView) -> None:
    """With the gallery shown the queue is hidden: the gallery's selection is the preview's,
    and a second one chosen here would load another video into it."""
    rows = [make(i, favourite=True) for i in (1, 2, 3)]
    view.model.reset(rows)
    shown(qtbot, view)
    view.set_status_filter(StatusFilter.FAVOURITES)
    assert view.select_generation(3)
    view.hide()
    view.model.upsert(dataclasses.replace(rows[2], favourite=False))
    assert view.selected_generations() == []
