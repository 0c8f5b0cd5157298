"""A UI test that runs out of time is stopped, says where, and takes nothing down with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("timeout_probe.py")


def test_a_ui_test_out_of_time_in_a_paint_is_stopped_and_shows_where() -> None:
    # In a subprocess, as it ends the process. Before, SIGALRM's exception was swallowed in the
    # paint: the test went on and passed, its QPainter left open (in a long walk, a crash later).
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(PROBE)],
        cwd=PROBE.parents[2], env=env, capture_output=True, text=True, timeout=60,
    )
    output = run.stdout + run.stderr
    assert "active painter" not in output, output  # the paint's QPainter was left open
    assert "Error calling Python override" not in output, output  # swallowed by PySide
    assert run.returncode == 1, output  # pytest-timeout's thread method: the stacks, os._exit(1)
    assert "Timeout" in output, output
    assert "in paintEvent" in output, output  # where it was
