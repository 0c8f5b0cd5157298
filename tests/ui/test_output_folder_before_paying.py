"""Generate with an output folder that can't take the video (gone with its drive, a file in
its place, read-only, full) says so before anything is paid, as `generate --out` does, and
works again as soon as the folder is put right. Before: the job was sent and charged, and
only the finished video stopped, asking for another folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from runway_desktop.ui.output_folder_gate import OUTPUT_FOLDER
from tests.helpers.images import make_png
from tests.helpers.scripted_server import ScriptedServer, scripted_server
from tests.helpers.small_disk import fill, tmpfs
from tests.ui.test_controller import click
from tests.ui.test_output_folder_faults import remount

__all__ = ["scripted_server"]  # the fixture, used by name

GENERATE = "POST /v2/videos/generate"


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


@pytest.fixture
def output_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """The chosen folder is on a "USB drive": unplugged, the drive's folder goes with it; or,
    asked for ("tiny"), a real 4 MB file system (tmpfs: root only, skipped elsewhere)."""
    if getattr(request, "param", None) == "tiny":
        with tmpfs(tmp_path / "card", "size=4m") as folder:
            yield folder
        return
    folder = tmp_path / "usb" / "videos"
    folder.mkdir(parents=True)
    yield folder


def press_generate(qtbot: QtBot, window: Any) -> None:
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    qtbot.mouseClick(window.compose.generate_button, Qt.MouseButton.LeftButton)


def assert_refused(qtbot: QtBot, controller: Any, server: ScriptedServer, rows: int, paid: int,
                   *words: str) -> None:
    """The banner says what is wrong with the folder; nothing new journaled, nothing sent."""
    window = controller.window
    banner = window.banner
    qtbot.waitUntil(lambda: banner.shown_key() == OUTPUT_FOLDER
                    and all(w in banner.message.text() for w in words), timeout=10_000)
    assert "Nothing was sent" in banner.message.text()
    assert banner.button.text() == "Choose folder…"
    assert window.queue.model.rowCount() == rows
    assert len(controller.window._service.generations()) == rows  # none journaled
    assert len(server.seen(GENERATE)) == paid
    assert window.compose.prompt_edit.toPlainText() == "a lighthouse in fog"  # all still there
    assert len(window.compose.drop_zone.images()) == 1


# The drive unplugged under the preview opening the video in it: FFmpeg says so (a real fault).
@pytest.mark.qt_log_ignore(r"Could not open media")
def test_generate_and_rerun_refuse_an_unusable_folder_before_paying_and_work_once_it_is_fixed(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    window = app_controller.window
    model = window.queue.model
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    drive = output_dir.parent

    shutil.rmtree(drive)  # the drive unplugged
    press_generate(qtbot, window)
    assert_refused(qtbot, app_controller, scripted_server, 0, 0, str(output_dir),
                   "isn't there", "Reconnect the drive")

    drive.mkdir()
    output_dir.write_bytes(b"not a folder")  # a file where the folder was
    press_generate(qtbot, window)
    assert_refused(qtbot, app_controller, scripted_server, 0, 0, str(output_dir),
                   "is a file, not a folder")

    output_dir.unlink()
    output_dir.mkdir()  # put right: the next press works, no stale verdict
    press_generate(qtbot, window)
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert window.banner.shown_key() != OUTPUT_FOLDER
    assert len(scripted_server.seen(GENERATE)) == 1
    done = model.generation_at(0)
    assert Path(done.video_path or "").parent == output_dir

    shutil.rmtree(drive)  # unplugged again: Re-run with New Seed is refused too
    window.queue.rerun_requested.emit(done.id)
    assert_refused(qtbot, app_controller, scripted_server, 1, 1, "isn't there")

    # The banner's button opens Settings; another folder chosen and saved: Generate works.
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app_controller._dialog is not None
                    and app_controller._dialog.isVisible(), timeout=5_000)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    app_controller._dialog.folder_edit.setText(str(elsewhere))
    click(qtbot, app_controller._dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: window.banner.shown_key() != OUTPUT_FOLDER, timeout=10_000)
    press_generate(qtbot, app_controller.window)
    qtbot.waitUntil(lambda: model.rowCount() == 2
                    and model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert Path(model.generation_at(0).video_path or "").parent == elsewhere
    assert len(scripted_server.seen(GENERATE)) == 2


@pytest.mark.parametrize("output_dir", ["tiny"], indirect=True)
def test_a_full_or_read_only_drive_is_said_before_paying(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    """A real tiny file system (tmpfs, root only): filled, then remounted read-only."""
    window = app_controller.window
    model = window.queue.model
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")

    filler = fill(output_dir)
    window.compose._on_generate_keys()  # Ctrl+Enter
    assert_refused(qtbot, app_controller, scripted_server, 0, 0, str(output_dir), "is full",
                   "Free some space")
    filler.unlink()
    remount(output_dir, "ro")
    try:
        press_generate(qtbot, window)
        assert_refused(qtbot, app_controller, scripted_server, 0, 0, str(output_dir),
                       "Can't write to the output folder", "Read-only file system")
    finally:
        remount(output_dir, "rw")
    press_generate(qtbot, window)
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    assert Path(model.generation_at(0).video_path or "").parent == output_dir
    assert len(scripted_server.seen(GENERATE)) == 1


# The drive unplugged under the preview opening the video in it: FFmpeg says so (a real fault).
@pytest.mark.qt_log_ignore(r"Could not open media")
def test_a_sequences_run_new_take_and_extension_refuse_an_unusable_folder_before_paying(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    from tests.ui.test_sequence_window import open_view, plan_in_view

    window = app_controller.window
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    view = open_view(qtbot, window)
    plan_in_view(view, "dawn\nday")
    drive = output_dir.parent
    shutil.rmtree(drive)  # the drive unplugged

    view.run_button.click()
    qtbot.waitUntil(lambda: "isn't there" in view.status.text(), timeout=10_000)
    assert str(output_dir) in view.status.text()
    assert "Nothing was sent" in view.status.text()
    qtbot.waitUntil(view.run_button.isEnabled, timeout=10_000)  # it can run again
    assert scripted_server.seen(GENERATE) == []
    assert window._service.generations() == []  # nothing journaled

    output_dir.mkdir(parents=True)  # reconnected: Run works at once
    view.run_button.click()
    qtbot.waitUntil(lambda: len(window._service.generations()) == 2
                    and all(g.stage is Stage.DONE for g in window._service.generations()),
                    timeout=30_000)
    assert len(scripted_server.seen(GENERATE)) == 2

    shutil.rmtree(drive)
    view.shot_list.setCurrentRow(0)
    qtbot.waitUntil(view.take_button.isEnabled, timeout=10_000)
    view.take_button.click()  # a new take of shot 1 (paid)
    qtbot.waitUntil(lambda: "isn't there" in view.status.text(), timeout=10_000)
    view.next_prompt.setText("dusk")
    view.extend_from_end()
    qtbot.waitUntil(lambda: "isn't there" in view.status.text()
                    and view.next_prompt.text() == "dusk", timeout=10_000)
    assert len(scripted_server.seen(GENERATE)) == 2
    assert len(window._service.generations()) == 2
