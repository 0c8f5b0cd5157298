"""The app's own look follows the system's light/dark setting (issue 12, Deliver 6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from runway_desktop.ui import icons, theme
from runway_desktop.ui.queue_delegate import contrast_ratio
from runway_desktop.ui.theme import DARK, LIGHT, Scheme, Theme


@pytest.fixture
def app_look(qapp: QApplication) -> Iterator[QApplication]:
    """The application's style, font, palette and style sheet put back after the test."""
    style, font, sheet = qapp.style().name(), QFont(qapp.font()), qapp.styleSheet()
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setFont(font)
    qapp.setPalette(qapp.style().standardPalette())


def window_colour(app: QApplication) -> str:
    return app.palette().color(QPalette.ColorRole.Window).name()


def make_theme(app: QApplication, forced: Scheme | None = None) -> Theme:
    made = Theme(app, forced)
    made.install()
    return made


def drop(made: Theme) -> None:
    made.setParent(None)  # no longer follows the system once the test is over
    made.deleteLater()


def test_the_palette_follows_the_system_scheme_as_it_changes(app_look: QApplication) -> None:
    made = make_theme(app_look)
    seen: list[Scheme] = []
    made.changed.connect(seen.append)
    try:
        hints = app_look.styleHints()
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert window_colour(app_look) == DARK.window
        assert DARK.accent in app_look.styleSheet()
        assert app_look.palette().color(QPalette.ColorRole.Text).name() == DARK.text
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert window_colour(app_look) == LIGHT.window
        assert LIGHT.accent in app_look.styleSheet()
        assert seen == [Scheme.DARK, Scheme.LIGHT]
        assert app_look.font().pointSizeF() >= theme.BASE_POINT_SIZE
    finally:
        drop(made)


def test_a_forced_scheme_wins_over_the_system(app_look: QApplication) -> None:
    made = make_theme(app_look, Scheme.DARK)
    try:
        app_look.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert window_colour(app_look) == DARK.window
        made.set_forced(None)  # back to the system, which said light
        assert window_colour(app_look) == LIGHT.window
    finally:
        drop(made)


@pytest.mark.parametrize(("value", "expected"), [
    ("dark", Scheme.DARK), ("Light", Scheme.LIGHT), (" DARK ", Scheme.DARK),
    ("system", None), ("", None), ("purple", None)])
def test_the_environment_can_force_a_scheme(value: str, expected: Scheme | None) -> None:
    assert theme.forced_scheme({theme.SCHEME_ENV: value}) is expected
    assert theme.forced_scheme({}) is None


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_text_is_readable_in_both_schemes(colours: theme.Colours) -> None:
    def ratio(a: str, b: str) -> float:
        return contrast_ratio(QColor(a), QColor(b))

    assert ratio(colours.text, colours.window) >= 7
    assert ratio(colours.text, colours.base) >= 7
    assert ratio(colours.muted, colours.window) >= 4.5  # hints and the status bar
    assert ratio(colours.muted, colours.chrome) >= 4.5
    assert ratio(colours.on_accent, colours.accent) >= 4.5  # Generate's label
    assert ratio(colours.focus, colours.window) >= 3  # the focus ring is seen
    assert ratio(colours.text, colours.notice) >= 7  # the banner's message
    assert ratio(colours.text, colours.tooltip) >= 7  # the undo notice


def test_the_style_sheet_has_every_colour_filled_in() -> None:
    for colours in (LIGHT, DARK):
        sheet = theme.style_sheet(colours)
        assert "@" not in sheet
        assert "QPushButton#generate_button" in sheet
        assert colours.accent in sheet


