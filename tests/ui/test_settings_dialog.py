"""Settings as a person meets it: Tab goes through the fields in the order they are read;
Remove key, Cancel and Save each do what they say, and the window follows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from runway_desktop import secrets, settings
from runway_desktop.engine.records import Stage
from runway_desktop.settings import DEFAULT_BASE_URL, Settings
from runway_desktop.ui import links
from runway_desktop.ui.main_window import preferences_shortcuts
from runway_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import started_app


def tab_walk(qtbot: QtBot, start: QWidget) -> list[QWidget]:
    """The widgets Tab visits from `start` until it comes back to it."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus)
    visited: list[QWidget] = []
    for _ in range(40):
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        assert now is not None
        if now is start:
            return visited
        visited.append(now)
    raise AssertionError(f"Tab never came back: {visited}")


@pytest.mark.parametrize("first_run", [False, True], ids=["settings", "first run"])
def test_tab_goes_down_the_fields_then_to_the_buttons(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: object, first_run: bool) -> None:
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)), first_run=first_run)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.waitUntil(dialog.key_read, timeout=10_000)

    names = [w.accessibleName() or (w.text() if isinstance(w, QAbstractButton) else "")
             for w in tab_walk(qtbot, dialog.key_edit)]

    fields = ["Show API key", "Get an API key on apiframe’s dashboard", "Output folder",
              "Choose output folder", "API address", "Proxy",
              "Keep image metadata", "Settings file beside each video", "Demo mode",
              "Notifications"]
    assert names[:len(fields)] == fields  # in the order the eye reads them
    buttons = ["Save", "Cancel"] + (["Try demo mode"] if first_run else [])
    assert sorted(names[len(fields):]) == sorted(buttons)  # then the buttons, and back


def open_settings(qtbot: QtBot, controller: Any) -> SettingsDialog:
    controller.window.findChild(QAction, "settings_action").trigger()
    qtbot.waitUntil(lambda: controller._dialog is not None and controller._dialog.isVisible(),
                    timeout=5_000)
    dialog = controller._dialog
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(dialog.key_read, timeout=10_000)
    return dialog


def remove_key(qtbot: QtBot, dialog: SettingsDialog, answer: str = "Remove Key") -> None:
    """Remove key, and `answer` its question (Remove Key, or Cancel)."""
    qtbot.mouseClick(dialog.remove_key, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (box := dialog.findChild(QMessageBox, "remove_key_question"))
                    is not None and box.isVisible(), timeout=5_000)
    box = dialog.findChild(QMessageBox, "remove_key_question")
    assert box is not None
    button = next(b for b in box.buttons() if b.text() == answer)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def key_in_keyring(app_controller: Any, keyring_backend: object,
                   monkeypatch: pytest.MonkeyPatch) -> str:
    """The running app's key is the one in the keyring (not the tests' environment one)."""
    monkeypatch.delenv(secrets.API_KEY_ENV)
    secrets.store_api_key("afk_test")
    return "afk_test"


def test_remove_key_then_cancel_keeps_the_other_edits_unsaved(
        qtbot: QtBot, app_controller: Any, key_in_keyring: str, data_dir: Path,
        tmp_path: Path) -> None:
    """Remove key, once confirmed, acts at once; the fields edited before it are still the
    dialog's to save or cancel (Remove key saved them all, so Cancel kept a folder the person
    had only typed)."""
    before = settings.load(data_dir)
    folder = app_controller.engine.config.output_dir
    dialog = open_settings(qtbot, app_controller)
    dialog.folder_edit.setText(str(tmp_path / "only typed"))
    dialog.sidecar_check.setChecked(not before.settings_sidecar)
    # Asked first: it can't be undone (apiframe may show a key only once). Cancel keeps it.
    remove_key(qtbot, dialog, "Cancel")
    assert secrets.stored_api_key() == key_in_keyring
    assert dialog.remove_key.isEnabled()
    remove_key(qtbot, dialog)
    qtbot.waitUntil(lambda: "removed" in dialog.status.text(), timeout=10_000)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app_controller._dialog is None, timeout=5_000)

    assert secrets.stored_api_key() is None  # what Remove key did stays done
    assert settings.load(data_dir) == before  # what was only typed is not saved
    assert app_controller.settings == before
    qtbot.waitUntil(lambda: app_controller.engine is not None, timeout=5_000)
    assert app_controller.engine.config.output_dir == folder
    assert not (tmp_path / "only typed").exists()


