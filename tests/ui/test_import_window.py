"""File ▸ Import jobs: a whole account is downloaded only after a non-modal question that says
how many videos and where; a handful comes in at once (issue 10, Deliver 6)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.importer import ASK_ABOVE_VIDEOS
from tests.engine.test_importer import SETTINGS, listed, serve_list
from tests.helpers.scripted_server import ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # the fixture, used below by name

VIDEO = "GET /cdn/*.mp4"


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


def account(server: ScriptedServer, jobs: int) -> None:
    now = time.time()
    serve_list(server, *(listed(server, f"{n:08d}-0000-4000-8000-000000000000", SETTINGS,
                                now - 60 * n) for n in range(jobs)))


def import_from_menu(window: Any) -> None:
    next(a for a in window.findChildren(QAction)
         if a.text() == "&Import jobs from apiframe").trigger()


def question(window: Any) -> QMessageBox | None:
    boxes = [b for b in window.findChildren(QMessageBox, "confirm_box") if b.isVisible()]
    return boxes[0] if boxes else None


def test_importing_a_whole_account_asks_first_without_blocking(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer,
) -> None:
    many = ASK_ABOVE_VIDEOS + 1
    account(scripted_server, many)
    window = app_controller.window
    import_from_menu(window)
    qtbot.waitUntil(lambda: question(window) is not None, timeout=10_000)
    box = question(window)
    assert box is not None
    assert f"Download {many} videos" in box.text()
    assert str(app_controller.engine.config.output_dir) in box.informativeText()
    assert app_controller.engine.generations() == []  # nothing until the person says so
    assert scripted_server.seen(VIDEO) == []

    yes = next(b for b in box.buttons() if b.text() == f"Download {many}")
    yes.click()
    qtbot.waitUntil(lambda: len(app_controller.engine.generations()) == many, timeout=10_000)
    qtbot.waitUntil(lambda: "Imported" in window.statusBar().currentMessage(),
                    timeout=10_000)


def test_a_handful_comes_in_at_once(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer,
) -> None:
    account(scripted_server, 2)
    window = app_controller.window
    import_from_menu(window)
    qtbot.waitUntil(lambda: "Imported 2 job(s)" in window.statusBar().currentMessage(),
                    timeout=10_000)
    assert question(window) is None
    engine = app_controller.engine
    qtbot.waitUntil(lambda: all(g.video_path for g in engine.generations()), timeout=10_000)
