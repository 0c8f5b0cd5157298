"""Runway Desktop: image + prompt → Runway Gen-4 Turbo video, through the apiframe v2 API."""

from __future__ import annotations

from typing import Any

APP_NAME = "Runway Desktop"
APP_ID = "runway-desktop"
# The headless sub-commands (runway_desktop.cli). Here, not in cli.py, so that `__main__` can
# tell a command from the window without importing the engine and httpx before the first paint.
COMMANDS = ("generate", "jobs", "resume", "me", "simulator", "import", "reset-history",
            "export", "extend", "sequence", "cancel", "remove", "retry")


def __getattr__(name: str) -> Any:
    """`__version__`, read from the package metadata on first use: importlib.metadata costs
    ~20 ms, which the window's first paint (startup benchmark) does not need to wait for."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("runway-desktop")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
