"""A status bar worth reading (issue 12, Deliver 6): queue counts, the output folder, live or
demo, the account."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.ui.main_window import MainWindow
from tests.ui.test_gallery import generation


def test_the_status_bar_counts_the_queue_names_the_folder_and_the_mode(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(tmp_path / "cache")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    summary = window.status_summary
    assert summary.queue_label.text() == "Nothing running · 0 done"
    window.queue.model.reset([
        generation(1, finished_at=100.0), generation(2, finished_at=200.0),
        generation(3, finished_at=300.0, stage=Stage.PROCESSING),
        generation(4, finished_at=400.0, stage=Stage.PENDING)])
    qtbot.waitUntil(lambda: summary.queue_label.text() == "1 running · 1 waiting · 2 done")
    window.queue.model.upsert(generation(3, finished_at=300.0))  # it finished
    qtbot.waitUntil(lambda: summary.queue_label.text() == "1 waiting · 3 done")

    folder = tmp_path / "Videos" / "Runway Desktop"
    summary.set_folder(folder)
    assert summary.folder_label.isVisible()
    assert "Runway Desktop</a>" in summary.folder_label.text()
    assert str(folder) in summary.folder_label.toolTip()
    asked: list[bool] = []
    summary.open_folder_requested.connect(lambda: asked.append(True))
    summary.folder_label.linkActivated.emit("open-folder")
    assert asked == [True]

    shown = {label.objectName(): label.text()
             for label in window.statusBar().findChildren(QLabel) if label.isVisible()}
    assert shown["status_mode"] == "Live"  # live is said too, not only demo
    window.set_demo(True)
    assert window.mode_label.text() == "Demo"
    assert window.mode_label.isVisible()
