"""A history that can't be written while the queue runs (issue 10 §6.4): the engine stops with
one clear message; the window shows it with the path and what to do, and stays calm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine.records import Stage
from tests.helpers.scripted_server import Reply, ScriptedServer, job, scripted_server
from tests.helpers.small_disk import fill, tmpfs

__all__ = ["scripted_server"]  # the fixture, used by name


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


def generate(qtbot: QtBot, window: Any, prompt: str) -> None:
    compose = window.compose
    compose.prompt_edit.setPlainText(prompt)
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def dialogs() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
            and w.isVisible()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The data folder on a real, tiny file system (tmpfs) the test can fill: root only."""
    with tmpfs(tmp_path / "data", "size=768k") as folder:
        yield folder


@pytest.mark.expect_log_warnings(r"Stopping the queue", r"can't save its history")
def test_a_history_that_cant_be_written_is_one_clear_banner_and_no_loop(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, data_dir: Path
) -> None:
    progress = iter(range(1, 1000))
    scripted_server.on("GET /v2/jobs/*", lambda request: Reply(json=job(
        request.path.rsplit("/", 1)[1], "PROCESSING", result=None, progress=next(progress))))
    window = app_controller.window
    generate(qtbot, window, "a lighthouse in fog")
    qtbot.waitUntil(lambda: any(g.stage == Stage.PROCESSING
                                for g in window.queue.model.generations()), timeout=10_000)
    filler = fill(data_dir)
    banner = window.banner
    journal = paths.journal_path(data_dir)
    qtbot.waitUntil(lambda: banner.isVisible() and str(journal) in banner.message.text(),
                    timeout=10_000)
    assert "disk is full" in banner.message.text()
    assert "Free some space" in banner.message.text()  # what to do
    # The person tries again meanwhile: the same clear message, not "Something unexpected".
    generate(qtbot, window, "one more")
    qtbot.wait(300)
    assert "unexpected" not in banner.message.text()
    assert str(journal) in banner.message.text()
    # Said not done (Try again opens the history; it doesn't generate), and how to ask again.
    assert banner.message.text().startswith("Not done: press Generate again after Try again.")
    assert dialogs() == []  # no modal storm
    polls = len(scripted_server.requests)
    qtbot.wait(500)
    assert len(scripted_server.requests) <= polls + 1  # stopped: no busy loop
    filler.unlink()
