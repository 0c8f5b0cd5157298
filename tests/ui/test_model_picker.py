"""Choosing Gen-4.5 in the window: Generate is priced from /v2/models, the job is Gen-4.5."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from runway_desktop.api.catalog import BUILT_IN_CATALOG
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.simulator import Simulator
from runway_desktop.ui.compose_panel import ComposePanel
from tests.ui.conftest import drive
from tests.ui.dnd import drop_files

PRICES = {"runway-gen4-turbo": {5: 8, 10: 15}, "runway-gen4.5": {5: 31, 10: 62}}


@pytest.fixture
def simulator(make_simulator: Callable[..., Simulator]) -> Simulator:
    """The shared fast simulator, with Gen-4.5 priced only in its /v2/models."""
    # Its own copy: a test changes a price while it runs.
    return make_simulator(seed=45, prices={model: dict(p) for model, p in PRICES.items()})


@pytest.fixture
def forget_compose_state() -> Iterator[None]:
    """Request it before `app_controller`: torn down after the window saved its state, it
    forgets the model chosen here so later window tests start with Gen-4 Turbo again."""
    yield
    QSettings().remove("compose/state")


@pytest.fixture
def heron_png(tmp_path: Path) -> Path:
    path = tmp_path / "heron.png"
    Image.new("RGB", (1280, 720), (30, 90, 160)).save(path)
    return path


def choose_model(qtbot: QtBot, compose: ComposePanel, label: str) -> None:
    """As a person: focus the picker and step with the arrow keys to the label."""
    picker = compose.model_picker
    picker.setFocus()
    target = picker.findText(label)
    assert target >= 0, label
    for _ in range(picker.count()):  # bounded: a key that does nothing fails below
        if picker.currentIndex() == target:
            break
        step = Qt.Key.Key_Down if picker.currentIndex() < target else Qt.Key.Key_Up
        qtbot.keyClick(picker, step)
    assert picker.currentText() == label


def test_gen45_in_the_window_is_priced_from_apiframe_and_made_as_gen45(
    qtbot: QtBot, forget_compose_state: None, app_controller: Any, simulator: Simulator,
    heron_png: Path,
) -> None:
    window = app_controller.window
    compose = window.compose
    picker = compose.model_picker
    assert [picker.itemData(i) for i in range(picker.count())] == [
        "runway-gen4-turbo", "runway-gen4.5"]  # Gen-4 Turbo first

    # apiframe's catalog arrives in the background and relabels and prices the models.
    qtbot.waitUntil(lambda: picker.itemText(1) == "Runway Gen-4.5", timeout=10_000)
    choose_model(qtbot, compose, "Runway Gen-4.5")
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=5_000)
    qtbot.mouseClick(compose.duration_picker.button("10"), Qt.MouseButton.LeftButton)
    drop_files(compose.drop_zone, [heron_png])
    compose.prompt_edit.setPlainText("a heron lifts off the lake")
    assert compose.generate_button.text().startswith("Generate · 62 credits")
    assert compose.generate_button.isEnabled()

    credits = simulator.credits("afk_test")
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    model = window.queue.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5_000)
    qtbot.waitUntil(lambda: model.generation_at(0).stage is Stage.DONE, timeout=20_000)
    done = model.generation_at(0)
    assert done.settings.model == "runway-gen4.5"
    assert simulator.job(done.job_id)["model"] == "runway-gen4.5"
    assert credits - simulator.credits("afk_test") == 62
    assert done.credit_cost == 62
    # Re-use Settings (Ctrl+E on the row) brings Gen-4.5 back after choosing another model,
    # and Ctrl+Enter there, the keys still in the list, makes it again: the shortcut answered
    # only inside the compose panel, and nothing happened.
    choose_model(qtbot, compose, "Runway Gen-4 Turbo")
    compose.prompt_edit.setPlainText("a crane")
    window.queue.list_view.setFocus()
    qtbot.waitUntil(window.queue.list_view.hasFocus)
    qtbot.keyClick(window.queue.list_view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert compose.model().id == "runway-gen4.5"
    assert compose.settings().model == "runway-gen4.5"
    assert compose.prompt_edit.toPlainText() == "a heron lifts off the lake"
    qtbot.waitUntil(compose.generate_button.isEnabled)  # its start image checked
    qtbot.keyClick(window.queue.list_view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5_000)
    again = model.generation_at(0).settings
    assert (again.model, again.seed, again.duration, again.prompt) == (
        done.settings.model, done.settings.seed, 10, done.settings.prompt)  # its seed, locked
    # Typed into another field (the list's search), Ctrl+Enter is that field's: no paid run.
    window.queue.search_edit.setFocus()
    qtbot.keyClick(window.queue.search_edit, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    assert model.rowCount() == 2


def test_an_unknown_price_says_so_and_generate_still_works(qtbot: QtBot, tmp_path: Path) -> None:
    compose = ComposePanel(tmp_path / "cache")
    qtbot.addWidget(compose)
    compose.set_catalog(BUILT_IN_CATALOG)  # offline, no cache: Gen-4.5's price is unknown
    compose.set_balance(5)  # an unknown price never blocks on the balance
    compose.set_model("runway-gen4.5")
    compose.prompt_edit.setPlainText("a heron")
    assert compose.generate_button.text() == "Generate · price unknown"
    assert "Price from apiframe unavailable" in compose.status_label.text()
    assert compose.generate_button.isEnabled()
    with qtbot.waitSignal(compose.generate_requested) as emitted:
        compose.generate()
    (settings,) = emitted.args[0]
    assert isinstance(settings, GenerationSettings)
    assert settings.model == "runway-gen4.5"


def test_the_prompt_is_counted_in_utf16_units_against_the_models_limit(
    qtbot: QtBot, tmp_path: Path
) -> None:
    compose = ComposePanel(tmp_path / "cache")
    qtbot.addWidget(compose)
    compose.prompt_edit.setPlainText("🎬" * 500)  # 500 code points, 1,000 UTF-16 units
    assert compose.counter_label.text().replace(",", "").startswith("1000 / ")
    assert compose.generate_button.isEnabled()
    compose.prompt_edit.setPlainText("🎬" * 501)
    assert not compose.generate_button.isEnabled()
    assert "2 characters too long" in compose.generate_button.toolTip()


@pytest.fixture
def models_down(simulator: Simulator) -> Iterator[None]:
    """Request it before `app_controller`: apiframe's model list answers 503 at the start."""
    simulator.faults.routes = {"models"}
    simulator.faults.error_rate = 1.0
    yield
    simulator.faults.error_rate = 0.0


