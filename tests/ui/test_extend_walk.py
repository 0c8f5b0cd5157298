"""Extend as a person uses it, in one app against the simulator: a clip whose last frame can't
be read (its file damaged, cut short, deleted) says so in the strip within a bound, with what to
do; extending an extension; a different model and ratio; removing the source clip while its
extension runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from runway_desktop.engine.records import Generation, Stage
from runway_desktop.simulator import Simulator
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.queue_text import meta_text
from tests.ui.test_extend_window import generate, wait_done

FRAME_WAIT_S = 10.0  # the strip's bound on a last frame (ui/extend_mode.py)

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


def strip_says(window: MainWindow) -> tuple[str, str]:
    strip = window.extend_mode.strip
    return strip.picture.text(), strip.text.text()


def test_a_last_frame_that_cant_be_read_says_so_in_time_with_what_to_do(
        qtbot: QtBot, app_controller: Any, simulator: Simulator) -> None:
    window: MainWindow = app_controller.window
    extend = window.extend_mode
    clip = generate(qtbot, window, "a quiet harbour")
    assert clip.video_path is not None
    video = Path(clip.video_path)
    whole = video.read_bytes()

    for damage in ("cut short", "noise", "deleted"):
        if damage == "cut short":
            video.write_bytes(whole[: len(whole) // 3])
        elif damage == "noise":
            video.write_bytes(b"\x00\x01junk" * 4000)
        else:
            video.unlink()
        started = time.monotonic()
        extend.start(clip)  # as Extend… does; the file went bad since the row was drawn
        assert extend.active
        qtbot.waitUntil(lambda: strip_says(window)[0] in ("No last frame", "No video"),
                        timeout=int(FRAME_WAIT_S * 1000) + 5_000)
        assert time.monotonic() - started < FRAME_WAIT_S + 3
        _words, text = strip_says(window)
        assert "can't be read" in text, (damage, text)
        assert "Download Again" in text, text
        extend.cancel()

    video.write_bytes(whole)  # back as it was: the strip shows the frame
    extend.start(clip)
    qtbot.waitUntil(lambda: (p := extend.strip.picture.pixmap()) is not None and not p.isNull(),
                    timeout=20_000)
    assert "can't be read" not in strip_says(window)[1]
    extend.cancel()
    assert simulator.jobs_created("afk_test") == 1
    assert all(g.stage is Stage.DONE for g in window.queue.model.generations())


def extend_from_window(qtbot: QtBot, window: MainWindow, clip: Generation, prompt: str,
                       *, model: str | None = None, ratio: str | None = None) -> None:
    """Select the clip, press Extend…, choose, write the next shot, Generate."""
    compose = window.compose
    assert window.queue.select_generation(clip.id)
    button = window.clip_actions.buttons["extend"]
    qtbot.waitUntil(button.isEnabled, timeout=5_000)
    button.click()
    assert window.extend_mode.active
    if model is not None:
        compose.set_model(model)
    if ratio is not None:
        compose.aspect_picker.set_value(ratio)
    compose.prompt_edit.setPlainText(prompt)
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()


def test_extend_an_extension_with_another_model_and_ratio_then_remove_the_source(
        qtbot: QtBot, app_controller: Any, simulator: Simulator) -> None:
    window: MainWindow = app_controller.window
    model = window.queue.model
    first = generate(qtbot, window, "a quiet harbour")
    extend_from_window(qtbot, window, first, "boats leave at dawn")
    assert not window.extend_mode.strip.ratio_note.isVisibleTo(window.extend_mode.strip)
    second = wait_done(qtbot, window, lambda g: g.parent_id == first.id)

    # The extension extended, with Gen-4.5 and upright: the strip says the frame is cropped.
    extend_from_window(qtbot, window, second, "gulls circle the mast",
                       model="runway-gen4.5", ratio="9:16")
    note = window.extend_mode.strip.ratio_note
    assert "its last frame doesn't fit 9:16 as it is" in note.text()
    assert note.isVisibleTo(window.extend_mode.strip)
    third = wait_done(qtbot, window, lambda g: g.parent_id == second.id)
    assert third.settings.model == "runway-gen4.5"
    assert third.settings.aspect_ratio == "9:16"
    assert third.settings.image_path is not None
    assert Path(third.settings.image_path).is_file()
    assert f"extends #{second.id}" in meta_text(third)
    assert window.compose.model().id == first.settings.model  # the panel is back as it was

    # Its source removed while the extension runs: the extension carries on and finishes.
    simulator.faults.cdn_slow_bytes_per_second = 40_000
    extend_from_window(qtbot, window, third, "the storm comes in")
    qtbot.waitUntil(lambda: any(g.parent_id == third.id for g in model.generations()),
                    timeout=10_000)
    assert window.queue.select_generation(third.id)
    window.queue.remove_requested.emit([third.id], False)
    qtbot.waitUntil(lambda: model.generation(third.id) is None, timeout=5_000)
    simulator.faults.cdn_slow_bytes_per_second = None
    fourth = wait_done(qtbot, window, lambda g: g.parent_id == third.id)
    assert fourth.stage is Stage.DONE
    assert Path(fourth.video_path or "").is_file()

    # Removed while extend mode shows it (Generate not pressed): extend mode ends and says so;
    # nothing is sent; the compose panel is as it was before (as Cancel leaves it).
    jobs = simulator.jobs_created("afk_test")
    assert window.queue.select_generation(second.id)
    window.clip_actions.buttons["extend"].click()
    assert window.extend_mode.active
    window.compose.prompt_edit.setPlainText("a second ending")
    window.queue.remove_requested.emit([second.id], False)
    qtbot.waitUntil(lambda: not window.extend_mode.active, timeout=5_000)
    assert "was removed" in window.banner.message.text()
    assert window.compose.prompt_edit.toPlainText() == "a quiet harbour"
    assert window.compose.drop_zone.isVisible()
    window.removals.undo()
    qtbot.waitUntil(lambda: model.generation(second.id) is not None, timeout=5_000)
    assert simulator.jobs_created("afk_test") == jobs
