"""`runway-desktop` and `python -m runway_desktop`: the window, or a headless sub-command."""

from __future__ import annotations

import argparse
import contextlib
import sys
import textwrap


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        return print_help()
    from runway_desktop import COMMANDS  # not from cli: that would load the engine and httpx

    word = _first_word(args)
    if word in COMMANDS:
        from runway_desktop.cli import main as cli_main

        return cli_main(args)
    if word is not None:  # the window takes no words: a command mistyped (`genrate`)
        return unknown_command(word, COMMANDS)
    if _no_display(args):
        return 2
    from runway_desktop.app import main as app_main

    return app_main(args)


_VALUE_OPTIONS = ("--data-dir", "--demo-seconds-per-job")  # options followed by their value


def _first_word(args: list[str]) -> str | None:
    """The first argument that is neither an option nor an option's value: the command."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _no_display(args: list[str]) -> bool:
    """Linux without a display (over SSH, a server): say so and point at the commands. Qt
    aborted with its plugin list and 'Reinstalling the application may fix this problem'."""
    import os

    if not sys.platform.startswith("linux") or any(
            os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return False
    if any(arg.startswith(("--version", "--self-test")) for arg in args):
        return False  # neither opens a window
    print("runway-desktop: there is no display to open the window on (DISPLAY and "
          "WAYLAND_DISPLAY are unset, as over SSH). The commands work without one: "
          "`runway-desktop --help` lists them, e.g. `runway-desktop generate \"…\" --image "
          "photo.jpg`.", file=sys.stderr)
    return True


def unknown_command(word: str, commands: tuple[str, ...]) -> int:
    """One line: what was not understood, the likely command, and every command (exit 2)."""
    import difflib

    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    guess = f" Did you mean `runway-desktop {close[0]}`?" if close else ""
    print(f"runway-desktop: there is no command {word!r}.{guess} The commands are "
          f"{', '.join(commands)}; `runway-desktop --help` says what each does (without a "
          "command, the window opens).", file=sys.stderr)
    return 2


def print_help() -> int:
    """The window's options, then every sub-command with what it does."""
    from runway_desktop.app import parse_args
    from runway_desktop.cli_parser import build_parser

    with contextlib.suppress(SystemExit):  # argparse prints the help, then exits
        parse_args(["--help"])
    print()
    print(commands_help(build_parser()))
    return 0


def commands_help(parser: argparse.ArgumentParser) -> str:
    subparsers = next(
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    )
    lines = ["commands (headless; `runway-desktop COMMAND --help` for the options of each):"]
    width = max(len(choice.dest) for choice in subparsers._choices_actions) + 2
    for choice in subparsers._choices_actions:
        lines.append(f"  {choice.dest:<{width}}{choice.help}")
    lines += ["", textwrap.fill(parser.epilog or "", width=79)]  # cli_parser.EXIT_CODES_HELP
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
