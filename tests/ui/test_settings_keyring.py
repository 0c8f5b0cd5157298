"""The keyring is read and written off the GUI thread: a locked keyring waits for its unlock
prompt, as long as the person takes to answer it, and the window froze meanwhile."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend
from pytestqt.qtbot import QtBot

from runway_desktop.settings import Settings
from runway_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.test_settings_dialog import remove_key


class _PromptingKeyring(KeyringBackend):
    """Answers only once `answered` is set, like a keyring waiting on its unlock prompt (a
    person answering a prompt can't run here; everything else is the real dialog)."""

    priority = 1

    def __init__(self, answered: threading.Event) -> None:
        super().__init__()
        self.answered = answered
        self.threads: list[threading.Thread] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.append(threading.current_thread())
        self.answered.wait(10)
        return "afk_prompted_key_1234567890"

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.append(threading.current_thread())

    def delete_password(self, service: str, username: str) -> None:
        self.threads.append(threading.current_thread())


def test_settings_opens_at_once_while_the_keyring_waits_for_its_prompt(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    answered = threading.Event()
    backend = _PromptingKeyring(answered)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        dialog = SettingsDialog(Settings(output_dir=str(tmp_path)))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)  # shown and painted while the keyring still waits
        assert not answered.is_set()
        assert dialog.key_edit.placeholderText() == "Reading the keyring…"
        assert not dialog.remove_key.isEnabled()

        answered.set()  # the person unlocks it
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        assert "type to replace" in dialog.key_edit.placeholderText()
        assert dialog.remove_key.isEnabled()

        remove_key(qtbot, dialog)
        qtbot.waitUntil(lambda: "removed" in dialog.status.text(), timeout=10_000)
        assert len(backend.threads) == 2
        assert all(t is not threading.main_thread() for t in backend.threads)
    finally:
        keyring.set_keyring(previous)
