"""Pages and files the app hands to the desktop (a browser, a file manager), and what it says when
nothing here can open them: the address in words, and a button to copy it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

# Where credits are bought. The API contract names no billing page (docs/api: only the API
# host and the docs), so this is apiframe's dashboard, where the balance and top-ups live.
BILLING_URL = "https://app.apiframe.ai/"

_CONTEXT = "Links"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def open_url(url: str) -> bool:
    """Ask the desktop to open it; False when nothing could (no browser or launcher here)."""
    return QDesktopServices.openUrl(QUrl(url))


def open_or_offer_copy(url: str, parent: QWidget, *, what: str) -> bool:
    """Open `url`; when nothing can, say so (non-modal) and offer "Copy link".

    `what` names the page for the sentence, e.g. "apiframe's billing page"."""
    if open_url(url):
        return True
    box = QMessageBox(QMessageBox.Icon.Information,
                      _tr("Couldn't open a web browser"),
                      _tr("Nothing on this computer could open {what}.").format(what=what),
                      parent=parent)
    box.setObjectName("link_box")
    box.setInformativeText(
        _tr("Open this address in your browser: {url}").format(url=url))
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    copy = box.addButton(_tr("Copy link"), QMessageBox.ButtonRole.ActionRole)
    close = box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(copy)
    box.setEscapeButton(close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(_result: int) -> None:
        if box.clickedButton() is copy:
            QGuiApplication.clipboard().setText(url)

    box.finished.connect(finished)
    box.open()  # never exec(): the loop keeps running
    return False
