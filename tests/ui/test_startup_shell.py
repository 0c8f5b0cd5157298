"""The staged start: the window's outline paints before the window's modules load
(ui/startup_shell.py, app.py), in the theme's colours, where the window will open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QObject, QRect, QSettings, Qt, Signal
from pytestqt.qtbot import QtBot

from runway_desktop.ui import startup_shell, theme
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.startup_shell import StartupShell
from tests.ui.test_stage import themed

__all__ = ["themed"]  # a fixture, used by name

# What `runway-desktop --quit-after-first-paint` must not have loaded when the outline paints:
# the window, the theme, the event loop's machinery (the startup benchmark's ~200 ms).
LATE = ("runway_desktop.ui.main_window", "runway_desktop.ui.controller",
        "runway_desktop.ui.theme", "runway_desktop.logs", "asyncio", "qasync", "platformdirs")


def modules_when_painted(data_dir: Path, flag: str) -> dict[str, Any]:
    """Run the app to `flag` (--quit-after-first-paint: the outline; --quit-after-paint: the
    window) in a fresh process: its exit code, the modules it had loaded, and whether the `Qt`
    enum namespace was built."""
    probe = (
        "import json, sys\n"
        "from runway_desktop.app import main\n"
        f"code = main([{flag!r}, '--data-dir', {str(data_dir)!r}])\n"
        "import PySide6.QtCore as core\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules),\n"
        "                  'qt_enums': 'Qt' in vars(core)}))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    return report


def test_the_outline_paints_before_the_window_is_built(tmp_path: Path) -> None:
    report = modules_when_painted(tmp_path, "--quit-after-first-paint")
    loaded = [m for m in LATE if m in report["modules"]]
    assert loaded == [], f"loaded before the first paint: {loaded}"
    assert "runway_desktop.ui.startup_shell" in report["modules"]
    assert not report["qt_enums"]  # PySide6 builds the `Qt` namespace's enums lazily: ~13 ms


def test_the_window_paints_before_the_engine_sqlite_and_the_network_load(
    tmp_path: Path
) -> None:
    """What benchmarks/bench_startup.py checks as "imports before paint", on every test run:
    the window's Remove handling made its owner name at build time, which brought in the
    journal and SQLite (~4 ms) before the window painted, and only the benchmark saw it."""
    from benchmarks.bench_startup import LATE_MODULES

    report = modules_when_painted(tmp_path, "--quit-after-paint")
    loaded = [m for m in report["modules"]
              if any(m == late or m.startswith(late + ".") for late in LATE_MODULES)]
    assert loaded == [], f"loaded before the window painted: {loaded}"


def test_the_outline_uses_the_themes_colours() -> None:
    for scheme, colours in startup_shell.SHELL_COLOURS.items():
        mine = theme.COLOURS[theme.Scheme(scheme)]
        for name, value in colours.items():
            assert getattr(mine, name) == value, (scheme, name)
    assert startup_shell.SCHEME_ENV == theme.SCHEME_ENV


def test_the_outline_follows_a_forced_scheme(qapp: object, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.setenv(theme.SCHEME_ENV, "dark")
    assert startup_shell.shell_scheme(qapp) == "dark"  # type: ignore[arg-type]
    monkeypatch.setenv(theme.SCHEME_ENV, "light")
    assert startup_shell.shell_scheme(qapp) == "light"  # type: ignore[arg-type]


def test_the_outline_opens_where_the_window_was_left_and_hands_over(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window = MainWindow(tmp_path / "pasted")
    qtbot.addWidget(window)
    window.setGeometry(QRect(40, 60, 1000, 640))
    window.save_state()
    saved = QSettings().value(startup_shell.GEOMETRY_KEY)
    assert isinstance(saved, QByteArray)
    assert not saved.isEmpty()

    again = MainWindow(tmp_path / "pasted")  # the next start's window, where it will open
    qtbot.addWidget(again)
    again.restore_state()

    shell = StartupShell("Starting…")
    qtbot.addWidget(shell)
    assert shell.geometry() == again.geometry() != QRect(0, 0, 1280, 800)
    assert shell.show_and_wait_painted()
    assert shell.has_painted
    parts = shell.panels()
    assert len(parts) == 5
    assert all(shell.rect().contains(r) for r, _ in parts)
    shell.hand_over()
    assert not shell.isVisible()


@pytest.mark.parametrize("size", [(1024, 640), (1280, 800), (1400, 800), (1440, 900),
                                  (1920, 1080)])
def test_the_outline_puts_the_lists_where_the_window_does(
    qtbot: QtBot, themed: object, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Below or beside the stage, as the window will (no jump when it replaces the outline);
    the first start's outline has the window's first size."""
    QSettings().remove(startup_shell.GEOMETRY_KEY)  # a first start
    window = MainWindow(tmp_path / "pasted")
    qtbot.addWidget(window)
    shell = StartupShell("Starting…")
    qtbot.addWidget(shell)
    assert shell.size() == window.size()
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    shell.resize(*size)
    _menu, _compose, (stage, _), (side, _), _status = shell.panels()
    outline_beside = side.left() > stage.right()
    assert outline_beside == (window.right_splitter.orientation() == Qt.Orientation.Horizontal)


