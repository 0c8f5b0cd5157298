"""Alt+letter (a label's or a button's underlined letter) does one thing in each window: two
widgets of one window with the same letter make Qt only move the focus between them on
Alt+letter, pressing neither (e.g. the export dialog's "&Format" and "Save &Frame as PNG")."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.settings import Settings
from runway_desktop.ui.compare_view import CompareView
from runway_desktop.ui.export_dialog import ExportDialog
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.settings_dialog import SettingsDialog
from runway_desktop.ui.shortcuts import ShortcutsDialog
from tests.helpers.video import CLIP

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


def mnemonic(text: str) -> str | None:
    """The letter after a single '&' ("&&" is a literal ampersand), lower case."""
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def mnemonic_clashes(window: QWidget) -> dict[str, list[str]]:
    """Letters that two or more widgets of `window` answer (buttons, labels with a buddy, group
    boxes, tabs, the menu bar), with their texts."""
    owners: dict[str, list[str]] = defaultdict(list)

    def add(text: str) -> None:
        letter = mnemonic(text)
        if letter:
            owners[letter].append(text)

    for button in window.findChildren(QAbstractButton):
        add(button.text())
    for label in window.findChildren(QLabel):
        if label.buddy() is not None:
            add(label.text())
    for group in window.findChildren(QGroupBox):
        add(group.title())
    for tabs in window.findChildren(QTabWidget):
        for i in range(tabs.count()):
            add(tabs.tabText(i))
    if isinstance(window, QMainWindow):
        for action in window.menuBar().actions():
            add(action.text())
    return {letter: texts for letter, texts in owners.items() if len(texts) > 1}


def finished(gid: int, video: Path) -> Generation:
    now = time.time()
    return Generation(id=gid, settings=GenerationSettings(prompt=f"clip {gid}", seed=gid),
                      idempotency_key=f"k{gid}", stage=Stage.DONE, created_at=now,
                      updated_at=now, finished_at=now, video_path=str(video))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return Path(shutil.copy(CLIP, tmp_path / "shot.mp4"))


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    widget = MainWindow(tmp_path / "cache")
    qtbot.addWidget(widget)
    return widget


def test_the_finder_sees_a_clash(qtbot: QtBot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    QPushButton("&Save", holder)
    QPushButton("&Stop", holder)
    QPushButton("R&&D &only", holder)
    assert mnemonic_clashes(holder) == {"s": ["&Save", "&Stop"]}
    assert mnemonic("Fish && &Chips") == "c"


def test_the_main_window_and_its_dialogs_have_one_widget_per_letter(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        qasync_loop: asyncio.AbstractEventLoop) -> None:
    assert mnemonic_clashes(window) == {}
    settings = SettingsDialog(Settings(output_dir=str(tmp_path)), window)
    qtbot.waitUntil(settings.key_read)  # read off the GUI thread
    assert mnemonic_clashes(settings) == {}
    shortcuts = ShortcutsDialog(window)
    assert mnemonic_clashes(shortcuts) == {}
    for dialog in (settings, shortcuts):
        dialog.deleteLater()


def test_the_sequences_window_has_one_widget_per_letter(
        qtbot: QtBot, app_controller: Any) -> None:
    """"New &Take" and "S&top" both answered Alt+T: Qt only moved the focus between them."""
    window: MainWindow = app_controller.window
    qtbot.waitUntil(window.sequence_command.action.isEnabled, timeout=10_000)
    window.sequence_command.action.trigger()
    view = window.sequence_command.view
    assert view is not None
    assert mnemonic_clashes(view) == {}
    assert mnemonic(view.take_button.text()) == "t"
    assert mnemonic(view.stop_button.text()) == "s"
    view.close()


def test_the_comparison_has_one_widget_per_letter(
        window: MainWindow, clip: Path) -> None:
    view = CompareView(finished(1, clip), finished(2, clip), window)
    assert mnemonic_clashes(view) == {}
    view.close()


@pytest.fixture
def export_dialog(qtbot: QtBot, window: MainWindow, clip: Path,
                  qasync_loop: asyncio.AbstractEventLoop) -> Iterator[ExportDialog]:
    dialog = ExportDialog(clip, name="shot", position_ms=lambda: 0, duration_ms=2000,
                          parent=window)
    yield dialog
    dialog.close()


def test_the_export_dialog_has_one_widget_per_letter(
        qtbot: QtBot, export_dialog: ExportDialog) -> None:
    assert mnemonic_clashes(export_dialog) == {}
    # And the letter does what it says: Alt+F takes the format list, Save Frame has its own.
    export_dialog.show()
    qtbot.waitExposed(export_dialog)
    export_dialog.activateWindow()
    qtbot.waitUntil(export_dialog.isActiveWindow)
    export_dialog.path_edit.setFocus()
    qtbot.keyClick(export_dialog, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(export_dialog.format_box.hasFocus)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    assert export_dialog.format_box.hasFocus()  # not on to another widget with the same letter
    assert mnemonic(export_dialog.still_button.text()) == "m"