def test_after_remove_key_the_window_says_there_is_no_key_and_a_new_one_signs_in(
        qtbot: QtBot, app_controller: Any, key_in_keyring: str) -> None:
    """The status bar went on showing the team and its credits, and no banner said a key was
    needed, although nothing could be generated any more."""
    window = app_controller.window
    qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
    dialog = open_settings(qtbot, app_controller)
    remove_key(qtbot, dialog)
    qtbot.waitUntil(lambda: "removed" in dialog.status.text(), timeout=10_000)
    dialog.reject()

    qtbot.waitUntil(lambda: window.account_label.text() == "No API key", timeout=5_000)
    assert window.banner.isVisible()
    assert "API key" in window.banner.message.text()
    assert window.banner.button.text() == "Open Settings"
    assert "left" not in window.compose.generate_button.text()  # no balance to spend from

    window.banner.button.click()  # the banner's way back in
    dialog = open_settings(qtbot, app_controller)
    dialog.key_edit.setText("afk_test")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
    assert not window.banner.isVisible()


@pytest.fixture
def swap_keyring(keyring_backend: KeyringBackend) -> Iterator[Callable[[KeyringBackend], None]]:
    """Sets another keyring for a test; the test's real one is back before its own teardown
    (which deletes the stored key: a locked one would refuse)."""
    try:
        yield keyring.set_keyring
    finally:
        keyring.set_keyring(keyring_backend)


class _LockedKeyring(KeyringBackend):
    """What keyring's Secret Service backend raises when the person dismisses the unlock
    prompt of a locked collection (seen with the test gnome-keyring, locked: 'Failed to
    unlock the collection!'); the prompt itself can't be answered here."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


def test_a_locked_keyring_at_start_is_what_the_window_says_not_a_missing_key(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path, qapp: Any,
        monkeypatch: pytest.MonkeyPatch, simulator: Any, keyring_backend: KeyringBackend,
        swap_keyring: Callable[[KeyringBackend], None]
) -> None:
    """The person's key may well be in the keyring they did not unlock: the banner said only
    'Add your apiframe API key…' (the keyring's own words came and went before it)."""

    monkeypatch.delenv(secrets.API_KEY_ENV, raising=False)
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    swap_keyring(_LockedKeyring())
    with started_app(qtbot, qapp, data_dir) as controller:
        qtbot.waitUntil(lambda: controller.start_finished, timeout=10_000)
        window = controller.window
        assert "keyring" in window.banner.message.text()
        assert "unlock" in window.banner.message.text()
        assert window.banner.button.text() == "Open Settings"
        assert window.account_label.text() == "No API key"
        # The first-run dialog says the same, and once the keyring answers, a key saved there
        # signs in and the keyring's words go.
        dialog = controller._dialog
        assert dialog is not None
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        assert "keyring" in dialog.status.text()
        keyring.set_keyring(keyring_backend)  # unlocked
        dialog.key_edit.setText("afk_test")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
        assert not window.banner.isVisible(), window.banner.message.text()


def test_once_the_keyring_is_unlocked_settings_save_uses_the_key_it_holds(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path, qapp: Any,
        monkeypatch: pytest.MonkeyPatch, simulator: Any, keyring_backend: KeyringBackend,
        swap_keyring: Callable[[KeyringBackend], None]
) -> None:
    """Locked at start; unlocked later (the desktop's keyring app): Settings showed the saved
    key ('Saved: afk_… — type to replace') but Save left the window without one, so only
    typing the key again or a restart got out of 'No API key'."""

    monkeypatch.delenv(secrets.API_KEY_ENV, raising=False)
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    secrets.store_api_key("afk_test")
    swap_keyring(_LockedKeyring())
    with started_app(qtbot, qapp, data_dir) as controller:
        qtbot.waitUntil(lambda: controller.start_finished, timeout=10_000)
        window = controller.window
        assert window.account_label.text() == "No API key"
        assert controller._dialog is not None
        controller._dialog.reject()  # the first-run dialog, while still locked
        qtbot.waitUntil(lambda: controller._dialog is None, timeout=5_000)

        keyring.set_keyring(keyring_backend)  # the person unlocks it
        dialog = open_settings(qtbot, controller)
        assert "Saved: afk_…" in dialog.key_edit.placeholderText()
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
        assert not window.banner.isVisible(), window.banner.message.text()


@pytest.fixture
def demo_controller(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path,
                    qapp: Any, monkeypatch: pytest.MonkeyPatch, simulator: Any,
                    keyring_backend: KeyringBackend) -> Iterator[Any]:
    """The app as left after the first run's 'Try demo mode': demo saved in the settings,
    no key stored; apiframe is the simulator."""

    monkeypatch.delenv(secrets.API_KEY_ENV, raising=False)
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    settings.save(data_dir, Settings(demo_mode=True))
    with started_app(qtbot, qapp, data_dir, demo_seconds_per_job=0.3) as controller:
        qtbot.waitUntil(lambda: controller.engine is not None, timeout=10_000)
        yield controller


def test_a_key_typed_in_demo_mode_unticks_demo_and_save_goes_live(
        qtbot: QtBot, demo_controller: Any) -> None:
    """The person got their key and typed it in: Save stored it and left the app in demo,
    without a word (the Demo box, further down, stayed ticked)."""
    window = demo_controller.window
    assert window.mode_label.text() == "Demo"
    dialog = open_settings(qtbot, demo_controller)
    assert dialog.demo_check.isChecked()
    dialog.key_edit.setFocus()
    qtbot.keyClicks(dialog.key_edit, "afk_test")
    assert not dialog.demo_check.isChecked()  # seen before Save: this key ends demo mode
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.mode_label.text() == "Live", timeout=10_000)
    qtbot.waitUntil(lambda: "Simulator Team" in window.account_label.text(), timeout=10_000)
    assert "Demo" not in window.windowTitle()
    assert secrets.stored_api_key() == "afk_test"
    assert not settings.load(demo_controller.data_dir).demo_mode


