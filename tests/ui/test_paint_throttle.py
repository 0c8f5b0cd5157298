"""A percent alone reaches the window at most ~10 times a second, everything else at once
(ui/paint_throttle.py): each progress update repainted the queue in its own loop turn."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui.paint_throttle import ProgressThrottle, only_progress_moved


def running(gid: int, progress: int, **fields: object) -> Generation:
    base = Generation(id=gid, settings=GenerationSettings(prompt=f"p{gid}"),
                      idempotency_key=f"k{gid}", stage=Stage.PROCESSING, created_at=1.0,
                      updated_at=1.0 + progress, progress=progress)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_only_a_percent_that_moved_counts_as_progress() -> None:
    assert only_progress_moved(running(1, 10), running(1, 20))
    assert not only_progress_moved(running(1, 10), running(1, 10))
    assert not only_progress_moved(running(1, 10), running(1, 20, stage=Stage.DOWNLOADING))
    assert not only_progress_moved(running(1, 10), running(1, 20, error="x"))


def test_percents_are_held_and_delivered_together_latest_only(
    qtbot: QtBot, qapp: QApplication
) -> None:
    delivered: list[tuple[int, int, str | None]] = []
    throttle = ProgressThrottle(lambda g, note: delivered.append((g.id, g.progress, note)),
                                interval_ms=50)
    throttle.offer(running(1, 10), None)
    throttle.offer(running(2, 10), None)
    assert delivered == [(1, 10, None), (2, 10, None)]  # first sight: at once
    for percent in (20, 30, 40):
        throttle.offer(running(1, percent), None)
        throttle.offer(running(2, percent), None)
    assert len(delivered) == 2  # held
    qtbot.waitUntil(lambda: len(delivered) == 4, timeout=2000)
    assert delivered[2:] == [(1, 40, None), (2, 40, None)]  # the latest of each, together
    assert throttle.holding() == 0


def test_a_stage_a_note_or_a_removal_is_never_held_back(
    qtbot: QtBot, qapp: QApplication
) -> None:
    delivered: list[tuple[int, int, Stage, str | None]] = []
    throttle = ProgressThrottle(
        lambda g, note: delivered.append((g.id, g.progress, g.stage, note)), interval_ms=50)
    throttle.offer(running(1, 10), None)
    throttle.offer(running(1, 50), None)  # held...
    throttle.offer(running(1, 60, stage=Stage.DOWNLOADING), None)  # ...superseded at once
    assert delivered[-1] == (1, 60, Stage.DOWNLOADING, None)
    throttle.offer(running(1, 60, stage=Stage.DOWNLOADING), "taking long")
    assert delivered[-1][3] == "taking long"  # a note changed: at once
    throttle.offer(running(1, 70, stage=Stage.DOWNLOADING), "taking long")
    throttle.forget(1)  # removed while held: nothing more of it
    count = len(delivered)
    qtbot.wait(150)
    QApplication.processEvents()
    assert len(delivered) == count
