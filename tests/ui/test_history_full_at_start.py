"""The window starts on a data drive with no room for the history (issue 12: say what
happened and what to do; no dead end). A real, tiny file system (tmpfs) filled before the
start: root only (mount)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from tests.helpers.small_disk import fill
from tests.ui.test_journal_halt_shown import api_base_url, data_dir, scripted_server

__all__ = ["api_base_url", "data_dir", "scripted_server"]  # the fixtures, used by name

@pytest.fixture
def fillers() -> list[Path]:
    return []


@pytest.fixture
def before_app_start(fillers: list[Path]) -> Callable[[Path], None]:
    def full(data_dir: Path) -> None:
        fillers.append(fill(data_dir))

    return full


def test_a_full_data_drive_at_start_is_not_a_damaged_history_and_try_again_opens_it(
    qtbot: QtBot, app_controller: Any, data_dir: Path, fillers: list[Path]
) -> None:
    """Before: 'The history file … is damaged and can't be read (database or disk is full)',
    with a fresh history as the way out (which hides every generation still to finish)."""
    banner = app_controller.window.banner
    text = banner.message.text()
    assert app_controller.engine is None
    assert str(paths.journal_path(data_dir)) in text
    assert "the disk is full. Free some space on that drive, then press Try again" in text
    assert "damaged" not in text
    assert "start Runway Desktop again" not in text  # the button does it
    assert banner.button.text() == "Try again"

    fillers.pop().unlink()  # the person frees some space
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app_controller.engine is not None, timeout=10_000)
    assert not banner.isVisible(), banner.message.text()
