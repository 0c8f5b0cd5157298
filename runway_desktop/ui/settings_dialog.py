"""Settings and first run: the API key (checked with GET /v2/me, saved only in the OS keyring),
the output folder, the API address, a proxy, image privacy and demo mode. Opened with `open()`,
never `exec()`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

import qasync
import shiboken6
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFocusEvent, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from runway_desktop import api, paths, secrets
from runway_desktop.api.network import normalize_proxy_url
from runway_desktop.api.urls import base_url_problem
from runway_desktop.engine.account import check_api_key
from runway_desktop.settings import DEFAULT_BASE_URL, Settings
from runway_desktop.ui import links
from runway_desktop.ui.folder_checks import ready_for_videos
from runway_desktop.ui.palette_colours import error_text_color

log = logging.getLogger(__name__)


class _OneLink(QLabel):
    """A line with one link, one Tab stop with the link ready for Enter. (A QLabel stops
    twice: first on nothing, where Enter does nothing, then on the link.)"""

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            QLabel.focusNextPrevChild(self, event.reason() == Qt.FocusReason.TabFocusReason)

    def focusNextPrevChild(self, next: bool) -> bool:
        return QWidget.focusNextPrevChild(self, next)  # on to the next control


class SettingsDialog(QDialog):
    """Emits `saved(settings, key_changed)` after the key (if any) was checked and stored;
    `key_removed` once Remove key has deleted it (the other fields stay unsaved until Save)."""

    saved = Signal(object, bool)
    key_removed = Signal()

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        first_run: bool = False,
        demo_active: bool = False,
        stored: tuple[str | None, str] | None = None,
    ) -> None:
        """`stored`: (the key, the keyring's problem) as just read by the caller, so the
        keyring (a locked one prompts at each read) is not asked again."""
        super().__init__(parent)
        self.setWindowTitle(
            self.tr("Welcome to Runway Desktop") if first_run else self.tr("Settings")
        )
        self.setMinimumWidth(520)
        self._settings = settings

        intro = QLabel(self)
        intro.setWordWrap(True)
        intro.setText(
            self.tr(
                "Runway Desktop makes short videos with Runway Gen-4 Turbo through apiframe. "
                "Paste your apiframe API key (it starts with “afk_”). It is checked, then kept "
                "only in your system keyring."
            )
            if first_run
            else self.tr("Your API key is kept only in your system keyring.")
        )

        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setAccessibleName(self.tr("API key"))
        self.key_edit.setToolTip(self.tr("Your apiframe API key, e.g. afk_…"))
        self.key_edit.setPlaceholderText(self.tr("Reading the keyring…"))
        show = QCheckBox(self.tr("Show"), self)
        show.setAccessibleName(self.tr("Show API key"))
        show.setToolTip(self.tr("Show the key while typing"))
        show.toggled.connect(
            lambda on: self.key_edit.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        self.remove_key = QPushButton(self.tr("Remove key"), self)
        self.remove_key.setAccessibleName(self.tr("Remove the saved API key"))
        self.remove_key.setToolTip(self.tr("Delete the key from the system keyring"))
        self.remove_key.setEnabled(False)  # until the keyring says there is a key
        self.remove_key.clicked.connect(self._ask_remove_key)
        # A creator who has no key yet is told where to get one (a link the keyboard reaches).
        self.get_key = _OneLink(
            self.tr('No key yet? <a href="keys">Get one on apiframe’s dashboard</a>'), self)
        self.get_key.setObjectName("get_key")
        self.get_key.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.get_key.setAccessibleName(self.tr("Get an API key on apiframe’s dashboard"))
        self.get_key.setToolTip(links.API_KEYS_URL)
        self.get_key.linkActivated.connect(
            lambda _link: links.open_or_offer_copy(links.API_KEYS_URL, self,
                                                   what=self.tr("apiframe’s dashboard")))
        # The environment's key wins over the keyring's (secrets.load_api_key): one typed and
        # saved here would go unused without a word. Said, never the key itself.
        self.env_key_note = QLabel(self.tr(
            "The key in use comes from the {0} environment variable. A key saved here is "
            "used once that variable is unset and Runway Desktop is started again."
        ).format(secrets.API_KEY_ENV), self)
        self.env_key_note.setObjectName("env_key_note")
        self.env_key_note.setWordWrap(True)
        self.env_key_note.setAccessibleDescription(self.tr("API key in use"))
        if secrets.api_key_from_env():
            self.key_edit.setAccessibleDescription(self.env_key_note.text())
        else:
            self.env_key_note.hide()
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(show)
        key_row.addWidget(self.remove_key)

        self.folder_edit = QLineEdit(str(settings.output_path), self)
        self.folder_edit.setAccessibleName(self.tr("Output folder"))
        self.folder_edit.setToolTip(self.tr("Where finished videos are saved"))
        browse = QPushButton(self.tr("Browse…"), self)
        browse.setAccessibleName(self.tr("Choose output folder"))
        browse.setToolTip(self.tr("Choose the folder for finished videos"))
        browse.clicked.connect(self._browse_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.folder_error = QLabel(self)  # a folder that can't hold the videos, said on Save
        self.folder_error.setObjectName("folder_error")
        self.folder_error.setWordWrap(True)
        # A label's purpose goes in its description: an accessible name would be read in
        # place of its words.
        self.folder_error.setAccessibleDescription(self.tr("Output folder problem"))
        self.folder_error.hide()
        folder_box = QVBoxLayout()
        folder_box.setContentsMargins(0, 0, 0, 0)
        folder_box.addLayout(folder_row)
        folder_box.addWidget(self.folder_error)

        self.base_url_edit = QLineEdit(settings.base_url, self)
        self.base_url_edit.setAccessibleName(self.tr("API address"))
        self.base_url_edit.setToolTip(
            self.tr("Leave as {0} unless you run a proxy or the simulator").format(DEFAULT_BASE_URL)
        )
        self.address_error = QLabel(self)  # an address no engine can use, said on Save
        self.address_error.setObjectName("address_error")
        self.address_error.setWordWrap(True)
        self.address_error.setAccessibleDescription(self.tr("API address problem"))
        self.address_error.hide()
        self.base_url_edit.textChanged.connect(lambda _text: self.address_error.hide())
        self.proxy_edit = QLineEdit(settings.proxy, self)
        self.proxy_edit.setAccessibleName(self.tr("Proxy"))
        self.proxy_edit.setPlaceholderText(self.tr("The system's proxy"))
        self.proxy_edit.setToolTip(
            self.tr("An HTTP proxy for apiframe and the video downloads, e.g. proxy.example:3128 "
                    "or http://proxy.example:3128. Leave empty to use the system's.")
        )
        self.proxy_error = QLabel(self)
        self.proxy_error.setObjectName("proxy_error")
        self.proxy_error.setWordWrap(True)
        self.proxy_error.setAccessibleDescription(self.tr("Proxy problem"))
        self._apply_error_palette()
        self.proxy_error.hide()
        self.proxy_edit.textChanged.connect(lambda _text: self._proxy_problem())
        proxy_box = QVBoxLayout()
        proxy_box.setContentsMargins(0, 0, 0, 0)
        proxy_box.addWidget(self.proxy_edit)
        proxy_box.addWidget(self.proxy_error)
        self.metadata_check = QCheckBox(
            self.tr("Keep photo location and camera details (EXIF) in uploads"), self
        )
        self.metadata_check.setChecked(settings.keep_image_metadata)
        self.metadata_check.setAccessibleName(self.tr("Keep image metadata"))
        self.metadata_check.setToolTip(
            self.tr("Off: the GPS position, camera, dates and comments are removed from every "
                    "image before it is uploaded")
        )
        self.sidecar_check = QCheckBox(
            self.tr("Save each video's settings in a .json file beside it"), self
        )
        self.sidecar_check.setChecked(settings.settings_sidecar)
        self.sidecar_check.setAccessibleName(self.tr("Settings file beside each video"))
        self.sidecar_check.setToolTip(
            self.tr("The prompt, model, seed and the rest are inside every video either way; "
                    "the .json file shows them to people and other tools")
        )
        self.demo_check = QCheckBox(
            self.tr("Demo mode (a local simulator; no key, no credits)"), self
        )
        # Ticked whenever the app is in demo mode, also when a start option (not the settings
        # file) put it there; only a change the person makes is saved.
        self._demo_shown = settings.demo_mode or demo_active
        self.demo_check.setChecked(self._demo_shown)
        self._demo_box_set = False  # the person clicked it: typing a key no longer moves it
        self.demo_check.clicked.connect(lambda: setattr(self, "_demo_box_set", True))
        self.key_edit.textEdited.connect(self._key_typed)
        self.demo_check.setAccessibleName(self.tr("Demo mode"))
        self.demo_check.setToolTip(self.tr("Try the app against a built-in simulator of apiframe"))
        self.notify_check = QCheckBox(self.tr("Notify me when a generation finishes"), self)
        self.notify_check.setChecked(settings.notify_when_done)
        self.notify_check.setAccessibleName(self.tr("Notifications"))
        self.notify_check.setToolTip(
            self.tr("A desktop notification while the window is in the background")
        )
        # The window notifies through its tray icon: a desktop without a notification area
        # (GNOME without its AppIndicator extension) shows none, whatever the box says.
        self.no_tray_note = QLabel(self.tr(
            "This desktop has no notification area (system tray), so no notification can be "
            "shown here: the queue and the status bar say when work is done."), self)
        self.no_tray_note.setObjectName("no_tray_note")
        self.no_tray_note.setWordWrap(True)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.no_tray_note.hide()
        else:
            self.notify_check.setAccessibleDescription(self.no_tray_note.text())

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription(self.tr("Status"))

        form = QFormLayout()
        key_box = QVBoxLayout()  # the note under the field, as the folder's problem
        key_box.setContentsMargins(0, 0, 0, 0)
        key_box.addLayout(key_row)
        key_box.addWidget(self.env_key_note)
        form.addRow(self.tr("API key"), key_box)
        form.addRow("", self.get_key)
        form.addRow(self.tr("Output folder"), folder_box)
        form.addRow(self.tr("API address"), self.base_url_edit)  # the label names the field
        form.addRow("", self.address_error)
        form.addRow(self.tr("Proxy"), proxy_box)
        form.addRow("", self.metadata_check)
        form.addRow("", self.sidecar_check)
        form.addRow("", self.demo_check)
        form.addRow("", self.notify_check)
        form.addRow("", self.no_tray_note)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        # Where no keyring can keep the key (Linux without a Secret Service): shown after a
        # checked key couldn't be stored, to use it until the app quits (in memory only).
        self.use_until_quit = self.buttons.addButton(
            self.tr("Use It Until I Quit"), QDialogButtonBox.ButtonRole.ActionRole)
        self.use_until_quit.setToolTip(self.tr(
            "Use this key until Runway Desktop quits, without storing it anywhere: it is asked "
            "for again at the next start"))
        self.use_until_quit.hide()
        self.use_until_quit.clicked.connect(self._use_until_quit)
        self._unstored_key = ""  # the checked key the keyring refused to keep
        if first_run:
            demo = self.buttons.addButton(
                self.tr("Try demo mode"), QDialogButtonBox.ButtonRole.ActionRole
            )
            demo.setToolTip(self.tr("Look around with the built-in simulator first"))
            demo.clicked.connect(self._choose_demo)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._reading = asyncio.ensure_future(self._read_stored_key(stored))

    async def _read_stored_key(self, stored: tuple[str | None, str] | None) -> None:
        """Off the GUI thread: a locked keyring waits for its unlock prompt (the window froze
        for as long as the person took to answer it)."""
        if stored is not None:
            key, problem = stored
        else:
            try:
                key, problem = await asyncio.to_thread(secrets.stored_api_key), ""
            except secrets.KeyStoreError as error:
                key, problem = None, error.message
        if not shiboken6.isValid(self):  # closed meanwhile
            return
        if problem:
            self.status.setText(problem)
        self.key_edit.setPlaceholderText(
            self.tr("Saved: {0} — type to replace").format(secrets.mask(key)) if key
            else self.tr("afk_…"))
        self.remove_key.setEnabled(bool(key))

    def key_read(self) -> bool:
        """The keyring has answered (what it holds is shown)."""
        return self._reading.done()

    def _browse_folder(self) -> None:
        dialog = QFileDialog(self, self.tr("Choose the output folder"), self.folder_edit.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder_edit.setText)
        dialog.open()

    def _ask_remove_key(self) -> None:
        """Removing the key can't be undone here: apiframe may show a key only once, when it
        is made, so the keyring's may be the only copy. Asked first (non-modal to the app)."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Remove the API key?"), self.tr(
            "Remove your API key from this computer's keyring? Nothing can be generated until "
            "a key is pasted here again; without a copy of it, make a new one on apiframe's "
            "dashboard."), parent=self)
        box.setObjectName("remove_key_question")
        remove = box.addButton(self.tr("Remove Key"), QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            if box.clickedButton() is remove:
                self._remove_key()

        box.finished.connect(answered)
        box.open()

    @qasync.asyncSlot()
    async def _remove_key(self) -> None:
        self.remove_key.setEnabled(False)
        try:
            await asyncio.to_thread(secrets.delete_api_key)
        except secrets.KeyStoreError as error:
            if self._still_open():
                self.remove_key.setEnabled(True)
                self.status.setText(error.message)
            return
        if not self._still_open():
            return
        self.remove_key.setEnabled(False)
        self.key_edit.setPlaceholderText(self.tr("afk_…"))
        self.status.setText(self.tr("The API key was removed from the keyring."))
        # Not `saved` with the fields as edited: they are still the person's to save or cancel.
        self.key_removed.emit()

    def _key_typed(self, text: str) -> None:
        """A key typed in demo mode is a key to use: the Demo box unticks as it is typed (seen
        before Save) and ticks again when the field is emptied, until the person sets it."""
        if self._demo_shown and not self._demo_box_set:
            self.demo_check.setChecked(not text.strip())
        if text.strip() != self._unstored_key:
            self.use_until_quit.hide()  # offered for the key the keyring refused, not another

    def demo_turned_off(self) -> bool:
        """The Demo box was ticked when the dialog opened and the person unticked it."""
        return self._demo_shown and not self.demo_check.isChecked()

    def _choose_demo(self) -> None:
        # The demo needs no key: one typed (often the one apiframe just refused) is neither
        # checked nor kept, else its refusal held the person in this dialog.
        self.key_edit.clear()
        self.demo_check.setChecked(True)
        self._save()

    def _current_settings(self) -> Settings:
        folder = self.folder_edit.text().strip()
        if folder and Path(folder).expanduser() == paths.default_output_dir():
            folder = ""  # still the default: keep following it (and creating it when missing)
        return self._settings.replace(
            output_dir=folder,
            base_url=_without_v2(self.base_url_edit.text()) or DEFAULT_BASE_URL,
            demo_mode=(
                self.demo_check.isChecked()
                if self.demo_check.isChecked() != self._demo_shown
                else self._settings.demo_mode
            ),
            notify_when_done=self.notify_check.isChecked(),
            keep_image_metadata=self.metadata_check.isChecked(),
            settings_sidecar=self.sidecar_check.isChecked(),
            proxy=self.proxy_edit.text().strip(),
        )

    def _apply_error_palette(self) -> None:
        for label in (self.proxy_error, self.folder_error, self.address_error):
            red = label.palette()
            red.setColor(QPalette.ColorRole.WindowText, error_text_color(self.palette()))
            label.setPalette(red)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # the layout has just been redone
            self._make_room()
        return handled

    def _make_room(self) -> None:
        """Grow to fit what came after the dialog was shown (the keyring's problem, a wrong
        proxy's line): a word-wrapped label's height is not part of the dialog's minimum
        size, so the fields above were squeezed instead, their text cut at the bottom."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        needed = (layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth()
                  else layout.totalSizeHint().height())
        if needed > self.height():
            self.resize(self.width(), needed)

    def changeEvent(self, event: QEvent) -> None:
        # The scheme changed while open (not while the dialog is still being built).
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "proxy_error"):
            self._apply_error_palette()
        super().changeEvent(event)

    def _proxy_problem(self) -> str | None:
        """Check the proxy field; show what is wrong under it (None: fine)."""
        try:
            normalize_proxy_url(self.proxy_edit.text())
        except api.InvalidRequestError as error:
            self.proxy_error.setText(error.message)
            self.proxy_error.show()
            return error.message
        self.proxy_error.hide()
        return None

    @qasync.asyncSlot()
    async def _save(self) -> None:
        if not self._still_open():  # closed before this task got its turn
            return
        if self._proxy_problem():
            self.proxy_edit.setFocus()
            return
        new = self._current_settings()
        if problem := base_url_problem(new.base_url):
            # Saved, no engine could use it: the queue stopped, and only a banner said so.
            self.address_error.setText(problem)
            self.address_error.show()
            self.base_url_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.address_error.hide()
        if new.output_path != self._settings.output_path:
            self.buttons.setEnabled(False)
            problem = await self._folder_problem(new.output_path)
            if not self._still_open():
                return
            self.buttons.setEnabled(True)
            if problem:
                self.folder_error.setText(problem)
                self.folder_error.show()
                self.folder_edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        self.folder_error.hide()
        typed_key = self.key_edit.text().strip()
        if typed_key:
            self.buttons.setEnabled(False)
            self.status.setText(self.tr("Checking the key with apiframe…"))
            try:
                account = await check_api_key(typed_key, new.effective_base_url(),
                                              proxy=normalize_proxy_url(new.proxy))
            except api.ApiError as error:
                if isinstance(error, api.UnexpectedResponseError) and error.status == 404:
                    self._check_ended("")  # not the key: nothing answers at this address
                    self._address_not_found()
                    return
                self._check_ended(self._refusal(error))
                return
            if not self._still_open():
                # Cancelled (Esc, ×) while the key was checked: nothing is saved, and the
                # dialog Qt deleted meanwhile is not touched.
                log.info("Settings closed during the key check: nothing saved")
                return
            try:
                await asyncio.to_thread(secrets.store_api_key, typed_key)
            except secrets.KeyStoreError as error:
                self._check_ended(self.tr(
                    "{0} Or use the key until Runway Desktop quits: it is kept only in memory "
                    "and asked for again at the next start.").format(error.message))
                if self._still_open():
                    self._unstored_key = typed_key
                    self.use_until_quit.show()
                return
            if not self._still_open():
                log.info("Settings closed while the checked key was saved to the keyring")
                return
            self._check_ended("")
            self.key_edit.clear()
            log.info("API key checked (%s) and saved to the keyring", account.team_name)
        self.saved.emit(new, bool(typed_key))
        self.accept()

    async def _folder_problem(self, folder: Path) -> str | None:
        """Make a new folder the person typed (the engine never makes a folder someone chose,
        in case it is an unplugged drive, so every video would have stopped after it was
        paid); why the folder can't hold the videos, or None. Off the GUI thread: a network
        drive may take its time."""
        try:
            await asyncio.to_thread(ready_for_videos, folder)
        except NotADirectoryError:
            return self.tr("{0} is a file, not a folder. Choose a folder for the videos "
                           "(Browse…).").format(folder)
        except OSError as error:
            return self.tr("Can't use {0} for the videos ({1}). Choose another folder "
                           "(Browse…).").format(folder, error.strerror or error)
        return None

    def _address_not_found(self) -> None:
        """The key check's route isn't at the typed address: said under the address, where
        the mistake is (it was said under the key, sending the person 'to Settings')."""
        if not self._still_open():
            return
        self.address_error.setText(self.tr(
            "Nothing at this address answers as apiframe does (HTTP 404 on /v2/me). apiframe's "
            "address is {0}, with nothing after it.").format(DEFAULT_BASE_URL))
        self.address_error.show()
        self.base_url_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refusal(self, error: api.ApiError) -> str:
        """Why the key can't be used, in this dialog's words (the engine's send the person
        'to Settings', where they already are)."""
        if isinstance(error, api.AuthenticationError):
            return self.tr("apiframe didn’t accept this key. Check that it was copied whole "
                           "(it starts with “afk_”), or get a new one on apiframe’s dashboard.")
        if isinstance(error, api.PermissionDeniedError):
            return self.tr("apiframe refuses this key: it may be inactive. Reactivate it or "
                           "create a new one on apiframe’s dashboard, then paste it here.")
        return error.message

    def _still_open(self) -> bool:
        return shiboken6.isValid(self) and self.isVisible()

    def _use_until_quit(self) -> None:
        """The checked key the keyring couldn't keep, used until the app quits (memory only)."""
        secrets.use_until_quit(self._unstored_key)
        self.key_edit.clear()
        log.info("API key checked and used until the app quits (no keyring to keep it)")
        self.saved.emit(self._current_settings(), True)
        self.accept()

    def _check_ended(self, message: str) -> None:
        if self._still_open():
            self.buttons.setEnabled(True)
            self.status.setText(message)
            if message:  # the key to correct: the focus (lost with the disabled buttons) there
                self.key_edit.setFocus(Qt.FocusReason.OtherFocusReason)
                self.key_edit.selectAll()


def _without_v2(address: str) -> str:
    """The typed API address without a trailing slash or `/v2`: the app adds `/v2/…` itself,
    and the address as the API's documentation writes its routes (…/v2) asked for /v2/v2/me."""
    address = address.strip().rstrip("/")
    if urlsplit(address).path.lower().endswith("/v2"):
        address = address[: -len("/v2")].rstrip("/")
    return address