def test_prices_follow_apiframe_after_an_offline_start_and_after_a_change(
    qtbot: QtBot, forget_compose_state: None, models_down: None, app_controller: Any,
    simulator: Simulator,
) -> None:
    """The model list was read once, at the start: a start without it kept Gen-4.5 'price
    unknown' all day, and a price apiframe changed was shown until a restart while each
    Generate was charged the new one. It is read again with the balance once apiframe
    answers (after a start without it), and when a generation was charged another price."""
    window = app_controller.window
    compose = window.compose
    drive(qtbot, app_controller.engine.wait_catalog())
    qtbot.waitUntil(lambda: app_controller.engine.account is not None, timeout=5_000)
    choose_model(qtbot, compose, "Gen-4.5")
    compose.prompt_edit.setPlainText("a heron lifts off the lake")
    assert compose.generate_button.text().startswith("Generate · price unknown")

    simulator.faults.error_rate = 0.0  # apiframe's list answers again
    model = window.queue.model
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.generation_at(0).stage is Stage.DONE,
                    timeout=20_000)
    qtbot.waitUntil(lambda: compose.generate_button.text().startswith("Generate · 31 credits"),
                    timeout=5_000)
    assert compose.model_picker.currentText() == "Runway Gen-4.5"

    simulator.config.prices["runway-gen4.5"] = {5: 40, 10: 80}  # apiframe's price goes up
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.rowCount() == 2 and model.generation_at(0).stage is Stage.DONE,
                    timeout=20_000)
    assert model.generation_at(0).credit_cost == 40  # charged the new price…
    qtbot.waitUntil(lambda: compose.generate_button.text().startswith("Generate · 40 credits"),
                    timeout=5_000)  # …which the next Generate now shows, and says so
    assert compose.status_label.text() == (
        "Runway Gen-4.5's price changed: 5 s costs 40 credits now (was 31).")


