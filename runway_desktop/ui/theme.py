"""The app's own look: a palette and a style sheet for light and dark, on Qt's Fusion style.

Fusion draws the same on Windows, macOS and Linux; the palette gives it our colours, and
resources/style/app.qss (its `@name` tokens filled from `Colours`) gives the few widgets that
carry the hierarchy their shape: Generate is the one accent button, focus is a visible ring,
tabs and the status bar are quiet.

The scheme follows the system (`QStyleHints.colorScheme()`, and `colorSchemeChanged` while the
app runs) unless RUNWAY_DESKTOP_COLOR_SCHEME says `light` or `dark` (screenshots, a person who
prefers one; `system` or nothing follows the system).
"""

from __future__ import annotations

import enum
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from runway_desktop.resources import resource_path

log = logging.getLogger(__name__)
SCHEME_ENV = "RUNWAY_DESKTOP_COLOR_SCHEME"
BASE_POINT_SIZE = 10.0  # the smallest base font size we accept (Qt's default is 9 on Linux)


class Scheme(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class Colours:
    """One scheme's colours (hex); the style sheet's `@name` tokens are these fields."""

    window: str
    chrome: str  # the status bar: a step apart from the window
    text: str
    muted: str
    disabled_text: str
    base: str
    alt_base: str
    button: str
    hover: str
    border: str
    border_strong: str
    indicator: str  # a check box's edge: 3:1 against the window, as WCAG asks of controls
    accent: str
    accent_hover: str
    accent_pressed: str
    on_accent: str
    tint: str  # the accent, faint: checked buttons, the selection
    focus: str
    link: str
    disabled_bg: str
    shadow: str
    tooltip: str
    notice: str  # the banner's warm background (a problem, a one-time notice)
    notice_border: str


LIGHT = Colours(
    window="#f5f5f7", chrome="#ebebef", text="#1c1d21", muted="#5f6370",
    disabled_text="#a3a6ae", base="#ffffff", alt_base="#f0f0f4", button="#ffffff",
    hover="#ececf2", border="#d3d5dc", border_strong="#a7abb7", indicator="#868a96",
    accent="#5b47e0",
    accent_hover="#4c39d1", accent_pressed="#3f2fb5", on_accent="#ffffff", tint="#e8e4fc",
    focus="#5b47e0", link="#4a36cf", disabled_bg="#e2e3e8", shadow="#9a9da6",
    tooltip="#ffffff", notice="#fdf0d9", notice_border="#e6c589",
)
DARK = Colours(
    window="#1b1c20", chrome="#151619", text="#e8e8ec", muted="#a2a6b2",
    disabled_text="#5e626d", base="#131417", alt_base="#202227", button="#2a2c33",
    hover="#31333b", border="#3a3d46", border_strong="#5a5e6a", indicator="#7c8190",
    accent="#6c5cf5",
    accent_hover="#7d6dff", accent_pressed="#5b4be0", on_accent="#ffffff", tint="#2f2a56",
    focus="#a99dff", link="#aca1ff", disabled_bg="#2a2c33", shadow="#000000",
    tooltip="#2a2c33", notice="#3a3120", notice_border="#6e5a33",
)
COLOURS = {Scheme.LIGHT: LIGHT, Scheme.DARK: DARK}


def forced_scheme(env: Mapping[str, str] | None = None) -> Scheme | None:
    """The scheme RUNWAY_DESKTOP_COLOR_SCHEME asks for; None: follow the system."""
    value = (os.environ if env is None else env).get(SCHEME_ENV, "").strip().lower()
    try:
        return Scheme(value)
    except ValueError:
        return None


def scheme_of(qt_scheme: Qt.ColorScheme) -> Scheme:
    """Qt's answer as ours: Unknown (no setting, e.g. a bare X server) is light."""
    return Scheme.DARK if qt_scheme == Qt.ColorScheme.Dark else Scheme.LIGHT


def palette_for(colours: Colours) -> QPalette:
    c = {name: QColor(value) for name, value in asdict(colours).items()}
    role = QPalette.ColorRole
    palette = QPalette()
    for r, name in (
        (role.Window, "window"), (role.WindowText, "text"), (role.Base, "base"),
        (role.AlternateBase, "alt_base"), (role.Text, "text"), (role.Button, "button"),
        (role.ButtonText, "text"), (role.BrightText, "on_accent"),
        (role.Highlight, "accent"), (role.HighlightedText, "on_accent"),
        (role.Accent, "accent"), (role.Link, "link"), (role.LinkVisited, "link"),
        (role.PlaceholderText, "muted"), (role.ToolTipBase, "tooltip"),
        (role.ToolTipText, "text"), (role.Light, "base"), (role.Midlight, "hover"),
        (role.Mid, "border_strong"), (role.Dark, "border_strong"), (role.Shadow, "shadow"),
    ):
        palette.setColor(r, c[name])
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        palette.setColor(disabled, r, c["disabled_text"])
    palette.setColor(disabled, role.Button, c["disabled_bg"])
    palette.setColor(disabled, role.Highlight, c["border_strong"])
    # A window in the background keeps its selection colour (Fusion greys it otherwise).
    palette.setColor(QPalette.ColorGroup.Inactive, role.Highlight, c["accent"])
    return palette


@cache
def _style_template() -> str:
    path = resource_path("style", "app.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:  # a damaged installation: the palette alone still works
        log.warning("The style sheet %s can't be read (%s): plain widgets", path, error)
        return ""


def style_sheet(colours: Colours) -> str:
    """app.qss with each `@name` replaced by that colour, and `@check_icon` and
    `@chevron_icon` by the check mark's and the drop-down arrow's files (unknown tokens are
    an error)."""
    values = {**asdict(colours),
              "check_icon": resource_path("ui-icons", "check-on-accent.svg").as_posix(),
              "chevron_icon": resource_path("ui-icons", "chevron-down-muted.svg").as_posix()}

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"@([a-z_]+)", fill, _style_template())


class Theme(QObject):
    """Applies the look to the application and keeps it in step with the system scheme."""

    changed = Signal(object)  # the Scheme now shown

    def __init__(self, app: QApplication, forced: Scheme | None = None) -> None:
        super().__init__(app)
        self._app = app
        self._forced = forced
        self._system = scheme_of(app.styleHints().colorScheme())
        self._scheme: Scheme | None = None

    def install(self) -> None:
        """Fusion, a readable base font, the scheme's palette and style sheet; then follow
        the system's light/dark setting."""
        self._app.setStyle("Fusion")
        font = QFont(self._app.font())
        if 0 < font.pointSizeF() < BASE_POINT_SIZE:
            font.setPointSizeF(BASE_POINT_SIZE)
            self._app.setFont(font)
        self._app.styleHints().colorSchemeChanged.connect(self._on_system_changed)
        self._apply()

    def scheme(self) -> Scheme:
        return self._forced or self._system

    def colours(self) -> Colours:
        return COLOURS[self.scheme()]

    def set_forced(self, scheme: Scheme | None) -> None:
        """Show this scheme whatever the system says (None: follow the system again)."""
        self._forced = scheme
        self._apply()

    def _on_system_changed(self, qt_scheme: Qt.ColorScheme) -> None:
        self._system = scheme_of(qt_scheme)
        self._apply()

    def _apply(self) -> None:
        scheme = self.scheme()
        if scheme is self._scheme:
            return
        self._scheme = scheme
        colours = COLOURS[scheme]
        self._app.setPalette(palette_for(colours))
        self._app.setStyleSheet(style_sheet(colours))
        # The new style sheet re-polished every widget, which put back the palettes widgets set
        # themselves (an error line's red, the prompt counter's colour) as they were under the
        # old scheme: tell them again, so they choose their colours for this one.
        for widget in self._app.allWidgets():
            QCoreApplication.sendEvent(widget, QEvent(QEvent.Type.PaletteChange))
        self.changed.emit(scheme)


def install(app: QApplication) -> Theme:
    """The theme for the running app (app.py): the env's forced scheme or the system's."""
    theme = Theme(app, forced_scheme())
    theme.install()
    return theme
