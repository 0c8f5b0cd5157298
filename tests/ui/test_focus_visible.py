"""Focus is visible on every kind of control, in light and dark: a keyboard user sees where
Tab has landed. A check box (ticked or not), the model picker and the position slider showed
no change at all when focused under the app's style sheet; the Queue | Gallery tabs only a
1 px dotted edge."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPushButton,
    QSlider,
    QTabBar,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from runway_desktop.ui.theme import COLOURS, Scheme, Theme


@pytest.fixture(params=[Scheme.LIGHT, Scheme.DARK], ids=["light", "dark"])
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[Scheme]:
    style, font, sheet = qapp.style().name(), QFont(qapp.font()), qapp.styleSheet()
    theme = Theme(qapp, request.param)
    theme.install()
    try:
        yield request.param
    finally:
        theme.setParent(None)
        theme.deleteLater()
        qapp.setStyleSheet(sheet)
        qapp.setStyle(style)
        qapp.setFont(font)
        qapp.setPalette(qapp.style().standardPalette())


def focus_coloured(image: QImage, focus: QColor) -> int:
    """Pixels of (nearly) the focus colour."""
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            count += (abs(c.red() - focus.red()) + abs(c.green() - focus.green())
                      + abs(c.blue() - focus.blue())) < 60
    return count


def _ticked() -> QWidget:
    box = QCheckBox("Save each video's settings in a .json file beside it")
    box.setChecked(True)
    return box


def _slider() -> QWidget:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 1000)
    slider.setValue(300)
    slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return slider


def _combo() -> QWidget:
    combo = QComboBox()
    combo.addItems(["Runway Gen-4 Turbo", "Midjourney Video"])
    return combo


def _tabs() -> QWidget:
    bar = QTabBar()
    bar.addTab("&Queue")
    bar.addTab("&Gallery")
    bar.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # as in the window's side tabs
    return bar


def _player() -> QWidget:
    from runway_desktop.ui.preview import PreviewPlayer

    player = PreviewPlayer()
    player.setMinimumHeight(200)
    return player


KINDS: dict[str, Callable[[], QWidget]] = {
    "preview player": _player,  # Space, L, M, Left/Right answer here: seen to have the keys
    "check box": lambda: QCheckBox("Demo mode (a local simulator; no key, no credits)"),
    "ticked check box": _ticked,
    "combo box": _combo,
    "slider": _slider,
    "tab bar": _tabs,
    "line edit": lambda: QLineEdit("afk_…"),  # these had a ring already: the test's yardstick
    "button": lambda: QPushButton("Browse…"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_focused_control_shows_a_ring_and_moves_nothing(
        qtbot: QtBot, scheme: Scheme, kind: str) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    other = QPushButton("elsewhere")
    control = KINDS[kind]()
    layout.addWidget(other)
    layout.addWidget(control)
    host.resize(420, 120)
    host.show()
    host.activateWindow()
    qtbot.waitUntil(host.isActiveWindow)
    focus = QColor(COLOURS[scheme].focus)

    other.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(other.hasFocus)
    geometry = control.geometry()
    before = focus_coloured(control.grab().toImage(), focus)
    control.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(control.hasFocus)
    after = focus_coloured(control.grab().toImage(), focus)

    assert after - before >= 40, f"{kind}: {before} → {after} focus-coloured pixels"
    assert control.geometry() == geometry  # the ring takes no room of its own
