"""What the window shows of the engine's conditions against a misbehaving apiframe (issue 10 §6):
a rate-limit wait counting down, and a job taking unusually long."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from runway_desktop import paths
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.ui.banner import Banner
from runway_desktop.ui.queue_model import Roles
from tests.helpers.scripted_server import Reply, ScriptedServer, job, scripted_server

__all__ = ["scripted_server"]  # the fixture, used by name

GENERATE = "POST /v2/videos/generate"
SLOW_JOB = "3f1c2a4e-0000-4000-8000-00000000510e"


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


def generate(qtbot: QtBot, window: Any, prompt: str) -> None:
    compose = window.compose
    compose.prompt_edit.setPlainText(prompt)
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


# -- 5. A rate-limit wait, counted down ----------------------------------------------------------

def test_the_banner_counts_a_rate_limit_wait_down_to_the_end(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer
) -> None:
    scripted_server.script(GENERATE, Reply(429, json={"error": "Too many requests"},
                                           headers={"Retry-After": "3"}))
    window = app_controller.window
    generate(qtbot, window, "a heron lifting off")
    banner = window.banner
    qtbot.waitUntil(lambda: "retrying in" in banner.message.text(), timeout=10_000)
    assert banner.message.text().startswith("apiframe asked to wait — retrying in 0:0")
    assert banner.countdown.isActive()
    # It ends by itself: the wait is over, the submit goes through, the banner goes.
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=15_000)
    assert not banner.countdown.isActive()
    assert len(scripted_server.seen(GENERATE)) == 2


def test_a_countdown_reads_minutes_and_seconds_and_stops_at_the_end(qtbot: QtBot) -> None:
    banner = Banner()
    qtbot.addWidget(banner)
    now = [1_000_000.0]
    banner.clock = lambda: now[0]
    banner.show_message("Details.", None, until=now[0] + 272, lead="Retrying in {0}.",
                        lead_done="Retrying now.")
    assert banner.message.text() == "Retrying in 4:32. Details."
    assert banner.countdown.isActive()
    now[0] += 61.5
    banner.countdown.timeout.emit()
    assert banner.message.text() == "Retrying in 3:31. Details."
    now[0] += 300
    banner.countdown.timeout.emit()
    assert banner.message.text() == "Retrying now. Details."
    assert not banner.countdown.isActive()
    banner.show_message("Plain.")  # a message without a wait shows as it is
    assert banner.message.text() == "Plain."
    assert not banner.countdown.isActive()


# -- 6. Taking unusually long: the row says so, its actions stay -----------------------------------

@pytest.fixture
def before_app_start(scripted_server: ScriptedServer) -> Any:
    """A job sent an hour ago and still processing on the server."""
    scripted_server.jobs[SLOW_JOB] = job(SLOW_JOB, "PROCESSING", result=None, progress=40)
    scripted_server.on("GET /v2/jobs/*", lambda request: Reply(
        json=job(SLOW_JOB, "PROCESSING", result=None, progress=40))
        if request.path.endswith(SLOW_JOB) else None)

    def seed(data_dir: Path) -> None:
        journal = Journal(paths.journal_path(data_dir))
        journal.add(GenerationSettings("a very slow glacier", seed=3), stage=Stage.PROCESSING,
                    job_id=SLOW_JOB, credit_cost=8, submitted_at=time.time() - 3600,
                    progress=40)
        journal.close()

    return seed


class _RecordingPainter(QPainter):
    """Paints for real, and keeps every text it was asked to draw."""

    def __init__(self, device: QImage) -> None:
        super().__init__(device)
        self.texts: list[str] = []

    def drawText(self, *args: Any) -> None:  # type: ignore[override]
        self.texts.extend(a for a in args if isinstance(a, str))
        super().drawText(*args)


def test_a_job_taking_unusually_long_says_so_on_its_row_with_its_actions(
    qtbot: QtBot, app_controller: Any
) -> None:
    window = app_controller.window
    model = window.queue.model
    (row,) = model.generations()
    qtbot.waitUntil(lambda: "unusually long" in (model.note(row.id) or ""), timeout=10_000)
    index = model.index(model.row_of(row.id))
    assert "unusually long" in index.data(Roles.NoteRole)
    assert "unusually long" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert "unusually long" in index.data(Qt.ItemDataRole.AccessibleTextRole)

    delegate = window.queue.list_view.itemDelegate()
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 900, delegate.sizeHint(option, index).height())
    option.font = window.queue.list_view.font()
    option.palette = window.queue.list_view.palette()
    image = QImage(QSize(900, option.rect.height()), QImage.Format.Format_ARGB32)
    painter = _RecordingPainter(image)
    try:
        delegate.paint(painter, option, index)
    finally:
        painter.end()
    assert any("unusually long" in text for text in painter.texts), painter.texts

    menu = window.queue.build_context_menu(model.generation(row.id))
    enabled = {a.objectName() for a in menu.actions() if a.isEnabled()}
    menu.deleteLater()
    assert "stop_following" in enabled  # the way out is still there