def test_the_balance_on_generate_follows_what_apiframe_took(
    qtbot: QtBot, forget_compose_state: None, app_controller: Any, simulator: Simulator,
) -> None:
    """apiframe takes the credits when it accepts a job; the balance was read again only when
    the job ended (minutes for a real video), so Generate still said '62 credits · 38 left'
    from the balance before, and a second click went on into a 402. It is read again as
    soon as apiframe has the job (each of a batch's)."""
    window = app_controller.window
    compose = window.compose
    simulator.config.seconds_per_job = 60.0  # they run while the window is looked at
    simulator.set_credits("afk_test", 100)
    window.activateWindow()  # back to the window: the balance is read
    qtbot.waitUntil(lambda: compose.balance() == 100, timeout=5_000)
    qtbot.waitUntil(lambda: picker_has_prices(compose), timeout=10_000)
    choose_model(qtbot, compose, "Runway Gen-4.5")
    compose.prompt_edit.setPlainText("a heron lifts off the lake")
    assert compose.generate_button.text() == "Generate · 31 credits · 69 left"
    compose.drop_zone.set_images(["https://example.com/a.png", "https://example.com/b.png"])
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: simulator.jobs_created("afk_test") == 2, timeout=5_000)
    qtbot.waitUntil(lambda: compose.balance() == 38, timeout=5_000)  # 100 - 2 × 31
    assert not compose.generate_button.isEnabled()
    assert compose.status_label.text().startswith("Not enough credits: this needs 62, you have 38")


def picker_has_prices(compose: ComposePanel) -> bool:
    return compose.catalog().require("runway-gen4.5").price(5) == 31


def test_what_waits_to_be_sent_is_counted_before_what_is_left(
    qtbot: QtBot, forget_compose_state: None, app_controller: Any, simulator: Simulator,
) -> None:
    """Over the team's limit of jobs at once, generations wait on this computer, not charged
    yet: '… left' on Generate didn't count them, so a person queued several with plenty
    'left' and the later ones met a 402."""
    window = app_controller.window
    compose = window.compose
    simulator.config.seconds_per_job = 60.0  # they run while the window is looked at
    simulator._state.update_account("afk_test", max_concurrent_jobs=1)  # one at a time
    simulator.set_credits("afk_test", 100)
    window.activateWindow()  # back to the window: the balance (and the limit) are read
    engine = app_controller.engine
    qtbot.waitUntil(lambda: compose.balance() == 100 and engine.account is not None
                    and engine.account.max_concurrent_jobs == 1, timeout=5_000)
    qtbot.waitUntil(lambda: picker_has_prices(compose), timeout=10_000)
    choose_model(qtbot, compose, "Runway Gen-4.5")
    compose.prompt_edit.setPlainText("a heron lifts off the lake")
    compose.drop_zone.set_images(["https://example.com/a.png", "https://example.com/b.png"])
    assert compose.generate_button.text() == "Generate 2 · 62 credits · 38 left"
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: compose.balance() == 69, timeout=5_000)  # the first one taken
    # The second waits for the first's slot: 31 of the 69 are spoken for, 38 free.
    assert simulator.jobs_created("afk_test") == 1
    assert not compose.generate_button.isEnabled()
    assert compose.status_label.text() == (
        "Not enough credits: this needs 62, and 1 generation not sent yet needs 31 of your 69"
        " credits. Runway Gen-4 Turbo 5 s costs 16.")
    compose.drop_zone.set_images(["https://example.com/a.png"])
    assert compose.generate_button.text() == "Generate · 31 credits · 7 left"
    assert compose.status_label.text() == "1 generation not sent yet needs 31 of your 69 credits."
    qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 3, timeout=5_000)
    assert not compose.generate_button.isEnabled()  # 7 free: no third Gen-4.5 for a 402
    assert compose.status_label.text().startswith(
        "Not enough credits: this needs 31, and 2 generations not sent yet need 62 of your 69")
    GenerationService(engine).cancel_pending()  # nothing charged for those: all free again
    qtbot.waitUntil(lambda: compose.generate_button.isEnabled(), timeout=5_000)
    assert compose.generate_button.text() == "Generate · 31 credits · 38 left"
