"""SamePictureCheck: whether the file at a path is still the picture recorded, asked off the GUI
thread, only the latest question answered."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QThreadPool
from pytestqt.qtbot import QtBot

from runway_desktop.ui.picture_check import SamePictureCheck


def test_the_same_another_and_an_unreadable_picture(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "start.png"
    path.write_bytes(b"the picture")
    recorded = hashlib.sha256(b"the picture").hexdigest()
    check = SamePictureCheck()
    answers: list[tuple[str, object]] = []
    check.checked.connect(lambda where, same: answers.append((where, same)))

    for expected in (True, False, None):
        if expected is False:
            path.write_bytes(b"another picture")
        elif expected is None:
            path.unlink()
        check.start(str(path), recorded)
        assert check.pending()
        qtbot.waitUntil(lambda: not check.pending(), timeout=5_000)
        assert answers.pop() == (str(path), expected)


def test_only_the_latest_question_is_answered(qtbot: QtBot, tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    check = SamePictureCheck()
    answers: list[tuple[str, object]] = []
    check.checked.connect(lambda where, same: answers.append((where, same)))

    check.start(str(first), hashlib.sha256(b"a").hexdigest())
    check.start(str(second), hashlib.sha256(b"b").hexdigest())
    qtbot.waitUntil(lambda: not check.pending(), timeout=5_000)
    check.start(str(first), hashlib.sha256(b"a").hexdigest())
    check.cancel()
    assert not check.pending()
    QThreadPool.globalInstance().waitForDone()  # the cancelled answer is on its way…
    QCoreApplication.processEvents()  # …arrives, and is dropped
    assert answers == [(str(second), True)]
