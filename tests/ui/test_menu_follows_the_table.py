"""The window's menus are the lifecycle table's answer, in every stage, and a generation stuck in
SUBMITTING or DOWNLOADING has a way out in the window (the real window, engine and a server
whose POST or video never answers)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.lifecycle_table import Command, Stage, allowed_commands
from runway_desktop.engine.records import Action, Generation, GenerationSettings
from runway_desktop.ui.queue_view import ACTIONS, QueueView
from tests.helpers.scripted_server import Reply, ScriptedServer, scripted_server

__all__ = ["scripted_server"]  # the fixture, used below by name

# What a person does elsewhere than the row's menu: the CLI's --out.
NOT_IN_THE_MENU = {Command.SET_OUTPUT_FOLDER}


def rows() -> Iterator[Generation]:
    """Every stage, with the facts that change what it allows (a job, a refund, a link, a
    file that exists or not, the fix a problem asks for)."""
    base = Generation(1, GenerationSettings("a kite"), "key-1", Stage.PENDING, 0.0, 0.0)
    for stage, job, cost, url, path, action in itertools.product(
        Stage, (None, "job-1"), (None, 8, 0), (None, "https://cdn.example/v.mp4"),
        (None, "/nowhere/v.mp4", __file__), (None, Action.RETRY),
    ):
        yield dataclasses.replace(base, stage=stage, job_id=job, credit_cost=cost,
                                  video_url=url, video_path=path, action=action)


@pytest.fixture
def view(qtbot: QtBot) -> QueueView:
    widget = QueueView()
    qtbot.addWidget(widget)
    return widget


def test_every_person_command_has_a_menu_entry() -> None:
    assert {spec.command for spec in ACTIONS} == set(Command) - NOT_IN_THE_MENU
    assert len({spec.command for spec in ACTIONS}) == len(ACTIONS)


def test_the_menu_of_every_stage_is_the_tables_answer(view: QueueView) -> None:
    checked = 0
    for generation in rows():
        menu = view.build_context_menu(generation)
        enabled = {a.objectName() for a in menu.actions() if a.isEnabled() and a.objectName()}
        allowed = allowed_commands(generation) - NOT_IN_THE_MENU
        assert enabled == {s.name for s in ACTIONS if s.command in allowed}, generation
        assert enabled, f"no way out of {generation.stage}"
        menu.deleteLater()
        checked += 1
    assert checked > 500


def test_keyboard_shortcuts_follow_the_table_too(view: QueueView, qtbot: QtBot) -> None:
    submitting = Generation(1, GenerationSettings("a kite"), "key-1", Stage.SUBMITTING, 0.0, 0.0)
    view.model.reset([submitting])
    view.select_generation(1)
    qtbot.waitUntil(lambda: view.current_generation() is not None)
    view._update_shortcut_actions()
    enabled = {name for name, a in view.shortcut_actions.items() if a.isEnabled()}
    shortcut_specs = {s.name: s.command for s in ACTIONS if s.shortcuts}
    assert enabled == {name for name, c in shortcut_specs.items()
                       if c in allowed_commands(submitting)}
    assert "remove" in enabled  # Delete works on a row whose POST never came back


# -- the real window ----------------------------------------------------------------------------


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


def _stop_following_from_the_menu(qtbot: QtBot, window: Any, generation_id: int) -> None:
    row = window.queue.model.generation(generation_id)
    menu = window.queue.build_context_menu(row)
    actions = {a.objectName(): a for a in menu.actions()}
    assert actions["stop_following"].isEnabled()
    assert actions["remove"].isEnabled()
    assert not actions["cancel"].isEnabled()  # the POST may have left: not "nothing charged"
    actions["stop_following"].trigger()
    menu.deleteLater()
    box: list[QMessageBox] = []

    def asked() -> bool:
        box[:] = [w for w in QApplication.topLevelWidgets()
                  if isinstance(w, QMessageBox) and w.isVisible()]
        return bool(box)

    qtbot.waitUntil(asked, timeout=5_000)
    stop = next(b for b in box[0].buttons() if "Stop following" in b.text())
    stop.click()


@pytest.mark.parametrize("stuck", [Stage.SUBMITTING, Stage.DOWNLOADING])
def test_a_stuck_row_can_be_stopped_from_the_windows_menu(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, stuck: Stage
) -> None:
    hanging = "POST /v2/videos/generate" if stuck is Stage.SUBMITTING else "GET /cdn/*.mp4"
    scripted_server.script(hanging, Reply(hang=True))
    window = app_controller.window
    qtbot.waitUntil(lambda: app_controller.engine is not None, timeout=10_000)
    window.compose.prompt_edit.setPlainText("a kite over dunes")
    qtbot.keyClick(window.compose.prompt_edit, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.generation_at(0).stage is stuck,
                    timeout=10_000)
    generation_id = model.generation_at(0).id
    qtbot.waitUntil(lambda: bool(scripted_server.seen(hanging)), timeout=10_000)  # in flight

    _stop_following_from_the_menu(qtbot, window, generation_id)

    qtbot.waitUntil(lambda: model.generation(generation_id).stage is Stage.ABANDONED,
                    timeout=5_000)
    assert not app_controller.engine.busy  # nothing is waiting on the stuck request any more
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1
    # And from there the person can carry on (same job, never a new one) or remove it.
    after = window.queue.model.generation(generation_id)
    assert {Command.RETRY, Command.REMOVE} <= allowed_commands(after)
