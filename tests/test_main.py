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


def test_every_command_says_what_it_does_with_an_example() -> None:
    """`runway-desktop COMMAND --help`: a description and examples of that very command (jobs,
    resume, import, me, generate had only their usage and options)."""
    import argparse

    from runway_desktop.cli import build_parser

    def commands(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, str]]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append((f"{path} {name}".strip(), sub.format_help()))
                    found += commands(sub, f"{path} {name}")
        return found

    checked = [(name, text) for name, text in commands(build_parser()) if name != "simulator"]
    assert len(checked) == 19  # its own --help is the simulator's
    for name, text in checked:
        description = text.split("\n\n")[1]
        assert not description.startswith(("positional arguments:", "options:")), name
        examples = text.split("examples:\n", 1)[-1].split("\n\n")[0].splitlines()
        assert examples, name
        assert all(line.startswith(f"  runway-desktop {name}") for line in examples), text


def test_without_a_display_the_window_says_to_use_the_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """`runway-desktop` over SSH: Qt aborted (exit 134) listing its platform plugins and
    advising a reinstall. Now one line naming the commands, exit 2, before Qt is loaded."""
    from runway_desktop.__main__ import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main([]) == 2
    assert main(["--demo"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0].startswith("runway-desktop: there is no display to open the window on")
    assert "`runway-desktop --help` lists them" in err[0]


def test_the_simulators_help_names_the_command_typed(capsys: pytest.CaptureFixture[str]) -> None:
    """`runway-desktop simulator --help` showed 'usage: python -m runway_desktop.simulator'."""
    from runway_desktop.cli import main

    with pytest.raises(SystemExit) as done:
        main(["simulator", "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("usage: runway-desktop simulator [-h]")
