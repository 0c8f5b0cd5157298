"""A proxy set in Settings that doesn't answer (issue 12: every error says what happened and what
to do): the window names the proxy and where to change it, not "check your internet connection"
(the person's internet works; the proxy they set is what fails)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from tests.helpers.images import make_png
from tests.ui.test_controller import click, open_from_menu


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def generate_until_it_stops(qtbot: QtBot, window: Any, tmp_path: Path) -> Any:
    """One generation through the window, until its row needs the person; the queue model."""
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=20_000)
    return model


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_proxy_that_doesnt_answer_is_named_with_where_to_change_it(
    qtbot: QtBot, app_controller: Any, tmp_path: Path
) -> None:
    port = closed_port()
    window = app_controller.window
    dialog = open_from_menu(qtbot, app_controller)
    dialog.proxy_edit.setText(f"http://someone:secret@127.0.0.1:{port}")
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: app_controller.engine is not None
                    and app_controller.engine.config.proxy is not None, timeout=10_000)
    model = generate_until_it_stops(qtbot, window, tmp_path)
    for text in (window.banner.message.text(), model.generation_at(0).error or ""):
        assert f"proxy 127.0.0.1:{port}" in text  # what fails
        assert "Settings" in text  # where to change it
        assert "secret" not in text  # never the proxy's password


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_work_stopped_by_a_proxy_carries_on_once_the_proxy_is_corrected(
    qtbot: QtBot, app_controller: Any, simulator: Any, tmp_path: Path
) -> None:
    """Before: the row kept "Can't reach apiframe…" and its Retry after the proxy was
    cleared, though the next try would go through."""
    window = app_controller.window
    set_proxy(qtbot, app_controller, f"http://127.0.0.1:{closed_port()}")
    model = generate_until_it_stops(qtbot, window, tmp_path)
    set_proxy(qtbot, app_controller, "")  # the person clears it
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert not window.banner.isVisible(), window.banner.message.text()
    assert simulator.jobs_created("afk_test") == 1


def set_proxy(qtbot: QtBot, controller: Any, proxy: str) -> None:
    dialog = open_from_menu(qtbot, controller)
    dialog.proxy_edit.setText(proxy)
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: controller.engine is not None
                    and bool(controller.engine.config.proxy) == bool(proxy), timeout=10_000)
