"""Extend from the window against the simulator: a finished clip's "Extend…" turns the compose
panel into "what happens next", Generate makes a child generation whose start image is the
parent's exact last frame and which names its parent; Cancel puts the compose panel back."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.video.frames import last_frame
from runway_desktop.simulator import Simulator
from runway_desktop.ui.main_window import MainWindow
from runway_desktop.ui.queue_text import meta_text
from tests.helpers.video import mean_difference
from tests.ui.conftest import drive
from tests.ui.dnd import drop_files

pytestmark = pytest.mark.qt_log_ignore(
    "PulseAudioService", "Couldn't resolve pipewire", "Could not open media"
)


@pytest.fixture
def kite_png(tmp_path: Path) -> Path:
    path = tmp_path / "kite.png"
    Image.new("RGB", (1280, 720), (30, 120, 200)).save(path)
    return path


def generate(qtbot: QtBot, window: MainWindow, prompt: str) -> Generation:
    """Generate from the compose panel; the finished row."""
    compose = window.compose
    compose.prompt_edit.setPlainText(prompt)
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    return wait_done(qtbot, window, lambda g: g.settings.prompt == prompt)


def wait_done(qtbot: QtBot, window: MainWindow, which: Any) -> Generation:
    model = window.queue.model

    def found() -> Generation | None:
        return next((g for g in model.generations() if which(g)), None)

    qtbot.waitUntil(lambda: (g := found()) is not None and g.stage is Stage.DONE
                    and g.thumbnail_path is not None, timeout=30_000)
    done = found()
    assert done is not None
    return done


def test_extend_makes_a_child_that_starts_from_the_parents_last_frame(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path) -> None:
    window: MainWindow = app_controller.window
    compose = window.compose
    drop_files(compose.drop_zone, [kite_png])
    compose.duration_picker.set_value("10")
    parent = generate(qtbot, window, "a red kite over dunes")
    assert allows(parent, Command.EXTEND)

    assert window.queue.select_generation(parent.id)
    button = window.clip_actions.buttons["extend"]
    qtbot.waitUntil(button.isEnabled, timeout=5_000)
    button.click()
    extend = window.extend_mode
    assert extend.active
    assert extend.strip.isVisible()
    assert not compose.drop_zone.isVisible()
    assert compose.prompt_edit.toPlainText() == ""
    assert compose.duration() == 10  # the clip's own settings, until changed
    assert compose.seed() == parent.settings.seed
    assert compose.total_price() == parent.settings.price_in(compose.catalog())  # one shot
    qtbot.waitUntil(lambda: extend.strip.picture.pixmap() is not None
                    and not extend.strip.picture.pixmap().isNull(), timeout=20_000)

    compose.prompt_edit.setPlainText("the kite climbs into the clouds")
    assert f"next shot of #{parent.id}" in compose.status_label.text()
    compose.generate_button.click()

    child = wait_done(qtbot, window, lambda g: g.parent_id == parent.id)
    assert child.settings.prompt == "the kite climbs into the clouds"
    assert child.settings.duration == 10
    assert child.settings.aspect_ratio == parent.settings.aspect_ratio
    assert child.settings.model == parent.settings.model
    assert child.settings.image_path is not None
    assert parent.video_path is not None
    exact = drive(qtbot, last_frame(Path(parent.video_path))).image
    assert mean_difference(Path(child.settings.image_path), exact) < 1.0
    assert f"extends #{parent.id}" in meta_text(child)
    assert simulator.jobs_created("afk_test") == 2
    # The new row is the one selected; the compose panel is back to a new generation, with
    # the image it had before.
    current = window.queue.current_generation()
    assert current is not None
    assert current.id == child.id
    assert not extend.active
    assert compose.drop_zone.isVisible()
    assert compose.drop_zone.images() == [str(kite_png)]
    assert "next shot" not in compose.status_label.text()


def test_cancel_puts_the_compose_panel_back_and_sends_nothing(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path) -> None:
    window: MainWindow = app_controller.window
    compose = window.compose
    parent = generate(qtbot, window, "waves at dusk")
    drop_files(compose.drop_zone, [kite_png])
    compose.prompt_edit.setPlainText("my next idea")
    compose.duration_picker.set_value("10")

    menu = window.queue.build_context_menu(parent, [parent])
    entry = next(a for a in menu.actions() if a.objectName() == "extend")
    assert entry.isEnabled()
    entry.trigger()
    assert window.extend_mode.active
    assert compose.duration() == parent.settings.duration

    window.extend_mode.strip.cancel_button.click()

    assert not window.extend_mode.active
    assert compose.prompt_edit.toPlainText() == "my next idea"
    assert compose.drop_zone.images() == [str(kite_png)]
    assert compose.duration() == 10
    assert simulator.jobs_created("afk_test") == 1


def test_extend_is_offered_only_where_the_table_allows_it(
        qtbot: QtBot, app_controller: Any) -> None:
    window: MainWindow = app_controller.window
    parent = generate(qtbot, window, "a lighthouse")
    assert parent.video_path is not None
    Path(parent.video_path).unlink()  # the file is gone: nothing to take a last frame from
    window.queue.model.upsert(parent)
    assert not allows(parent, Command.EXTEND)
    assert window.queue.select_generation(parent.id)
    window.clip_actions.show_generation(parent)
    assert not window.clip_actions.buttons["extend"].isEnabled()
    # Why it is off, and what to do, where the person looks (the button's tip).
    assert "isn't on disk any more" in window.clip_actions.buttons["extend"].toolTip()
    assert "Download Again" in window.clip_actions.buttons["export_clip"].toolTip()
    menu = window.queue.build_context_menu(parent, [parent])
    assert not next(a for a in menu.actions() if a.objectName() == "extend").isEnabled()
    window.queue.shortcut_actions["extend"].trigger()  # X
    assert not window.extend_mode.active


def test_a_clip_still_downloading_can_be_extended_and_the_next_shot_waits_for_it(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path) -> None:
    window: MainWindow = app_controller.window
    compose = window.compose
    drop_files(compose.drop_zone, [kite_png])
    simulator.faults.cdn_slow_bytes_per_second = 60_000  # the clip takes a few seconds
    compose.prompt_edit.setPlainText("a red kite over dunes")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    model = window.queue.model

    def downloading() -> Generation | None:
        return next((g for g in model.generations() if g.stage is Stage.DOWNLOADING), None)

    qtbot.waitUntil(lambda: downloading() is not None, timeout=30_000)
    parent = downloading()
    assert parent is not None
    assert allows(parent, Command.EXTEND)  # paid for and nearly there
    menu = window.queue.build_context_menu(parent, [parent])
    entry = next(a for a in menu.actions() if a.objectName() == "extend")
    assert entry.isEnabled()
    entry.trigger()
    extend = window.extend_mode
    assert extend.active
    assert "still downloading" in extend.strip.text.text()
    compose.prompt_edit.setPlainText("the kite climbs into the clouds")
    compose.generate_button.click()
    simulator.faults.cdn_slow_bytes_per_second = None

    child = wait_done(qtbot, window, lambda g: g.parent_id == parent.id)
    done = next(g for g in model.generations() if g.id == parent.id)
    assert done.stage is Stage.DONE
    assert done.video_path is not None
    assert child.settings.image_path is not None
    exact = drive(qtbot, last_frame(Path(done.video_path))).image
    assert mean_difference(Path(child.settings.image_path), exact) < 1.0
    assert simulator.jobs_created("afk_test") == 2


def extend_while_downloading(qtbot: QtBot, window: MainWindow, simulator: Simulator,
                             kite_png: Path) -> Generation:
    """A clip still downloading (slowly), put in extend mode with a prompt; the clip."""
    compose = window.compose
    drop_files(compose.drop_zone, [kite_png])
    simulator.faults.cdn_slow_bytes_per_second = 30_000
    compose.prompt_edit.setPlainText("a red kite over dunes")
    qtbot.waitUntil(compose.generate_button.isEnabled, timeout=5_000)
    compose.generate_button.click()
    model = window.queue.model

    def downloading() -> Generation | None:
        return next((g for g in model.generations() if g.stage is Stage.DOWNLOADING), None)

    qtbot.waitUntil(lambda: downloading() is not None, timeout=30_000)
    parent = downloading()
    assert parent is not None
    menu = window.queue.build_context_menu(parent, [parent])
    next(a for a in menu.actions() if a.objectName() == "extend").trigger()
    compose.prompt_edit.setPlainText("the kite climbs into the clouds")
    return parent


def settle(qtbot: QtBot, window: MainWindow, simulator: Simulator, parent: Generation) -> None:
    """The clip finishes downloading; anything waiting for it has had its chance."""
    simulator.faults.cdn_slow_bytes_per_second = None
    model = window.queue.model
    qtbot.waitUntil(lambda: next(g for g in model.generations()
                                 if g.id == parent.id).stage is Stage.DONE, timeout=60_000)
    qtbot.wait(1500)  # a last frame taken, a child journaled and sent: well within this


def test_generate_pressed_twice_while_the_clip_downloads_makes_one_next_shot(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path) -> None:
    window: MainWindow = app_controller.window
    parent = extend_while_downloading(qtbot, window, simulator, kite_png)

    window.compose.generate_button.click()
    qtbot.wait(100)
    window.compose.generate_button.click()  # nothing seems to happen: pressed again
    settle(qtbot, window, simulator, parent)

    children = [g for g in window.queue.model.generations() if g.parent_id == parent.id]
    assert len(children) == 1, children
    assert simulator.jobs_created("afk_test") == 2


def test_cancel_while_the_next_shot_waits_for_the_clip_sends_nothing(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path) -> None:
    window: MainWindow = app_controller.window
    parent = extend_while_downloading(qtbot, window, simulator, kite_png)
    window.compose.generate_button.click()
    qtbot.waitUntil(lambda: "last frame" in window.compose.status_label.text(), timeout=5_000)

    window.extend_mode.strip.cancel_button.click()  # changed my mind while it waits

    assert not window.extend_mode.active
    settle(qtbot, window, simulator, parent)
    assert [g for g in window.queue.model.generations() if g.parent_id == parent.id] == []
    assert simulator.jobs_created("afk_test") == 1


def test_reuse_while_extending_leaves_extend_mode(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, kite_png: Path) -> None:
    """Reuse of another row while extending filled the hidden compose panel under "Extending
    #N": Generate then extended #N, the reused settings ignored."""
    window: MainWindow = app_controller.window
    parent = generate(qtbot, window, "waves at dusk")
    other = generate(qtbot, window, "a lighthouse at night")
    window.extend_mode.start(parent)

    window.queue.reuse_requested.emit(other.id)

    assert not window.extend_mode.active
    assert window.compose.prompt_edit.toPlainText() == "a lighthouse at night"
    assert window.compose.drop_zone.isVisible()


