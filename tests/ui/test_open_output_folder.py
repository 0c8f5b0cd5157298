"""Opening the output folder (the status bar's "Saving to" link, File ▸ Open output folder) as a
creator meets it: it opens; a chosen folder on a drive since unplugged is said, with the way to
choose another, and never made on the wrong disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    """The videos go to a folder on a drive of their own (`tmp_path/drive`)."""
    path = tmp_path / "drive" / "Videos"
    path.mkdir(parents=True)
    return path


class _Desktop(QObject):
    """Where QDesktopServices sends file:// links here: it records them."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toLocalFile())


@pytest.fixture
def desktop() -> Iterator[_Desktop]:
    opener = _Desktop()
    QDesktopServices.setUrlHandler("file", opener, "open")  # type: ignore[arg-type]
    try:
        yield opener
    finally:
        QDesktopServices.unsetUrlHandler("file")


def banner_words(window: Any) -> str:
    return " ".join(label.text() for label in window.banner.findChildren(QLabel)
                    if label.isVisible())


def test_saving_to_opens_the_folder_and_an_unplugged_drive_is_said_not_made(
        qtbot: QtBot, app_controller: Any, output_dir: Path, desktop: _Desktop) -> None:
    window = app_controller.window
    link = window.status_summary.folder_label
    link.linkActivated.emit("open-folder")
    assert desktop.opened == [str(output_dir)]

    # The drive is unplugged: the link says so (it raised NotADirectoryError or
    # FileNotFoundError into "Something unexpected went wrong", or made the folder, parents
    # and all, where the drive's mount point was).
    shutil.rmtree(output_dir.parent)
    link.linkActivated.emit("open-folder")
    qtbot.waitUntil(lambda: "isn't there" in banner_words(window), timeout=5_000)
    assert str(output_dir) in banner_words(window)
    assert desktop.opened == [str(output_dir)]  # nothing more was opened
    assert not output_dir.parent.exists()
    choose = next(b for b in window.banner.findChildren(QPushButton)
                  if b.isVisible() and "Choose folder" in b.text())
    qtbot.mouseClick(choose, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app_controller._dialog is not None
                    and app_controller._dialog.isVisible(), timeout=5_000)
    app_controller._dialog.reject()

    output_dir.mkdir(parents=True)  # plugged back in: it opens, and the banner is over
    link.linkActivated.emit("open-folder")
    assert desktop.opened == [str(output_dir)] * 2
    assert "isn't there" not in banner_words(window)
