"""The real app as a process on a real X server (Xvfb), in demo mode: type, Ctrl+Enter, a video.

Driven from outside like a person would (xdotool keystrokes); the journal tells when it is done;
the screenshot lands in tests/artifacts/ (and is the one the README shows).
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

from tests.conftest import ARTIFACTS, REPO

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (scripts/test installs them on Debian)")]


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[dict[str, str]]:
    for number in range(90, 140):
        if not any(Path(p).exists() for p in (f"/tmp/.X11-unix/X{number}",
                                                  f"/tmp/.X{number}-lock")):
            break
    display = f":{number}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("Xvfb did not start")
        time.sleep(0.05)
    try:
        yield {"DISPLAY": display}
    finally:
        server.terminate()
        server.wait(10)


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def finished_rows(journal: Path) -> list[tuple[str, str | None, str | None]]:
    if not journal.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        try:
            return db.execute(
                "SELECT stage, video_path, thumbnail_path FROM generations").fetchall()
        except sqlite3.OperationalError:
            return []


def xdotool(env: dict[str, str], *args: str) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True,
                          timeout=20, check=True).stdout.strip()


def test_demo_app_makes_a_video_and_a_screenshot(x_display: dict[str, str],
                                                 tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ, **x_display,
        "QT_QPA_PLATFORM": "xcb",
        "RUNWAY_DESKTOP_DATA_DIR": str(data),
        "RUNWAY_DESKTOP_POLL_SECONDS": "0.2",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }
    app_log = tmp_path / "app-output.txt"
    with app_log.open("w") as output:
        app = subprocess.Popen(
            [sys.executable, "-m", "runway_desktop", "--demo", "--demo-seconds-per-job", "2"],
            env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
    try:
        window = ""
        def window_shown() -> bool:
            nonlocal window
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                                    "Runway Desktop"], env=env, capture_output=True, text=True)
            window = found.stdout.split()[0] if found.stdout.split() else ""
            return bool(window)

        wait_for(window_shown, 30, "the main window")
        time.sleep(0.5)  # let the first paint and the focus settle
        xdotool(env, "windowfocus", "--sync", window)
        xdotool(env, "type", "--delay", "5", "a red kite over dunes, slow dolly-in")
        xdotool(env, "key", "ctrl+Return")
        journal = data / "demo" / "journal.sqlite3"
        wait_for(lambda: any(stage == "done" and thumb for stage, _v, thumb
                             in finished_rows(journal)), 60, "a finished video with thumbnail")
        ((stage, video, thumbnail),) = finished_rows(journal)
        assert stage == "done"
        assert Path(video).read_bytes()[4:8] == b"ftyp"
        assert Path(thumbnail).stat().st_size > 0
        time.sleep(1.0)  # the list repaints with the thumbnail
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "demo-window.png"
        grab = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("grab_screen.py")), str(shot), window],
            env=env, capture_output=True, text=True, timeout=30)
        assert grab.returncode == 0, grab.stderr
        assert shot.stat().st_size > 10_000
        xdotool(env, "key", "ctrl+q")
        app.wait(20)
        assert app.returncode == 0
        assert "Traceback" not in app_log.read_text()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