def test_extending_a_clip_of_the_other_history_sends_nothing(
        qtbot: QtBot, app_controller: Any, simulator: Simulator) -> None:
    """Extending demo #1, then back to live (Settings ▸ Demo mode off): Generate extended live
    #1, another clip, and paid for it, while the strip still said 'Extending #1 “demo…”'."""
    window: MainWindow = app_controller.window
    live = generate(qtbot, window, "a live clip")
    settings = app_controller.settings
    app_controller._demo_seconds = 0.3
    app_controller._on_settings_saved(dataclasses.replace(settings, demo_mode=True), False)
    qtbot.waitUntil(lambda: app_controller.demo and app_controller.engine is not None
                    and window.queue.model.generation(live.id) is None, timeout=20_000)
    demo = generate(qtbot, window, "a demo clip")
    assert demo.id == live.id  # each history numbers its own
    window.extend_mode.start(demo)
    assert window.extend_mode.active

    app_controller._on_settings_saved(dataclasses.replace(settings, demo_mode=False), False)
    qtbot.waitUntil(lambda: not app_controller.demo and app_controller.engine is not None
                    and (shown := window.queue.model.generation(live.id)) is not None
                    and shown.idempotency_key == live.idempotency_key, timeout=20_000)
    assert not window.extend_mode.active  # the demo clip can't be extended in live
    assert not window.extend_mode.strip.isVisible()
    assert "other history" in window.banner.message.text()
    submitted = simulator.jobs_created("afk_test")
    assert submitted == 1

    # And should a stale clip reach Generate all the same, it is refused in words.
    window.extend_mode.start(dataclasses.replace(live, idempotency_key="another history's"))
    window.compose.prompt_edit.setPlainText("then it flies")
    qtbot.waitUntil(window.compose.generate_button.isEnabled, timeout=5_000)
    window.compose.generate_button.click()
    qtbot.waitUntil(lambda: "isn't in this history" in window.banner.message.text(),
                    timeout=5_000)
    assert not window.extend_mode.active
    assert [g.id for g in app_controller.engine.generations()] == [live.id]
    assert simulator.jobs_created("afk_test") == submitted  # nothing paid for