def test_demo_ticked_again_after_typing_a_key_stays_in_demo(
        qtbot: QtBot, demo_controller: Any) -> None:
    window = demo_controller.window
    dialog = open_settings(qtbot, demo_controller)
    dialog.key_edit.setFocus()
    qtbot.keyClicks(dialog.key_edit, "afk_test")
    qtbot.mouseClick(dialog.demo_check, Qt.MouseButton.LeftButton)  # ticked again: the key
    assert dialog.demo_check.isChecked()  # is kept for later
    qtbot.keyClicks(dialog.key_edit, "x")  # the box is the person's now: typing leaves it
    qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Backspace)
    assert dialog.demo_check.isChecked()
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo_controller._dialog is None, timeout=10_000)
    assert secrets.stored_api_key() == "afk_test"
    assert window.mode_label.text() == "Demo"
    # And a key typed, then deleted again, gives the box back as it was.
    dialog = open_settings(qtbot, demo_controller)
    dialog.key_edit.setFocus()
    qtbot.keyClicks(dialog.key_edit, "afk")
    assert not dialog.demo_check.isChecked()
    for _ in range(3):
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Backspace)
    assert dialog.demo_check.isChecked()
    dialog.reject()


def squeezed(dialog: QWidget) -> list[str]:
    """Controls shown smaller than they need (text cut at the bottom, buttons' words cut)."""
    QApplication.processEvents()
    found = []
    for w in dialog.findChildren(QWidget):
        if not isinstance(w, (QLineEdit, QAbstractButton, QLabel)) or not w.isVisible():
            continue
        needs = w.heightForWidth(w.width()) if w.hasHeightForWidth() else w.sizeHint().height()
        if w.height() < needs:
            found.append(f"{type(w).__name__} {w.accessibleName()}: {w.height()} < {needs}")
    return found


