"""A creator's day with the real app on a real X server (Xvfb), in demo mode, keys only.

First start, a start image pasted, a prompt, Generate, the queue, the preview playing (and full
screen), a favourite, the gallery, remove and undo, Settings opened and closed twice, the keyboard
shortcuts (F1), then the next morning in dark. Each step saves a screenshot in
tests/artifacts/day-in-the-life/; with RUNWAY_DESKTOP_REFRESH_SCREENSHOTS=1 the light and dark
ones are copied to docs/, where the README shows them.
Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_desktop.ui.theme import DARK, LIGHT
from tests.conftest import ARTIFACTS, REPO
from tests.e2e.test_demo_app import dune_picture, wait_for, x_display, xdotool

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (scripts/test installs them on Debian)")]
__all__ = ["x_display"]  # the fixture, imported for this module's tests

SHOTS = ARTIFACTS / "day-in-the-life"
DOCS = REPO / "docs"
# Set to 1 to copy the light and dark screenshots over the README's (docs/screenshot-*.png).
REFRESH_DOCS = "RUNWAY_DESKTOP_REFRESH_SCREENSHOTS"


class Day:
    """The running app, its X display, and the screenshots taken so far."""

    def __init__(self, env: dict[str, str], data: Path, log: Path) -> None:
        self.env = env
        self.data = data
        self.log = log
        self.app: subprocess.Popen[bytes] | None = None
        self.window = ""
        self.shots: list[Path] = []

    @property
    def journal(self) -> Path:
        return self.data / "demo" / "journal.sqlite3"

    def start(self, scheme: str) -> None:
        env = {**self.env, "RUNWAY_DESKTOP_COLOR_SCHEME": scheme}
        with self.log.open("a") as output:
            self.app = subprocess.Popen(
                [sys.executable, "-m", "runway_desktop", "--demo",
                 "--demo-seconds-per-job", "3"],
                env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
        self.window = ""

        def shown() -> bool:
            self.window = self.find("Runway Desktop")
            return bool(self.window)

        wait_for(shown, 30, "the main window")
        time.sleep(1.5)  # the engine starts after the first paint; the balance comes in
        xdotool(self.env, "windowfocus", "--sync", self.window)

    def find(self, name: str) -> str:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                               env=self.env, capture_output=True, text=True, timeout=20)
        ids = found.stdout.split()
        return ids[-1] if ids else ""

    def key(self, *keys: str, settle: float = 0.6) -> None:
        xdotool(self.env, "key", "--clearmodifiers", *keys)
        time.sleep(settle)

    def shot(self, name: str, window: str | None = None) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{len(self.shots) + 1:02d}-{name}.png"
        grab = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("grab_screen.py")), str(path),
             window if window is not None else self.window],
            env=self.env, capture_output=True, text=True, timeout=30)
        assert grab.returncode == 0, grab.stderr
        assert path.stat().st_size > 10_000, path
        self.shots.append(path)
        return path

    def rows(self) -> list[tuple[str, int]]:
        if not self.journal.exists():
            return []
        with contextlib.closing(
                sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True)) as db:
            try:
                return db.execute("SELECT stage, favourite FROM generations").fetchall()
            except sqlite3.OperationalError:
                return []

    def quit(self) -> None:
        assert self.app is not None
        self.key("ctrl+q", settle=0)
        self.app.wait(20)
        assert self.app.returncode == 0
        self.app = None

    def kill(self) -> None:
        if self.app is not None and self.app.poll() is None:
            self.app.kill()
            self.app.wait(10)


@pytest.fixture
def day(x_display: dict[str, str], tmp_path: Path) -> Iterator[Day]:
    env = {
        **os.environ, **x_display,
        "QT_QPA_PLATFORM": "xcb",
        "RUNWAY_DESKTOP_DATA_DIR": str(tmp_path / "data"),
        "RUNWAY_DESKTOP_POLL_SECONDS": "0.2",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }
    shutil.rmtree(SHOTS, ignore_errors=True)
    the_day = Day(env, tmp_path / "data", tmp_path / "app-output.txt")
    try:
        yield the_day
    finally:
        the_day.kill()


def paste_image(day: Day, picture: Path) -> None:
    """Copy a picture as a browser does, then Ctrl+V in the window."""
    owner = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("clipboard_owner.py")), str(picture)],
        env=day.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert owner.stdout
        assert owner.stdout.readline().strip() == "ready"
        day.key("ctrl+v", settle=1.0)  # the app reads the clipboard before the owner goes
    finally:
        owner.terminate()
        owner.wait(10)
        if owner.stdout:
            owner.stdout.close()


def window_colours(shot: Path) -> tuple[str, str]:
    """The window's background (left margin) and the status bar's, as #rrggbb."""
    from PIL import Image

    def hex_colour(pixel: object) -> str:
        assert isinstance(pixel, tuple)
        return "#{:02x}{:02x}{:02x}".format(*pixel)

    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        return (hex_colour(rgb.getpixel((3, height // 2))),
                hex_colour(rgb.getpixel((width // 2, height - 10))))


def stage_shows_a_picture(shot: Path) -> bool:
    """The middle of the stage is the video (sky or dunes), not the empty stage's flat colour."""
    from PIL import Image

    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        pixel = rgb.getpixel((int(width * 0.46), int(height * 0.35)))
    assert isinstance(pixel, tuple)
    red, green, blue = pixel[:3]
    return max(red, green, blue) - min(red, green, blue) > 40  # a colour, not a grey


def settings_round_trip(day: Day, name: str) -> None:
    """Ctrl+, opens Settings (a window of its own), Esc closes it."""
    day.key("ctrl+comma", settle=0.2)
    dialog = ""

    def opened() -> bool:
        nonlocal dialog
        dialog = day.find("Settings")
        return bool(dialog) and dialog != day.window

    wait_for(opened, 10, "the Settings dialog")
    time.sleep(0.5)
    day.shot(name, "0")  # the whole screen: the dialog over the window
    xdotool(day.env, "windowfocus", "--sync", dialog)
    day.key("Escape")
    wait_for(lambda: not day.find("Settings"), 10, "Settings to close")
    xdotool(day.env, "windowfocus", "--sync", day.window)


def test_a_day_in_the_life(day: Day, tmp_path: Path) -> None:
    day.start("light")
    day.shot("first-start")

    paste_image(day, dune_picture(tmp_path / "dunes.png"))
    day.shot("start-image")

    xdotool(day.env, "type", "--delay", "5", "a red kite over dunes, slow dolly-in")
    time.sleep(0.3)
    day.shot("prompt")

    day.key("ctrl+Return", settle=0.3)
    wait_for(lambda: day.rows() != [], 10, "the generation in the journal")
    wait_for(lambda: any(stage not in ("pending", "preparing") for stage, _f in day.rows()),
             10, "the generation under way")
    day.shot("generating")

    wait_for(lambda: [s for s, _f in day.rows()] == ["done"], 60, "the finished video")
    time.sleep(1.0)  # the thumbnail lands in the list and the preview
    day.shot("queue-done")

    day.key("ctrl+1")  # the queue's list takes the keys
    day.key("Return", settle=2.0)  # play the selected result
    light = day.shot("preview-playing")
    assert window_colours(light) == (LIGHT.window, LIGHT.chrome)  # our light look
    assert stage_shows_a_picture(light), "the video plays at the centre"

    day.key("F11", settle=1.5)  # the video full screen, then back with Esc
    day.shot("full-screen", "0")
    day.key("Escape", settle=1.0)
    xdotool(day.env, "windowfocus", "--sync", day.window)
    day.key("ctrl+1")  # the keys back to the list (the player kept them after full screen)

    day.key("f", settle=1.0)  # favourite
    wait_for(lambda: day.rows() == [("done", 1)], 10, "the favourite in the journal")
    day.shot("favourite")

    day.key("ctrl+2", settle=1.0)
    day.shot("gallery")

    day.key("ctrl+1")
    day.key("Delete", settle=1.0)  # one row: removed at once, with Undo in a notice
    day.shot("removed")
    day.key("ctrl+z", settle=1.0)
    day.shot("undone")

    settings_round_trip(day, "settings")
    settings_round_trip(day, "settings-again")  # the second time opens too
    day.shot("after-settings")

    day.key("F1", settle=0.2)  # Help ▸ Keyboard Shortcuts
    wait_for(lambda: bool(day.find("Keyboard Shortcuts")), 10, "the shortcuts list")
    time.sleep(0.5)
    day.shot("keyboard-shortcuts", "0")
    xdotool(day.env, "windowfocus", "--sync", day.find("Keyboard Shortcuts"))
    day.key("Escape")
    wait_for(lambda: not day.find("Keyboard Shortcuts"), 10, "the shortcuts list to close")
    xdotool(day.env, "windowfocus", "--sync", day.window)

    day.quit()
    assert day.rows() == [("done", 1)], "the undone removal kept the row"

    # The next morning, in dark: the prompt and the picture are still there.
    day.start("dark")
    day.shot("dark-start")
    day.key("ctrl+1")
    day.key("ctrl+space", settle=1.0)  # select the row the keyboard is on
    day.key("Return", settle=2.0)
    dark = day.shot("dark-preview-playing")
    assert window_colours(dark) == (DARK.window, DARK.chrome)  # forced dark
    assert stage_shows_a_picture(dark)
    assert not stage_shows_a_picture(day.shots[0]), "the first start's stage is empty"
    day.quit()

    log = day.log.read_text()
    assert "Traceback" not in log
    assert "Something unexpected went wrong" not in log
    if os.environ.get(REFRESH_DOCS) == "1":  # asked for: a test run leaves the tree as it was
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(light, DOCS / "screenshot-light.png")
        shutil.copyfile(dark, DOCS / "screenshot-dark.png")
    assert len(day.shots) == 17
