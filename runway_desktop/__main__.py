"""`runway-desktop` and `python -m runway_desktop`: the window, or a headless sub-command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from runway_desktop import COMMANDS  # not from cli: that would load the engine and httpx

    if (args and args[0] in COMMANDS) or (args and args[0] == "--data-dir" and len(args) > 2
                                        and args[2] in COMMANDS):
        from runway_desktop.cli import main as cli_main

        return cli_main(args)
    from runway_desktop.app import main as app_main

    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