def test_a_long_message_makes_room_instead_of_squeezing_the_fields(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    """The keyring's three lines under the form arrived once the dialog was shown, and the
    fields were squeezed to make room: the key field and the API address cut their text at
    the bottom, 'Remove key' read 'Remove kev'. The same for a proxy that is wrong."""
    previous = keyring.get_keyring()
    keyring.set_keyring(_LockedKeyring())
    try:
        dialog = SettingsDialog(Settings(output_dir=str(tmp_path)), first_run=True)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert squeezed(dialog) == []
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        assert "keyring" in dialog.status.text()
        qtbot.waitUntil(lambda: squeezed(dialog) == [], timeout=2_000)

        dialog.proxy_edit.setText("socks5://proxy.example:1080")  # says what is wrong under it
        assert dialog.proxy_error.isVisible()
        qtbot.waitUntil(lambda: squeezed(dialog) == [], timeout=2_000)
    finally:
        keyring.set_keyring(previous)


class _Browser(QObject):
    """Where QDesktopServices sends https links here: it records them."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_the_first_run_says_where_to_get_a_key_and_opens_it_from_the_keyboard(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: KeyringBackend) -> None:
    """'Paste your apiframe API key' was all a creator without one was told."""
    browser = _Browser()
    QDesktopServices.setUrlHandler("https", browser, "open")  # type: ignore[arg-type]
    try:
        dialog = SettingsDialog(Settings(output_dir=str(tmp_path)), first_run=True)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow)
        assert dialog.key_edit.hasFocus()  # typing the key still comes first
        assert "apiframe" in dialog.get_key.text()
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Tab)
        while QApplication.focusWidget() is not dialog.get_key:  # Show, then the link
            focus = QApplication.focusWidget()
            assert focus in (dialog.findChild(QCheckBox), dialog.remove_key)
            qtbot.keyClick(focus, Qt.Key.Key_Tab)
        qtbot.keyClick(dialog.get_key, Qt.Key.Key_Return)
        assert browser.opened == [links.API_KEYS_URL]
        QApplication.processEvents()
        assert dialog.isVisible()  # Enter went to the link, not to Save
    finally:
        QDesktopServices.unsetUrlHandler("https")


@pytest.mark.parametrize(("key", "words"), [("afk_wrong_key_123", "copied whole"),
                                            ("afk_test_inactive", "inactive")])
def test_a_refused_key_says_so_here_and_gives_the_key_field_the_focus(
        qtbot: QtBot, app_controller: Any, keyring_backend: KeyringBackend, key: str,
        words: str) -> None:
    """Save pressed from the keyboard: the buttons were disabled during the check, with the
    focus on Save, and after the refusal nobody had the focus (Tab went nowhere). And the
    words sent the person to Settings ('check it in Settings'), where they already were."""
    dialog = open_settings(qtbot, app_controller)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.key_edit.setFocus()
    qtbot.keyClicks(dialog.key_edit, key)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    save.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(save, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: words in dialog.status.text(), timeout=10_000)

    assert "Settings" not in dialog.status.text()
    assert dialog.isVisible()
    assert QApplication.focusWidget() is dialog.key_edit  # to correct or paste it again
    assert dialog.key_edit.selectedText() == key
    assert secrets.stored_api_key() is None
    dialog.reject()


def test_the_demo_badge_says_how_to_make_real_videos(demo_controller: Any) -> None:
    """In demo mode (after the first run's 'Try demo mode'), the status bar's Demo badge was
    the only sign, and its tip said what demo is but not how to leave it."""
    window = demo_controller.window
    key = preferences_shortcuts()[0].toString(QKeySequence.SequenceFormat.NativeText)
    tip = window.mode_label.toolTip()
    assert "no credits" in tip
    assert "Settings" in tip
    assert key in tip
    assert "untick Demo mode" in tip


def save_folder(qtbot: QtBot, controller: Any, folder: Path | str) -> SettingsDialog:
    dialog = open_settings(qtbot, controller)
    dialog.folder_edit.setText(str(folder))
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    return dialog


def test_a_new_output_folder_typed_in_settings_is_made_on_save(
        qtbot: QtBot, app_controller: Any, keyring_backend: KeyringBackend,
        tmp_path: Path) -> None:
    """A folder typed that did not exist yet was saved as it was; the engine never makes a
    folder the person chose (an unplugged drive), so every video after it was paid for and
    then stopped: 'Can't write to … — choose another output folder in Settings'."""
    folder = tmp_path / "clips" / "november"
    save_folder(qtbot, app_controller, folder)
    qtbot.waitUntil(lambda: app_controller._dialog is None, timeout=5_000)
    assert folder.is_dir()
    qtbot.waitUntil(lambda: app_controller.engine is not None
                    and app_controller.engine.config.output_dir == folder, timeout=5_000)
    window = app_controller.window
    window.compose.prompt_edit.setPlainText("into a new folder")
    window.compose.generate_button.click()
    qtbot.waitUntil(lambda: any(g.stage is Stage.DONE for g in window.queue.model.generations()),
                    timeout=20_000)
    (done,) = window.queue.model.generations()
    assert done.video_path is not None
    assert Path(done.video_path).parent == folder


@pytest.mark.parametrize("where", ["a file", "can't be made"])
def test_an_output_folder_that_cant_be_used_is_refused_in_settings(
        qtbot: QtBot, app_controller: Any, keyring_backend: KeyringBackend, tmp_path: Path,
        data_dir: Path, where: str) -> None:
    before = settings.load(data_dir)
    if where == "a file":
        target = tmp_path / "notes.txt"
        target.write_text("not a folder")
        words = "is a file"
    else:
        target = Path("/proc/runway-desktop-videos")  # nobody can make a folder there
        words = "Can't use"
    dialog = save_folder(qtbot, app_controller, target)
    qtbot.waitUntil(lambda: dialog.folder_error.isVisible(), timeout=5_000)

    assert words in dialog.folder_error.text()
    assert str(target) in dialog.folder_error.text()
    assert dialog.isVisible()  # nothing saved: the person chooses another
    assert QApplication.focusWidget() is dialog.folder_edit
    assert settings.load(data_dir) == before
    dialog.folder_edit.setText(str(tmp_path / "fine"))  # and the line goes once corrected
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app_controller._dialog is None, timeout=5_000)
    assert settings.load(data_dir).output_dir == str(tmp_path / "fine")


@pytest.mark.parametrize(("address", "words"), [
    ("http://example.com", "must use https://"),
    ("api.apiframe.ai", "must start with https://"),
    ("https://", "must start with https://"),
])
def test_an_api_address_that_cant_be_used_is_refused_in_settings(
        qtbot: QtBot, app_controller: Any, keyring_backend: KeyringBackend, data_dir: Path,
        address: str, words: str) -> None:
    """It was saved as it was: the queue stopped (no engine can use it) and only then a banner
    said 'Correct it in Settings ▸ API address', the status bar still showing the balance."""
    before = settings.load(data_dir)
    engine = app_controller.engine
    dialog = open_settings(qtbot, app_controller)
    dialog.base_url_edit.setText(address)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.address_error.isVisible(), timeout=5_000)

    assert words in dialog.address_error.text()
    assert dialog.isVisible()
    assert QApplication.focusWidget() is dialog.base_url_edit
    assert settings.load(data_dir) == before
    assert app_controller.engine is engine  # the queue goes on
    assert not app_controller.window.banner.isVisible()
    dialog.base_url_edit.setText(DEFAULT_BASE_URL)  # corrected: the line goes
    assert not dialog.address_error.isVisible()
    dialog.reject()


