"""Startup: process start → main window painted, against a bare PySide6 window (the floor).

Both exit right after their first paint (`runway-desktop --quit-after-first-paint`;
floor_window.py), so the figure is the whole process: interpreter, imports, window, first paint,
exit. The app's first paint is its window's outline (ui/startup_shell.py, a splash screen in the
window's shape), painted before the window is built; so the app is timed a second way too,
"ready": until the real window has painted (`--quit-after-paint`), built and interactive. Runs
alternate first paint / ready / floor so that machine noise hits all alike; each figure is the
median.

Frozen: the PyInstaller bundle in build/dist/runway-desktop (built by build/build.py), against
floor_window.py frozen the same way (same spec, excludes, pruning: build/bundling.py).

Also: what the app imports before its first paint (`python -X importtime`), and a check that
none of the modules the first paint does not need (httpx, QtMultimedia, the simulator, Pillow,
keyring, SQLite, the engine's scheduler) is among them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks._common import BENCH, PYTHON, ROOT, child_env, median, metric, scratch_root

RUNS = 15
WARMUP = 2
TARGET_RATIO = 1.25
FROZEN_APP = ROOT / "build" / "dist" / "runway-desktop" / "runway-desktop"
FLOOR_BUILD = ROOT / "build" / "work" / "bench-startup-floor"
LATE_MODULES = ("httpx", "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets",
                "runway_desktop.simulator", "PIL", "keyring", "sqlite3",
                "runway_desktop.engine.scheduler", "runway_desktop.api.client", "filelock",
                "importlib.metadata")


def _time(command: list[str]) -> float:
    """Wall time of one run. Not `subprocess.run(timeout=…)`: its wait polls with sleeps of up
    to 50 ms, which rounds every figure up to the next 50 ms; a plain wait blocks in waitpid."""
    env = child_env()
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)  # `-m benchmarks.…` resolves
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise subprocess.CalledProcessError(code, command)
    return elapsed


def _compare(app: list[str], ready: list[str], floor: list[str], runs: int,
             themed: list[str] | None = None) -> dict[str, Any]:
    """`app`: to the first paint (the outline); `ready`: to the real window painted;
    `themed`: the floor in the app's look (themed_floor_window.py), if given."""
    commands = [app, ready, floor, *([themed] if themed else [])]
    for _ in range(WARMUP):  # .pyc files written, page cache warm: a person's second start
        for command in commands:
            _time(command)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, taken in zip(commands, times, strict=True):
            taken.append(_time(command))
    app_times, ready_times, floor_times = times[:3]
    app_ms, floor_ms = median(app_times) * 1000, median(floor_times) * 1000
    ready_ms = median(ready_times) * 1000
    ratio = app_ms / floor_ms
    extra: dict[str, Any] = {}
    if themed:
        themed_ms = median(times[3]) * 1000
        extra = {
            "themed_ms": [round(t * 1000, 1) for t in times[3]],
            "themed_metric": metric(
                round(themed_ms, 1), "ms", target="(none: what the app's look alone costs)",
                floor=round(floor_ms, 1), ratio=round(themed_ms / floor_ms, 2),
                note="the bare window with the app's theme and 15 widgets with text, no "
                     f"other app code (themed_floor_window.py); median of {runs}, alternating"),
        }
    return {
        **extra,
        "app_ms": [round(t * 1000, 1) for t in app_times],
        "ready_ms": [round(t * 1000, 1) for t in ready_times],
        "floor_ms": [round(t * 1000, 1) for t in floor_times],
        "metric": metric(round(app_ms, 1), "ms", target=f"≤ {TARGET_RATIO}× floor",
                         floor=round(floor_ms, 1), ratio=round(ratio, 2),
                         met=ratio <= TARGET_RATIO,
                         note=f"first paint: the window's outline; median of {runs}, "
                              "alternating"),
        "ready_metric": metric(round(ready_ms, 1), "ms",
                               target="(none: reported beside the first paint)",
                               floor=round(floor_ms, 1), ratio=round(ready_ms / floor_ms, 2),
                               note="the real window built and painted "
                                    f"(--quit-after-paint); median of {runs}, alternating"),
    }