def test_the_outline_goes_even_if_the_window_never_paints(qtbot: QtBot) -> None:
    """A window started minimized paints only when it is seen: the outline must not stay."""
    window = _Window()
    shell = StartupShell("Starting…")  # not qtbot's: it deletes itself
    gone: list[bool] = []
    shell.destroyed.connect(lambda: gone.append(True))
    assert shell.show_and_wait_painted()
    shell.hand_over_when(window.first_painted, latest_ms=50)
    qtbot.waitUntil(lambda: bool(gone), timeout=2000)
    window.first_painted.emit()  # late: nothing is left to hand over, and nothing breaks


def test_the_outline_goes_when_the_window_has_painted(qtbot: QtBot) -> None:
    window = _Window()
    shell = StartupShell("Starting…")
    gone: list[bool] = []
    shell.destroyed.connect(lambda: gone.append(True))
    assert shell.show_and_wait_painted()
    shell.hand_over_when(window.first_painted)
    assert shell.isVisible()
    window.first_painted.emit()
    assert not shell.isVisible()
    qtbot.waitUntil(lambda: bool(gone), timeout=2000)  # long before the fallback's 10 s


class _Window(QObject):
    first_painted = Signal()


_FIRST_START = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication(["t"])
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.startup_shell import StartupShell
window, shell = MainWindow(Path(sys.argv[1])), StartupShell("Starting…")
room = app.primaryScreen().availableGeometry()
print(json.dumps({"room": [room.width(), room.height()], "window": [window.width(),
      window.height()], "shell": [shell.width(), shell.height()]}))
"""


@pytest.mark.parametrize(("screen", "first"), [((1366, 768), (1350, 720)),
                                               ((1440, 900), (1400, 800)),
                                               ((1920, 1080), (1400, 800))])
def test_the_first_window_fits_the_screen(
        tmp_path: Path, screen: tuple[int, int], first: tuple[int, int]) -> None:
    """A first start opened at 1400 × 800 whatever the screen: on a 1366 × 768 laptop the status
    bar with the balance, Search and Clear finished were off the screen. The outline opens at
    the same size (no jump when the window replaces it). A child process: the screen's size is
    the platform's, fixed when the application starts."""
    import json
    import os
    import subprocess
    import sys

    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "laptop", "x": 0, "y": 0, "width": screen[0], "height": screen[1],
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    done = subprocess.run([sys.executable, "-c", _FIRST_START, str(tmp_path / "pasted")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    sizes = json.loads(done.stdout.strip().splitlines()[-1])
    assert sizes["room"] == list(screen)
    assert sizes["window"] == list(first)
    assert sizes["shell"] == list(first)
