"""The output folder deleted while a video downloads into it (issue 12: no dead ends, never lose
a paid generation): the row asks for a folder, and saving Settings saves the video."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Stage
from tests.helpers.images import make_png
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, scripted_server
from tests.ui.test_output_folder_faults import choose_folder_from_the_row

__all__ = ["scripted_server"]  # the fixture, used by name


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


@pytest.mark.expect_log_warnings(r"needs attention \(choose_folder\)")
def test_a_folder_deleted_mid_download_is_made_again_when_settings_are_saved(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, output_dir: Path,
    tmp_path: Path
) -> None:
    """Before: the row kept its path in the deleted folder, so Save (and Retry) met the
    missing folder again and again: the paid video could not be saved."""
    video = scripted_server.video
    half_sent = threading.Event()
    go_on = threading.Event()

    def first_half_then_wait() -> Iterator[bytes]:
        yield video[: len(video) // 2]
        half_sent.set()
        go_on.wait(10)
        yield video[len(video) // 2:]

    def cdn(request: Request) -> Reply | None:
        if request.headers.get("range") or half_sent.is_set():
            return None  # the default answer, resumable
        return Reply(200, headers={"Content-Type": "video/mp4",
                                   "Content-Length": str(len(video))},
                     chunks=first_half_then_wait)

    scripted_server.on("GET /cdn/*", cdn)
    window = app_controller.window
    model = window.queue.model
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(half_sent.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: any(output_dir.glob("*.part")), timeout=10_000)
    shutil.rmtree(output_dir)  # the person tidies up the wrong folder
    go_on.set()
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=20_000)
    row = model.generation_at(0)
    assert row.action is Action.CHOOSE_FOLDER
    choose_folder_from_the_row(qtbot, app_controller, row, None)  # Save, the folder as it was
    qtbot.waitUntil(lambda: model.generation_at(0).stage.is_settled
                    and model.generation_at(0).stage is not Stage.ATTENTION, timeout=20_000)
    done = model.generation_at(0)
    assert done.stage is Stage.DONE, (done.stage, done.error)
    assert Path(done.video_path or "").parent == output_dir
    assert Path(done.video_path or "").is_file()
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1  # paid once
