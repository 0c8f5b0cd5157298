"""An API address the client refuses (issue 10, misbehaviour 7): a clear message pointing to the
setting, not "Something unexpected", and nothing left locked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import filelock
import pytest
from PySide6.QtWidgets import QDialogButtonBox, QFormLayout
from pytestqt.qtbot import QtBot

from runway_desktop import settings
from runway_desktop.simulator import Simulator

REFUSED = "http://api.example.com"  # plain http to a remote host would send the key in clear


@pytest.fixture
def api_base_url() -> str:
    return ""  # no APIFRAME_BASE_URL override: the address comes from the settings file


@pytest.fixture
def before_app_start(output_dir: Path) -> Any:
    def write(data_dir: Path) -> None:
        settings.save(data_dir, settings.Settings(output_dir=str(output_dir), base_url=REFUSED))

    return write


def test_a_refused_api_address_points_to_the_setting(app_controller: Any, data_dir: Path) -> None:
    window = app_controller.window
    assert app_controller.engine is None
    assert app_controller.journal is None  # closed again: nothing held open
    assert window.banner.isVisible()
    text = window.banner.message.text()
    assert "unexpected" not in text
    assert "https://" in text  # what is wrong
    assert "Settings ▸ API address" in text  # where to fix it
    assert window.banner.button.text() == "Open Settings"
    lock = filelock.FileLock(data_dir / "engine.lock", timeout=0)
    lock.acquire()  # nothing left locked: a CLI command could run this queue now
    lock.release()


def test_correcting_the_address_in_settings_starts_the_queue(
    app_controller: Any, qtbot: QtBot, simulator: Simulator, keyring_backend: Any
) -> None:
    window = app_controller.window
    window.banner.button.click()  # "Open Settings"
    qtbot.waitUntil(lambda: app_controller._dialog is not None
                    and app_controller._dialog.isVisible(), timeout=5_000)
    dialog = app_controller._dialog
    form = dialog.findChild(QFormLayout)
    assert form.labelForField(dialog.base_url_edit).text() == "API address"
    assert dialog.base_url_edit.text() == REFUSED
    dialog.base_url_edit.setText(simulator.base_url)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: app_controller.engine is not None, timeout=10_000)
    assert not window.banner.isVisible() or "API address" not in window.banner.message.text()


@pytest.mark.parametrize("api_base_url", [REFUSED])
def test_an_address_from_the_environment_says_where_it_comes_from(app_controller: Any) -> None:
    """APIFRAME_BASE_URL overrides the setting: pointing to Settings would be a dead end."""
    window = app_controller.window
    assert app_controller.engine is None
    text = window.banner.message.text()
    assert "APIFRAME_BASE_URL environment variable" in text
    assert "Settings ▸ API address" not in text
    assert "unexpected" not in text
