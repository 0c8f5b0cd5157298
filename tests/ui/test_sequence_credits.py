"""The Sequences window's prices count what generations still waiting on this computer will
take, as Generate's "… left" does (engine/spoken_for.py): New Take and Run counted "left" from
the raw balance, so a person who had queued generations saw more left than there was, and a
take could meet a 402."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.commands import GenerationService
from runway_desktop.simulator import Simulator
from tests.ui.test_sequence_window import open_view

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """Jobs that run while the window is looked at (one at a time: the team's limit)."""
    return make_simulator(seconds_per_job=60.0, seed=1234)


def test_new_take_and_run_count_the_generations_not_sent_yet(
        qtbot: QtBot, app_controller: Any, simulator: Simulator) -> None:
    window = app_controller.window
    compose = window.compose
    engine = app_controller.engine
    simulator._state.update_account("afk_test", max_concurrent_jobs=1)
    simulator.set_credits("afk_test", 1000)
    window.activateWindow()  # the balance (and the limit) are read again
    qtbot.waitUntil(lambda: compose.balance() == 1000 and engine.account is not None
                    and engine.account.max_concurrent_jobs == 1, timeout=5_000)
    compose.prompt_edit.setPlainText("a heron lifts off the lake")
    compose.drop_zone.set_images(["https://example.com/a.png", "https://example.com/b.png"])
    price = (compose.total_price() or 0) // 2
    assert price
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    have = 1000 - price
    qtbot.waitUntil(lambda: compose.balance() == have, timeout=5_000)  # the first one taken
    assert simulator.jobs_created("afk_test") == 1  # the second waits here, not charged

    compose.drop_zone.set_images(["https://example.com/a.png"])
    view = open_view(qtbot, window)
    view.plan_edit.setPlainText("dawn over the roofs\nthe camera drifts")
    view.new_button.click()
    qtbot.waitUntil(lambda: view.sequence is not None and len(view.sequence.shots) == 2,
                    timeout=5_000)
    view.shot_list.setCurrentRow(0)
    number = view.locale().toString
    waiting = f"1 generation not sent yet needs {price} of your {number(have)} credits"
    # The waiting generation's price is spoken for: left = have − waiting − this take.
    assert view.take_button.text() == (
        f"New &Take · {price} credits · {number(have - 2 * price)} left")
    assert waiting in view.take_button.toolTip(), view.take_button.toolTip()
    assert view.cost_label.text() == (
        f"2 shot(s) to make · {2 * price} credits · {waiting} · balance after: "
        f"{number(have - 3 * price)} credits")

    # Short once the waiting one is counted: New Take and Run wait (a 402 otherwise).
    balance = price + price // 2
    simulator.set_credits("afk_test", balance)
    engine.refresh_account_soon()
    qtbot.waitUntil(lambda: not view.take_button.isEnabled(), timeout=5_000)
    short = 2 * price - balance
    assert view.take_button.text() == f"New &Take · {price} credits · {number(short)} short"
    assert view.take_button.toolTip() == (
        f"Not enough credits: a new take costs {price}, and 1 generation not sent yet needs "
        f"{price} of your {number(balance)} credits."), view.take_button.toolTip()
    assert not view.run_button.isEnabled()

    # Nothing waits any more: all of the balance is free again.
    GenerationService(engine).cancel_pending()
    qtbot.waitUntil(view.take_button.isEnabled, timeout=5_000)
    assert view.take_button.text() == (
        f"New &Take · {price} credits · {number(balance - price)} left")
    assert not view.run_button.isEnabled()  # its 2 shots cost more than the balance
    assert "not sent yet" not in view.cost_label.text()
