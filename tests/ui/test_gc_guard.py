from __future__ import annotations

import gc
from typing import Any

from pytestqt.qtbot import QtBot

from runway_desktop.ui.gc_guard import GuiThreadCollector


def test_collects_cycles_on_the_gui_thread_and_restores_gc(qtbot: QtBot, qapp: Any) -> None:
    was_enabled = gc.isenabled()
    collector = GuiThreadCollector(qapp, interval_ms=10)
    try:
        assert not gc.isenabled()
        for _ in range(2000):  # cycles that only the collector can free
            cycle: list[object] = []
            cycle.append(cycle)
        qtbot.waitUntil(lambda: gc.get_count()[0] < 700, timeout=5_000)
    finally:
        collector.stop()
        collector.deleteLater()
        if not was_enabled:
            gc.disable()


def test_the_loaded_history_is_left_out_of_collections_while_its_engine_runs(
    qtbot: QtBot, app_controller: Any
) -> None:
    """A full collection walked every row of a 10,000-item history on the GUI thread (~20 ms,
    the worst frames of the gallery and responsiveness benchmarks): frozen once listed."""
    assert app_controller.engine is not None
    assert gc.get_freeze_count() > 0
    from tests.ui.conftest import drive

    drive(qtbot, app_controller._stop_engine())
    assert gc.get_freeze_count() == 0  # the engine's history may become garbage: seen again
