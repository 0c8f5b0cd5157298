"""Demo mode turned on while live work is on apiframe (issue 12: never lose a paid generation;
say what an action affects): the live jobs are not followed in demo mode, and apiframe keeps
their videos only for a while, so the window says so; turned off again, they finish, each paid
once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.simulator import Simulator
from tests.helpers.images import make_png
from tests.ui.test_controller import click, open_from_menu


@pytest.fixture
def simulator(make_simulator: Any) -> Simulator:
    return make_simulator(seed=5, seconds_per_job=3.0)  # long enough to switch meanwhile


def set_demo(qtbot: QtBot, controller: Any, on: bool) -> None:
    dialog = open_from_menu(qtbot, controller)
    dialog.demo_check.setChecked(on)
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: controller.engine is not None and controller.demo is on,
                    timeout=10_000)


def test_turning_demo_on_with_live_jobs_running_says_they_wait_and_they_finish_after(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    """Before: the live rows left the list without a word, not followed for as long as demo
    mode lasted (apiframe purges results, and replays an idempotency key, for about a day)."""
    window = app_controller.window
    model = window.queue.model
    window.compose.drop_zone.set_images([str(make_png(tmp_path, f"shot{i}.png"))
                                         for i in range(2)])
    window.compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: model.rowCount() == 2 and all(
        g.stage in (Stage.QUEUED, Stage.PROCESSING) for g in model.generations()),
        timeout=10_000)
    set_demo(qtbot, app_controller, True)
    notice = window.notice_banner
    qtbot.waitUntil(notice.isVisible, timeout=5_000)
    text = notice.message.text()
    assert "2 live generations" in text  # what the switch affects
    assert "turn demo mode off" in text  # what to do
    set_demo(qtbot, app_controller, False)
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=5_000)  # no longer true: gone
    qtbot.waitUntil(lambda: model.rowCount() == 2 and all(
        g.stage is Stage.DONE for g in model.generations()), timeout=20_000)
    assert simulator.jobs_created("afk_test") == 2  # each paid once
