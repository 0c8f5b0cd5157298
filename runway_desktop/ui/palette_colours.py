"""Colours derived from whatever palette is shown (light or dark): an error's red, a shade."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette


def error_text_color(palette: QPalette) -> QColor:
    """A red that reads well on this palette's window colour (light or dark theme)."""
    window = palette.color(QPalette.ColorRole.Window)
    dark_theme = window.lightnessF() < 0.5
    return QColor.fromHslF(0.0, 0.75, 0.68 if dark_theme else 0.40)


def shade_color(palette: QPalette) -> QColor:
    """The darkest colour of the palette: for dimming and letterboxing in any theme."""
    roles = (
        QPalette.ColorRole.Shadow,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.Window,
        QPalette.ColorRole.Base,
    )
    return QColor(min((palette.color(role) for role in roles), key=QColor.lightnessF))
