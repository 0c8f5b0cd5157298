"""What the window shows of the account when apiframe's /v2/me leaves out the balance."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.helpers.scripted_server import Reply, ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # the fixture, used below by name

ME_WITHOUT_CREDITS = {
    "user": {"id": "u1", "email": "t@example.com", "role": "ADMIN"},
    "team": {"id": "t1", "name": "Kite Studio", "plan": "pro", "maxConcurrentJobs": 10},
    "apiKey": {"id": "k1", "name": "test", "prefix": "afk_"},
}


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    scripted_server.on("GET /v2/me", lambda request: Reply(json=ME_WITHOUT_CREDITS))
    return scripted_server.base_url


def test_a_balance_the_server_leaves_out_reads_unknown_not_an_error(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer
) -> None:
    """Before: the status bar formatted None with QLocale.toString and the slot raised."""
    window = app_controller.window
    qtbot.waitUntil(lambda: "Kite Studio" in window.account_label.text(), timeout=10_000)
    assert "unknown" in window.account_label.text()
    assert window.compose.balance() is None
    assert not window.banner.isVisible()