def test_a_refused_key_from_the_environment_is_named_with_what_to_do(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path, qapp: Any,
        monkeypatch: pytest.MonkeyPatch, simulator: Any
) -> None:
    """The key in APIFRAME_API_KEY refused: the banner said 'check it in Settings', where a
    key saved is not used while the variable is set."""

    monkeypatch.setenv(secrets.API_KEY_ENV, "afk_revoked_long_ago")
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    with started_app(qtbot, qapp, data_dir) as controller:
        said = controller.window.banner.message
        qtbot.waitUntil(lambda: "rejected" in said.text(), timeout=10_000)
        assert secrets.API_KEY_ENV in said.text()
        assert "unset" in said.text()
        assert "afk_revoked" not in said.text()


def test_a_refused_key_at_start_is_what_the_status_bar_says_until_a_good_one_is_saved(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path, qapp: Any,
        monkeypatch: pytest.MonkeyPatch, simulator: Any, keyring_backend: KeyringBackend
) -> None:
    """A key apiframe no longer accepts (revoked, deleted): the banner said so, but the status
    bar said 'Checking your balance…' for as long as the app ran."""

    monkeypatch.delenv(secrets.API_KEY_ENV, raising=False)
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    secrets.store_api_key("afk_revoked_long_ago")
    with started_app(qtbot, qapp, data_dir) as controller:
        window = controller.window
        qtbot.waitUntil(lambda: "rejected" in window.banner.message.text(), timeout=10_000)
        assert window.account_label.text() == "API key not accepted"
        window.banner.button.click()  # Open Settings
        dialog = open_settings(qtbot, controller)
        dialog.key_edit.setText("afk_test")
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "10,000 credits" in window.account_label.text()
                        or "10000 credits" in window.account_label.text(), timeout=10_000)
        assert not window.banner.isVisible()


