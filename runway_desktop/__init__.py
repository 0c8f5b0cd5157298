"""Runway Desktop: image + prompt → Runway Gen-4 Turbo video, through the apiframe v2 API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runway-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

APP_NAME = "Runway Desktop"
APP_ID = "runway-desktop"
