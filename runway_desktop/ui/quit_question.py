"""What quitting asks about when work would be cut short: generations still running (they
carry on at the next start) and exports still being written (quitting stops them, and they
leave nothing behind)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication


def _tr(text: str) -> str:
    return QCoreApplication.translate("QuitQuestion", text)


def quit_question(running: int, exports: Sequence[Path]) -> str:
    """The question's text for `running` generations and the files `exports` are writing
    ("" when neither would be cut short)."""
    parts: list[str] = []
    if running == 1:
        parts.append(_tr("1 generation is still running. It is saved and will carry on the "
                         "next time you open Runway Desktop."))
    elif running > 1:
        parts.append(_tr("{0} generations are still running. They are saved and will carry on "
                         "the next time you open Runway Desktop.").format(running))
    if len(exports) == 1:
        parts.append(_tr("An export of “{0}” is still being written: quitting stops it and "
                         "nothing is written.").format(exports[0].name))
    elif exports:
        names = ", ".join(f"“{path.name}”" for path in exports)
        parts.append(_tr("Exports of {0} are still being written: quitting stops them and "
                         "nothing is written.").format(names))
    return "\n\n".join(parts)
