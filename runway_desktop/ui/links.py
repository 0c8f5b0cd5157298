"""Pages and files the app hands to the desktop (a browser, a file manager, a player), and what it
says when nothing here can open them: where it is in words, and a button to copy it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

# Where credits are bought. The API contract names no billing page (docs/api: only the API
# host and the docs), so this is apiframe's dashboard, where the balance and top-ups live.
BILLING_URL = "https://app.apiframe.ai/"
# Where a creator without a key gets one: the same dashboard (the contract names no keys page).
API_KEYS_URL = "https://app.apiframe.ai/"

_CONTEXT = "Links"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def open_url(url: str) -> bool:
    """Ask the desktop to open it; False when nothing could (no browser or launcher here)."""
    return QDesktopServices.openUrl(QUrl(url))


def open_local(path: str) -> bool:
    """Ask the desktop to open a file or folder; False when nothing could (no launcher)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def open_or_offer_copy(url: str, parent: QWidget, *, what: str) -> bool:
    """Open `url`; when nothing can, say so (non-modal) and offer "Copy link".

    `what` names the page for the sentence, e.g. "apiframe's billing page"."""
    if open_url(url):
        return True
    _offer_copy(parent, "link_box", _tr("Couldn't open a web browser"),
                _tr("Nothing on this computer could open {what}.").format(what=what),
                _tr("Open this address in your browser: {url}").format(url=url),
                _tr("Copy link"), url)
    return False


def open_path_or_offer_copy(path: str, parent: QWidget, *, what: str) -> bool:
    """Open a file or folder with the desktop's app for it; when nothing can, say so
    (non-modal) and offer "Copy path". `what` names it for the sentence ("the video")."""
    if open_local(path):
        return True
    _offer_copy(parent, "path_box", _tr("Couldn't open {what}").format(what=what),
                _tr("Nothing on this computer could open {what}.").format(what=what),
                _tr("It is here: {path}").format(path=path), _tr("Copy path"), path)
    return False


def _offer_copy(parent: QWidget, name: str, title: str, text: str, detail: str,
                copy_label: str, value: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
    box.setObjectName(name)
    box.setInformativeText(detail)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    copy = box.addButton(copy_label, QMessageBox.ButtonRole.ActionRole)
    close = box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(copy)
    box.setEscapeButton(close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(_result: int) -> None:
        if box.clickedButton() is copy:
            QGuiApplication.clipboard().setText(value)

    box.finished.connect(finished)
    box.open()  # never exec(): the loop keeps running