@pytest.mark.expect_log_warnings(r"(?s)Stopping the queue: .* is stopped in the middle")
def test_a_next_shot_refused_by_a_stopped_process_says_so_and_its_banner_goes_once_it_goes_on(
        qtbot: QtBot, app_controller: Any, simulator: Simulator, data_dir: Path) -> None:
    """Generate in extend mode, the history locked by a process stopped mid-write: the banner
    said to start Runway Desktop again, and stayed until the next extension."""
    import signal

    from runway_desktop import paths
    from tests.engine.test_journal_pause import _stopped_writer

    window: MainWindow = app_controller.window
    compose = window.compose
    parent = generate(qtbot, window, "a red kite over dunes")
    assert window.queue.select_generation(parent.id)
    button = window.clip_actions.buttons["extend"]
    qtbot.waitUntil(button.isEnabled, timeout=5_000)
    button.click()
    extend = window.extend_mode
    compose.prompt_edit.setPlainText("the kite climbs into the clouds")
    banner = window.banner
    writer = _stopped_writer(paths.journal_path(data_dir))
    try:
        compose.generate_button.click()
        qtbot.waitUntil(lambda: banner.isVisible()
                        and f"kill -CONT {writer.pid}" in banner.message.text(), timeout=20_000)
        assert banner.message.text().startswith(
            "Not done: press Generate again once this message goes.")
        assert "start Runway Desktop again" not in banner.message.text()
        assert extend.active  # still the next shot of that clip, as typed
        assert compose.prompt_edit.toPlainText() == "the kite climbs into the clouds"
        assert simulator.jobs_created("afk_test") == 1
        writer.send_signal(signal.SIGCONT)
        assert writer.wait(10) == 0
    finally:
        writer.kill()
        writer.wait()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
    compose.generate_button.click()
    child = wait_done(qtbot, window, lambda g: g.parent_id == parent.id)
    assert child.settings.prompt == "the kite climbs into the clouds"
    assert simulator.jobs_created("afk_test") == 2
