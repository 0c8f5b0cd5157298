"""The window's state written as the person works (ui/state_keeper.py): off the GUI thread, and
never over what the window writes as it closes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from runway_desktop.ui import state_keeper
from runway_desktop.ui.main_window import SIDE_LIST_KEY, MainWindow
from runway_desktop.ui.state_keeper import StateKeeper


def saved_prompt() -> str:
    state = QSettings().value("compose/state")
    return str(state["prompt"]) if isinstance(state, dict) else ""


def kept_window(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, StateKeeper]:
    window = MainWindow(tmp_path / "cache")
    qtbot.addWidget(window)
    keeper = StateKeeper(window.compose, window, window.state_values,
                         [window.studio.side_tabs.currentChanged])
    return window, keeper


def test_a_pause_in_typing_writes_the_state_in_a_worker_thread(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QSettings' sync does two fdatasyncs: on the GUI thread it held the person's typing up
    for as long as the disk took (a video being written makes that long)."""
    threads: list[str] = []
    write = state_keeper.write_settings

    def noted(values: Mapping[str, Any]) -> None:
        threads.append(threading.current_thread().name)
        write(values)

    monkeypatch.setattr(state_keeper, "write_settings", noted)
    window, keeper = kept_window(qtbot, tmp_path)
    window.compose.prompt_edit.setPlainText("a kite over the dunes")
    qtbot.waitUntil(lambda: keeper.idle() and bool(threads))
    assert saved_prompt() == "a kite over the dunes"
    assert threading.main_thread().name not in threads

    window.studio.show_gallery(True)  # the list shown is kept too, not only at a close
    qtbot.waitUntil(lambda: keeper.idle() and QSettings().value(SIDE_LIST_KEY) == "gallery")


def test_closing_waits_for_a_write_under_way_so_the_last_state_wins(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    write = state_keeper.write_settings

    def slow(values: Mapping[str, Any]) -> None:
        gate.wait(timeout=30)  # a disk busy with a video
        write(values)

    monkeypatch.setattr(state_keeper, "write_settings", slow)
    window, keeper = kept_window(qtbot, tmp_path)
    window.compose.prompt_edit.setPlainText("what I typed first")
    keeper.save()  # its write waits for the disk
    window.compose.prompt_edit.setPlainText("what I typed last")
    threading.Timer(0.05, gate.set).start()
    window.close()  # the window writes its state as it closes

    assert keeper.idle()
    assert saved_prompt() == "what I typed last"