class _AnsweringKeyring(KeyringBackend):
    """A keyring holding no key whose reads wait until `answered` is set, as a locked keyring
    waits on its unlock prompt (which can't be answered here)."""

    priority = 1

    def __init__(self, answered: threading.Event) -> None:
        super().__init__()
        self.answered = answered
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        self.answered.wait(10)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass


def save_demo(qtbot: QtBot, controller: Any, demo: bool) -> None:
    """Settings ▸ Demo mode set and saved (without waiting for the keyring's answer)."""
    controller.window.findChild(QAction, "settings_action").trigger()
    qtbot.waitUntil(lambda: controller._dialog is not None and controller._dialog.isVisible(),
                    timeout=5_000)
    dialog = controller._dialog
    dialog.demo_check.setChecked(demo)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller._dialog is None, timeout=5_000)


def test_demo_mode_turned_back_on_while_live_waits_on_the_keyring_ends_in_demo(
        qtbot: QtBot, demo_controller: Any, keyring_backend: KeyringBackend) -> None:
    """Demo off, then on again while the live queue's build still waited on the keyring's
    unlock prompt: the demo build ran meanwhile, then the live one went on and replaced it,
    so the window said Live and 'No API key' while the settings said demo, and a generation
    never started. The engine is now built once at a time (the last asked wins)."""
    answered = threading.Event()
    slow = _AnsweringKeyring(answered)
    keyring.set_keyring(slow)
    try:
        save_demo(qtbot, demo_controller, False)  # live: its build reads the keyring
        qtbot.waitUntil(lambda: slow.reads >= 1, timeout=5_000)
        save_demo(qtbot, demo_controller, True)  # changed their mind: demo again
        answered.set()  # the person answers the keyring's prompt
        window = demo_controller.window
        qtbot.waitUntil(lambda: demo_controller.engine is not None
                        and demo_controller.engine.api_key == "afk_demo"
                        and window.mode_label.text() == "Demo", timeout=10_000)
        QApplication.processEvents()
        QApplication.processEvents()
        engine = demo_controller.engine
        assert engine is not None
        assert engine.api_key == "afk_demo"  # not replaced by the live build
        window.compose.prompt_edit.setPlainText("a demo kite")
        window.compose.generate_button.click()
        qtbot.waitUntil(lambda: any(g.stage is Stage.DONE
                                    for g in window.queue.model.generations()),
                        timeout=15_000)
    finally:
        answered.set()
        keyring.set_keyring(keyring_backend)


class _CountingLockedKeyring(_LockedKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


def test_a_locked_keyring_is_asked_once_at_the_start(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path, qapp: Any,
        monkeypatch: pytest.MonkeyPatch, keyring_backend: KeyringBackend,
        swap_keyring: Callable[[KeyringBackend], None]) -> None:
    """A locked keyring shows its unlock prompt at each read: the start read it, then the
    Welcome dialog and the engine's build read it again, three prompts for one start."""

    monkeypatch.delenv(secrets.API_KEY_ENV, raising=False)
    locked = _CountingLockedKeyring()
    swap_keyring(locked)
    with started_app(qtbot, qapp, data_dir) as controller:
        qtbot.waitUntil(lambda: controller.start_finished, timeout=10_000)
        dialog = controller._dialog
        assert dialog is not None
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        QApplication.processEvents()
        assert locked.reads == 1
        assert "keyring" in dialog.status.text()  # what that one read said, said everywhere
        assert "keyring" in controller.window.banner.message.text()
        dialog.reject()


def words_shown(dialog: SettingsDialog) -> list[str]:
    """Every text the dialog shows or gives assistive technology."""
    found = [dialog.windowTitle()]
    for widget in dialog.findChildren(QWidget):
        found += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, (QLabel, QAbstractButton)):
            found.append(widget.text())
        if isinstance(widget, QLineEdit):
            found += [widget.text(), widget.placeholderText()]
    return found