def test_generate_is_the_accent_button(app_look: QApplication, qtbot: QtBot,
                                       tmp_path: Path) -> None:
    from runway_desktop.ui.compose_panel import ComposePanel

    made = make_theme(app_look, Scheme.LIGHT)
    try:
        panel = ComposePanel(tmp_path)
        qtbot.addWidget(panel)
        panel.prompt_edit.setPlainText("a kite")
        panel.show()
        qtbot.waitExposed(panel)
        button = panel.generate_button
        assert button.isEnabled()
        image = button.grab().toImage()
        inside = image.pixelColor(12, image.height() // 2)
        assert inside.name() in (LIGHT.accent, LIGHT.accent_hover)
        assert not button.icon().isNull()
    finally:
        drop(made)


def icon_colours(icon: Any, size: int = 24) -> set[str]:
    image = icon.pixmap(size, size).toImage()
    return {image.pixelColor(x, y).name() for x in range(size) for y in range(size)
            if image.pixelColor(x, y).alpha() == 255}


def test_icons_take_the_palette_colours_and_follow_a_change(qtbot: QtBot) -> None:
    from runway_desktop.ui.preview import PreviewPlayer

    assert icon_colours(icons.icon("repeat", theme.palette_for(DARK))) == {DARK.text}
    preview = PreviewPlayer()
    qtbot.addWidget(preview)
    preview.setPalette(theme.palette_for(LIGHT))
    assert icon_colours(preview.loop_button.icon()) == {LIGHT.text}
    preview.setPalette(theme.palette_for(DARK))  # the system went dark: the icons follow
    assert icon_colours(preview.loop_button.icon()) == {DARK.text}
    assert icon_colours(preview.mute_button.icon()) == {DARK.text}


def test_the_banner_and_the_undo_notice_follow_a_change_of_scheme(
        app_look: QApplication, qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QWidget

    from runway_desktop.ui.banner import Banner
    from runway_desktop.ui.undo_notice import UndoNotice

    made = make_theme(app_look, Scheme.LIGHT)
    try:
        host = QWidget()
        qtbot.addWidget(host)
        host.resize(600, 300)
        banner = Banner(host)
        banner.show_message("Can't reach apiframe.")
        notice = UndoNotice(host)
        notice.show_undoable("Removed 1 generation.")
        host.show()
        qtbot.waitExposed(host)

        def inside(widget: QWidget) -> str:
            return widget.grab().toImage().pixelColor(6, widget.height() // 2).name()

        assert inside(banner) == LIGHT.notice
        assert inside(notice) == LIGHT.tooltip
        made.set_forced(Scheme.DARK)
        assert inside(banner) == DARK.notice
        assert inside(notice) == DARK.tooltip
    finally:
        drop(made)


@pytest.mark.expect_log_warnings(r"style sheet .* can't be read")
def test_a_missing_style_sheet_leaves_the_palette(
        app_look: QApplication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(theme, "resource_path", lambda *parts: tmp_path.joinpath(*parts))
    theme._style_template.cache_clear()
    try:
        made = make_theme(app_look, Scheme.DARK)
        assert window_colour(app_look) == DARK.window
        assert app_look.styleSheet() == ""
        drop(made)
    finally:
        theme._style_template.cache_clear()


def test_the_player_full_screen_is_light_on_black_in_either_scheme(
        app_look: QApplication, qtbot: QtBot) -> None:
    from runway_desktop.ui.preview import PreviewPlayer

    made = make_theme(app_look, Scheme.LIGHT)
    try:
        preview = PreviewPlayer()
        qtbot.addWidget(preview)
        preview.resize(640, 480)
        preview.show()
        qtbot.waitExposed(preview)
        assert icon_colours(preview.loop_button.icon()) == {LIGHT.text}
        preview.set_full_screen(True)
        assert preview.palette().color(QPalette.ColorRole.Window).name() == "#000000"
        assert icon_colours(preview.loop_button.icon()) == {"#e8e8ec"}  # light icons
        image = preview.grab().toImage()
        corner = image.pixelColor(image.width() - 2, image.height() - 2)
        assert corner.lightnessF() < 0.1  # under the controls too
        preview.set_full_screen(False)
        assert preview.palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
        assert icon_colours(preview.loop_button.icon()) == {LIGHT.text}
    finally:
        drop(made)


def test_colours_widgets_choose_themselves_follow_a_change_of_scheme(
        app_look: QApplication, qtbot: QtBot, tmp_path: Path) -> None:
    """Switched at runtime (the system went dark), the drop zone's error line and the prompt
    counter take the dark scheme's colours, as in a window started dark: the new style sheet's
    re-polish had put back their light-scheme palettes (dark red on a white strip)."""
    from runway_desktop.ui.compose_panel import ComposePanel
    from runway_desktop.ui.palette_colours import error_text_color

    made = make_theme(app_look, Scheme.LIGHT)
    try:
        panel = ComposePanel(tmp_path / "cache")
        qtbot.addWidget(panel)
        panel.resize(420, 700)
        panel.show()
        qtbot.waitExposed(panel)
        panel.prompt_edit.setPlainText("x" * (panel.model().prompt_limit + 10))
        panel.drop_zone._show_message("The image preview could not be decoded.")
        line, counter = panel.drop_zone.message_label, panel.counter_label

        def shown(widget: QWidget, role: QPalette.ColorRole) -> str:
            return widget.palette().color(role).name()

        assert shown(line, QPalette.ColorRole.Window) == LIGHT.base
        made.set_forced(Scheme.DARK)
        dark_red = error_text_color(theme.palette_for(DARK)).name()
        assert shown(line, QPalette.ColorRole.Window) == DARK.base
        assert line.grab().toImage().pixelColor(2, 2).name() == DARK.base
        assert shown(line, QPalette.ColorRole.WindowText) == dark_red
        assert shown(counter, QPalette.ColorRole.WindowText) == dark_red
    finally:
        drop(made)


def test_the_video_settings_offer_follows_a_change_of_scheme(
        app_look: QApplication, qtbot: QtBot) -> None:
    from runway_desktop.ui.video_drop import SettingsOffer

    made = make_theme(app_look, Scheme.LIGHT)
    try:
        host = QWidget()
        qtbot.addWidget(host)
        host.resize(600, 300)
        offer = SettingsOffer(host)
        host.show()
        qtbot.waitExposed(host)
        offer.offer("“kite.mp4”: “a red kite”, seed 5, 16:9, 5 s.", use=True, extend=True)
        assert offer.grab().toImage().pixelColor(4, 4).name() == LIGHT.tooltip
        made.set_forced(Scheme.DARK)
        assert offer.grab().toImage().pixelColor(4, 4).name() == DARK.tooltip
    finally:
        drop(made)


def test_an_open_settings_dialog_follows_a_change_of_scheme(
        app_look: QApplication, qtbot: QtBot, keyring_backend: Any, tmp_path: Path,
        qasync_loop: Any) -> None:
    """The proxy field's error line, red for the scheme it was opened in, takes the new
    scheme's red (dark red on the dark dialog read badly)."""
    from runway_desktop import settings
    from runway_desktop.ui.palette_colours import error_text_color
    from runway_desktop.ui.settings_dialog import SettingsDialog

    made = make_theme(app_look, Scheme.LIGHT)
    try:
        dialog = SettingsDialog(settings.Settings(output_dir=str(tmp_path)))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.waitUntil(dialog.key_read)  # read off the GUI thread
        dialog.proxy_edit.setText("ftp://proxy.example")
        assert dialog._proxy_problem()
        line = dialog.proxy_error
        assert line.palette().color(QPalette.ColorRole.WindowText) == error_text_color(
            theme.palette_for(LIGHT))
        made.set_forced(Scheme.DARK)
        assert line.palette().color(QPalette.ColorRole.WindowText) == error_text_color(
            theme.palette_for(DARK))
        dialog.close()
    finally:
        drop(made)


@pytest.mark.parametrize("scheme", [Scheme.LIGHT, Scheme.DARK])
def test_a_check_box_can_be_seen_ticked_or_not(
        app_look: QApplication, qtbot: QtBot, scheme: Scheme) -> None:
    """Fusion draws a check box's edge darker than the window: on the dark scheme an unticked
    box (Settings' "Keep photo location", "Show") was 1.1:1 against it, all but invisible."""
    from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton

    made = make_theme(app_look, scheme)
    colours = theme.COLOURS[scheme]
    try:
        for ticked in (False, True):
            box = QCheckBox("Keep photo location")
            qtbot.addWidget(box)
            box.setChecked(ticked)
            box.show()
            qtbot.waitExposed(box)
            option = QStyleOptionButton()
            box.initStyleOption(option)
            square = box.style().subElementRect(
                QStyle.SubElement.SE_CheckBoxIndicator, option, box)
            image = box.grab().toImage()
            pixels = {image.pixelColor(x, y).name()
                      for x in range(square.left(), square.right() + 1)
                      for y in range(square.top(), square.bottom() + 1)}
            best = max(contrast_ratio(QColor(p), QColor(colours.window)) for p in pixels)
            assert best >= 3.0, (ticked, sorted(pixels))
            if ticked:
                assert colours.accent in pixels  # filled with the accent, a white check on it
                assert "#ffffff" in pixels or any(QColor(p).lightness() > 230 for p in pixels)
    finally:
        drop(made)
