"""`runway-desktop --help`: the window's options and every headless sub-command."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def test_a_mistyped_command_is_named_with_the_likely_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`runway-desktop genrate …` went to the window's parser: 'unrecognized arguments: genrate'
    under the window's options, with no word of the commands."""
    from runway_desktop.__main__ import main

    assert main(["genrate", "a kite"]) == 2
    assert main(["--data-dir", "/nowhere", "jbos"]) == 2
    first, second = capsys.readouterr().err.splitlines()
    assert first.startswith("runway-desktop: there is no command 'genrate'. Did you mean "
                            "`runway-desktop generate`? The commands are generate, jobs,")
    assert "there is no command 'jbos'. Did you mean `runway-desktop jobs`?" in second
    assert "Traceback" not in first + second
