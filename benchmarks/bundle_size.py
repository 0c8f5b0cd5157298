"""The frozen app's size next to a minimal PySide6 + QtMultimedia window bundled the same way.

Builds (or takes, with --app-dir) the app's onedir bundle, builds a minimal script - a
QMainWindow plus a QMediaPlayer - with the same spec, the same excludes, the same pruning and the
same stripping (build/bundling.py), and reports both sizes and their ratio. Fails (exit 1) when
the ratio is over `max_ratio_to_minimal` in build/size_budget.json (1.2).

    python benchmarks/bundle_size.py                      # build both (~40 s on 2 cores)
    python benchmarks/bundle_size.py --app-dir build/dist/runway-desktop   # reuse an app build
    python benchmarks/bundle_size.py --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "build"))
import bundling

ROOT = bundling.ROOT
MB = 1024 * 1024
BENCH_WORK = bundling.WORK / "bench"
BENCH_DIST = bundling.DIST / "bench"
MINIMAL_APP = '''"""A minimal PySide6 + QtMultimedia window: the size benchmark's yardstick."""
import sys

from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv)
window = QMainWindow()
player = QMediaPlayer(window)
window.show()
sys.exit(0 if "--quit" in sys.argv else app.exec())
'''


def build_minimal() -> tuple[Path, float]:
    BENCH_WORK.mkdir(parents=True, exist_ok=True)
    script = BENCH_WORK / "minimal_app.py"
    script.write_text(MINIMAL_APP, encoding="utf-8")
    started = time.monotonic()
    bundling.run_pyinstaller(distpath=BENCH_DIST, workpath=BENCH_WORK / "pyinstaller",
                             minimal_script=script)
    folder = BENCH_DIST / "minimal-qt-app"
    bundling.strip_python_debug_info(folder)
    seconds = time.monotonic() - started
    # It must also run: a bundle that is small because it is broken proves nothing.
    exe = folder / ("minimal-qt-app.exe" if bundling.platform_key() == "win32"
                    else "minimal-qt-app")
    env = {**bundling.child_env(), "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([str(exe), "--quit"], check=True, env=env, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder, seconds


def build_app() -> tuple[Path, float]:
    started = time.monotonic()
    subprocess.run([sys.executable, str(bundling.BUILD / "build.py"), "--skip-icons",
                    "--skip-package"], check=True, cwd=ROOT)
    return bundling.DIST / bundling.EXE_NAME, time.monotonic() - started


def measure(app_dir: Path | None = None) -> dict[str, Any]:
    """Sizes, ratio and build times; builds what isn't given."""
    app_seconds = None
    if app_dir is None:
        app_dir, app_seconds = build_app()
    minimal_dir, minimal_seconds = build_minimal()
    app_bytes = bundling.tree_size(app_dir)
    minimal_bytes = bundling.tree_size(minimal_dir)
    budget = json.loads((bundling.BUILD / "size_budget.json").read_text(encoding="utf-8"))
    return {
        "platform": sys.platform,
        "app_dir": str(app_dir),
        "app_bytes": app_bytes,
        "minimal_dir": str(minimal_dir),
        "minimal_bytes": minimal_bytes,
        "ratio": round(app_bytes / minimal_bytes, 3),
        "max_ratio": budget["max_ratio_to_minimal"],
        "app_build_seconds": None if app_seconds is None else round(app_seconds, 1),
        "minimal_build_seconds": round(minimal_seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app-dir", type=Path, help="an existing app bundle (skip its build)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    result = measure(args.app_dir)
    print(f"app      {result['app_bytes'] / MB:7.1f} MB  {result['app_dir']}")
    print(f"minimal  {result['minimal_bytes'] / MB:7.1f} MB  {result['minimal_dir']}")
    print(f"ratio    {result['ratio']:.3f} (budget {result['max_ratio']})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if float(result["ratio"]) <= float(result["max_ratio"]) else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
