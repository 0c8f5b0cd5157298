"""Problems don't hide one another: the banner shows the newest, the others wait under it with
their own button, and each goes when its own condition is over (ui/banner.py's keys)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action
from runway_desktop.simulator import Simulator
from runway_desktop.simulator.faults import FaultPlan
from runway_desktop.ui.banner import Banner
from tests.helpers.images import make_png
from tests.ui.test_import_window import import_from_menu


def test_each_message_keeps_its_button_and_goes_with_its_own_condition(qtbot: QtBot) -> None:
    banner = Banner()
    qtbot.addWidget(banner)
    tried: list[str] = []
    banner.show_offer("Couldn't import jobs.", "Try again", lambda: tried.append("import"),
                      key="import")
    banner.show_message("Can't reach apiframe.", Action.RETRY, key="engine")
    assert banner.message.text() == "Can't reach apiframe."
    assert banner.more.isVisible()
    assert banner.more.text() == "1 more"
    banner.show_message("Still can't reach apiframe.", Action.RETRY, key="engine")  # replaces
    assert banner.waiting() == ["Couldn't import jobs."]
    # The × sets aside the one shown: the import's own offer is back, and works.
    close = next(b for b in banner.findChildren(QToolButton) if b.text() == "×")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert banner.message.text() == "Couldn't import jobs."
    assert banner.button.text() == "Try again"
    assert not banner.more.isVisible()
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    assert tried == ["import"]
    # A condition under the one shown clears: the shown one stays as it is.
    banner.show_message("Can't reach apiframe.", Action.RETRY, key="engine")
    banner.clear("import")
    assert banner.message.text() == "Can't reach apiframe."
    assert banner.current_action() is Action.RETRY
    assert not banner.more.isVisible()
    banner.clear("engine")
    assert not banner.isVisible()


@pytest.mark.expect_log_warnings(r"needs attention \(retry\)", r"import", r"reach")
def test_a_failed_import_is_still_offered_after_apiframe_comes_back(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, tmp_path: Any) -> None:
    """Before: apiframe out of reach while an import failed; once it answered again the
    offline banner went and took the import's Try again with it, unsaid."""
    window = app_controller.window
    banner = window.banner
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.faults = FaultPlan(drop_rate=1.0)  # apiframe out of reach
    import_from_menu(window)
    qtbot.waitUntil(lambda: banner.isVisible() and "Couldn't import" in banner.message.text(),
                    timeout=20_000)
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a kite")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: banner.isVisible() and "import" not in banner.message.text(),
                    timeout=20_000)
    simulator.faults = FaultPlan()  # apiframe answers again
    qtbot.waitUntil(lambda: app_controller.engine.problem is None, timeout=20_000)
    qtbot.waitUntil(lambda: "Couldn't import" in banner.message.text(), timeout=5_000)
    assert banner.isVisible()
    assert banner.button.text() == "Try again"
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)  # imports, and the notice goes
    qtbot.waitUntil(lambda: "Imported" in window.statusBar().currentMessage(), timeout=10_000)
    assert not banner.isVisible()
