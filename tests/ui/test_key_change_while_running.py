"""A new API key saved in Settings while generations run (issue 12: state that follows reality).

The key was revoked (or is simply being replaced) while jobs are on apiframe: the person saves a
new one in Settings. The jobs already paid for must carry on with the new key, each followed to
its video; nothing is sent twice and nothing says "Something unexpected went wrong".

Real window, real engine and Settings dialog, the real keyring (test Secret Service); apiframe
is the scripted loopback server, whose jobs belong to the team (any of its keys sees them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Stage
from tests.helpers.images import make_png
from tests.helpers.scripted_server import Reply, Request, ScriptedServer, job, scripted_server
from tests.ui.test_controller import open_from_menu

__all__ = ["scripted_server"]  # the fixture, used by name

OLD_KEY = "afk_old_key_0123456789"
NEW_KEY = "afk_new_key_9876543210"


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


@pytest.fixture
def before_app_start(keyring_backend: Any,
                     monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """The key lives in the keyring (as a person's does), not in the environment."""
    def store_key(_data_dir: Path) -> None:
        from runway_desktop import secrets

        monkeypatch.delenv(secrets.API_KEY_ENV)
        secrets.store_api_key(OLD_KEY)
    return store_key


def start_three(qtbot: QtBot, window: Any, tmp_path: Path) -> None:
    images = [str(make_png(tmp_path, f"shot{i}.png")) for i in range(3)]
    window.compose.drop_zone.set_images(images)
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()


def save_key_in_settings(qtbot: QtBot, controller: Any, key: str) -> None:
    dialog = open_from_menu(qtbot, controller)
    qtbot.waitUntil(dialog.key_read, timeout=10_000)
    dialog.key_edit.setText(key)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller._dialog is None, timeout=10_000)


@pytest.mark.expect_log_warnings(r"needs attention \(open_settings\)")
def test_a_new_key_saved_while_jobs_run_carries_them_on_to_their_videos(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """Before: saving the key closed the HTTP client the running generations used, and every
    one of them stopped with "Something unexpected went wrong (RuntimeError)"."""
    revoked = threading.Event()
    finish = threading.Event()

    def check_key(request: Request) -> Reply | None:
        if revoked.is_set() and request.headers.get("x-api-key") == OLD_KEY:
            return Reply(401, json={"error": "Invalid API key"})
        return None

    def poll(request: Request) -> Reply | None:
        if refused := check_key(request):
            return refused
        if finish.is_set():
            return None  # COMPLETED, with its video
        job_id = request.path.rsplit("/", 1)[1]
        return Reply(json=job(job_id, "PROCESSING", result=None, progress=40))

    for route in ("POST /v2/uploads", "POST /v2/videos/generate", "GET /v2/me",
                  "GET /v2/models", "GET /cdn/*"):
        scripted_server.on(route, check_key)
    scripted_server.on("GET /v2/jobs/*", poll)
    window = app_controller.window
    model = window.queue.model
    start_three(qtbot, window, tmp_path)
    qtbot.waitUntil(lambda: model.rowCount() == 3 and all(
        g.stage is Stage.PROCESSING for g in model.generations()), timeout=15_000)

    revoked.set()  # the key is revoked on apiframe's side while the jobs run
    save_key_in_settings(qtbot, app_controller, NEW_KEY)
    qtbot.wait(500)  # the jobs are followed with the new key meanwhile
    finish.set()
    qtbot.waitUntil(lambda: all(g.stage.is_settled for g in model.generations()),
                    timeout=20_000)
    for generation in model.generations():
        assert generation.stage is Stage.DONE, (generation.stage, generation.error)
        assert Path(generation.video_path or "").is_file()
    assert "unexpected" not in window.banner.message.text()
    assert not window.banner.isVisible(), window.banner.message.text()
    # Each job was paid once: three POSTs, three jobs.
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 3
    assert len(scripted_server.jobs) == 3


def test_a_refusal_of_the_old_key_arriving_after_the_new_one_is_saved_is_not_shown(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """A poll sent with the old key, refused (401) only once the new key is saved, must not
    stop its generation "for a key to check in Settings": it asks again with the new key."""
    revoked = threading.Event()
    held = threading.Event()  # a poll with the old key is waiting for its answer
    release = threading.Event()
    finish = threading.Event()

    def poll(request: Request) -> Reply | None:
        if revoked.is_set() and request.headers.get("x-api-key") == OLD_KEY:
            held.set()
            release.wait(10)
            return Reply(401, json={"error": "Invalid API key"})
        if finish.is_set():
            return None
        job_id = request.path.rsplit("/", 1)[1]
        return Reply(json=job(job_id, "PROCESSING", result=None, progress=40))

    scripted_server.on("GET /v2/jobs/*", poll)
    window = app_controller.window
    model = window.queue.model
    images = [str(make_png(tmp_path, "shot.png"))]
    window.compose.drop_zone.set_images(images)
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: model.rowCount() == 1
                    and model.generation_at(0).stage is Stage.PROCESSING, timeout=15_000)
    revoked.set()
    qtbot.waitUntil(held.is_set, timeout=10_000)
    save_key_in_settings(qtbot, app_controller, NEW_KEY)
    qtbot.waitUntil(lambda: app_controller.engine._api_key == NEW_KEY, timeout=10_000)
    release.set()  # the old key's refusal arrives now, after the new key is in use
    qtbot.wait(300)
    finish.set()
    qtbot.waitUntil(lambda: model.generation_at(0).stage.is_settled, timeout=20_000)
    generation = model.generation_at(0)
    assert generation.stage is Stage.DONE, (generation.stage, generation.error)
    assert not window.banner.isVisible(), window.banner.message.text()
    assert len(scripted_server.seen("POST /v2/videos/generate")) == 1


def test_a_balance_check_refused_for_the_old_key_after_the_new_one_is_saved_pauses_nothing(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    """The balance check under way when the new key is saved, refused for the old key, must
    not bring back "Your API key was rejected" (which pauses every new generation)."""
    held = threading.Event()
    release = threading.Event()

    def me(request: Request) -> Reply | None:
        if request.headers.get("x-api-key") == OLD_KEY and not release.is_set():
            held.set()
            release.wait(10)
            return Reply(401, json={"error": "Invalid API key"})
        return None

    window = app_controller.window
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=10_000)
    scripted_server.on("GET /v2/me", me)
    window._service.check_balance()  # as coming back to the window does
    qtbot.waitUntil(held.is_set, timeout=10_000)
    save_key_in_settings(qtbot, app_controller, NEW_KEY)
    qtbot.waitUntil(lambda: app_controller.engine._api_key == NEW_KEY, timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: not app_controller.engine.refreshing_account, timeout=10_000)
    qtbot.wait(200)
    assert not window.banner.isVisible(), window.banner.message.text()
    # New work goes out with the new key.
    window.compose.drop_zone.set_images([str(make_png(tmp_path, "shot.png"))])
    window.compose.prompt_edit.setPlainText("a lighthouse in fog")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=10_000)
    window.compose.generate()
    qtbot.waitUntil(lambda: len(scripted_server.seen("POST /v2/videos/generate")) == 1,
                    timeout=10_000)
    assert scripted_server.seen("POST /v2/videos/generate")[0].headers["x-api-key"] == NEW_KEY
