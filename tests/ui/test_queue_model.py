"""The queue list model, its filter proxy, the thumbnail cache and the row texts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QMimeData, QModelIndex, Qt, QUrl
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.ui import queue_text
from runway_desktop.ui.queue_filter import QueueFilterModel, StatusFilter
from runway_desktop.ui.queue_model import ID_MIME_TYPE, QueueModel, Roles, sort_key
from runway_desktop.ui.thumbnail_cache import ThumbnailCache

NOW = 1_700_000_000.0


def make(
    gid: int,
    stage: Stage = Stage.DONE,
    *,
    created: float | None = None,
    prompt: str | None = None,
    seed: int = 42,
    **fields: Any,
) -> Generation:
    settings = GenerationSettings(prompt=prompt or f"prompt {gid}", seed=seed)
    return Generation(
        id=gid,
        settings=settings,
        idempotency_key=f"key-{gid}",
        stage=stage,
        created_at=NOW + gid if created is None else created,
        updated_at=NOW,
        **fields,
    )


def known(model: QueueModel, generation_id: int) -> Generation:
    found = model.generation(generation_id)
    assert found is not None, f"generation {generation_id} is in the model"
    return found


def row(model: QueueModel, generation_id: int) -> int:
    found = model.row_of(generation_id)
    assert found is not None, f"generation {generation_id} has a row"
    return found


def ids(model: QueueModel | QueueFilterModel) -> list[int]:
    return [model.index(r, 0).data(Roles.IdRole) for r in range(model.rowCount())]


class Recorder:
    """Counts the structural signals of a model (a QSignalSpy that reads well in asserts)."""

    SIGNALS = (
        "dataChanged",
        "rowsInserted",
        "rowsRemoved",
        "rowsMoved",
        "modelReset",
        "layoutChanged",
    )

    def __init__(self, model: Any) -> None:
        self.calls: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.SIGNALS}
        for name in self.SIGNALS:
            getattr(model, name).connect(lambda *args, n=name: self.calls[n].append(args))

    def count(self, name: str) -> int:
        return len(self.calls[name])

    def structural(self) -> dict[str, int]:
        return {n: len(c) for n, c in self.calls.items() if n != "dataChanged" and c}


def drained(cache: ThumbnailCache) -> None:
    """Shut the readers down and prove no pool thread outlives the test."""
    cache.shutdown()
    assert cache._pool.activeThreadCount() == 0


@pytest.fixture
def cache(qapp: Any) -> Iterator[ThumbnailCache]:
    cache = ThumbnailCache(capacity=5)
    yield cache
    drained(cache)


@pytest.fixture
def model(cache: ThumbnailCache) -> QueueModel:
    return QueueModel(cache)


def png(path: Path, colour: str = "red", size: tuple[int, int] = (64, 36)) -> str:
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path))
    return str(path)


# -- ordering --------------------------------------------------------------------------------


def test_newest_first_by_queue_position_whatever_the_stage(model: QueueModel) -> None:
    model.reset(
        [
            make(1, Stage.DONE, position=1.0),
            make(2, Stage.FAILED, position=5.0),
            make(3, Stage.PROCESSING, position=3.0),
            make(4, Stage.PENDING, position=4.5),  # dragged: runs before 2 … and shows below
            make(5, Stage.PENDING, position=6.0),
            make(6, Stage.PENDING, position=2.0),
        ]
    )
    assert ids(model) == [5, 2, 4, 3, 6, 1]
    assert model.rowCount() == 6
    assert [model.row_of(i) for i in (5, 2, 4, 3, 6, 1)] == list(range(6))


def test_a_stage_change_never_moves_a_row(model: QueueModel) -> None:
    """A row that re-sorted as its job started made a click land on the wrong job."""
    model.reset([make(i, Stage.PENDING, position=float(i)) for i in (1, 2, 3)]
                + [make(4, Stage.DONE, position=0.5)])
    before = ids(model)
    rec = Recorder(model)
    for stage in (Stage.PREPARING, Stage.UPLOADING, Stage.QUEUED, Stage.PROCESSING,
                  Stage.DOWNLOADING, Stage.DONE):
        for gid in (1, 3):
            model.upsert(dataclasses.replace(known(model, gid), stage=stage))
        assert ids(model) == before
    assert rec.structural() == {}


def test_reset_keeps_the_last_record_of_a_duplicated_id(model: QueueModel) -> None:
    model.reset([make(1, Stage.PENDING), make(1, Stage.DONE)])
    assert model.rowCount() == 1
    assert known(model, 1).stage is Stage.DONE


def test_insert_lands_in_order_with_one_rows_inserted(model: QueueModel) -> None:
    model.reset([make(1), make(3)])
    rec = Recorder(model)
    model.upsert(make(2))
    assert ids(model) == [3, 2, 1]
    assert rec.calls["rowsInserted"] == [(QModelIndex(), 1, 1)]
    assert rec.structural() == {"rowsInserted": 1}


def test_update_in_place_emits_only_data_changed(model: QueueModel) -> None:
    model.reset([make(1, Stage.PROCESSING, progress=10), make(2), make(3)])
    rec = Recorder(model)
    model.upsert(dataclasses.replace(known(model, 1), progress=55))
    assert rec.structural() == {}
    assert rec.count("dataChanged") == 1
    top_left, bottom_right = rec.calls["dataChanged"][0][:2]
    assert top_left.row() == bottom_right.row() == model.row_of(1)
    assert model.index(row(model, 1), 0).data(Roles.GenerationRole).progress == 55


def test_update_that_changes_order_is_a_move_not_remove_insert(model: QueueModel) -> None:
    model.reset(
        [
            make(1, Stage.PENDING, position=1.0),
            make(2, Stage.PENDING, position=2.0),
            make(3, Stage.DONE, position=0.5),
            make(4, Stage.PENDING, position=3.0),
        ]
    )
    assert ids(model) == [4, 2, 1, 3]
    rec = Recorder(model)
    # The engine moved pending item 4 to run before 1: re-sorted by position.
    model.upsert(dataclasses.replace(known(model, 4), position=0.75))
    assert ids(model) == [2, 1, 4, 3]
    assert rec.structural() == {"rowsMoved": 1}
    assert rec.count("dataChanged") == 1
    assert [model.row_of(i) for i in (2, 1, 4, 3)] == [0, 1, 2, 3]
    model.upsert(make(5, Stage.PENDING, position=4.0))
    assert ids(model) == [5, 2, 1, 4, 3]


def test_remove(model: QueueModel) -> None:
    model.reset([make(1), make(2), make(3)])
    rec = Recorder(model)
    model.remove(2)
    assert ids(model) == [3, 1]
    assert rec.calls["rowsRemoved"] == [(QModelIndex(), 1, 1)]
    assert model.row_of(1) == 1
    assert model.generation(2) is None
    model.remove(999)  # unknown: nothing happens
    assert rec.structural() == {"rowsRemoved": 1}


def test_remove_many_removes_runs_of_rows_at_once(model: QueueModel) -> None:
    model.reset([make(i) for i in range(1, 11)])  # rows: 10, 9, … 1
    rec = Recorder(model)
    model.remove_many([10, 9, 8, 5, 1, 42])
    assert ids(model) == [7, 6, 4, 3, 2]
    assert rec.calls["rowsRemoved"] == [
        (QModelIndex(), 9, 9), (QModelIndex(), 5, 5), (QModelIndex(), 0, 2)
    ]
    assert [model.row_of(i) for i in (7, 6, 4, 3, 2)] == [0, 1, 2, 3, 4]
    assert model.generation(5) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["upsert", "remove", "remove_many"]),
            st.integers(1, 12),
            st.sampled_from(list(Stage)),
            st.integers(0, 20),
            st.integers(0, 5),
        ),
        max_size=40,
    )
)
def test_any_sequence_of_changes_keeps_order_and_index(qapp: Any, steps: list[Any]) -> None:
    cache = ThumbnailCache()
    model = QueueModel(cache)
    try:
        expected: dict[int, Generation] = {}
        for op, gid, stage, created, position in steps:
            if op == "remove":
                model.remove(gid)
                expected.pop(gid, None)
            elif op == "remove_many":
                gone = [gid, gid + 2, gid + 3, 99]
                model.remove_many(gone)
                for i in gone:
                    expected.pop(i, None)
            else:
                g = make(gid, stage, created=NOW + created, position=float(position))
                model.upsert(g)
                expected[gid] = g
        rows = list(model.generations())
        assert rows == sorted(expected.values(), key=sort_key)
        assert all(model.row_of(g.id) == r for r, g in enumerate(rows))
        running, pending, _ = model.totals()
        assert pending == sum(g.stage is Stage.PENDING for g in rows)
        assert running == sum(g.stage.is_running for g in rows)
    finally:
        drained(cache)


# -- totals ----------------------------------------------------------------------------------


def test_totals_count_running_and_pending_and_average_progress(
    model: QueueModel, qtbot: QtBot
) -> None:
    assert model.totals() == (0, 0, 0)
    with qtbot.waitSignal(model.totals_changed) as blocker:
        model.reset(
            [
                make(1, Stage.PENDING),
                make(2, Stage.DOWNLOADING, progress=100),  # 100 % overall
                make(3, Stage.PROCESSING, progress=50),  # 10 % + 80 % / 2 = 50 %
                make(4, Stage.DONE),
                make(5, Stage.FAILED),
            ]
        )
    assert blocker.args == [2, 1, 50]
    assert model.totals() == (2, 1, 50)
    assert model.finished_count() == 2


def test_totals_changed_is_coalesced(model: QueueModel, qtbot: QtBot) -> None:
    emitted: list[tuple[int, int, int]] = []
    model.totals_changed.connect(lambda *a: emitted.append(a))
    for progress in range(0, 100, 10):
        model.upsert(make(1, Stage.PROCESSING, progress=progress))
    qtbot.waitUntil(lambda: bool(emitted))
    qtbot.wait(20)
    assert emitted == [model.totals()]


# -- drag and drop ---------------------------------------------------------------------------


def test_finished_video_drags_out_as_a_file(model: QueueModel, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    model.reset([make(1, Stage.DONE, video_path=str(video))])
    index = model.index(0, 0)
    assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    mime = model.mimeData([index])
    assert mime.urls() == [QUrl.fromLocalFile(str(video))]
    assert mime.urls()[0].toLocalFile() == str(video)


def test_drag_flags_by_stage(model: QueueModel) -> None:
    model.reset(
        [
            make(1, Stage.PENDING),
            make(2, Stage.PROCESSING),
            make(3, Stage.DONE),  # no file: nothing to drag
            make(4, Stage.FAILED),
        ]
    )
    draggable = {
        g.id
        for r, g in enumerate(model.generations())
        if model.flags(model.index(r, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    }
    assert draggable == {1}
    assert not model.mimeData([model.index(0, 0)]).hasUrls()
    assert model.supportedDropActions() == Qt.DropAction.MoveAction
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDropEnabled


def _pending_model(model: QueueModel) -> None:
    model.reset(
        [make(i, Stage.PENDING, position=float(i)) for i in (1, 2, 3, 4)]
        + [make(9, Stage.DONE, video_path="/tmp/x.mp4", position=0.5)]
    )
    assert ids(model) == [4, 3, 2, 1, 9]  # 1 runs next: the lowest waiting row


def test_dropping_pending_items_asks_the_engine_to_reorder(model: QueueModel, qtbot: QtBot) -> None:
    _pending_model(model)
    rec = Recorder(model)
    asked: list[tuple[int, Any]] = []
    model.reorder_requested.connect(lambda gid, before: asked.append((gid, before)))
    move = Qt.DropAction.MoveAction

    # 1 (row 3) dropped between 4 and 3: shows under 4, so it runs just before 4.
    assert model.dropMimeData(model.mimeData([model.index(3, 0)]), move, 1, 0, QModelIndex())
    assert asked == [(1, 4)]
    asked.clear()
    # 4 (row 0) dropped at the bottom: under 1, the next to run, so it runs before 1.
    assert model.dropMimeData(model.mimeData([model.index(0, 0)]), move, 5, 0, QModelIndex())
    assert asked == [(4, 1)]
    asked.clear()
    # Dropped at the top: nothing waits above, so they run last (the top is the newest).
    both = model.mimeData([model.index(3, 0), model.index(1, 0)])
    assert model.dropMimeData(both, move, 0, 0, QModelIndex())
    assert asked == [(1, None), (3, None)]  # bottom first: each lands above the last one
    assert rec.structural() == {}  # the model never reorders itself
    assert ids(model) == [4, 3, 2, 1, 9]


def test_only_pending_items_can_be_dropped(model: QueueModel) -> None:
    _pending_model(model)
    move = Qt.DropAction.MoveAction
    finished = model.mimeData([model.index(4, 0)])
    assert not model.canDropMimeData(finished, move, 0, 0, QModelIndex())
    mixed = model.mimeData([model.index(0, 0), model.index(4, 0)])
    assert not model.canDropMimeData(mixed, move, 0, 0, QModelIndex())
    external = QMimeData()
    external.setUrls([QUrl.fromLocalFile("/tmp/picture.png")])
    assert not model.canDropMimeData(external, move, 0, 0, QModelIndex())
    garbage = QMimeData()
    garbage.setData(ID_MIME_TYPE, b"not json")
    assert not model.canDropMimeData(garbage, move, 0, 0, QModelIndex())
    pending = model.mimeData([model.index(1, 0)])
    assert not model.canDropMimeData(pending, Qt.DropAction.CopyAction, 0, 0, QModelIndex())
    assert model.canDropMimeData(pending, move, 0, 0, QModelIndex())


def test_drop_through_the_filter_proxy_maps_rows(model: QueueModel) -> None:
    _pending_model(model)
    proxy = QueueFilterModel()
    proxy.setSourceModel(model)
    proxy.set_search_text("prompt 3")
    asked: list[tuple[int, Any]] = []
    model.reorder_requested.connect(lambda gid, before: asked.append((gid, before)))
    mime = proxy.mimeData([proxy.index(0, 0)])
    assert proxy.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert asked == [(3, 4)]  # proxy row 0 is source row 1: under 4, so it runs before 4


# -- roles -----------------------------------------------------------------------------------


def test_roles(model: QueueModel) -> None:
    g = make(
        7,
        Stage.FAILED,
        prompt="Neon City",
        seed=1234,
        job_id="job_ABC",
        favourite=True,
        error="Server failed",
        action=Action.RETRY,
    )
    model.reset([g])
    index = model.index(0, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "Neon City"
    assert index.data(Roles.GenerationRole) == g
    assert index.data(Roles.IdRole) == 7
    assert Stage(index.data(Roles.StageRole)) is Stage.FAILED  # Qt hands back the str
    assert index.data(Roles.FavouriteRole) is True
    assert "neon city" in index.data(Roles.SearchTextRole)
    assert "job_abc" in index.data(Roles.SearchTextRole)
    assert index.data(Roles.ThumbnailRole).isNull()  # no image at all
    assert "Failed" in index.data(Qt.ItemDataRole.AccessibleTextRole)
    assert "Server failed" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert model.roleNames()[int(Roles.GenerationRole)] == b"generation"


def test_thumbnail_role_loads_lazily_and_reports_the_row(
    model: QueueModel, cache: ThumbnailCache, qtbot: QtBot, tmp_path: Path
) -> None:
    image = png(tmp_path / "t.png")
    model.reset([make(1), make(2, thumbnail_path=image), make(3)])
    assert cache.load_count == 0  # nothing is read before someone paints
    rec = Recorder(model)
    index = model.index(row(model, 2), 0)
    assert index.data(Roles.ThumbnailRole).isNull()  # not yet: a read was scheduled
    with qtbot.waitSignal(cache.loaded, timeout=5000):
        pass
    assert rec.calls["dataChanged"][-1][0].row() == index.row()
    assert list(rec.calls["dataChanged"][-1][2]) == [Roles.ThumbnailRole]
    pixmap = index.data(Roles.ThumbnailRole)
    assert not pixmap.isNull()
    assert pixmap.size().width() == 64
    assert cache.load_count == 1


# -- filter proxy ----------------------------------------------------------------------------


@pytest.fixture
def proxy(model: QueueModel) -> QueueFilterModel:
    model.reset(
        [
            make(1, Stage.PENDING, prompt="A red fox in snow", seed=111),
            make(2, Stage.PROCESSING, prompt="Ocean waves", seed=222, job_id="job_7f3a"),
            make(3, Stage.DONE, prompt="RED balloon", seed=333, favourite=True),
            make(4, Stage.FAILED, prompt="City lights", seed=444),
            make(5, Stage.ATTENTION, prompt="Forest path", seed=11190),
            make(6, Stage.CANCELLED, prompt="Desert", seed=666),
            make(7, Stage.ABANDONED, prompt="Mountains", seed=777, favourite=True),
        ]
    )
    proxy = QueueFilterModel()
    proxy.setSourceModel(model)
    return proxy


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (StatusFilter.ALL, [7, 6, 5, 4, 3, 2, 1]),
        (StatusFilter.ACTIVE, [2, 1]),
        (StatusFilter.DONE, [3]),
        (StatusFilter.FAILED, [5, 4]),
        (StatusFilter.FAVOURITES, [7, 3]),
    ],
)
def test_status_groups(proxy: QueueFilterModel, status: StatusFilter, expected: list[int]) -> None:
    proxy.set_status_filter(status)
    assert ids(proxy) == expected


def test_search_matches_prompt_seed_prefix_and_job_id_prefix(proxy: QueueFilterModel) -> None:
    proxy.set_search_text("  red ")
    assert ids(proxy) == [3, 1]
    proxy.set_search_text("111")
    assert ids(proxy) == [5, 1]  # seed prefix: 111 and 11190
    proxy.set_search_text("JOB_7F")
    assert ids(proxy) == [2]
    proxy.set_search_text("7f3a")  # only a prefix of the job id counts
    assert ids(proxy) == []
    proxy.set_search_text("")
    assert len(ids(proxy)) == 7


def test_search_and_status_combine(proxy: QueueFilterModel) -> None:
    proxy.set_status_filter(StatusFilter.FAVOURITES)
    proxy.set_search_text("red")
    assert ids(proxy) == [3]


def test_filter_follows_updates_without_reordering(
    proxy: QueueFilterModel, model: QueueModel
) -> None:
    proxy.set_status_filter(StatusFilter.ACTIVE)
    model.upsert(dataclasses.replace(known(model, 2), stage=Stage.DONE))
    assert ids(proxy) == [1]
    proxy.set_status_filter(StatusFilter.ALL)
    proxy.sort(0)  # even an explicit sort keeps the engine's order
    assert ids(proxy) == ids(model)


# -- thumbnail cache -------------------------------------------------------------------------


def _load(cache: ThumbnailCache, qtbot: QtBot, path: str) -> None:
    assert cache.get(path) is None
    qtbot.waitUntil(lambda: path in cache, timeout=5000)


def test_cache_is_a_bounded_lru(cache: ThumbnailCache, qtbot: QtBot, tmp_path: Path) -> None:
    paths = [png(tmp_path / f"{i}.png") for i in range(8)]
    for path in paths[:5]:
        _load(cache, qtbot, path)
    assert cache.get(paths[0]) is not None  # touch: now the most recent
    for path in paths[5:]:
        _load(cache, qtbot, path)
    assert len(cache) == cache.capacity == 5
    assert paths[0] in cache
    assert not any(path in cache for path in paths[1:4])
    assert cache.load_count == 8
    cache.set_capacity(2)
    assert len(cache) == 2


def test_missing_and_corrupt_files_fail_quietly_and_once(
    cache: ThumbnailCache, qtbot: QtBot, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"this is not a PNG at all")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(Path(png(tmp_path / "whole.png")).read_bytes()[:40])
    for path in (str(tmp_path / "missing.png"), str(corrupt), str(truncated)):
        _load(cache, qtbot, path)
        assert cache.get(path) is None  # remembered as failed: not read again
    assert cache.load_count == 3


def test_big_images_are_scaled_in_the_reader(qapp: Any, qtbot: QtBot, tmp_path: Path) -> None:
    cache = ThumbnailCache(max_side=100)
    try:
        path = png(tmp_path / "big.png", size=(1600, 900))
        _load(cache, qtbot, path)
        loaded = cache.get(path)
        assert loaded is not None
        assert loaded.size().toTuple() == (100, 56)
    finally:
        drained(cache)


def test_shutdown_drops_queued_reads(cache: ThumbnailCache, tmp_path: Path) -> None:
    paths = [png(tmp_path / f"{i}.png") for i in range(20)]
    for path in paths:
        cache.get(path)
    cache.shutdown()
    assert not cache.is_busy()
    assert cache._pool.activeThreadCount() == 0
    assert cache.get(paths[-1]) is None
    assert not cache.is_busy()  # closed: no new reads


# -- row texts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (5.9, "0:05"), (65, "1:05"), (3725, "1:02:05")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert queue_text.format_duration(seconds) == text


def test_texts(qapp: Any) -> None:
    g = make(1, Stage.PROCESSING, progress=65, submitted_at=NOW - 65, created=NOW - 100)
    assert queue_text.stage_text(g) == "Generating 65 %"
    assert queue_text.elapsed_text(g, NOW) == "1:05"
    assert queue_text.stage_text(dataclasses.replace(g, stage=Stage.ABANDONED)) == "Not followed"
    assert queue_text.elapsed_text(dataclasses.replace(g, stage=Stage.PENDING), NOW) == ""
    done = dataclasses.replace(g, stage=Stage.DONE, finished_at=NOW - 5)
    assert queue_text.elapsed_text(done, NOW + 1000) == "1:00"
    long = dataclasses.replace(g, settings=dataclasses.replace(g.settings, duration=10))
    assert queue_text.meta_text(long) == "Gen-4 Turbo · 16:9 · 10 s · seed 42 · 15 credits"
    gen45 = dataclasses.replace(long, settings=dataclasses.replace(long.settings,
                                                                   model="runway-gen4.5"))
    assert queue_text.meta_text(gen45) == "Gen-4.5 · 16:9 · 10 s · seed 42"  # price unknown
    charged = dataclasses.replace(gen45, credit_cost=50)
    assert queue_text.meta_text(charged) == "Gen-4.5 · 16:9 · 10 s · seed 42 · 50 credits"
    assert queue_text.action_text(Action.BUY_CREDITS) == "Top up credits"
    assert {queue_text.stage_text(make(1, s)) for s in Stage} >= {
        "Waiting",
        "Preparing image",
        "Uploading",
        "Submitting",
        "Queued on server",
        "Done",
        "Failed",
        "Needs attention",
        "Cancelled",
    }


def test_a_batch_of_new_rows_with_no_notes_renumbers_the_list_at_most_once(
    qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window sets each new row's note (None) right after inserting it: that renumbered
    every row below, 200 times for a drop of 200 beside 10,000 (~7 ms each)."""
    model = QueueModel()
    model.reset([make(i, position=float(i)) for i in range(1, 2001)])
    renumbered = 0
    real = model._reindex

    def counting(first: int, last: int) -> None:
        nonlocal renumbered
        renumbered += last - first + 1
        real(first, last)

    monkeypatch.setattr(model, "_reindex", counting)
    for i in range(3001, 3051):  # new rows on top, as a drop adds them
        model.upsert(make(i, Stage.PENDING, position=float(i)))
        model.set_note(i, None)
    assert renumbered == 0
    assert known(model, 5).id == 5  # a later lookup renumbers once, and finds the row
    assert renumbered <= 2050
    model.set_note(3050, "taking long")
    assert model.note(3050) == "taking long"
