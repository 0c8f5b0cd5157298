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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tests.conftest import ARTIFACTS, REPO
from tests.helpers.video import mean_difference
from tests.simulator.mjpeg_reader import read_mjpeg

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")),
    reason="needs Xvfb and xdotool (scripts/test installs them on Debian)")]


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[dict[str, str]]:
    # -displayfd: Xvfb picks a free display itself and writes its number once it is ready.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()
    if not number:
        server.kill()
        server.wait(10)
        pytest.fail("Xvfb did not start")
    display = f":{number}"
    try:
        yield {"DISPLAY": display}
    finally:
        server.terminate()
        server.wait(10)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
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


def grab_window(env: dict[str, str], window: str, dest: Path) -> Path:
    grab = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("grab_screen.py")), str(dest), window],
        env=env, capture_output=True, text=True, timeout=30)
    assert grab.returncode == 0, grab.stderr
    return dest


def dune_picture(path: Path) -> Path:
    """A start image worth looking at in the screenshot: sky, sun, dunes, a red kite."""
    from PIL import Image, ImageDraw

    width, height = 1280, 720
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        sky = (int(70 + 150 * t), int(130 + 80 * t), 230 - int(90 * t))
        draw.line([(0, y), (width, y)], fill=sky)
    draw.ellipse([920, 90, 1060, 230], fill=(255, 226, 150))
    far_dunes = [(0, 560), (300, 470), (640, 540), (980, 450), (1280, 520), (1280, 720), (0, 720)]
    draw.polygon(far_dunes, fill=(214, 168, 104))
    draw.polygon([(0, 640), (420, 580), (860, 650), (1280, 600), (1280, 720), (0, 720)],
                 fill=(190, 140, 84))
    draw.polygon([(560, 200), (610, 150), (660, 200), (610, 290)], fill=(210, 40, 40))
    draw.line([(610, 290), (520, 520)], fill=(60, 40, 30), width=3)
    image.save(path)
    return path


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
        # The start image arrives the way a person copies one from a browser: Ctrl+V.
        owner = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("clipboard_owner.py")),
             str(dune_picture(tmp_path / "dunes.png"))],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert owner.stdout
            assert owner.stdout.readline().strip() == "ready"
            xdotool(env, "key", "ctrl+v")
            time.sleep(1.0)  # the app reads the clipboard from the owner before it goes
        finally:
            owner.terminate()
            owner.wait(10)
            if owner.stdout:
                owner.stdout.close()
        xdotool(env, "type", "--delay", "5", "a red kite over dunes, slow dolly-in")
        xdotool(env, "key", "ctrl+Return")
        journal = data / "demo" / "journal.sqlite3"
        wait_for(lambda: any(stage == "done" and thumb for stage, _v, thumb
                             in finished_rows(journal)), 60, "a finished video with thumbnail")
        ((stage, video, thumbnail),) = finished_rows(journal)
        assert stage == "done"
        with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
            (image_path, uploaded), = db.execute(
                "SELECT json_extract(settings_json, '$.images.image.path'), uploaded_url "
                "FROM generations").fetchall()
        assert image_path, "the pasted start image is the generation's image"
        assert uploaded, "and it was uploaded with the job"
        assert video
        assert thumbnail
        assert Path(video).read_bytes()[4:8] == b"ftyp"
        # Demo mode films the person's own picture: the clip starts on it, framed 16:9.
        clip = read_mjpeg(Path(video).read_bytes())
        with Image.open(tmp_path / "dunes.png") as dunes:
            framed = ImageOps.fit(dunes.convert("RGB"), (1280, 720), Image.Resampling.BICUBIC)
        assert (clip.width, clip.height) == (1280, 720)
        assert mean_difference(clip.picture(0), framed) < 3
        assert mean_difference(clip.picture(-1), clip.picture(0)) > 4  # and it moves
        assert Path(thumbnail).stat().st_size > 0
        time.sleep(1.0)  # the list repaints with the thumbnail
        still = grab_window(env, window, tmp_path / "before-play.png")
        # Play it, as a person clicks the picture, and take the screenshot mid-clip: the
        # README shows the person's own picture moving.
        with Image.open(still) as before:
            width, height = before.size  # the window's
        xdotool(env, "mousemove", "--window", window, str(int(width * 0.46)),
                str(int(height * 0.46)), "click", "1")
        time.sleep(2.5)  # half of the 5 s clip
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = grab_window(env, window, ARTIFACTS / "demo-window.png")
        assert shot.stat().st_size > 10_000
        # The preview (the middle column) shows another picture than before it played.
        with Image.open(still) as before, Image.open(shot) as during:
            box = (int(width * 0.29), int(height * 0.1), int(width * 0.64), int(height * 0.85))
            assert mean_difference(before.convert("RGB").crop(box),
                                   during.convert("RGB").crop(box)) > 2
        xdotool(env, "key", "ctrl+q")
        app.wait(20)
        assert app.returncode == 0
        printed = app_log.read_text()
        assert "Traceback" not in printed
        # Qt's messages go to the app's log, FFmpeg's own output to the log folder: each video
        # opened printed its "Input #0, mov,mp4 …" banner to the terminal.
        assert "Input #0" not in printed, printed[-2000:]
        logs = data / "logs"
        assert "[qt.multimedia" in (logs / "runway-desktop.log").read_text(encoding="utf-8")
        assert "Input #0" in (logs / "native-output.log").read_text(errors="replace")
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
