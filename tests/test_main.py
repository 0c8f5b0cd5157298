"""`runway-desktop --help`: the window's options and every headless sub-command."""

from __future__ import annotations

import subprocess
import sys

from runway_desktop import COMMANDS


def test_help_lists_the_sub_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runway_desktop", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--demo" in result.stdout  # the window's own options
    listed = result.stdout.split("commands", 1)[-1]
    for command in COMMANDS:
        assert f"\n  {command} " in listed, command
    assert "make a video from a prompt" in listed  # with what each does
    assert result.stderr == ""
