"""Two settings the window now honours: keeping an image's metadata (off by default) and a proxy
for apiframe and the video downloads (issue 11 §4, §8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from runway_desktop import paths, settings
from runway_desktop.engine.records import Stage
from tests.helpers.forward_proxy import ForwardProxy, forward_proxy
from tests.helpers.scripted_server import ScriptedServer, scripted_server

__all__ = ["forward_proxy", "scripted_server"]  # fixtures, used by name

METADATA_BOX = "Keep photo location and camera details (EXIF) in uploads"


@pytest.fixture
def api_base_url(scripted_server: ScriptedServer) -> str:
    return scripted_server.base_url


def open_settings(qtbot: QtBot, controller: Any) -> Any:
    controller.open_settings(first_run=False)
    qtbot.waitUntil(lambda: controller._dialog is not None and controller._dialog.isVisible(),
                    timeout=5_000)
    return controller._dialog


def save(dialog: Any) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def stored(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.settings_path(data_dir).read_text())
    return data


def phone_photo(folder: Path) -> Path:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)}  # GPS
    path = folder / "phone.jpg"
    Image.linear_gradient("L").resize((640, 360)).convert("RGB").save(path, "JPEG", exif=exif)
    return path


def generate_with_image(qtbot: QtBot, window: Any, image: Path) -> None:
    compose = window.compose
    compose.drop_zone.set_images([str(image)])
    compose.prompt_edit.setPlainText("the view from the balcony")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage == Stage.DONE for g in window.queue.model.generations()),
                    timeout=20_000)


# -- keep_image_metadata --------------------------------------------------------------------------

def test_metadata_is_kept_only_when_the_box_is_ticked(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, data_dir: Path,
    tmp_path: Path, keyring_backend: Any
) -> None:
    dialog = open_settings(qtbot, app_controller)
    assert dialog.metadata_check.text() == METADATA_BOX
    assert not dialog.metadata_check.isChecked()  # off by default
    assert app_controller.engine.config.keep_image_metadata is False
    old_engine = app_controller.engine
    dialog.metadata_check.setChecked(True)
    save(dialog)
    qtbot.waitUntil(lambda: app_controller.engine is not None
                    and app_controller.engine is not old_engine, timeout=10_000)
    assert stored(data_dir)["keep_image_metadata"] is True
    assert app_controller.engine.config.keep_image_metadata is True

    generate_with_image(qtbot, app_controller.window, phone_photo(tmp_path))
    (upload,) = scripted_server.seen("POST /v2/uploads")
    assert b"PhoneMaker" in upload.body  # kept, as asked


@pytest.mark.parametrize("before_app_start", [lambda data_dir: None])
def test_by_default_an_uploaded_photo_carries_no_location(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    generate_with_image(qtbot, app_controller.window, phone_photo(tmp_path))
    (upload,) = scripted_server.seen("POST /v2/uploads")
    assert b"PhoneMaker" not in upload.body


def keep_metadata(data_dir: Path) -> None:
    settings.save(data_dir, settings.load(data_dir).replace(keep_image_metadata=True))


@pytest.mark.parametrize("before_app_start", [keep_metadata])
def test_the_stored_setting_reaches_the_engine_at_start(app_controller: Any) -> None:
    assert app_controller.engine.config.keep_image_metadata is True


# -- proxy ----------------------------------------------------------------------------------------

def test_a_proxy_that_isnt_one_is_refused_in_the_dialog(
    qtbot: QtBot, app_controller: Any, data_dir: Path, keyring_backend: Any
) -> None:
    dialog = open_settings(qtbot, app_controller)
    assert dialog.proxy_edit.text() == ""  # empty: the system's proxy
    dialog.proxy_edit.setText("ftp://proxy.example:21")
    assert dialog.proxy_error.isVisible()
    assert "isn't a proxy address" in dialog.proxy_error.text()
    save(dialog)
    qtbot.wait(100)
    assert dialog.isVisible()  # not saved: the person sees why, inline
    assert "proxy" not in stored(data_dir) or stored(data_dir)["proxy"] == ""
    dialog.proxy_edit.setText("proxy.example:3128")
    assert not dialog.proxy_error.isVisible()
    dialog.reject()


def test_requests_go_through_the_proxy_set_in_settings(
    qtbot: QtBot, app_controller: Any, scripted_server: ScriptedServer,
    forward_proxy: ForwardProxy, data_dir: Path, tmp_path: Path, keyring_backend: Any
) -> None:
    """The API (loopback, where the system's proxy is never used) and the video downloads go
    through a proxy the person configured."""
    dialog = open_settings(qtbot, app_controller)
    address = forward_proxy.url.removeprefix("http://")  # host:port, as people type it
    dialog.proxy_edit.setText(address)
    save(dialog)
    qtbot.waitUntil(lambda: app_controller.engine is not None
                    and app_controller.engine.config.proxy == forward_proxy.url, timeout=10_000)
    assert stored(data_dir)["proxy"] == address
    qtbot.waitUntil(lambda: "/v2/me" in forward_proxy.paths("GET"), timeout=10_000)

    generate_with_image(qtbot, app_controller.window, phone_photo(tmp_path))
    through = forward_proxy.paths()
    assert "/v2/uploads" in through
    assert "/v2/videos/generate" in through
    assert any(p.startswith("/v2/jobs/") for p in through)
    assert any(p.startswith("/cdn/") and p.endswith(".mp4") for p in through)  # the download