def test_settings_says_the_key_in_use_comes_from_the_environment(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """With APIFRAME_API_KEY set the app uses that key and never the keyring's: Settings let
    a key be typed and saved that was then never used, without a word. It says so under the
    key field (and to a screen reader on the field), never showing the key."""
    secret = "afk_from_the_environment_7f3e"
    monkeypatch.setenv(secrets.API_KEY_ENV, secret)
    secrets.store_api_key("afk_saved_in_the_keyring_91ab")
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.key_read, timeout=10_000)
    note = dialog.env_key_note
    assert note.isVisible()
    assert "APIFRAME_API_KEY environment variable" in note.text()
    assert "unset" in note.text()
    assert note.text() in dialog.key_edit.accessibleDescription()
    assert not [text for text in words_shown(dialog) if "7f3e" in text or secret in text]
    dialog.close()

    monkeypatch.delenv(secrets.API_KEY_ENV)
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.key_read, timeout=10_000)
    assert not dialog.env_key_note.isVisible()  # the keyring's key is the one in use
    assert "APIFRAME_API_KEY" not in dialog.key_edit.accessibleDescription()
    dialog.close()


def test_a_key_saved_while_the_environment_has_one_is_said_to_wait(
        qtbot: QtBot, app_controller: Any, keyring_backend: object) -> None:
    """Save closed Settings with no word although the key just saved was not used: the one in
    APIFRAME_API_KEY (here the tests' own, 10,000 credits) stays in use, and the window says
    so."""
    window = app_controller.window
    qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
    dialog = open_settings(qtbot, app_controller)
    assert dialog.env_key_note.isVisible()
    dialog.key_edit.setText("afk_test_broke")  # a good key, of an account with no credits
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app_controller._dialog is None, timeout=10_000)
    assert secrets.stored_api_key() == "afk_test_broke"  # saved, as asked
    said = window.statusBar().currentMessage()
    assert "APIFRAME_API_KEY" in said
    assert "unset" in said
    assert app_controller.engine.api_key == "afk_test"
    assert "afk_test" not in said


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """keyring's own "fail" backend, as on Linux without a Secret Service; a key given for
    the session forgotten afterwards."""
    from keyring.backends.fail import Keyring as NoKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        yield
    finally:
        secrets.use_until_quit(None)
        keyring.set_keyring(previous)


def test_without_any_keyring_a_checked_key_can_be_used_until_the_app_quits(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, data_dir: Path, qapp: Any,
        monkeypatch: pytest.MonkeyPatch, simulator: Any, no_keyring: None
) -> None:
    """No keyring at all (Linux without a Secret Service): a good key typed in Settings was
    checked, then refused with 'Can't reach the system keyring…', and the window stayed
    without a key — only the environment variable or demo mode got anywhere."""
    monkeypatch.delenv(secrets.API_KEY_ENV, raising=False)
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    with started_app(qtbot, qapp, data_dir) as controller:
        window = controller.window
        qtbot.waitUntil(lambda: isinstance(controller._dialog, SettingsDialog)
                        and controller._dialog.isVisible(), timeout=10_000)  # the first run
        dialog = controller._dialog
        assert isinstance(dialog, SettingsDialog)
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        dialog.key_edit.setText("afk_test")
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "until Runway Desktop quits" in dialog.status.text(),
                        timeout=10_000)
        assert "keyring" in dialog.status.text()  # why it can't be stored
        assert dialog.use_until_quit.isVisible()

        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_End)  # (the key is selected, to correct)
        qtbot.keyClicks(dialog.key_edit, "x")  # another key: the offer was for the checked one
        assert not dialog.use_until_quit.isVisible()
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Backspace)
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)  # checked again, offered again
        qtbot.waitUntil(dialog.use_until_quit.isVisible, timeout=10_000)

        qtbot.mouseClick(dialog.use_until_quit, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: controller._dialog is None, timeout=10_000)
        qtbot.waitUntil(lambda: "credits" in window.account_label.text(), timeout=10_000)
        assert controller.engine is not None
        assert controller.engine.api_key == "afk_test"
        for written in data_dir.rglob("*"):  # in memory only
            if written.is_file():
                assert b"afk_test" not in written.read_bytes(), written


