"""Extend mode (ui/extend_mode.py) and a restart: what the person was composing before
extending is what comes back, never the extend strip's empty, seed-locked panel."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui.main_window import MainWindow
from tests.ui.test_framing_in_window import picture


def a_window(qtbot: QtBot, cache: Path) -> MainWindow:
    window = MainWindow(cache)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_restart_while_extending_keeps_the_composition_put_aside(
    qtbot: QtBot, tmp_path: Path, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    window = a_window(qtbot, tmp_path / "cache")
    compose = window.compose
    start = picture(tmp_path, "kite.png", (1600, 900))
    compose.drop_zone.set_images([start])
    compose.prompt_edit.setPlainText("my own composition")
    compose.set_seed_locked(False)
    parent = Generation(id=7, settings=GenerationSettings(prompt="a clip", seed=42),
                        idempotency_key="k7", stage=Stage.DONE, created_at=0.0, updated_at=0.0)
    window.extend_mode.start(parent)
    assert window.extend_mode.active
    compose.prompt_edit.setPlainText("what happens next")
    window.save_state()  # the window closes (or the session ends) in extend mode
    qtbot.waitUntil(lambda: not window.extend_mode._tasks)  # its last frame (none here) read

    assert QSettings().value("compose/state") is not None
    again = a_window(qtbot, tmp_path / "cache2")
    again.restore_state()
    assert not again.extend_mode.active
    assert again.compose.drop_zone.images() == [start]
    assert again.compose.prompt_edit.toPlainText() == "my own composition"
    assert not again.compose.seed_locked()  # not the clip's seed, locked


def test_pictures_given_while_extending_start_a_new_generation_from_them(
    qtbot: QtBot, tmp_path: Path, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    """Ctrl+V of picture files in the prompt box while extending put them in the hidden drop
    zone: Generate said "Generate 3 · 24 credits" and made one shot of the clip, and Cancel
    dropped them. Now extend mode ends: the pictures show, the prompt typed stays."""
    window = a_window(qtbot, tmp_path / "cache")
    compose = window.compose
    parent = Generation(id=7, settings=GenerationSettings(prompt="a clip", seed=42),
                        idempotency_key="k7", stage=Stage.DONE, created_at=0.0, updated_at=0.0)
    window.extend_mode.start(parent)
    compose.prompt_edit.setPlainText("boats rocking at dusk")
    files = [picture(tmp_path, f"harbour-{i}.png", (640, 360)) for i in range(3)]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(f) for f in files])
    QGuiApplication.clipboard().setMimeData(mime)
    compose.prompt_edit.setFocus()
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)

    assert not window.extend_mode.active
    assert compose.drop_zone.isVisible()
    assert compose.drop_zone.images() == files
    assert compose.prompt_edit.toPlainText() == "boats rocking at dusk"
    one = compose.model().price(compose.duration())
    assert one is not None
    assert compose.total_price() == 3 * one
    qtbot.waitUntil(lambda: not window.extend_mode._tasks)
