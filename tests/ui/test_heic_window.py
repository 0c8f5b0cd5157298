"""A HEIC photo dropped on the window becomes a video (issue 11, "Done when"): the real window
and engine against the simulator, which receives a converted JPEG with no EXIF in it.

The photo is tests/engine/data/phone-gps.heic (an iPhone-like HEIC: 120 × 80 stored, turned 90°
by its orientation, a GPS position in its EXIF); pi-heif only decodes, so no test can make one.
"""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from runway_desktop.engine.mp4_frames import check_video_frames
from runway_desktop.engine.records import Stage
from runway_desktop.simulator import Simulator
from tests.helpers.cli import mp4_boxes
from tests.ui.dnd import drop_files

HEIC = Path(__file__).resolve().parents[1] / "engine" / "data" / "phone-gps.heic"


def test_a_heic_photo_dropped_on_the_window_becomes_a_video_from_a_clean_jpeg(
    qtbot: QtBot, app_controller: Any, simulator: Simulator, output_dir: Path
) -> None:
    photo = HEIC.read_bytes()
    assert b"Exif" in photo  # the person's photo carries its metadata...
    compose = app_controller.window.compose

    assert drop_files(compose.drop_zone, [HEIC])
    assert compose.drop_zone.images() == [str(HEIC)]
    compose.prompt_edit.setPlainText("the harbour at dusk, boats rocking")
    qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    model = app_controller.window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5_000)
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=30_000)
    done = model.generation_at(0)
    video = Path(done.video_path)
    assert video.parent == output_dir
    assert [kind for kind, _ in mp4_boxes(video)][:1] == ["ftyp"]
    check_video_frames(video)
    assert simulator.jobs_created("afk_test") == 1

    # ...which never left the machine: the simulator got an upright JPEG without any.
    assert done.uploaded_url
    assert done.uploaded_url.startswith(simulator.cdn_base_url)
    with urllib.request.urlopen(done.uploaded_url, timeout=10) as response:
        uploaded = bytes(response.read())
    assert b"Exif" not in uploaded
    with Image.open(io.BytesIO(uploaded)) as picture:
        assert picture.format == "JPEG"
        assert not picture.getexif()
        # Upright (80 wide, as shown), framed to the ratio the window chose from its shape.
        width, height = picture.size
        across, down = map(int, done.settings.aspect_ratio.split(":"))
        assert across < down
        assert width == 80
        assert abs(width / height - across / down) < 0.02
    assert HEIC.read_bytes() == photo  # the person's file is untouched
