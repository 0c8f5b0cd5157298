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
