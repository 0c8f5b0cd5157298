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


_ON_A_2X_SCREEN = """
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QApplication
app = QApplication(["t"])
from runway_desktop.ui.extend_mode import ExtendStrip
strip = ExtendStrip()
strip.show()
app.processEvents()
frame = QPixmap(1280, 720)
frame.fill(QColor(40, 90, 160))
strip.set_picture(frame)
shown = strip.picture.pixmap()
print(strip.devicePixelRatioF(), shown.width(), shown.deviceIndependentSize().toSize().width())
"""


def test_the_last_frame_has_the_pixels_of_a_2x_screen() -> None:
    """On a 2× screen the strip's last frame was 160 × 90 pixels stretched to 320 × 180. A
    child process: the scale is fixed when the application starts."""
    import os
    import subprocess
    import sys

    from runway_desktop.ui.extend_mode import PICTURE

    done = subprocess.run([sys.executable, "-c", _ON_A_2X_SCREEN], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "QT_SCALE_FACTOR": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    ratio, pixels, room = done.stdout.split()
    assert float(ratio) == 2.0
    assert int(pixels) == 2 * PICTURE.width()  # the screen's pixels
    assert int(room) == PICTURE.width()  # the same room in the strip


def test_the_strips_title_names_the_clip_by_its_first_words() -> None:
    from runway_desktop.ui.extend_mode import excerpt

    assert excerpt("A slow dolly across a square valley, fog rolling in") == (
        "A slow dolly across a square…")  # whole words, the cut one left out
    assert excerpt("Boats leave at dawn, gulls circle the mast") == "Boats leave at dawn, gulls…"
    assert excerpt("a quiet harbour") == "a quiet harbour"  # short: all of it
    assert excerpt("x" * 40) == "x" * 28 + "…"  # one long word: cut
