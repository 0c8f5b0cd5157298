"""State that follows reality (issue 12, defect 7): the balance after a 402 and when the window
comes back to the front, "Top up credits" that opens apiframe's billing page (or says it can't),
and a "Can't reach apiframe" banner that goes by itself once apiframe answers again.

Real window, real engine, the simulator over loopback. Only the desktop's browser launcher is
stood in for (QDesktopServices' URL handler; nothing can launch a browser here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Stage
from runway_desktop.simulator import Simulator
from runway_desktop.simulator.faults import FaultPlan
from runway_desktop.ui import links


class Browser(QObject):
    """Where QDesktopServices sends https links in these tests: it records them."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def browser() -> Iterator[Browser]:
    catcher = Browser()
    QDesktopServices.setUrlHandler("https", catcher, "open")  # type: ignore[arg-type]  # the stub says bytes; only str works
    try:
        yield catcher
    finally:
        QDesktopServices.unsetUrlHandler("https")


def run_out_of_credits(qtbot: QtBot, controller: Any, simulator: Simulator) -> Any:
    """Credits spent elsewhere (the window still shows 10,000); Generate meets a 402."""
    window = controller.window
    qtbot.waitUntil(lambda: shows_balance(window, 10_000), timeout=10_000)
    simulator.set_credits("afk_test", 4)
    window.compose.prompt_edit.setPlainText("a kite")
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=10_000)
    qtbot.waitUntil(lambda: window.banner.current_action() is Action.BUY_CREDITS,
                    timeout=10_000)
    return model.generation_at(0)


def shows_balance(window: Any, credits: int) -> bool:
    return f" {window.locale().toString(credits)} credits" in window.account_label.text()


def come_back_to_the_window(qtbot: QtBot, window: Any) -> None:
    """Another window in front (the browser, after a top-up), then ours again."""
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(other.isActiveWindow, timeout=5_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_a_402_refreshes_the_balance_shown(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    """Before: the status bar and the compose panel kept showing 10,000 credits."""
    window = app_controller.window
    run_out_of_credits(qtbot, app_controller, simulator)
    qtbot.waitUntil(lambda: shows_balance(window, 4), timeout=10_000)
    assert window.compose.balance() == 4
    assert window.compose.generate_block_reason()  # Generate says why it can't go


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_after_a_top_up_coming_back_to_the_window_refreshes_and_carries_on(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: nothing looked at the balance again until the person pressed a button."""
    from runway_desktop.ui import main_window

    monkeypatch.setattr(main_window, "REFRESH_ON_ACTIVATE_SECONDS", 0.0)
    window = app_controller.window
    row = run_out_of_credits(qtbot, app_controller, simulator)
    qtbot.waitUntil(lambda: shows_balance(window, 4), timeout=10_000)
    simulator.set_credits("afk_test", 1_000)  # topped up in the browser
    come_back_to_the_window(qtbot, window)
    qtbot.waitUntil(lambda: shows_balance(window, 1_000) or shows_balance(window, 992),
                    timeout=10_000)
    model = window.queue.model
    qtbot.waitUntil(lambda: model.generation(row.id).stage is Stage.DONE, timeout=20_000)
    assert not window.banner.isVisible()
    assert simulator.jobs_created("afk_test") == 1


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_top_up_opens_the_billing_page_and_sends_nothing_again(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, browser: Browser
) -> None:
    """Before: "Top up credits" only retried (another 402)."""
    window = app_controller.window
    row = run_out_of_credits(qtbot, app_controller, simulator)
    requests_before = len(simulator.requests)
    assert window.banner.button.text() == "Top up credits"
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    assert browser.opened == [links.BILLING_URL]
    assert window.queue.model.generation(row.id).stage is Stage.ATTENTION
    assert window.banner.isVisible()  # still true until the balance says otherwise
    generates = [r for r in simulator.requests[requests_before:] if r.path.endswith("/generate")]
    assert generates == []
    # The row's own button does the same.
    window.queue.action_requested.emit(row.id, Action.BUY_CREDITS)
    assert browser.opened == [links.BILLING_URL] * 2


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_top_up_without_a_browser_says_so_and_offers_copy_link(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(links, "open_url", lambda url: False)  # nothing here can open it
    window = app_controller.window
    run_out_of_credits(qtbot, app_controller, simulator)
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    box = window.findChild(QMessageBox, "link_box")
    assert box is not None
    assert box.isVisible()
    assert links.BILLING_URL in box.text() + box.informativeText()
    copy = next(b for b in box.buttons() if b.text() == "Copy link")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == links.BILLING_URL
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)")
def test_cant_reach_apiframe_goes_by_itself_once_apiframe_answers(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    """Before: the banner stayed until Retry was pressed, though apiframe was back."""
    window = app_controller.window
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.faults = FaultPlan(drop_rate=1.0)  # every connection closed unanswered
    window.compose.prompt_edit.setPlainText("a kite")
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=20_000)
    qtbot.waitUntil(lambda: window.banner.isVisible()
                    and "reach apiframe" in window.banner.message.text(), timeout=10_000)
    simulator.faults = FaultPlan()  # back
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=10_000)
    # The row, stopped only because apiframe couldn't be reached, carries on by itself (its
    # same idempotency key): one job (tests/ui/test_back_online.py).
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert simulator.jobs_created("afk_test") == 1


@pytest.mark.expect_log_warnings(r"needs attention \(buy_credits\)")
def test_a_402_the_balance_seems_to_cover_is_not_sent_again_and_again(
    qtbot: QtBot, app_controller: Any, simulator: Simulator
) -> None:
    """apiframe's price went up since the app read it: the balance looks enough but isn't.
    Refreshing the balance after the 402 must not send the work again on that same balance
    (it would meet a 402 each time, for ever)."""
    window = app_controller.window
    engine = app_controller.engine
    qtbot.waitUntil(lambda: shows_balance(window, 10_000), timeout=10_000)
    simulator.config.prices["runway-gen4-turbo"] = {5: 20, 10: 30}
    simulator.set_credits("afk_test", 10)  # covers the 8 the app knows, not apiframe's 20
    window.compose.prompt_edit.setPlainText("a kite")
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=10_000)
    qtbot.waitUntil(lambda: shows_balance(window, 10), timeout=10_000)
    qtbot.waitUntil(lambda: not engine.busy and not engine.refreshing_account
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=10_000)
    sent = [r for r in simulator.requests if r.path.endswith("/videos/generate")]
    assert len(sent) == 1
    assert window.banner.current_action() is Action.BUY_CREDITS
