"""The output folder stops taking videos while jobs run (issue 12: no dead ends, never lose a
paid generation).

The folder is a real, tiny file system (tmpfs) remounted read-only under the running window:
the jobs finish on apiframe (paid), their videos can't be written, and each row says "Can't
write to … — choose another output folder in Settings". Doing what it says must save them.
Root only (mount); skipped elsewhere with the reason.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Stage
from tests.helpers.images import make_png
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, job, scripted_server
from tests.helpers.small_disk import fill, tmpfs
from tests.ui.test_controller import click

__all__ = ["scripted_server"]  # the fixture, used by name


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


@pytest.fixture
def output_dir(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "videos", "size=16m") as folder:
        yield folder


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True,
                   capture_output=True)


def stop_on_the_folder(qtbot: QtBot, controller: Any, server: ScriptedServer,
                       folder: Path, tmp_path: Path) -> list[Any]:
    """Three jobs run; the folder turns read-only; they finish and can't be saved."""
    finish = threading.Event()

    def poll(request: Request) -> Reply | None:
        if finish.is_set():
            return None  # COMPLETED, with its video
        return Reply(json=job(request.path.rsplit("/", 1)[1], "PROCESSING", result=None,
                              progress=50))

    server.on("GET /v2/jobs/*", poll)
    window = controller.window
    model = window.queue.model
    images = [str(make_png(tmp_path, f"shot{i}.png")) for i in range(3)]
    window.compose.drop_zone.set_images(images)
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: model.rowCount() == 3 and all(
        g.stage is Stage.PROCESSING for g in model.generations()), timeout=15_000)
    remount(folder, "ro")
    finish.set()
    qtbot.waitUntil(lambda: all(g.stage is Stage.ATTENTION for g in model.generations()),
                    timeout=20_000)
    rows = model.generations()
    for row in rows:
        assert row.action is Action.CHOOSE_FOLDER
        assert "choose another output folder in Settings" in (row.error or "")
    return rows


def choose_folder_from_the_row(qtbot: QtBot, controller: Any, row: Any,
                               folder: Path | None) -> None:
    """The row's own button ("Choose folder") opens Settings; pick `folder` (None: leave the
    folder as it is) and Save."""
    controller.window.queue.action_requested.emit(row.id, row.action)
    qtbot.waitUntil(lambda: controller._dialog is not None and controller._dialog.isVisible(),
                    timeout=5_000)
    dialog = controller._dialog
    if folder is not None:
        dialog.folder_edit.setText(str(folder))
    click(qtbot, dialog, QDialogButtonBox.StandardButton.Save)


def assert_saved_once_each(qtbot: QtBot, controller: Any, server: ScriptedServer,
                           folder: Path) -> None:
    model = controller.window.queue.model
    qtbot.waitUntil(lambda: all(g.stage.is_settled for g in model.generations())
                    and all(g.stage is not Stage.ATTENTION for g in model.generations()),
                    timeout=20_000)
    for generation in model.generations():
        assert generation.stage is Stage.DONE, (generation.stage, generation.error)
        video = Path(generation.video_path or "")
        assert video.parent == folder
        assert video.is_file()
    assert len(server.seen("POST /v2/videos/generate")) == 3  # nothing paid twice
    assert len(server.jobs) == 3
    assert "unexpected" not in controller.window.banner.message.text()


@pytest.mark.expect_log_warnings(r"needs attention \(choose_folder\)")
def test_choosing_another_folder_in_settings_saves_the_videos_that_stopped_there(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    """Before: the rows kept their paths in the read-only folder, so after another folder was
    chosen nothing moved, and Retry failed again on the old folder: a dead end for three paid
    videos."""
    rows = stop_on_the_folder(qtbot, app_controller, scripted_server, output_dir, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    try:
        choose_folder_from_the_row(qtbot, app_controller, rows[0], elsewhere)
        assert_saved_once_each(qtbot, app_controller, scripted_server, elsewhere)
    finally:
        remount(output_dir, "rw")


@pytest.mark.expect_log_warnings(r"needs attention \(choose_folder\)")
def test_saving_settings_after_the_folder_is_fixed_carries_the_videos_on(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    """The person makes the folder writable again (the drive remounted) and saves Settings as
    they are: the videos go on into it. Before: Save changed nothing, nothing moved."""
    rows = stop_on_the_folder(qtbot, app_controller, scripted_server, output_dir, tmp_path)
    remount(output_dir, "rw")
    choose_folder_from_the_row(qtbot, app_controller, rows[0], None)
    assert_saved_once_each(qtbot, app_controller, scripted_server, output_dir)


@pytest.mark.expect_log_warnings(r"needs attention \(retry\): The disk is full")
def test_a_video_stopped_by_a_full_disk_is_saved_in_the_folder_chosen_in_settings(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    """The drive fills up while the job runs (a full memory card; full before Generate, it is
    said before paying: test_output_folder_before_paying): the row says the disk is full and
    where another folder is chosen, and choosing one saves the paid video there. Before: the
    row said only 'free some space …, then retry', and after another folder was chosen in
    Settings its Retry went on into the full folder, full again: a dead end."""
    finish = threading.Event()

    def poll(request: Request) -> Reply | None:
        if finish.is_set():
            return None  # COMPLETED, with its video
        return Reply(json=job(request.path.rsplit("/", 1)[1], "PROCESSING", result=None,
                              progress=50))

    scripted_server.on("GET /v2/jobs/*", poll)
    window = app_controller.window
    model = window.queue.model
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.PROCESSING, timeout=15_000)
    filler = fill(output_dir)
    finish.set()
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=20_000)
    row = model.generation_at(0)
    assert row.action is Action.RETRY
    assert f"The disk is full — free some space in {output_dir}" in (row.error or "")
    assert "or choose another output folder in Settings" in (row.error or "")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    window.settings_requested.emit()  # Settings, from the menu: the row's own fix is Retry
    qtbot.waitUntil(lambda: app_controller._dialog is not None
                    and app_controller._dialog.isVisible(), timeout=5_000)
    app_controller._dialog.folder_edit.setText(str(elsewhere))
    click(qtbot, app_controller._dialog, QDialogButtonBox.StandardButton.Save)
    qtbot.waitUntil(lambda: model.generation_at(0).stage is not Stage.ATTENTION
                    and model.generation_at(0).stage.is_settled, timeout=20_000)
    done = model.generation_at(0)
    assert done.stage is Stage.DONE, (done.stage, done.error)
    assert Path(done.video_path or "").parent == elsewhere
    assert sorted(p.name for p in output_dir.iterdir()) == [filler.name]  # no part left
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1  # paid once
