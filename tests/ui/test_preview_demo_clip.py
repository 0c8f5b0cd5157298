"""The preview plays a demo clip (Motion-JPEG made by the simulator from a start image) like any
other video: its length, playback, the picture on screen, scrubbing to the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtMultimedia import QMediaPlayer

from runway_desktop.simulator.config import OUTPUT_SIZES
from runway_desktop.simulator.image_clip import render_clip
from runway_desktop.ui.preview import PreviewPlayer
from tests.helpers.scene import scene_bytes

pytestmark = pytest.mark.qt_log_ignore("PulseAudioService", "Couldn't resolve pipewire")


@pytest.fixture
def preview(qtbot: Any) -> PreviewPlayer:
    widget = PreviewPlayer()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_preview_plays_a_demo_clip_and_scrubs_to_its_end(
    qtbot: Any, preview: PreviewPlayer, tmp_path: Path
) -> None:
    clip = tmp_path / "demo.mp4"
    clip.write_bytes(render_clip(scene_bytes(), OUTPUT_SIZES["9:16"], 10, 12, seed=3))

    preview.show_item(str(clip), None, "a red kite over dunes · 9:16 · 10 s")
    qtbot.waitUntil(lambda: preview.player.duration() > 0, timeout=5000)
    assert preview.player.duration() == 10_000
    assert preview.time_label.text() == "0:00 / 0:10"
    preview.play()
    qtbot.waitUntil(
        lambda: preview.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState,
        timeout=5000)
    assert preview.showing_video()
    qtbot.waitUntil(lambda: preview.player.position() > 300, timeout=5000)
    preview.pause()
    preview.slider.sliderMoved.emit(9_900)
    qtbot.waitUntil(lambda: preview.player.position() >= 9_800, timeout=3000)
    assert preview.error_text() == ""
