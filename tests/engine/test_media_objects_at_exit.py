"""The engine's media objects (frame reader, thumbnailer, re-encoder) are children of the
application: at the end of a run Qt may delete them before their coroutine is closed. Closing
one then raised "Internal C++ object (_Watcher) already deleted", printed at exit."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtMultimedia import QMediaRecorder

from runway_desktop.engine import thumbnails
from runway_desktop.engine.video import frames, reencode


def _ignore(*_args: object) -> None:
    pass


MAKERS: dict[str, Callable[[Path], QObject]] = {
    "frame reader": lambda _tmp: frames._Watcher(_ignore),
    "thumbnailer": lambda _tmp: thumbnails._Watcher(None, _ignore, _ignore),
    "re-encoder": lambda tmp: reencode._Encoder(tmp / "out.mp4", Fraction(24),
                                                QMediaRecorder.Quality.HighQuality),
}


@pytest.mark.parametrize("kind", MAKERS)
def test_one_already_deleted_with_the_application_is_let_go_quietly(
    qapp: object, tmp_path: Path, kind: str
) -> None:
    media = MAKERS[kind](tmp_path)
    shiboken6.delete(media)  # what the application's end does to its children
    media.dispose()  # type: ignore[attr-defined]
    assert not shiboken6.isValid(media)
