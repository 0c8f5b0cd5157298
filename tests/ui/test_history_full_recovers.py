"""A history that couldn't be written, written again once there is room (issue 12: a banner goes
when its condition goes; never lose a paid generation, never pay twice).

The data folder is a real, tiny file system (tmpfs) filled up while a job runs: the queue stops
with one clear banner (tests/ui/test_journal_halt_shown.py). Once the person frees some space,
the banner's Try again carries the queue on without restarting the app. Root only (mount).
"""

from __future__ import annotations

import gc
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine.records import Stage
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, job
from tests.helpers.small_disk import fill
from tests.ui.test_journal_halt_shown import api_base_url, data_dir, generate, scripted_server

__all__ = ["api_base_url", "data_dir", "scripted_server"]  # the fixtures, used by name


@pytest.mark.expect_log_warnings(r"Stopping the queue", r"can't save its history")
def test_after_space_is_freed_try_again_carries_the_queue_on(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, data_dir: Path,
    caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the banner had no button and said to start the app again; nothing could carry
    the paid job on from the window."""
    finish = threading.Event()
    progress = iter(range(1, 100_000))

    def poll(request: Request) -> Reply | None:
        if finish.is_set():
            return None  # COMPLETED, with its video
        return Reply(json=job(request.path.rsplit("/", 1)[1], "PROCESSING", result=None,
                              progress=next(progress) % 99 + 1))

    scripted_server.on("GET /v2/jobs/*", poll)
    window = app_controller.window
    banner = window.banner
    model = window.queue.model
    generate(qtbot, window, "a lighthouse in fog")
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.PROCESSING, timeout=10_000)
    filler = fill(data_dir)
    journal = paths.journal_path(data_dir)
    qtbot.waitUntil(lambda: banner.isVisible() and str(journal) in banner.message.text(),
                    timeout=10_000)
    assert banner.button.isVisible()
    assert banner.button.text() == "Try again"
    assert "then press Try again" in banner.message.text()  # no restart needed
    assert "start Runway Desktop again" not in banner.message.text()
    # The row doesn't go on looking like it runs: it says it is stopped, and why.
    row = model.generation_at(0)
    assert "stopped" in (model.note(row.id) or ""), model.note(row.id)
    # Pressed too early (still full): it says so, and the queue stays stopped.
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Still can't write" in banner.message.text(), timeout=10_000)
    assert banner.isVisible()
    assert "No space left on device" in banner.message.text()
    assert "Free some space" in banner.message.text()
    assert "unexpected" not in banner.message.text()
    assert banner.button.text() == "Try again"
    filler.unlink()  # the person frees some space
    finish.set()
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert Path(model.generation_at(0).video_path or "").is_file()
    assert not banner.isVisible(), banner.message.text()
    assert model.note(model.generation_at(0).id) is None
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1  # paid once
    gc.collect()  # the stopped engine's tasks: each outcome was read, none "never retrieved"
    assert "never retrieved" not in caplog.text


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="qasync")
    return caplog
