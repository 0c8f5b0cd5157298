"""A process stopped in the middle of a journal write (Ctrl+Z, a debugger) keeps the history
locked: the window's queue stops with a banner naming it. Once it is continued the banner goes
and the queue carries on by itself (it stayed stopped until Try again), a Try again pressed
too soon included."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine.records import Stage
from runway_desktop.engine.scheduler import RESUMES_BY_ITSELF
from tests.engine.test_journal_pause import _stopped_writer
from tests.helpers.scripted_server import Reply, ScriptedServer, job, scripted_server
from tests.ui.test_journal_halt_shown import generate

__all__ = ["scripted_server"]  # the fixture, used by name


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


@pytest.mark.expect_log_warnings(r"(?s)Stopping the queue: .* is stopped in the middle of writing")
def test_the_banner_of_a_history_locked_by_a_stopped_process_goes_by_itself_once_it_goes_on(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, data_dir: Path
) -> None:
    progress = iter(range(1, 10_000))
    scripted_server.on("GET /v2/jobs/*", lambda request: Reply(json=job(
        request.path.rsplit("/", 1)[1], "PROCESSING", result=None, progress=next(progress))))
    window = app_controller.window
    model = window.queue.model
    generate(qtbot, window, "a lighthouse in fog")
    qtbot.waitUntil(lambda: any(g.stage == Stage.PROCESSING for g in model.generations()),
                    timeout=10_000)
    [row] = model.generations()
    writer = _stopped_writer(paths.journal_path(data_dir))  # its next progress write meets it
    try:
        banner = window.banner
        qtbot.waitUntil(lambda: banner.isVisible()
                        and f"kill -CONT {writer.pid}" in banner.message.text(), timeout=10_000)
        assert RESUMES_BY_ITSELF in banner.message.text()
        assert "press Try again" not in banner.message.text()
        assert model.note(row.id) == "stopped until the history can be saved"
        # Try again too soon, still locked: the same banner, and the same engine (a new one
        # found the rows leased by the halted one and sat idle, the banner gone).
        halted = app_controller.engine
        banner.button.click()
        assert "still locked" in window.statusBar().currentMessage()
        qtbot.wait(300)
        assert app_controller.engine is halted
        assert banner.isVisible()
        assert f"kill -CONT {writer.pid}" in banner.message.text()
        writer.send_signal(signal.SIGCONT)
        assert writer.wait(10) == 0
    finally:
        writer.kill()
        writer.wait()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: model.note(row.id) is None, timeout=10_000)
    engine = app_controller.engine
    before = engine.get(row.id).progress
    # The queue carries on: polled and written again, by the same engine.
    qtbot.waitUntil(lambda: engine.get(row.id).progress > before, timeout=10_000)


@pytest.mark.expect_log_warnings(r"(?s)A command was refused: .* is stopped in the middle",
                                 r"(?s)Stopping the queue: .* is stopped in the middle")
def test_a_generate_refused_by_a_stopped_process_says_so_and_its_banner_goes_once_it_goes_on(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, data_dir: Path
) -> None:
    """An idle queue: the refused Generate's banner stayed until Try again after the process
    went on (nothing watched the lock), and said nothing of the Generate not being done; a
    queue row's command the same."""
    window = app_controller.window
    compose = window.compose
    model = window.queue.model
    compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    banner = window.banner
    writer = _stopped_writer(paths.journal_path(data_dir))
    try:
        qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: banner.isVisible()
                        and f"kill -CONT {writer.pid}" in banner.message.text(), timeout=10_000)
        text = banner.message.text()
        assert text.startswith("Not done: press Generate again once this message goes.")
        assert RESUMES_BY_ITSELF in text
        assert not model.generations()  # nothing added
        assert compose.prompt_edit.toPlainText() == "a lighthouse in fog"  # kept to ask again
        writer.send_signal(signal.SIGCONT)
        assert writer.wait(10) == 0
    finally:
        writer.kill()
        writer.wait()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
    # As the banner said: Generate again, and it is done.
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(model.generations()) == 1, timeout=10_000)
    [row] = model.generations()
    assert row.settings.prompt == "a lighthouse in fog"
    assert not banner.isVisible()
    # A queue row's command (Favourite, F) the same: said not done, the banner going with the lock.
    writer = _stopped_writer(paths.journal_path(data_dir))
    try:
        assert window.queue.select_generation(row.id)
        window.queue.shortcut_actions["favourite"].trigger()
        qtbot.waitUntil(lambda: banner.isVisible()
                        and f"kill -CONT {writer.pid}" in banner.message.text(), timeout=10_000)
        assert banner.message.text().startswith("Not done: do it again once this message goes.")
        writer.send_signal(signal.SIGCONT)
        assert writer.wait(10) == 0
    finally:
        writer.kill()
        writer.wait()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
    assert not app_controller.engine.get(row.id).favourite  # as said: not done
    shown = model.generation(row.id)
    assert shown is not None
    assert not shown.favourite  # and not shown as done
