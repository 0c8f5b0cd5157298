"""apiframe unreachable for a while, then back (issue 12: state that follows reality; never pay
twice): the banner goes by itself, and so does the work that stopped only because apiframe
couldn't be reached: it carries on, each job sent once.

Real window and engine, the simulator over loopback dropping every connection meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Stage
from runway_desktop.simulator import Simulator
from runway_desktop.simulator.faults import FaultPlan
from tests.helpers.images import make_png


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_work_stopped_by_an_unreachable_apiframe_carries_on_when_it_is_back(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    """Before: the banner went, but each row kept saying "Can't reach apiframe" until the
    person found it and pressed its Retry."""
    window = app_controller.window
    model = window.queue.model
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.faults = FaultPlan(drop_rate=1.0)  # every connection closed unanswered
    window.compose.drop_zone.set_images([str(make_png(tmp_path, f"shot{i}.png"))
                                         for i in range(2)])
    window.compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: model.rowCount() == 2 and all(
        g.stage is Stage.ATTENTION for g in model.generations()), timeout=30_000)
    for row in model.generations():
        assert row.action is Action.RETRY
        assert "reach apiframe" in (row.error or "")
    assert window.banner.isVisible()
    assert "reach apiframe" in window.banner.message.text()

    simulator.faults = FaultPlan()  # back
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: all(g.stage is Stage.DONE for g in model.generations()),
                    timeout=20_000)
    assert simulator.jobs_created("afk_test") == 2  # each paid once


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_retries_pressed_while_still_offline_dont_use_up_carrying_on_by_itself(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    """The banner's Retry pressed again and again while apiframe is still unreachable: once it
    is back, the row still carries on by itself (a person's Retry is not an answer from
    apiframe, and does not count towards the few times a row carries on by itself)."""
    from runway_desktop.engine.scheduler import BACK_ONLINE_CARRY_ONS

    window = app_controller.window
    model = window.queue.model
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.faults = FaultPlan(drop_rate=1.0)
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    for _ in range(BACK_ONLINE_CARRY_ONS + 1):
        qtbot.waitUntil(lambda: model.rowCount() == 1
                        and model.generation_at(0).stage is Stage.ATTENTION
                        and window.banner.current_action() is Action.RETRY, timeout=30_000)
        qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.ATTENTION
                    and window.banner.isVisible(), timeout=30_000)
    simulator.faults = FaultPlan()  # back
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert simulator.jobs_created("afk_test") == 1


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_a_finished_video_waiting_for_the_video_server_says_so_and_downloads_when_it_answers(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Path
) -> None:
    """apiframe answers, the video server drops every connection: before, the row said 'The
    download stopped before the end. Retry to continue…' and stayed so until Retry."""
    window = app_controller.window
    model = window.queue.model
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.faults = FaultPlan(cdn_drop_rate=1.0)
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=30_000)
    said = model.data(model.index(0, 0), Qt.ItemDataRole.AccessibleTextRole)
    assert "Waiting for the video server" in said
    assert "carries on by itself" in said
    assert not window.banner.isVisible()  # apiframe is fine: no "can't reach" banner

    simulator.faults = FaultPlan()  # the video server answers again
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert simulator.jobs_created("afk_test") == 1
