"""A removal whose window ended without closing (Undo still offered) is final at the next start;
one of a window still open is its own, Undo and all (Removals.finish_interrupted). The kill
itself is walked in tests/e2e/test_killed_window.py. And a removal made final leaves no `.part`
of a download it cut short."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.simulator import Simulator
from runway_desktop.simulator.faults import FaultPlan
from runway_desktop.ui.removals import PENDING_GROUP
from tests.ui.test_removals import confirm_box, generate, press


def test_only_a_removal_of_a_window_that_is_gone_is_made_final(
        qtbot: QtBot, app_controller: Any) -> None:
    window = app_controller.window
    first, second = generate(qtbot, window, 2)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # a process that is gone
    gone.wait()
    host = socket.gethostname()
    store = QSettings()
    store.setValue(f"{PENDING_GROUP}/p{gone.pid}",
                   [f"{host}:{gone.pid}:abc", first.idempotency_key])
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        store.setValue(f"{PENDING_GROUP}/p{alive.pid}",
                       [f"{host}:{alive.pid}:def", second.idempotency_key])
        service = window._service
        assert window.removals.finish_interrupted(service) == 1
        qtbot.waitUntil(lambda: window.queue.model.generation(first.id) is None, timeout=5_000)
        still = window.queue.model.generation(second.id)
        assert still is not None
        assert still.stage is Stage.DONE  # the open window's Undo can still bring it back
        assert QSettings().value(f"{PENDING_GROUP}/p{gone.pid}") is None
        assert QSettings().value(f"{PENDING_GROUP}/p{alive.pid}") is not None
    finally:
        alive.kill()
        alive.wait()
        QSettings().remove(PENDING_GROUP)


def test_a_video_removed_while_it_downloads_leaves_no_part_file(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, output_dir: Path) -> None:
    """Before: Remove (after 'apiframe may still be making it') left '<video>.mp4.part' beside
    the videos for good: nothing would finish it, nothing removed it."""
    simulator.faults = FaultPlan(cdn_slow_bytes_per_second=6_000)  # ~5 s to download
    window = app_controller.window
    window.compose.prompt_edit.setPlainText("a lighthouse at dusk")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: any(g.stage is Stage.DOWNLOADING for g in model.generations())
                    and list(output_dir.glob("*.part")) != [], timeout=20_000)
    row = model.generations()[0]
    window._request_remove([row.id], False)
    press(qtbot, confirm_box(qtbot, window), "Remove 1")
    qtbot.waitUntil(lambda: model.generation(row.id) is None, timeout=5_000)
    window.notice.dismiss()  # the person closes the notice: the removal is final
    qtbot.waitUntil(lambda: app_controller.engine.journal.get(row.id) is None, timeout=5_000)
    assert [p.name for p in output_dir.iterdir() if ".part" in p.name] == []
