"""No dead ends (issue 12, defect 8): a job apiframe no longer knows is not offered a Retry that
can only fail again, and a start image too large for Qt's image limit still shows a preview.

The window and engine run against the misbehaving scripted server (its first job is "gone": every
poll of it answers 404, as for a job deleted on apiframe or made with another account's key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Action, Stage
from runway_desktop.ui import queue_text
from tests.helpers.scripted_server import Reply, ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # the fixture, used below by name


@pytest.fixture
def gone(scripted_server: ScriptedServer) -> set[str]:
    """Job ids apiframe answers 404 for: the first job polled, and no other."""
    ids: set[str] = set()

    def answer(request: Any) -> Reply | None:
        job_id = request.path.rsplit("/", 1)[1]
        if not ids:
            ids.add(job_id)
        return Reply(404, json={"error": "Job not found"}) if job_id in ids else None

    scripted_server.on("GET /v2/jobs/*", answer)
    return ids


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer, gone: set[str]) -> str:
    return scripted_server.base_url


def menu_entry(window: Any, generation_id: int, name: str) -> Any:
    generation = window.queue.model.generation(generation_id)
    menu = window.queue.build_context_menu(generation, [generation])
    try:
        return next(a for a in menu.actions() if a.objectName() == name)
    finally:
        menu.deleteLater()


@pytest.mark.expect_log_warnings(r"needs attention \(run_again\)")
def test_a_job_apiframe_has_no_more_offers_run_again_not_a_retry_that_fails(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, gone: set[str]
) -> None:
    """Before: the row said "apiframe has no such job" and offered Retry, which polled the same
    job again and met the same 404."""
    window = app_controller.window
    window.compose.prompt_edit.setPlainText("a kite")
    window.compose.seed_edit.setText("4242")
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.ATTENTION, timeout=10_000)
    lost = model.generation_at(0)
    assert "no such job" in (lost.error or "")
    assert "Run it again" in (lost.error or "")  # the row says what to do
    assert lost.action is Action.RUN_AGAIN
    assert queue_text.action_text(lost.action) == "Run again"
    assert not menu_entry(window, lost.id, "retry").isEnabled()
    assert menu_entry(window, lost.id, "remove").isEnabled()
    polls = len(scripted_server.seen("GET /v2/jobs/*"))
    app_controller.engine.retry(lost.id)  # the lifecycle table refuses it too (the CLI's way)

    # The row's own button: a new job with the same settings (the seed too); the lost row stays
    # until the person removes it.
    window.queue.action_requested.emit(lost.id, lost.action)
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5_000)
    again = next(g for g in model.generations() if g.id != lost.id)
    assert again.settings == lost.settings
    assert [g.id for g in window.queue.selected_generations()] == [again.id]
    qtbot.waitUntil(lambda: model.generation(again.id).stage is Stage.DONE, timeout=20_000)
    assert Path(model.generation(again.id).video_path).is_file()
    assert model.generation(lost.id).stage is Stage.ATTENTION
    assert [r for r in scripted_server.seen("GET /v2/jobs/*")[polls:]
            if r.path.endswith(next(iter(gone)))] == []  # the gone job was not asked again
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 2
    assert not window.banner.isVisible()



def test_a_png_over_qts_image_limit_shows_a_scaled_preview_not_an_error(
    qtbot: QtBot, tmp_path: Path, qt_image_limit_mb: int
) -> None:
    """Before: Qt decoded the whole PNG before scaling it (its PNG reader can't decode scaled)
    and refused it over the allocation limit ("Rejecting image as it exceeds the current
    allocation limit", a warning; at 5ca3b5d "The image preview could not be decoded" under an
    empty box). The picture itself is fine: its preview comes from a bounded decode."""
    from PIL import Image

    from runway_desktop.ui.drop_zone import PREVIEW_EDGE, DropZone
    from tests.ui.dnd import drop_files

    big = tmp_path / "poster.png"
    Image.new("RGB", (3000, 3000), (200, 80, 40)).save(big)
    assert qt_image_limit_mb * 1024 * 1024 < 3000 * 3000 * 4  # over the limit
    zone = DropZone(tmp_path / "cache")
    qtbot.addWidget(zone)
    zone.resize(420, 320)
    zone.show()
    assert drop_files(zone, [big])
    assert zone.images() == [str(big)]
    assert zone.size_label.text() == "3000 × 3000"
    qtbot.waitUntil(zone.preview_ready, timeout=30_000)
    assert zone.message() == ""
    assert zone.canvas.image is not None
    assert max(zone.canvas.image.width(), zone.canvas.image.height()) == PREVIEW_EDGE
    assert zone.canvas.image.pixelColor(10, 10).red() > 150  # the picture, not a blank


@pytest.mark.parametrize("how", ["open", "reveal", "output folder"])
def test_open_and_reveal_say_so_when_nothing_can_open_and_offer_copy_path(
    qtbot: QtBot, app_controller: Any, gone: set[str], monkeypatch: pytest.MonkeyPatch,
    how: str
) -> None:
    """Before: Open File, Reveal in Folder and Open output folder did nothing at all where no
    launcher (file manager, player) exists."""
    gone.add("no-job-here")  # every job of this test is known to apiframe
    from PySide6.QtGui import QAction, QGuiApplication
    from PySide6.QtWidgets import QMessageBox

    from runway_desktop.ui import links

    asked: list[str] = []

    def open_nothing(path: str) -> bool:  # no launcher on this machine
        asked.append(path)
        return False

    monkeypatch.setattr(links, "open_local", open_nothing)
    window = app_controller.window
    window.compose.prompt_edit.setPlainText("a kite")
    window.compose.generate()
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    video = Path(model.generation_at(0).video_path)
    if how == "open":
        window.queue.open_requested.emit(model.generation_at(0).id)
        expected = video
    elif how == "reveal":
        window.queue.reveal_requested.emit(model.generation_at(0).id)
        expected = video.parent
    else:
        next(a for a in window.findChildren(QAction)
             if a.text() == "Open &output folder").trigger()
        expected = app_controller.engine.config.output_dir
    assert asked == [str(expected)]
    box = window.findChild(QMessageBox, "path_box")
    assert box is not None
    assert box.isVisible()
    assert str(expected) in box.informativeText()
    copy = next(b for b in box.buttons() if b.text() == "Copy path")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == str(expected)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
