"""A balance apiframe couldn't give (issue 12: state that follows reality): the status bar says
so and why, not "Checking your balance…" for ever; it is read again when the person comes back
to the window."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.helpers.scripted_server import Reply, ScriptedServer, scripted_server
from tests.ui.test_state_follows_reality import come_back_to_the_window

__all__ = ["scripted_server"]  # the fixture, used by name

failing = threading.Event()


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    failing.set()  # from the very first check
    scripted_server.on("GET /v2/me", lambda _request: Reply(
        500, json={"error": "Internal error"}) if failing.is_set() else None)
    return scripted_server.base_url


def test_a_balance_check_that_failed_says_so_and_comes_back_later(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: "Checking your balance…" stayed for as long as the app ran."""
    from runway_desktop.ui import main_window

    monkeypatch.setattr(main_window, "REFRESH_ON_ACTIVATE_SECONDS", 0.0)
    window = app_controller.window
    label = window.account_label
    qtbot.waitUntil(lambda: len(scripted_server.seen("GET /v2/me")) >= 1, timeout=10_000)
    qtbot.waitUntil(lambda: "Checking" not in label.text(), timeout=10_000)
    assert label.text() == "Balance unavailable"
    assert "internal error (HTTP 500)" in label.toolTip()  # why, in apiframe's words
    assert "checked again" in label.toolTip()  # and what happens next
    failing.clear()  # apiframe answers again
    come_back_to_the_window(qtbot, window)
    qtbot.waitUntil(lambda: "1,000 credits" in label.text() or "1000 credits" in label.text(),
                    timeout=10_000)
    assert label.toolTip() != ""
