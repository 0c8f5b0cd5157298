"""Settings saved while their file can't be written (issue 12: every error says what happened and
what to do; no silent no-ops).

The data folder is a real, tiny file system (tmpfs) filled up under the running window. Root
only (mount); skipped elsewhere with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop import paths, settings
from tests.helpers.small_disk import fill, tmpfs
from tests.ui.test_controller import click, open_from_menu


def save_a_change(qtbot: QtBot, controller: Any, *, notify: bool) -> None:
    """Change one setting through Settings ▸ Save, on a drive that can't take it: until the
    banner says the settings couldn't be saved."""
    banner = controller.window.banner
    dialog = open_from_menu(qtbot, controller)
    dialog.notify_check.setChecked(notify)
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: banner.isVisible() and "settings" in banner.message.text(),
                    timeout=5_000)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "data", "size=768k") as folder:
        yield folder


@pytest.mark.expect_log_warnings(r"Couldn't save the settings")
def test_settings_that_cant_be_saved_say_so_and_try_again_saves_them(
    qtbot: QtBot, app_controller: Any, data_dir: Path
) -> None:
    """Before: "Couldn't save the settings: No space left on device" with a Retry button that
    retried the queue's generations instead, hid the banner and left the file unsaved: the
    change was lost at the next start without a word."""
    window = app_controller.window
    banner = window.banner
    was = app_controller.settings.notify_when_done
    filler = fill(data_dir)
    save_a_change(qtbot, app_controller, notify=not was)
    text = banner.message.text()
    assert str(paths.settings_path(data_dir)) in text  # where
    assert "No space left on device" in text  # what happened
    assert "free some space" in text  # what to do
    assert banner.button.text() == "Try again"
    assert app_controller.settings.notify_when_done is not was  # applied meanwhile
    # Still full: trying again says so again, and nothing is lost.
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert banner.isVisible()
    assert "No space left on device" in banner.message.text()
    filler.unlink()  # the person frees some space
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=5_000)
    assert settings.load(data_dir).notify_when_done is not was


@pytest.mark.expect_log_warnings(r"Couldn't save the settings")
def test_the_unsaved_settings_banner_goes_once_a_later_save_works(
    qtbot: QtBot, app_controller: Any, data_dir: Path
) -> None:
    banner = app_controller.window.banner
    was = app_controller.settings.notify_when_done
    filler = fill(data_dir)
    save_a_change(qtbot, app_controller, notify=not was)
    filler.unlink()
    dialog = open_from_menu(qtbot, app_controller)  # saved again through Settings, not the banner
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=5_000)
    assert settings.load(data_dir).notify_when_done is not was


@pytest.mark.expect_log_warnings(r"Couldn't save the settings", r"needs attention \(retry\)")
def test_settings_still_unsaved_are_still_said_when_another_problem_clears(
    qtbot: QtBot, app_controller: Any, simulator: Any, tmp_path: Path
) -> None:
    """apiframe unreachable (its banner up), Settings saved where they can't be written (that
    banner in its place), then apiframe comes back: the offline banner goes, and took the
    unsaved-settings one with it, though the settings were still unsaved. The disk isn't full
    here: the settings file is a folder, so only it can't be written (the history can)."""
    from runway_desktop.simulator.faults import FaultPlan
    from tests.helpers.images import make_png

    window = app_controller.window
    banner = window.banner
    data = app_controller.data_dir
    paths.settings_path(data).unlink()
    (paths.settings_path(data) / "in the way").mkdir(parents=True)
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    simulator.faults = FaultPlan(drop_rate=1.0)
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a kite")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: banner.isVisible() and "reach apiframe" in banner.message.text(),
                    timeout=20_000)
    dialog = open_from_menu(qtbot, app_controller)
    dialog.notify_check.setChecked(not dialog.notify_check.isChecked())
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: "Couldn't save the settings" in banner.message.text(),
                    timeout=5_000)
    simulator.faults = FaultPlan()  # apiframe answers again
    qtbot.waitUntil(lambda: app_controller.engine.problem is None, timeout=20_000)
    qtbot.wait(200)
    assert banner.isVisible()
    assert "Couldn't save the settings" in banner.message.text()