def test_notifications_say_when_this_desktop_cant_show_them(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: KeyringBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window notifies through its tray icon; with no notification area (GNOME without
    its AppIndicator extension, or here) 'Notify me when a generation finishes' stood ticked
    and nothing ever came. Where there is one, nothing more is said."""
    from PySide6.QtWidgets import QSystemTrayIcon

    for tray, said in ((False, True), (True, False)):
        monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable",
                            staticmethod(lambda tray=tray: tray))
        dialog = SettingsDialog(Settings(output_dir=str(tmp_path)))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        note = dialog.findChild(QLabel, "no_tray_note")
        assert note is not None
        assert note.isVisible() is said
        if said:
            assert "no notification area" in note.text()
            assert dialog.notify_check.accessibleDescription() == note.text()
            assert dialog.notify_check.isChecked()  # the choice is kept for a desktop with one
        dialog.reject()


def test_try_demo_mode_goes_to_the_demo_whatever_key_was_typed(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: KeyringBackend, monkeypatch: pytest.MonkeyPatch,
        simulator: Any) -> None:
    """A key apiframe refused, then 'Try demo mode': the key was checked again, refused
    again, and the dialog stayed with the refusal; the demo needs no key."""
    monkeypatch.setenv("APIFRAME_BASE_URL", simulator.base_url)
    dialog = SettingsDialog(Settings(output_dir=str(tmp_path)), first_run=True)
    qtbot.addWidget(dialog)
    saved: list[tuple[Settings, bool]] = []
    dialog.saved.connect(lambda new, key_changed: saved.append((new, key_changed)))
    dialog.show()
    qtbot.waitUntil(dialog.key_read, timeout=10_000)
    qtbot.keyClicks(dialog.key_edit, "afk_wrong_key_123")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "copied whole" in dialog.status.text(), timeout=10_000)

    demo = next(b for b in dialog.buttons.buttons() if b.text() == "Try demo mode")
    qtbot.mouseClick(demo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: saved != [], timeout=10_000)
    assert [(new.demo_mode, key_changed) for new, key_changed in saved] == [(True, False)]
    assert not dialog.isVisible()
    assert secrets.stored_api_key() is None


def test_an_api_address_with_v2_works_and_a_wrong_one_is_said_under_the_address(
        qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path,
        keyring_backend: KeyringBackend, monkeypatch: pytest.MonkeyPatch,
        simulator: Any) -> None:
    """apiframe's address as its documentation writes the routes (…/v2) asked /v2/v2/me: a good
    key was refused with 'couldn't find /v2/me … Check the API address in Settings', under the
    key, in Settings. /v2 is now taken off; an address that answers 404 is said under it."""
    monkeypatch.delenv("APIFRAME_BASE_URL", raising=False)
    saved: list[Settings] = []

    def save_with(address: str) -> SettingsDialog:
        dialog = SettingsDialog(Settings(output_dir=str(tmp_path)), first_run=True)
        qtbot.addWidget(dialog)
        dialog.saved.connect(lambda new, _key_changed: saved.append(new))
        dialog.show()
        qtbot.waitUntil(dialog.key_read, timeout=10_000)
        dialog.key_edit.setText("afk_test")
        dialog.base_url_edit.setText(address)
        before = len(saved)
        save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(saved) > before or dialog.address_error.isVisible(),
                        timeout=10_000)
        return dialog

    save_with(simulator.base_url + "/v2/")
    assert [new.base_url for new in saved] == [simulator.base_url]

    dialog = save_with(simulator.base_url + "/apiframe")
    assert len(saved) == 1
    assert dialog.isVisible()
    assert "HTTP 404" in dialog.address_error.text()
    assert "Settings" not in dialog.address_error.text() + dialog.status.text()
    assert dialog.status.text() == ""
    assert dialog.base_url_edit.hasFocus()
    dialog.reject()
