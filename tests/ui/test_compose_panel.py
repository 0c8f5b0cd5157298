"""ComposePanel and AspectRatioPicker: prices, limits, Generate, seeds, saved state."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from runway_desktop.api.catalog import GEN4_TURBO
from runway_desktop.engine import framing
from runway_desktop.engine.records import GenerationSettings
from runway_desktop.ui.aspect_buttons import AspectRatioPicker
from runway_desktop.ui.compose_panel import ComposePanel, SeedValidator
from runway_desktop.ui.palette_colours import error_text_color
from tests.helpers.images import make_png

ASPECT_RATIOS = GEN4_TURBO.aspect_ratios
MAX_SEED = GEN4_TURBO.max_seed
PROMPT_LIMIT = GEN4_TURBO.prompt_limit


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> ComposePanel:
    widget = ComposePanel(tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(400, 760)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def num(panel: ComposePanel, value: int) -> str:
    return panel.locale().toString(value)


def click_duration(qtbot, panel: ComposePanel, seconds: int) -> None:
    qtbot.mouseClick(panel.duration_picker.button(str(seconds)), Qt.MouseButton.LeftButton)


def test_price_follows_duration(qtbot, panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("waves")
    assert panel.generate_button.text() == "Generate · 8 credits"
    click_duration(qtbot, panel, 10)
    assert panel.duration() == 10
    assert panel.generate_button.text() == "Generate · 15 credits"
    click_duration(qtbot, panel, 5)
    assert panel.generate_button.text() == "Generate · 8 credits"


def test_balance_after_is_shown(panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("waves")
    panel.set_balance(4500)
    assert panel.generate_button.text() == f"Generate · 8 credits · {num(panel, 4492)} left"
    panel.set_balance(None)
    assert panel.generate_button.text() == "Generate · 8 credits"


def test_generate_disabled_without_prompt(panel: ComposePanel) -> None:
    assert not panel.generate_button.isEnabled()
    assert "prompt" in panel.generate_button.toolTip().lower()
    assert panel.status_label.text() == panel.generate_button.toolTip()
    panel.prompt_edit.setPlainText("   \n  ")  # whitespace only counts as empty
    assert not panel.generate_button.isEnabled()
    panel.prompt_edit.setPlainText("a fox runs")
    assert panel.generate_button.isEnabled()
    assert "Ctrl+Enter" in panel.generate_button.toolTip()


def test_counter_and_too_long_prompt(panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("x" * 123)
    assert panel.counter_label.text() == f"123 / {num(panel, PROMPT_LIMIT)}"
    normal = panel.counter_label.palette().color(QPalette.ColorRole.WindowText)
    panel.prompt_edit.setPlainText("x" * PROMPT_LIMIT)
    assert panel.generate_button.isEnabled()
    panel.prompt_edit.setPlainText("x" * (PROMPT_LIMIT + 5))
    assert panel.counter_label.text() == f"{num(panel, 1005)} / {num(panel, PROMPT_LIMIT)}"
    warning = panel.counter_label.palette().color(QPalette.ColorRole.WindowText)
    assert warning == error_text_color(panel.palette())
    assert warning != normal
    assert not panel.generate_button.isEnabled()
    assert "5 characters too long" in panel.generate_button.toolTip()


def test_generate_disabled_when_balance_below_price(qtbot, panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("waves")
    panel.set_balance(10)
    assert panel.generate_button.isEnabled()
    click_duration(qtbot, panel, 10)
    assert not panel.generate_button.isEnabled()
    assert "Not enough credits" in panel.generate_button.toolTip()
    assert "15" in panel.status_label.text()
    assert panel.generate_button.text() == "Generate · 15 credits"


def test_window_can_block_generate_with_a_reason(panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("waves")
    panel.set_generate_enabled(False, "Add your API key in Settings first.")
    assert not panel.generate_button.isEnabled()
    assert panel.generate_button.toolTip() == "Add your API key in Settings first."
    assert panel.status_label.isVisible()
    panel.set_generate_enabled(True)
    assert panel.generate_button.isEnabled()
    panel.set_busy_hint("2 generations running")
    assert panel.status_label.text() == "2 generations running"


def test_ctrl_enter_emits_the_current_settings(qtbot, panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("  a paper boat drifts  ")
    panel.aspect_picker.set_value("9:16")
    click_duration(qtbot, panel, 10)
    panel.seed_edit.setText("4294967295")
    panel.activateWindow()
    panel.prompt_edit.setFocus()
    qtbot.waitUntil(panel.prompt_edit.hasFocus)
    with qtbot.waitSignal(panel.generate_requested, timeout=2000) as blocker:
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    [items] = blocker.args
    assert items == [
        GenerationSettings(
            prompt="a paper boat drifts",
            duration=10,
            aspect_ratio="9:16",
            seed=MAX_SEED,
            image_path=None,
            image_url=None,
        )
    ]
    # Ctrl+Enter works too, and the prompt was not turned into a newline.
    with qtbot.waitSignal(panel.generate_requested, timeout=2000):
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert panel.prompt_edit.toPlainText() == "  a paper boat drifts  "


def test_shortcut_does_nothing_while_disabled(qtbot, panel: ComposePanel) -> None:
    panel.activateWindow()
    panel.prompt_edit.setFocus()
    with qtbot.assertNotEmitted(panel.generate_requested):
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_several_images_queue_one_generation_each(
    qtbot, panel: ComposePanel, tmp_path: Path
) -> None:
    paths = [make_png(tmp_path, f"p{i}.png") for i in range(2)]
    url = "https://cdn.example.com/still.jpg"
    panel.drop_zone.set_images([*paths, url])
    panel.prompt_edit.setPlainText("slow zoom")
    panel.set_balance(100)
    assert panel.generate_button.text() == f"Generate 3 · 24 credits · {num(panel, 76)} left"
    panel.set_seed_locked(False)
    with qtbot.waitSignal(panel.generate_requested) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    items: list[GenerationSettings] = blocker.args[0]
    assert [(s.image_path, s.image_url) for s in items] == [
        (paths[0], None),
        (paths[1], None),
        (None, url),
    ]
    assert len({s.seed for s in items}) == 3  # unlocked: distinct seeds
    assert all(s.prompt == "slow zoom" for s in items)
    # Creators iterate: prompt and images stay.
    assert panel.prompt_edit.toPlainText() == "slow zoom"
    assert panel.drop_zone.images() == [*paths, url]


def test_locked_seed_stays_and_is_shared(qtbot, panel: ComposePanel, tmp_path: Path) -> None:
    panel.drop_zone.set_images([make_png(tmp_path, "a.png"), make_png(tmp_path, "b.png")])
    panel.prompt_edit.setPlainText("rain")
    panel.seed_edit.setText("1234")
    qtbot.mouseClick(panel.lock_button, Qt.MouseButton.LeftButton)
    assert panel.seed_locked()
    with qtbot.waitSignal(panel.generate_requested) as blocker:
        panel.generate()
    assert [s.seed for s in blocker.args[0]] == [1234, 1234]
    assert panel.seed() == 1234


def test_unlocked_seed_changes_after_generate(qtbot, panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("rain")
    panel.set_seed_locked(False)
    panel.seed_edit.setText("77")
    with qtbot.waitSignal(panel.generate_requested) as blocker:
        panel.generate()
    assert blocker.args[0][0].seed == 77  # the seed on screen is the one used
    assert panel.seed() != 77
    assert 0 <= panel.seed() <= MAX_SEED


def test_dice_draws_a_new_seed(qtbot, panel: ComposePanel) -> None:
    panel.seed_edit.setText("5")
    qtbot.mouseClick(panel.dice_button, Qt.MouseButton.LeftButton)
    assert panel.seed() != 5


def test_seed_field_takes_the_full_uint32_range() -> None:
    validator = SeedValidator()
    acceptable = SeedValidator.State.Acceptable
    assert validator.validate(str(MAX_SEED), 0)[0] == acceptable
    assert validator.validate("0", 0)[0] == acceptable
    # Over the range: shown as typed, and Generate says why it waits (never refused unsaid).
    assert validator.validate(str(MAX_SEED + 1), 0)[0] == SeedValidator.State.Intermediate
    assert validator.validate(" 4 2\n", 4)[1:] == ("42", 2)  # spaces go, the cursor follows
    assert validator.validate("４２", 2) == (acceptable, "42", 2)  # typed with a CJK IME
    assert validator.validate("12a", 0)[0] == SeedValidator.State.Invalid
    assert validator.validate("-1", 0)[0] == SeedValidator.State.Invalid
    assert validator.validate("", 0)[0] == SeedValidator.State.Intermediate


def test_emptied_seed_means_random_then_refills(qtbot, panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("rain")
    panel.seed_edit.setText("")
    assert panel.generate_button.isEnabled()  # the placeholder says "random": so it is
    assert panel.generate_block_reason() == ""
    panel.seed_edit.editingFinished.emit()
    assert panel.seed_edit.text().isdigit()
    assert panel.generate_button.isEnabled()


def test_apply_settings_round_trip(panel: ComposePanel, tmp_path: Path) -> None:
    image = make_png(tmp_path, "start.png")
    frame = framing.panned(framing.zoomed(framing.centred((640, 360), "21:9"), (640, 360),
                                          "21:9", 2.0), -0.1, 0.05)
    original = GenerationSettings(
        prompt="a lantern floats up",
        duration=10,
        aspect_ratio="21:9",
        seed=987654321,
        image_path=image,
        frame=frame,
    )
    panel.set_seed_locked(False)
    panel.apply_settings(original)
    assert panel.settings() == original
    # Without a stored frame, the frame is the centred one: what is uploaded is what is shown.
    panel.apply_settings(dataclasses.replace(original, frame=None))
    assert panel.settings().frame == framing.centred((640, 360), "21:9")
    assert panel.seed_locked()
    assert panel.drop_zone.aspect_ratio() == "21:9"
    by_url = GenerationSettings(prompt="x", seed=1, image_url="https://example.com/i.png")
    panel.apply_settings(by_url)
    assert panel.settings() == by_url
    text_only = GenerationSettings(prompt="y", seed=2)
    panel.apply_settings(text_only)
    assert panel.settings() == text_only
    assert panel.image_hint.isVisible()


def test_state_round_trip(tmp_path: Path, qtbot, panel: ComposePanel) -> None:
    panel.aspect_picker.set_value("4:3")
    panel.duration_picker.set_value("10")
    panel.seed_edit.setText("42")
    panel.set_seed_locked(True)
    state = panel.state()
    assert state == {"model": "runway-gen4-turbo", "aspect_ratio": "4:3", "duration": 10,
                     "seed_locked": True, "seed": 42, "ratio_picked": False, "prompt": "",
                     "images": [], "frame": "", "frame_picture": ""}

    fresh = ComposePanel(tmp_path / "cache2")
    qtbot.addWidget(fresh)
    fresh.restore_state(state)
    assert fresh.state() == state
    # QSettings hands back strings; junk is ignored.
    fresh.restore_state(
        {"aspect_ratio": "9:16", "duration": "5", "seed_locked": "false", "seed": "7"}
    )
    assert fresh.aspect_picker.value() == "9:16"
    assert fresh.duration() == 5
    assert not fresh.seed_locked()
    fresh.restore_state({"aspect_ratio": "7:5", "duration": "forever"})
    assert fresh.aspect_picker.value() == "9:16"
    assert fresh.duration() == 5


def test_image_hint_only_without_an_image(panel: ComposePanel, tmp_path: Path) -> None:
    assert panel.image_hint.isVisible()
    assert panel.image_hint.text() == "Runway works best with a start image."
    panel.drop_zone.set_images([make_png(tmp_path, "s.png")])
    assert not panel.image_hint.isVisible()
    panel.drop_zone.clear()
    assert panel.image_hint.isVisible()


def test_the_prompt_box_stays_put_when_the_hint_goes(panel: ComposePanel, tmp_path: Path) -> None:
    """The hint under an empty drop zone went with the first image and the prompt box moved
    up 8 px under the pointer; its room is kept."""
    def top() -> int:
        QApplication.processEvents()
        return panel.prompt_edit.mapTo(panel, panel.prompt_edit.rect().topLeft()).y()

    empty = top()
    panel.drop_zone.set_images([make_png(tmp_path, "s.png")])
    assert not panel.image_hint.isVisible()
    assert top() == empty
    panel.drop_zone.clear()
    assert top() == empty


def test_ratio_picker_drives_the_drop_zone_frame(qtbot, panel: ComposePanel) -> None:
    qtbot.mouseClick(panel.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    assert panel.drop_zone.aspect_ratio() == "1:1"
    assert panel.settings().aspect_ratio == "1:1"


def test_controls_are_accessible_and_in_order(panel: ComposePanel) -> None:
    controls = [
        panel.prompt_edit,
        panel.seed_edit,
        panel.lock_button,
        panel.dice_button,
        panel.generate_button,
        *panel.aspect_picker.buttons(),
        *panel.duration_picker.buttons(),
    ]
    for widget in controls:
        assert widget.accessibleName(), widget
        assert widget.toolTip(), widget


def test_tab_order_is_top_to_bottom(qtbot, panel: ComposePanel) -> None:
    panel.prompt_edit.setPlainText("waves")  # Generate enabled: it is the last Tab stop
    panel.aspect_picker.set_value("1:1")
    panel.activateWindow()
    panel.setFocus()  # the panel hands focus to the prompt
    qtbot.waitUntil(panel.prompt_edit.hasFocus)
    expected = [
        panel.model_picker,
        panel.aspect_picker.button("1:1"),  # only the checked choice is a Tab stop
        panel.duration_picker.button("5"),
        panel.seed_edit,
        panel.lock_button,
        panel.dice_button,
        panel.generate_button,
    ]
    for widget in expected:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is widget


def test_aspect_picker_arrow_keys_and_signal(qtbot) -> None:
    picker = AspectRatioPicker()
    qtbot.addWidget(picker)
    picker.show()
    assert [b.text() for b in picker.buttons()] == list(ASPECT_RATIOS)
    assert picker.value() == "16:9"
    first = picker.button("16:9")
    first.setFocus()
    with qtbot.waitSignal(picker.changed) as blocker:
        qtbot.keyClick(first, Qt.Key.Key_Right)
    assert blocker.args == ["9:16"]
    assert picker.value() == "9:16"
    qtbot.keyClick(picker.button("9:16"), Qt.Key.Key_End)
    assert picker.value() == "21:9"
    qtbot.keyClick(picker.button("21:9"), Qt.Key.Key_Left)
    assert picker.value() == "3:4"
    qtbot.keyClick(picker.button("3:4"), Qt.Key.Key_Home)
    assert picker.value() == "16:9"
    picker.set_value("nonsense")
    assert picker.value() == "16:9"
    # Exactly one Tab stop: the checked button.
    tab_stops = [b for b in picker.buttons() if b.focusPolicy() & Qt.FocusPolicy.TabFocus]
    assert tab_stops == [picker.button("16:9")]
    picker.grab()
    assert QApplication.activeModalWidget() is None


def test_pasting_a_picture_into_the_prompt_sets_the_image(qtbot, panel: ComposePanel) -> None:
    from PySide6.QtGui import QColor, QGuiApplication, QImage

    panel.prompt_edit.setFocus()
    image = QImage(320, 180, QImage.Format.Format_RGB32)
    image.fill(QColor("#3080c0"))
    QGuiApplication.clipboard().setImage(image)
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(panel.drop_zone.images()) == 1)
    assert panel.prompt_edit.toPlainText() == ""
    # Text still pastes as text.
    QGuiApplication.clipboard().setText("a heron lifting off")
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert panel.prompt_edit.toPlainText() == "a heron lifting off"


def test_ctrl_z_in_the_prompt_or_the_seed_is_the_windows_undo_when_nothing_was_typed(
    qtbot, tmp_path: Path
) -> None:
    """Edit ▸ Undo (Ctrl+Z, window-wide) brings back removed rows; with the keys in the prompt
    box or the seed field and nothing typed to undo there, the field took Ctrl+Z and nothing
    happened."""
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    panel = ComposePanel(tmp_path / "cache")
    window.setCentralWidget(panel)
    undone: list[bool] = []
    undo = QAction("Undo", window)
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    undo.triggered.connect(lambda: undone.append(True))
    window.addAction(undo)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    panel.prompt_edit.setFocus()

    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert undone == [True]
    qtbot.keyClicks(panel.prompt_edit, "kite")  # typed: Ctrl+Z undoes the typing first
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert undone == [True]
    assert panel.prompt_edit.toPlainText() == ""
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert undone == [True, True]  # the typing undone: the window's again

    # The seed field did the same: it took Ctrl+Z with nothing typed there to undo.
    panel.seed_edit.setFocus()
    qtbot.keyClick(panel.seed_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert undone == [True, True, True]
    seed = panel.seed_edit.text()
    panel.seed_edit.selectAll()
    qtbot.keyClicks(panel.seed_edit, "42")
    qtbot.keyClick(panel.seed_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert undone == [True, True, True]  # the typed seed first
    assert panel.seed_edit.text() == seed


def test_a_screen_reader_hears_the_price_and_why_generate_waits(panel: ComposePanel) -> None:
    """The button's accessible name is "Generate" (what it does), which hid its words from a
    screen reader: the price, the balance left, and why it is disabled were only seen."""
    panel.set_balance(4500)
    assert panel.generate_button.accessibleName() == "Generate"
    assert "Write a prompt first." in panel.generate_button.accessibleDescription()
    panel.prompt_edit.setPlainText("waves")
    described = panel.generate_button.accessibleDescription()
    assert "8 credits" in described
    assert f"{num(panel, 4492)} left" in described
    assert "prompt" not in described  # nothing waits any more


def test_a_seed_and_a_prompt_as_typed_pasted_and_re_used(qtbot, panel: ComposePanel) -> None:
    """What a person pastes or re-uses is kept or said, never silently refused or lost: a seed
    copied with spaces or a line break around it was refused whole (the old seed stayed, not a
    word), one over the range vanished, a prompt of only zero-width characters left Generate
    on and did nothing, and Re-use Settings replaced the prompt being typed with no Undo."""
    panel.prompt_edit.setPlainText("rain on a tin roof")
    panel.seed_edit.setFocus()

    def paste_seed(text: str) -> None:
        panel.seed_edit.selectAll()
        QApplication.clipboard().setText(text)
        qtbot.keyClick(panel.seed_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)

    paste_seed(" 42\n")
    assert panel.seed_edit.text() == "42"
    paste_seed(f"  {MAX_SEED}  ")  # longer than the field's digits before its spaces go
    assert panel.seed() == MAX_SEED
    assert panel.generate_button.isEnabled()
    paste_seed(str(MAX_SEED + 1))  # shown as pasted, and why Generate waits
    assert panel.seed_edit.text() == str(MAX_SEED + 1)
    assert not panel.generate_button.isEnabled()
    assert panel.status_label.text() == f"Enter a seed from 0 to {MAX_SEED}."
    panel.seed_edit.selectAll()
    qtbot.keyClicks(panel.seed_edit, "7")
    assert panel.generate_button.isEnabled()
    paste_seed("seed 7")  # not a number: refused, as typed letters are
    assert panel.seed_edit.text() == "7"

    panel.prompt_edit.setPlainText("\u200b\u200d")  # looks empty, and apiframe would refuse it
    assert not panel.generate_button.isEnabled()
    assert panel.status_label.text() == "Write a prompt first."
    panel.prompt_edit.setPlainText("x" * (PROMPT_LIMIT + 1))
    assert panel.status_label.text() == (
        f"The prompt is 1 character too long (limit {num(panel, PROMPT_LIMIT)}).")

    panel.prompt_edit.clear()
    panel.prompt_edit.setFocus()
    qtbot.keyClicks(panel.prompt_edit, "a kite over dunes")
    panel.apply_settings(GenerationSettings(prompt="an older prompt", seed=3))
    assert panel.prompt_edit.toPlainText() == "an older prompt"
    qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.prompt_edit.toPlainText() == "a kite over dunes"  # the typing is not lost


def test_not_enough_credits_is_said_in_the_error_colour(qtbot, panel: ComposePanel) -> None:
    """The line under Generate is drawn in its placeholder role: the error colour set on its
    window text never showed, and 'Not enough credits' looked like 'Write a prompt first.'"""

    def reddish_pixels() -> int:
        image = panel.status_label.grab().toImage()
        red = error_text_color(panel.palette())
        return sum(
            1 for x in range(image.width()) for y in range(image.height())
            if (c := image.pixelColor(x, y)).red() - max(c.green(), c.blue()) > 60
            and abs(c.red() - red.red()) < 40)

    panel.prompt_edit.setPlainText("waves")
    panel.set_balance(4)
    assert panel.status_label.text().startswith("Not enough credits")
    assert reddish_pixels() > 0
    panel.prompt_edit.clear()  # still short of credits, but first a prompt is wanted
    assert panel.status_label.text() == "Write a prompt first."
    assert reddish_pixels() == 0  # a hint, not an error


def test_re_used_settings_this_app_cant_make_are_said(panel: ComposePanel) -> None:
    """A row brought in from apiframe's job list may be of a model this app can't make (made
    on apiframe's site with the same key): Re-use Settings kept the model chosen, without a
    word, and Generate made it with Gen-4 Turbo."""
    panel.set_model("runway-gen4.5")
    panel.apply_settings(GenerationSettings(prompt="a fox", seed=9, model="kling-v2-master"),
                         made_by="#7")
    assert panel.model().id == "runway-gen4.5"
    said = panel.status_label.text()
    assert said == "#7 was made with kling-v2-master, not offered here: Gen-4.5 instead."
    assert panel.generate_button.isEnabled()  # its prompt, seed and ratio are still of use
    assert "kling" not in panel.generate_button.toolTip()
    panel.apply_settings(GenerationSettings(prompt="a fox", seed=9, model="runway-gen4.5"))
    assert "kling" not in panel.status_label.text()  # all offered: nothing more to say


def test_not_enough_credits_says_what_can_be_made(qtbot, panel: ComposePanel) -> None:
    """'Not enough credits' said why Generate waits, not what to do: what the balance still
    makes (this model shorter, or another model), else where credits come from."""
    priced = dataclasses.replace(panel.catalog(), models=tuple(
        dataclasses.replace(m, prices={5: 31, 10: 62}) if m.id == "runway-gen4.5" else m
        for m in panel.catalog().models))
    panel.set_catalog(priced)
    panel.set_model("runway-gen4.5")
    click_duration(qtbot, panel, 10)
    panel.prompt_edit.setPlainText("waves")
    panel.set_balance(40)
    assert panel.status_label.text() == (
        "Not enough credits: this needs 62, you have 40. 5 s costs 31.")
    panel.set_balance(20)  # not even 5 s of Gen-4.5: Gen-4 Turbo, as long, fits
    assert panel.status_label.text() == (
        "Not enough credits: this needs 62, you have 20. Gen-4 Turbo 10 s costs 15.")
    panel.set_balance(3)
    assert panel.status_label.text() == (
        "Not enough credits: this needs 62, you have 3. Top up your apiframe balance.")
    panel.drop_zone.set_images(["https://example.com/a.png", "https://example.com/b.png"])
    panel.set_balance(70)  # two clips: what they cost together, as the need is
    assert panel.status_label.text() == (
        "Not enough credits: this needs 124, you have 70. 5 s costs 62.")


def test_a_choice_the_next_model_doesnt_take_is_said(qtbot, panel: ComposePanel) -> None:
    """A model with fewer ratios or lengths (one more catalog entry) moved the choice to the
    nearest it takes without a word: a 21:9, 10 s video became 16:9, 5 s unseen."""
    short = dataclasses.replace(GEN4_TURBO, id="runway-short", label="Short Model",
                                durations=(5,), aspect_ratios=("16:9", "9:16", "1:1"),
                                prices={5: 4})
    catalog = dataclasses.replace(panel.catalog(), models=(*panel.catalog().models, short))
    panel.set_catalog(catalog)
    panel.prompt_edit.setPlainText("waves")
    qtbot.mouseClick(panel.aspect_picker.button("21:9"), Qt.MouseButton.LeftButton)
    click_duration(qtbot, panel, 10)
    panel.set_model("runway-short")
    assert (panel.aspect_picker.value(), panel.duration()) == ("16:9", 5)
    assert panel.status_label.text() == "Short Model has no 21:9, 10 s: 16:9, 5 s instead."
    assert panel.generate_button.isEnabled()
    qtbot.mouseClick(panel.aspect_picker.button("1:1"), Qt.MouseButton.LeftButton)
    assert panel.status_label.text() == ""  # the person chose: it is past
    qtbot.keyClick(panel.aspect_picker.button("1:1"), Qt.Key.Key_End)  # the last one shown
    assert panel.aspect_picker.value() == "1:1"  # (End chose the hidden 21:9)
    qtbot.keyClick(panel.aspect_picker.button("1:1"), Qt.Key.Key_Right)
    assert panel.aspect_picker.value() == "1:1"
    qtbot.keyClick(panel.aspect_picker.button("1:1"), Qt.Key.Key_Left)
    assert panel.aspect_picker.value() == "9:16"
    panel.set_model("runway-gen4-turbo")  # everything it had is offered here: nothing to say
    assert panel.status_label.text() == ""
    # Re-used settings the model doesn't take: its hidden 21:9 and 10 s were chosen unseen.
    panel.apply_settings(GenerationSettings(prompt="waves", seed=1, model="runway-short",
                                            aspect_ratio="21:9", duration=10), made_by="#3")
    assert (panel.aspect_picker.value(), panel.duration()) == ("9:16", 5)
    assert panel.status_label.text() == (
        "#3 was made with 21:9, 10 s, not offered here: 9:16, 5 s instead.")


def test_generations_not_sent_yet_are_spoken_for(panel: ComposePanel) -> None:
    """'… left' on Generate was the balance less this Generate only: generations still
    waiting here (over the team's limit of jobs at once, queued behind others) aren't charged
    yet, so a person queued five with plenty 'left' and the later ones met a 402."""
    from runway_desktop.engine.records import Action, Generation, Stage

    def row(gid: int, stage: Stage, *, job_id: str | None = None, duration: int = 5,
            action: Action | None = None) -> Generation:
        return Generation(id=gid, settings=GenerationSettings(prompt="a", duration=duration),
                          idempotency_key=f"k{gid}", stage=stage, created_at=0.0,
                          updated_at=0.0, job_id=job_id, action=action)

    panel.prompt_edit.setPlainText("waves")
    panel.set_balance(40)
    panel.follow_generations([row(1, Stage.PENDING), row(2, Stage.QUEUED, job_id="j2"),
                              row(3, Stage.DONE, job_id="j3")])
    assert panel.generate_button.text() == "Generate · 8 credits · 24 left"  # 40 - 8 - 8
    assert panel.status_label.text() == "1 generation not sent yet needs 8 of your 40 credits."
    assert "needs 8 of your 40" in panel.generate_button.accessibleDescription()
    panel.generation_changed(row(4, Stage.UPLOADING, duration=10))
    panel.generation_changed(row(5, Stage.ATTENTION, action=Action.BUY_CREDITS))  # sent again
    assert panel.generate_button.text() == "Generate · 8 credits · 1 left"  # 40 - 31 - 8
    panel.generation_changed(row(6, Stage.PENDING))
    assert not panel.generate_button.isEnabled()
    assert panel.status_label.text() == (
        "Not enough credits: this needs 8, and 4 generations not sent yet need 39 of your 40"
        " credits. Top up your apiframe balance.")
    panel.generation_changed(row(6, Stage.CANCELLED))  # nothing charged: free again
    panel.generation_removed(5)
    assert panel.generate_button.text() == "Generate · 8 credits · 9 left"  # 40 - 23 - 8
    # apiframe takes #1: it stays counted until the balance read next shows it taken.
    panel.generation_changed(row(1, Stage.QUEUED, job_id="j1"))
    assert panel.generate_button.text() == "Generate · 8 credits · 9 left"
    assert panel.status_label.text() == "1 generation not sent yet needs 15 of your 32 credits."
    panel.set_balance(32)
    assert panel.generate_button.text() == "Generate · 8 credits · 9 left"
    panel.generation_changed(row(4, Stage.FAILED))  # refused before apiframe took it
    assert panel.generate_button.text() == "Generate · 8 credits · 24 left"
    assert panel.status_label.text() == ""


def test_why_generate_waits_is_reached_with_the_keyboard(
    qtbot, panel: ComposePanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disabled Generate is skipped by Tab and its tooltip needs a mouse: the reason under it
    was never reached from the keyboard (a screen reader went from New seed to the next
    pane), and Ctrl+Enter did nothing, without a word."""
    from PySide6.QtGui import QAccessible

    from runway_desktop.ui import compose_panel

    said: list[str] = []
    monkeypatch.setattr(compose_panel, "announce", lambda _widget, text: said.append(text))
    panel.activateWindow()
    panel.dice_button.setFocus()
    qtbot.waitUntil(panel.dice_button.hasFocus)
    qtbot.keyClick(panel.dice_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.status_label  # where Generate would be
    heard = QAccessible.queryAccessibleInterface(panel.status_label)
    assert heard is not None
    assert heard.text(QAccessible.Text.Name) == "Write a prompt first."
    # Ctrl+Enter: why, said, and the keys go where the fix is typed.
    qtbot.keyClick(panel.status_label, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert said == ["Write a prompt first."]
    assert panel.prompt_edit.hasFocus()
    qtbot.keyClicks(panel.prompt_edit, "waves")
    panel.seed_edit.setFocus()
    panel.seed_edit.selectAll()
    qtbot.keyClicks(panel.seed_edit, str(MAX_SEED + 1))
    qtbot.keyClick(panel.seed_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert said[-1] == f"Enter a seed from 0 to {MAX_SEED}."
    assert panel.seed_edit.hasFocus()
    panel.set_balance(4)  # short of credits: nothing to type, only said
    panel.status_label.setFocus()
    panel.seed_edit.setText("7")
    assert QApplication.focusWidget() is panel.status_label
    qtbot.keyClick(panel.status_label, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert said[-1].startswith("Not enough credits: this needs 8, you have 4.")
    assert QApplication.focusWidget() is panel.status_label
    panel.set_balance(400)  # Generate can go: it takes the line's place, focus and all
    assert panel.generate_button.hasFocus()
    assert not panel.status_label.focusPolicy() & Qt.FocusPolicy.TabFocus


def test_a_picture_dropped_on_the_prompt_box_is_the_start_image_not_prompt_text(
        qtbot, panel: ComposePanel, tmp_path: Path) -> None:
    """Dragged toward the compose panel and let go over the prompt box, a picture put its
    file:///… address in the prompt and no start image; a file that is no picture is said by
    the drop zone. Text dragged there is still typed in."""
    from PySide6.QtCore import QMimeData

    from tests.ui.dnd import drop_files, drop_mime

    box = panel.prompt_edit.viewport()
    panel.prompt_edit.setPlainText("a kite rises")
    picture = Path(make_png(tmp_path, "kite.png"))
    with qtbot.waitSignal(panel.drop_zone.images_changed):
        assert drop_files(box, [picture])
    assert panel.drop_zone.images() == [str(picture)]
    assert panel.prompt_edit.toPlainText() == "a kite rises"

    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    assert drop_files(box, [notes])
    qtbot.waitUntil(lambda: "notes.txt" in panel.drop_zone.message(), timeout=5_000)
    assert panel.prompt_edit.toPlainText() == "a kite rises"
    assert panel.drop_zone.images() == [str(picture)]

    text = QMimeData()
    text.setText(" over the dunes")
    panel.prompt_edit.moveCursor(panel.prompt_edit.textCursor().MoveOperation.End)
    assert drop_mime(box, text)
    assert "over the dunes" in panel.prompt_edit.toPlainText()