def imports_before_paint(data_dir: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "runway_desktop", "--quit-after-paint",
         "--data-dir", str(data_dir)],
        env=child_env(), capture_output=True, text=True, timeout=120, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((match.group(4), int(match.group(1)), int(match.group(2)),
                         len(match.group(3))))
    names = {name for name, *_ in rows}
    late = sorted(n for n in names if any(n == m or n.startswith(m + ".") for m in LATE_MODULES))
    ours = sorted(((name, cum) for name, _self, cum, _indent in rows
                   if name.startswith("runway_desktop")), key=lambda r: -r[1])
    top = sorted(((name, cum) for name, _self, cum, indent in rows if indent <= 1),
                 key=lambda r: -r[1])[:12]
    return {
        "modules": len(names),
        "loaded_too_early": late,
        "top_level_ms": [[name, round(cum / 1000, 1)] for name, cum in top],
        "runway_desktop_ms": [[name, round(cum / 1000, 1)] for name, cum in ours[:12]],
        "metric": metric(len(late), "modules", target="0 of httpx, QtMultimedia, simulator, "
                         "Pillow, keyring, sqlite3, engine before the window paints",
                         met=not late, note=", ".join(late) if late else "none"),
    }


def _frozen_floor() -> Path | None:
    """floor_window.py through build/runway_desktop.spec, cached by the script's hash."""
    sys.path.insert(0, str(ROOT / "build"))
    try:
        import bundling
    except ImportError:
        return None
    script = BENCH / "floor_window.py"
    digest = hashlib.sha256(script.read_bytes() + bundling.SPEC.read_bytes()).hexdigest()[:16]
    dist = FLOOR_BUILD / "dist"
    exe = dist / "minimal-qt-app" / "minimal-qt-app"
    stamp = FLOOR_BUILD / "source.sha"
    if exe.exists() and stamp.exists() and stamp.read_text() == digest:
        return exe
    shutil.rmtree(FLOOR_BUILD, ignore_errors=True)
    FLOOR_BUILD.mkdir(parents=True)
    copy = FLOOR_BUILD / "floor_window.py"
    copy.write_text(script.read_text())
    bundling.run_pyinstaller(distpath=dist, workpath=FLOOR_BUILD / "pyinstaller",
                             minimal_script=copy)
    bundling.strip_python_debug_info(dist / "minimal-qt-app")
    stamp.write_text(digest)
    return exe


def run(runs: int = RUNS, frozen: bool = True) -> dict[str, Any]:
    data = scratch_root() / "startup-data"
    data.mkdir()
    app = [PYTHON, "-m", "runway_desktop", "--quit-after-first-paint", "--data-dir", str(data)]
    ready = [PYTHON, "-m", "runway_desktop", "--quit-after-paint", "--data-dir", str(data)]
    floor = [PYTHON, str(BENCH / "floor_window.py")]
    themed = [PYTHON, "-m", "benchmarks.themed_floor_window"]
    result: dict[str, Any] = {"source": _compare(app, ready, floor, runs, themed),
                              "imports": imports_before_paint(data)}
    metrics = {"startup_source": result["source"]["metric"],
               "ready_source": result["source"]["ready_metric"],
               "themed_floor_source": result["source"]["themed_metric"],
               "imports_before_paint": result["imports"]["metric"]}
    if not frozen:
        result["frozen"] = {"skipped": "not asked for"}
    elif not FROZEN_APP.exists():
        result["frozen"] = {"skipped": f"pending: no bundle at {FROZEN_APP.relative_to(ROOT)} "
                                       "(python build/build.py makes it)"}
        metrics["startup_frozen"] = metric(None, "ms", target=f"≤ {TARGET_RATIO}× frozen floor",
                                           note="pending: no bundle built yet")
    else:
        try:
            floor_exe = _frozen_floor()
        except (subprocess.CalledProcessError, OSError) as error:
            floor_exe = None
            result["frozen"] = {"skipped": f"the frozen floor did not build: {error}"}
        if floor_exe is not None:
            built = time.strftime("%Y-%m-%d %H:%M", time.localtime(FROZEN_APP.stat().st_mtime))
            frozen_app = [str(FROZEN_APP), "--quit-after-first-paint", "--data-dir", str(data)]
            frozen_ready = [str(FROZEN_APP), "--quit-after-paint", "--data-dir", str(data)]
            result["frozen"] = _compare(frozen_app, frozen_ready, [str(floor_exe)], runs)
            result["frozen"]["bundle_built"] = built
            metrics["startup_frozen"] = result["frozen"]["metric"]
            metrics["startup_frozen"]["note"] += f"; bundle built {built}"
            metrics["ready_frozen"] = result["frozen"]["ready_metric"]
    result["metrics"] = metrics
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
