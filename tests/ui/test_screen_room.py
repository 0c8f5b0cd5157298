"""A small screen: a 1366 × 768 laptop at 125 % has 1093 × 614 free (ui/screen_room.py).

The window was at least 629 px tall inside (the compose panel's form), so it ran off that
screen with Generate's status line and the balance below its edge; Compare (1100 × 640) and
Keyboard Shortcuts (560 × 620) opened larger than the screen too. A child process: the
screen's size is the platform's, fixed when the application starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSize

from runway_desktop.ui.screen_room import fitting_size

_ON_A_SMALL_SCREEN = """
import json, sys, time
from pathlib import Path
from PySide6.QtCore import QRect, QPoint
from PySide6.QtWidgets import QApplication
app = QApplication(["t"])
from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.ui import theme
theme.install(app)
from runway_desktop.ui.compare_view import CompareView
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.shortcuts import ShortcutsDialog
clips = Path(sys.argv[2])
window = MainWindow(Path(sys.argv[1]))
window.show()
app.processEvents()
room = app.primaryScreen().availableGeometry()
generate = window.compose.generate_button
status = window.compose.status_label
def inside(widget):
    corner = widget.mapTo(window, widget.rect().bottomRight())
    return widget.isVisible() and corner.y() < window.height() and corner.x() < window.width()
def finished(gid, clip):
    now = time.time()
    return Generation(id=gid, settings=GenerationSettings(prompt=f"result {gid}"),
                      idempotency_key=f"k{gid}", stage=Stage.DONE, created_at=now,
                      updated_at=now, finished_at=now, position=float(gid),
                      video_path=str(clips / clip))
compare = CompareView(finished(1, "16x9.mp4"), finished(2, "9x16.mp4"), window)
keys = ShortcutsDialog(window)
print(json.dumps({
    "room": [room.width(), room.height()],
    "window": [window.width(), window.height()],
    "generate_in_sight": inside(generate) and inside(status),
    "compose_scrolls": (area := getattr(window.compose, "form_area", None)) is not None
                       and area.verticalScrollBar().maximum() > 0,
    "compare": [compare.width(), compare.height()],
    "shortcuts": [keys.width(), keys.height()],
    "compose": [window.compose.width(), window.compose.sizeHint().width()],
}))
"""


def test_on_a_small_screen_the_window_and_its_windows_fit_with_generate_in_sight(
        tmp_path: Path) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "laptop-125", "x": 0, "y": 0, "width": 1093, "height": 614,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    clips = Path(__file__).resolve().parents[2] / "resources" / "clips"
    done = subprocess.run([sys.executable, "-c", _ON_A_SMALL_SCREEN, str(tmp_path / "cache"),
                           str(clips)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["room"] == [1093, 614]
    free = [1093 - 16, 614 - 48]  # the frame and title bar (startup_shell.FIRST_SIZE_MARGIN)
    assert seen["window"] == free
    assert seen["generate_in_sight"]
    assert seen["compose_scrolls"]  # what's above Generate scrolls instead
    # The compose panel opens at its own width, as before its form scrolled (measured before
    # its fields were set up, the form made it 20 px narrower).
    assert seen["compose"][0] == seen["compose"][1]
    for opened in ("compare", "shortcuts"):
        assert seen[opened][0] <= free[0], opened
        assert seen[opened][1] <= free[1], opened


def test_a_window_opens_at_its_size_where_there_is_room_and_never_under_its_smallest() -> None:
    room, smallest = QSize(1920, 1080), QSize(300, 200)
    assert fitting_size(QSize(1100, 640), room, smallest) == QSize(1100, 640)
    assert fitting_size(QSize(1100, 640), QSize(1093, 614), smallest) == QSize(1077, 566)
    assert fitting_size(QSize(1100, 640), QSize(200, 100), smallest) == smallest
