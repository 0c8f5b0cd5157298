"""Whether QtMultimedia can decode video at all here, asked before waiting for a picture.

Without a backend (the FFmpeg plugin missing from a bundle, or a library it needs absent from
the system) QMediaPlayer only logs "Not available" and never delivers a frame: each thumbnail
and last frame then waited its full timeout (10–20 s) before failing.
"""

from __future__ import annotations

from PySide6.QtMultimedia import QMediaPlayer

NO_BACKEND = ("this system has no video decoder for Qt (QtMultimedia found no backend: its "
              "FFmpeg plugin or a library it needs is missing); reinstalling the app should "
              "bring it back")


def unavailable_reason(player: QMediaPlayer) -> str | None:
    """Why `player` can't decode anything, or None if it can."""
    if not player.isAvailable():
        return NO_BACKEND
    return None
