"""File ▸ Import jobs when apiframe can't answer (issue 12: no silent no-ops): the banner says
what happened, and its button tries the import again (not something else)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action
from tests.helpers.scripted_server import Reply, ScriptedServer, scripted_server
from tests.ui.test_import_window import account, import_from_menu

__all__ = ["scripted_server"]  # the fixture, used by name


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


def test_an_import_that_failed_is_tried_again_from_the_banner(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer
) -> None:
    """Before: the banner's Retry retried the queue's generations, hid the banner and imported
    nothing."""
    down = threading.Event()
    down.set()
    scripted_server.on("GET /v2/jobs", lambda _request: Reply(
        503, json={"error": "Service unavailable"}) if down.is_set() else None)
    account(scripted_server, 2)  # answered once apiframe is back
    window = app_controller.window
    banner = window.banner
    import_from_menu(window)
    qtbot.waitUntil(banner.isVisible, timeout=10_000)
    assert "import" in banner.message.text().lower()  # says what failed
    assert banner.button.text() == "Try again"
    down.clear()  # apiframe answers again
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 2, timeout=10_000)
    assert not banner.isVisible()


def test_an_import_refused_for_the_key_leads_to_settings(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer
) -> None:
    scripted_server.on("GET /v2/jobs", lambda _request: Reply(
        401, json={"error": "Invalid API key"}))
    window = app_controller.window
    import_from_menu(window)
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    assert "Couldn't import jobs" in window.banner.message.text()
    assert window.banner.current_action() is Action.OPEN_SETTINGS
