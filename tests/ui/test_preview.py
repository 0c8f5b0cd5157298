"""PreviewPlayer with real H.264 clips through QtMultimedia's FFmpeg backend (offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QApplication

from runway_desktop.ui.preview import PreviewPlayer, format_time

# No sound server on test machines: QAudioOutput says so once; a corrupt file is reported
# by the backend as a warning before errorOccurred. Both are expected here.
pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Could not open media", "Couldn't resolve pipewire"
)

CLIPS = Path(__file__).resolve().parents[2] / "resources" / "clips"
EMPTY_HEADING = "Your videos play here"  # the empty stage (no video selected)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    shipped = CLIPS / "16x9.mp4"
    assert shipped.is_file(), f"{shipped} is part of the repository"
    return str(shipped)


@pytest.fixture
def thumbnail(tmp_path: Path) -> str:
    image = QImage(320, 180, QImage.Format.Format_RGB32)
    image.fill(QColor(30, 60, 90))
    path = tmp_path / "thumb.png"
    image.save(str(path))
    return str(path)


@pytest.fixture
def preview(qtbot) -> PreviewPlayer:
    widget = PreviewPlayer()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def playing(preview: PreviewPlayer) -> bool:
    return preview.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState


def test_empty_player_shows_the_placeholder(preview: PreviewPlayer) -> None:
    assert preview.poster.heading == EMPTY_HEADING
    assert not preview.showing_video()
    assert not preview.play_button.isEnabled()
    assert preview.player.source().isEmpty()
    preview.play()  # nothing to play: no error, no state change
    assert not playing(preview)


def test_show_item_shows_thumbnail_and_does_not_autoplay(
    qtbot, preview: PreviewPlayer, clip: str, thumbnail: str
) -> None:
    preview.show_item(clip, thumbnail, "A harbour at dusk · 16:9 · 5 s")
    assert preview.player.source().toLocalFile() == clip
    assert preview.poster.pixmap is not None
    assert not preview.showing_video()
    assert preview.caption_label.text() == "A harbour at dusk · 16:9 · 5 s"
    assert preview.play_button.isEnabled()
    qtbot.waitUntil(lambda: preview.player.duration() > 0, timeout=5000)
    qtbot.wait(200)
    assert not playing(preview)
    assert preview.time_label.text() == "0:00 / 0:02"


def test_play_advances_then_pause(qtbot, preview: PreviewPlayer, clip: str, thumbnail: str) -> None:
    preview.show_item(clip, thumbnail, "clip")
    preview.play()
    qtbot.waitUntil(lambda: playing(preview), timeout=5000)
    assert preview.showing_video()  # thumbnail gave way to the video
    qtbot.waitUntil(lambda: preview.player.position() > 300, timeout=5000)
    assert preview.slider.value() > 0
    assert preview.play_button.accessibleName() == "Pause"
    preview.pause()
    qtbot.waitUntil(
        lambda: preview.player.playbackState() == QMediaPlayer.PlaybackState.PausedState,
        timeout=3000,
    )
    held = preview.player.position()
    qtbot.wait(300)
    assert abs(preview.player.position() - held) < 50


def test_space_toggles_playback(qtbot, preview: PreviewPlayer, clip: str) -> None:
    preview.show_item(clip, None, "")
    preview.activateWindow()
    preview.play_button.setFocus()
    qtbot.waitUntil(preview.play_button.hasFocus)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: playing(preview), timeout=5000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not playing(preview), timeout=3000)


def test_loop_is_on_by_default_and_mute_toggles(qtbot, preview: PreviewPlayer, clip: str) -> None:
    preview.show_item(clip, None, "")
    assert preview.loop_button.isChecked()
    assert preview.player.loops() == QMediaPlayer.Loops.Infinite
    qtbot.mouseClick(preview.loop_button, Qt.MouseButton.LeftButton)
    assert preview.player.loops() == QMediaPlayer.Loops.Once
    assert preview.audio_output is None  # no sound device opened before the first play
    qtbot.mouseClick(preview.mute_button, Qt.MouseButton.LeftButton)
    assert preview.is_muted()
    preview.play()  # the mute chosen before playing carries over to the audio output
    assert preview.audio_output is not None
    assert preview.audio_output.isMuted()
    qtbot.waitUntil(lambda: playing(preview), timeout=5000)
    qtbot.mouseClick(preview.mute_button, Qt.MouseButton.LeftButton)
    assert not preview.audio_output.isMuted()
    assert not preview.is_muted()


def test_scrubbing_moves_the_position(qtbot, preview: PreviewPlayer, clip: str) -> None:
    preview.show_item(clip, None, "")
    qtbot.waitUntil(lambda: preview.player.duration() > 0, timeout=5000)
    preview.slider.sliderMoved.emit(1000)
    qtbot.waitUntil(lambda: preview.player.position() >= 900, timeout=3000)
    assert preview.time_label.text().startswith("0:01")


def test_corrupt_file_shows_inline_error(qtbot, preview: PreviewPlayer, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    preview.show_item(str(bad), None, "broken")
    preview.play()
    qtbot.waitUntil(lambda: preview.error_text() != "", timeout=5000)
    assert "can't be played" in preview.error_text()
    assert preview.error_label.isVisible()
    assert not preview.showing_video()
    assert QApplication.activeModalWidget() is None


def test_corrupt_file_error_stays_when_play_is_pressed_again(
    qtbot, preview: PreviewPlayer, tmp_path: Path
) -> None:
    bad = tmp_path / "noise.mp4"
    bad.write_bytes(bytes(range(256)) * 40)
    preview.show_item(str(bad), None, "")
    qtbot.waitUntil(lambda: preview.error_text() != "", timeout=5000)
    preview.play()
    qtbot.wait(100)
    assert preview.error_text() != ""
    assert not playing(preview)


def test_missing_file_is_reported_inline(preview: PreviewPlayer, tmp_path: Path) -> None:
    preview.show_item(str(tmp_path / "gone.mp4"), None, "")
    assert "missing" in preview.error_text()
    assert preview.player.source().isEmpty()
    preview.show_item(None, None, "")
    assert preview.error_text() == ""


def test_hiding_releases_the_media_and_showing_reloads(
    qtbot, preview: PreviewPlayer, clip: str
) -> None:
    preview.show_item(clip, None, "")
    preview.play()
    qtbot.waitUntil(lambda: playing(preview), timeout=5000)
    preview.hide()
    assert preview.player.source().isEmpty()
    assert not playing(preview)
    preview.show()
    assert preview.player.source().toLocalFile() == clip
    assert not playing(preview)  # no autoplay on return either
    preview.clear()
    assert preview.player.source().isEmpty()
    assert preview.poster.heading == EMPTY_HEADING
    assert preview.video_path() is None


def test_controls_are_accessible(preview: PreviewPlayer) -> None:
    for widget in (
        preview.play_button,
        preview.slider,
        preview.loop_button,
        preview.mute_button,
    ):
        assert widget.accessibleName()
        assert widget.toolTip()


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0:00"), (999, "0:00"), (5_000, "0:05"), (65_000, "1:05"), (3_723_000, "1:02:03")],
)
def test_format_time(ms: int, text: str) -> None:
    assert format_time(ms) == text


def test_a_system_without_a_video_backend_says_so_instead_of_staying_blank(
        qtbot, preview: PreviewPlayer, clip: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a QtMultimedia backend (its FFmpeg plugin or a library it needs missing, as on a
    fresh machine), the player never plays and never reports an error: the preview stayed
    blank without a word. A missing backend can't be produced in this process, so the
    player's own answer is replaced (the frozen self-test shows the real case)."""
    monkeypatch.setattr(QMediaPlayer, "isAvailable", lambda _self: False)
    preview.show_item(clip, None, "#1")
    preview.play()
    assert "can't be played here" in preview.error_text()
    assert "Open File" in preview.error_text()
    assert not playing(preview)
    assert preview.player.source().isEmpty()  # nothing was handed to a player that can't play


def test_the_poster_becomes_the_videos_own_first_frame(
    qtbot, preview: PreviewPlayer, clip: str, tmp_path: Path, qasync_loop: object
) -> None:
    """The poster was the history's thumbnail (320 px at most) stretched over the stage: soft on
    a laptop, blurry on a 2× screen. The video's first frame, at its own size, replaces it."""
    small = QImage(64, 36, QImage.Format.Format_RGB32)  # a thumbnail smaller than the video
    small.fill(QColor(30, 60, 90))
    thumbnail = str(tmp_path / "small.png")
    small.save(thumbnail)
    preview.show_item(clip, thumbnail, "clip")
    assert preview.poster.pixmap is not None
    assert preview.poster.pixmap.width() == 64  # at once: the thumbnail
    qtbot.waitUntil(lambda: preview.poster.pixmap is not None
                    and preview.poster.pixmap.width() == 320, timeout=10_000)  # the 320 × 180 clip
    assert preview.poster.pixmap.height() == 180
    assert not preview.showing_video()  # still the poster, nothing plays

    preview.clear()  # another row: a frame still being decoded is not wanted
    assert preview.poster.pixmap is None
