"""The main window: compose on the left; preview and the queue on the right; a banner on top.

It only displays and forwards: every action goes to the engine, every change comes back from it
through the bridge's signals.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from runway_desktop import APP_NAME
from runway_desktop.engine.lifecycle_table import Command, allows
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.ui.announcer import Announcer
from runway_desktop.ui.banner import Banner
from runway_desktop.ui.clip_actions import ClipActions
from runway_desktop.ui.compare_command import CompareCommand
from runway_desktop.ui.compose_panel import ComposePanel, carries_pictures
from runway_desktop.ui.extend_mode import ExtendMode
from runway_desktop.ui.gallery import GalleryView
from runway_desktop.ui.output_folder_gate import OutputFolderGate
from runway_desktop.ui.pasted_sweeper import PastedSweeper
from runway_desktop.ui.preview import PreviewPlayer
from runway_desktop.ui.queue_view import QueueView
from runway_desktop.ui.quit_question import quit_question
from runway_desktop.ui.removals import Removals
from runway_desktop.ui.sequence_command import SequenceCommand, first_shot_from
from runway_desktop.ui.stage import StudioLayout
from runway_desktop.ui.startup_shell import DEFAULT_SIZE, first_size
from runway_desktop.ui.status_summary import StatusSummary
from runway_desktop.ui.undo_notice import UndoNotice
from runway_desktop.ui.video_drop import VideoDrop, video_files

if TYPE_CHECKING:
    # Types only: the engine (and httpx under it) loads after the first paint.
    from runway_desktop import api
    from runway_desktop.engine.commands import GenerationService
    from runway_desktop.engine.events import Problem
    from runway_desktop.engine.journal import JournalError
    from runway_desktop.ui.engine_bridge import EngineBridge

log = logging.getLogger(__name__)
T = TypeVar("T")
# What each banner message is about (Banner's keys): one clears without hiding the others.
ENGINE_PROBLEM = "engine"  # the engine's problem of the moment (offline, no credits, …)
HISTORY = "history"  # a command found the history unwritable
NO_KEY = "key"  # no API key, or the keyring couldn't be read
INPUT = "input"  # what was typed was refused (EDIT_INPUT)
EXTEND_FAILED = "extend"  # the last extension couldn't be made
# Coming back to the window (e.g. from the browser, after a top-up) asks for the balance again,
# at most this often: switching windows back and forth does not spam apiframe.
REFRESH_ON_ACTIVATE_SECONDS = 10.0
SIDE_LIST_KEY = "window/side_list"  # "queue" or "gallery": the list shown beside the stage
# The first start's size (startup_shell.DEFAULT_SIZE, where the outline opens too): room for
# the compose panel, the stage and the lists side by side; on a smaller screen, what fits
# (narrower, down to a laptop's 1024 × 640, the lists go under the stage).


def preferences_shortcuts() -> list[QKeySequence]:
    """The platform's Preferences keys (e.g. Ctrl+, on macOS); Ctrl+, where it defines none."""
    return standard_keys(QKeySequence.StandardKey.Preferences, "Ctrl+,")


def standard_keys(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for a standard action; `fallback` where it defines none (Quit
    has none on Windows or without a desktop theme)."""
    keys = QKeySequence.keyBindings(standard)
    return [k for k in keys if not k.isEmpty()] or [QKeySequence(fallback)]


class MainWindow(QMainWindow):
    settings_requested = Signal()
    import_requested = Signal()
    history_retry_requested = Signal()  # the history couldn't be written: open it again
    about_requested = Signal()
    first_painted = Signal()

    def __init__(self, cache_dir: Path, *, demo: bool = False, icon: QIcon | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self._demo = demo
        self._service: GenerationService | None = None  # the engine's typed commands
        self._bridge: EngineBridge | None = None
        self._quit_confirmed = False
        self._painted = False
        self._notify = True
        self._running = 0
        self._not_done = ""  # a command another process's lock refused: said until it goes
        self._activated_at: float | None = None
        self._key_problem: str | None = None  # why the keyring couldn't be read, if it couldn't
        if icon:
            self.setWindowIcon(icon)

        self.banner = Banner(self)
        self.banner.action_requested.connect(self._on_banner_action)
        # Paid work is sent only once its output folder is known to take the video.
        self.folder_gate = OutputFolderGate(self.banner, self.settings_requested.emit, self)
        # One-time notices (a settings file kept aside, a history started afresh): apart from
        # the engine's banner, so a problem coming and going never hides them unread.
        self.notice_banner = Banner(self)
        self.notice_banner.setObjectName("notice_banner")
        self.compose = ComposePanel(cache_dir, self)
        self.compose.generate_requested.connect(self._on_generate)
        self.preview = PreviewPlayer(self)
        self.queue = QueueView(parent=self)
        self._connect_queue()

        # The video at the centre: compose | stage | queue and gallery tabs (ui/stage.py).
        self.gallery = GalleryView(self.queue, self)
        self.gallery.selection_changed.connect(self._show_in_preview)
        self.gallery.play_requested.connect(self._play)
        self.studio = StudioLayout(self, self.compose, self.preview, self.queue, self.gallery)
        self.studio.side_tabs.currentChanged.connect(self._list_shown)
        self.splitter = self.studio.splitter
        self.right_splitter = self.studio.right_splitter
        self.compare = CompareCommand(self, self.queue, [
            (self.queue.list_view, self.queue.selected_generations),
            (self.gallery.list_view, self.gallery.selected_generations)])
        self.clip_actions = ClipActions(self, self.queue, self.preview, [
            (self.queue.list_view, self.queue.current_generation),
            (self.gallery.list_view, self.gallery.current_generation)])
        self.extend_mode = ExtendMode(self.compose, lambda: self._service)
        self.extend_mode.watch(self.queue.model)  # ends when its clip is removed
        self.clip_actions.extend_requested.connect(self.extend_mode.start)
        self.queue.extend_requested.connect(self._extend)
        self.extend_mode.extended.connect(self._extended)
        self.extend_mode.failed.connect(
            lambda text: self.banner.show_message(text, None, key=EXTEND_FAILED))
        self.extend_mode.locked_out.connect(
            lambda error: self._refused_by_lock(error, self.tr("press Generate again")))
        # A video the app saved, dropped anywhere on the window, offers its settings.
        self.video_drop = VideoDrop(self.compose, lambda: self._service, self.extend_mode.start,
                                    cache_dir / "last-frames",
                                    leave_extend=self.extend_mode.cancel)
        self.compose.drop_zone.video_dropped.connect(self.video_drop.take)
        self.setAcceptDrops(True)
        self.sequence_command = SequenceCommand(self, lambda: first_shot_from(self.compose),
                                                lambda text: self.banner.show_message(
                                                    text, None, key="sequence"))
        self.sequence_command.folder_problem = self.output_folder_problem
        self.clip_actions.sequence_requested.connect(self.sequence_command.start_from_clip)
        self.sequence_command.play_requested.connect(self._play)
        # Pasted pictures nothing can reach any more are deleted (ui/pasted_sweeper.py).
        self.pasted_sweeper = PastedSweeper(cache_dir, self._pictures_in_use, self)
        self.compose.drop_zone.images_changed.connect(self.pasted_sweeper.hold_shown)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice_banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        # Floats over the bottom of the list it speaks about: showing it moves no control,
        # and it never covers Generate.
        self.notice = UndoNotice(self.queue)
        self.removals = Removals(self.queue.model, self.notice, lambda: self._service, self,
                                 hold_selection=self.queue.selection_held,
                                 select=self._select_in_sight)

        self.account_label = QLabel(self.tr("Not signed in"), self)
        self.account_label.setObjectName("status_account")
        # A label's purpose goes in its description: an accessible name would be read in
        # place of its words.
        self.account_label.setAccessibleDescription(self.tr("Account and credits"))
        self.account_label.setToolTip(self.tr("Your apiframe team and credit balance"))
        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("status_mode")
        self.mode_label.setAccessibleDescription(self.tr("Mode"))
        self.status_summary = StatusSummary(self.statusBar(), self.queue.model, self)
        self.status_summary.open_folder_requested.connect(self._open_output_folder)
        self.statusBar().addPermanentWidget(self.mode_label)
        self.statusBar().addPermanentWidget(self.account_label)

        self._build_menus()
        self.tray = QSystemTrayIcon(self.windowIcon(), self)
        self.announcer = Announcer(lambda: self.tray, self)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray.setToolTip(APP_NAME)
            self.tray.show()
        self.set_demo(demo)
        screen = self.screen()
        self.resize(first_size(screen.availableGeometry().size()) if screen
                    else QSize(*DEFAULT_SIZE))

    # -- wiring ---------------------------------------------------------------------------------

    def attach(self, service: GenerationService, bridge: EngineBridge) -> None:
        """Show a queue's history and follow its events (the service's, through `bridge`);
        called again after a mode switch."""
        if self._bridge:
            self._bridge.detach()
            self._bridge.deleteLater()
        self._service = service
        self._bridge = bridge
        self._not_done = ""  # a refusal of the queue before: its banner went with it
        bridge.generation_updated.connect(self._on_generation_updated)
        bridge.note_changed.connect(self.queue.model.set_note)
        bridge.generation_removed.connect(self._on_generation_removed)
        bridge.account_updated.connect(self._on_account)
        bridge.account_unavailable.connect(self._on_account_unavailable)
        bridge.problem_changed.connect(self._on_problem)
        bridge.catalog_changed.connect(self.compose.set_catalog)
        self.compose.set_catalog(service.catalog)  # the models and prices known so far
        self.status_summary.set_folder(service.output_folder)
        self.folder_gate.folder_changed()
        self.queue.model.reset(service.generations())
        # Generate's "… left" counts what waits here to be sent (compose_panel, spoken_for.py).
        bridge.generation_updated.connect(self.compose.generation_changed)
        bridge.generation_removed.connect(self.compose.generation_removed)
        self.compose.follow_generations(self.queue.model.generations())
        for generation in self.queue.model.generations():
            if generation.stage.is_on_server and (note := service.note(generation.id)):
                self.queue.model.set_note(generation.id, note)
        self._on_problem(service.problem)
        self.extend_mode.follow_history()  # ends it for a clip of the other history
        bridge.generation_removed.connect(self.pasted_sweeper.generations_removed)
        self.pasted_sweeper.engine_started()
        if not service.has_api_key:
            self.show_no_api_key()
        else:
            self.banner.clear(NO_KEY)  # a key to work with: "Add your key" is over
            if service.account:
                self._on_account(service.account)
            else:
                self.compose.set_balance(None)
                self.account_label.setText(self.tr("Checking your balance…"))
        self._update_title()

    def _pictures_in_use(self) -> list[str]:
        """Start images the window shows or can bring back (the composition Extend put aside,
        a deleted sequence's while its Undo shows): the pasted-pictures sweep keeps them."""
        view = self.sequence_command.view
        return [*self.compose.drop_zone.images(),
                *self.extend_mode.composition_state().get("images", []),
                *(view.bar.undoable_images() if view is not None else [])]

    def show_no_api_key(self) -> None:
        """No key to work with (none stored, just removed, or the keyring can't be read): no
        team or balance shown, and the banner says why and what to do."""
        self.compose.set_balance(None)
        self.account_label.setText(self.tr("No API key"))
        if not self._demo:
            self.banner.show_message(
                self._key_problem
                or self.tr("Add your apiframe API key to generate videos, or try demo mode."),
                Action.OPEN_SETTINGS, key=NO_KEY,
            )

    @property
    def key_problem(self) -> str:
        """Why the keyring couldn't be read, as last said; "" when it could."""
        return self._key_problem or ""

    def key_unreadable(self, problem: str | None) -> None:
        """The keyring couldn't be read (locked, none running), in its words; None once it
        was. A key may well be stored there, so that, not "Add your key", is what is said."""
        self._key_problem = problem
        if problem:
            self.banner.show_message(problem, Action.OPEN_SETTINGS, key=NO_KEY)

    def set_demo(self, demo: bool) -> None:
        self._demo = demo
        self.mode_label.setText(self.tr("Demo") if demo else self.tr("Live"))
        keys = preferences_shortcuts()[0].toString(QKeySequence.SequenceFormat.NativeText)
        self.mode_label.setToolTip(
            self.tr("Demo mode: a local simulator of apiframe; no credits are spent. To make "
                    "real videos, add your API key in File ▸ Settings ({0}) and untick Demo "
                    "mode.").format(keys)
            if demo
            else self.tr("Live: videos are made by apiframe and cost credits")
        )
        self._update_title()

    def set_notify(self, enabled: bool) -> None:
        self._notify = enabled

    def _connect_queue(self) -> None:
        q = self.queue
        q.selection_changed.connect(self._queue_pick_changed)
        q.play_requested.connect(self._play)
        q.open_requested.connect(self._open_video)
        q.reveal_requested.connect(self._reveal)
        q.favourite_toggled.connect(lambda gid, on: self._do(lambda s: s.set_favourite(gid, on)))
        q.reuse_requested.connect(self._reuse)
        q.rerun_requested.connect(lambda gid: self._send_for(
            self.queue.model.generation(gid),
            lambda: q.show_added(self._do(lambda s: s.rerun_with_new_seed(gid)))))
        q.retry_requested.connect(lambda gid: q.show_added(self._do(lambda s: s.retry(gid)), gid))
        q.redownload_requested.connect(lambda gid: self._do(lambda s: s.redownload(gid)))
        q.stop_following_requested.connect(self._confirm_stop_following)
        q.cancel_requested.connect(self._request_cancel)
        q.cancel_pending_requested.connect(self._request_cancel_pending)
        q.clear_finished_requested.connect(self._request_clear_finished)
        q.remove_requested.connect(self._request_remove)
        q.reorder_requested.connect(
            lambda gid, before: self._do(lambda s: s.reorder(gid, before)))
        q.action_requested.connect(self._on_row_action)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        settings = QAction(self.tr("&Settings…"), self)
        settings.setObjectName("settings_action")
        settings.setShortcuts(preferences_shortcuts())
        settings.triggered.connect(self.settings_requested)
        open_folder = QAction(self.tr("Open &output folder"), self)
        open_folder.setShortcut(QKeySequence("Ctrl+Shift+O"))
        open_folder.triggered.connect(self._open_output_folder)
        import_jobs = QAction(self.tr("&Import jobs from apiframe"), self)
        import_jobs.setShortcut(QKeySequence("Ctrl+I"))
        import_jobs.triggered.connect(self.import_requested)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcuts(standard_keys(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        for action in (settings, open_folder, import_jobs):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        self.undo_action = QAction(self.tr("&Undo"), self)
        self.undo_action.setObjectName("undo_action")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setEnabled(False)
        self.undo_action.triggered.connect(self.notice.undo)
        self.notice.undoable_changed.connect(self.undo_action.setEnabled)
        edit_menu.addAction(self.undo_action)
        edit_menu.addSeparator()
        for name, text, key, slot in (
                ("write_prompt", self.tr("Write &Prompt"), "Ctrl+L", self._write_prompt),
                ("choose_image", self.tr("Choose Start &Image…"), "Ctrl+Shift+I",
                 self.compose.drop_zone.browse)):
            action = QAction(text, self)  # back to composing from anywhere, keys only
            action.setObjectName(name)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _=False, run=slot: run())
            edit_menu.addAction(action)
        self.sequence_command.add_to_menu(self.studio.add_view_menu(self.menuBar()))
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About Runway Desktop"), self)
        about.triggered.connect(self.about_requested)
        keys = QAction(self.tr("&Keyboard Shortcuts"), self)
        keys.setObjectName("shortcuts_action")
        keys.setShortcuts([QKeySequence(QKeySequence.StandardKey.HelpContents),
                           QKeySequence("Ctrl+/")])
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction(keys)
        help_menu.addAction(about)

    def _write_prompt(self) -> None:
        self.compose.prompt_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_shortcuts(self) -> QWidget:
        """Help ▸ Keyboard Shortcuts: every key, read from the actions. Non-modal (show(),
        not open()), so the keys can be tried in the window while the list is shown; asked
        again, the open list comes forward."""
        from runway_desktop.ui.shortcuts import ShortcutsDialog

        shown = self.findChild(ShortcutsDialog, "shortcuts_dialog")
        if shown is not None and shown.isVisible():
            shown.raise_()
            shown.activateWindow()
            return shown
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- engine events --------------------------------------------------------------------------

    def _on_generation_updated(self, generation: Generation) -> None:
        if self.removals.absorb_update(generation):
            return  # removed, undoable for a few seconds more: stays out of the list
        previous = self.queue.model.generation(generation.id)
        self.queue.model.upsert(generation)
        if previous and previous.stage != generation.stage:
            self._announce(generation)
            self._update_title()
        elif previous is None:
            self._update_title()
        # The preview shows the visible list's pick: a row selected in the hidden queue moving
        # on replaced the video chosen in the gallery with its own (none, while it runs).
        shown_list = self.gallery if self.studio.gallery_shown() else self.queue
        selected = shown_list.current_generation()
        if (
            selected
            and selected.id == generation.id
            and (
                previous is None
                or previous.stage != generation.stage
                or previous.thumbnail_path != generation.thumbnail_path
            )
        ):
            self._show_in_preview(generation)

    def _announce(self, generation: Generation) -> None:
        """A desktop notification when something finishes, or stops for the person, while the
        window is in the background; a batch together is one (ui/announcer.py)."""
        if not self.announcer.worth_telling(generation) or self.isActiveWindow():
            return
        if not (self._notify and self.tray.isVisible()):
            return
        self.announcer.add(generation)

    def _on_account(self, account: api.Account) -> None:
        self.account_label.setToolTip(self.tr("Your apiframe team and credit balance"))
        self.compose.set_balance(account.credits)
        team = account.team_name or self.tr("Your team")
        if account.credits is None:  # apiframe left the balance out of /v2/me
            self.account_label.setText(self.tr("{0} · balance unknown").format(team))
            return
        credits = self.locale().toString(account.credits)  # same digits as the compose panel
        self.account_label.setText(self.tr("{0} · {1} credits").format(team, credits))

    def _on_account_unavailable(self, message: str) -> None:
        """A balance check failed: say so (not "Checking your balance…" for ever), and why;
        a balance read earlier stays shown, marked as the last one known."""
        known = self._service is not None and self._service.account is not None
        if not known:
            self.account_label.setText(self.tr("Balance unavailable"))
        self.account_label.setToolTip(
            (self.tr("The last balance known. ") if known else "")
            + self.tr("apiframe couldn't give the balance: {0} It is checked again after each "
                      "generation and when you come back to this window.").format(message))

    def _on_problem(self, problem: Problem | None) -> None:
        if problem is None:  # over: what it hid (an import's Try again, …) shows again
            self._not_done = ""  # its banner said when to ask again: now
            self.banner.clear(ENGINE_PROBLEM)
            self._clear_stopped_notes()  # a queue stopped by a lock carries on by itself
            return
        from runway_desktop.engine.events import ProblemKind

        if problem.kind is ProblemKind.JOURNAL:
            self.banner.clear(HISTORY)  # a command's word for the same: the engine's says it
            self._history_unwritable(problem.message, key=ENGINE_PROBLEM)
            return
        if problem.kind is ProblemKind.AUTH and self._service and self._service.has_api_key:
            # Not "Checking your balance…" (nothing is), nor a balance the key no longer opens.
            self.compose.set_balance(None)
            self.account_label.setText(self.tr("API key not accepted"))
        if problem.kind is ProblemKind.AUTH:
            from runway_desktop import secrets  # the keyring is loaded once a key was refused

            if os.environ.get(secrets.API_KEY_ENV, "").strip():
                # Not "check it in Settings": a key saved there isn't used while this is set.
                self.banner.show_message(self.tr(
                    "Your API key was rejected. It comes from the {0} environment variable: "
                    "correct or unset it, then start Runway Desktop again."
                ).format(secrets.API_KEY_ENV), problem.action, key=ENGINE_PROBLEM)
                return
        if problem.until is not None:
            waiting = problem.kind == ProblemKind.RATE_LIMITED
            self.banner.show_message(
                problem.message, problem.action, key=ENGINE_PROBLEM, until=problem.until,
                lead=(self.tr("apiframe asked to wait — retrying in {0}.") if waiting
                      else self.tr("Retrying in {0}.")),
                lead_done=(self.tr("apiframe asked to wait — retrying now.") if waiting
                           else self.tr("Retrying now.")),
            )
            return
        self.banner.show_message(problem.message, problem.action, key=ENGINE_PROBLEM)

    def try_again_words(self, message: str) -> str:
        """The engine's words end "…, then start Runway Desktop again": beside a Try again
        button, that button does it."""
        return message.replace("then start Runway Desktop again",
                               self.tr("then press Try again"))

    def _history_unwritable(self, message: str, *, key: str = HISTORY) -> None:
        """The queue stopped: its history can't be written. Once the person has fixed that
        (freed space, a writable drive), Try again opens it again, no restart needed."""
        from runway_desktop.engine.scheduler import RESUMES_BY_ITSELF

        restart = "then start Runway Desktop again"
        if restart in message:
            text = self.try_again_words(message)
        elif RESUMES_BY_ITSELF in message:  # its banner goes by itself: Try again is spare
            text = message
        else:
            text = self.tr("{0} Once that is done, press Try again.").format(message)
        if self._not_done:  # a command refused: not done, said until the history is back
            text = f"{self._not_done} {text}"
        self.banner.show_offer(text, self.tr("Try again"), self.history_retry_requested.emit,
                               key=key)
        model = self.queue.model
        for generation in model.generations():  # they no longer move: not "Generating 12 %" alone
            if generation.stage.is_running:
                model.set_note(generation.id, self.tr("stopped until the history can be saved"))

    def _clear_stopped_notes(self) -> None:
        model = self.queue.model
        stopped = self.tr("stopped until the history can be saved")
        for generation in model.generations():
            if model.note(generation.id) == stopped:
                model.set_note(generation.id, None)

    def show_notice(self, text: str, key: str | None = None) -> None:
        """Tell the person something once (non-modal); it stays until they close it (or
        `notice_banner.clear(key)`), and one told meanwhile waits under it."""
        self.notice_banner.show_message(text, key=text if key is None else key)

    def _on_banner_action(self, action: Action | None) -> None:
        if action == Action.OPEN_SETTINGS or action == Action.CHOOSE_FOLDER:
            self.settings_requested.emit()
        elif action == Action.BUY_CREDITS:
            self._top_up()
        elif action == Action.RETRY and self._service:
            # Everything whose fix is Retry carries on (not rows hidden by an undoable removal).
            self._do(lambda s: s.retry_waiting(skip=self.removals.is_hidden))
            self.banner.dismiss()  # the message pressed; the engine says it again if still so
        elif action == Action.EDIT_INPUT:
            self.banner.dismiss()
            self.compose.setFocus()

    def _on_row_action(self, generation_id: int, action: Action) -> None:
        """The fix button drawn on a row that needs attention."""
        if action in (Action.OPEN_SETTINGS, Action.CHOOSE_FOLDER):
            self.settings_requested.emit()
        elif action == Action.EDIT_INPUT:
            self._reuse(generation_id)
        elif action == Action.BUY_CREDITS:
            self._top_up()
        elif action == Action.RUN_AGAIN:
            self._run_again(generation_id)
        else:  # as the menu's Retry: a failure sent anew is a new row, shown
            self.queue.show_added(self._do(lambda s: s.retry(generation_id)), generation_id)

    def _run_again(self, generation_id: int) -> None:
        """A new job with exactly the settings of one apiframe no longer has (the seed too);
        the old row stays until the person removes it."""
        generation = self.queue.model.generation(generation_id)
        if generation is None:
            return
        folder = Path(generation.output_dir) if generation.output_dir else None

        def send() -> None:
            added = self._do(lambda s: s.submit(generation.settings, output_dir=folder))
            if added is not None:
                self.queue.show_and_select(added.id)

        self._send_for(generation, send)

    def _top_up(self) -> None:
        """apiframe's billing page in the browser; the work carries on by itself once the
        balance covers it (checked now, and again when the person comes back)."""
        from runway_desktop.ui import links

        links.open_or_offer_copy(links.BILLING_URL, self, what=self.tr("apiframe's billing page"))
        if self._service:
            self._service.check_balance()

    def _on_activated(self) -> None:
        """Back to the window: the balance may have changed meanwhile (a top-up, the CLI)."""
        now = time.monotonic()
        if self._activated_at is not None and now - self._activated_at < (
                REFRESH_ON_ACTIVATE_SECONDS):
            return
        self._activated_at = now
        if self._service:
            self._service.check_balance()

    def _update_title(self) -> None:
        running, _pending, _progress = self.queue.model.totals()
        self._running = running
        title = APP_NAME
        if running:
            title = self.tr("{0} — {1} running").format(APP_NAME, running)
        if self._demo:
            title += self.tr(" (Demo)")
        self.setWindowTitle(title)

    # -- actions --------------------------------------------------------------------------------

    def _do(self, command: Callable[[GenerationService], T], *, again: str = "") -> T | None:
        """Run a typed command of the generation service; a refusal shows in the banner
        instead of a traceback. `again`: how to ask for it again (e.g. "press Generate
        again"), said if another process's lock refused it."""
        if self._service is None:
            return None
        from runway_desktop import api  # loaded by the engine already: a dictionary lookup
        from runway_desktop.engine.journal import JournalError

        try:
            return command(self._service)
        except api.InvalidRequestError as error:
            self.banner.show_message(error.message, Action.EDIT_INPUT, key=INPUT)
        except JournalError as error:  # the history can't be written: says where and what to do
            log.warning("A command was refused: %s", error.message)
            again = again or self.tr("do it again")
            if error.locked:
                self._refused_by_lock(error, again)
            else:
                self._not_done = self.tr("Not done: {0} after Try again.").format(again)
                self._history_unwritable(error.message)
        except KeyError:
            log.info("A command on a generation that is gone")
        return None

    def _refused_by_lock(self, error: JournalError, again: str) -> None:
        """Another process's lock refused a command: the engine stops too and carries on once
        the lock goes; until then its banner says first that this wasn't done, and how to ask
        again (a banner that went by itself must not leave the person thinking it was)."""
        from runway_desktop.engine.events import ProblemKind

        if self._service is None:
            return
        self._not_done = self.tr("Not done: {0} once this message goes.").format(again)
        self._service.refused(error)
        problem = self._service.problem
        if problem is None or problem.kind is not ProblemKind.JOURNAL:  # not stopped after all
            self._history_unwritable(error.message)
            return
        self._on_problem(problem)  # shown again (on top), now with the words above

    def _on_generate(self, batch: list[GenerationSettings]) -> None:
        if self._service is None:
            return
        if not self._service.has_api_key:
            self.banner.show_message(
                self.tr("Add your apiframe API key in Settings first, or try demo mode."),
                Action.OPEN_SETTINGS, key=NO_KEY,
            )
            return
        parent = self.extend_mode.parent_generation  # as pressed: extend, or a new row
        self._send_for(parent, lambda: self._send(batch, parent))

    def _send(self, batch: list[GenerationSettings], parent: Generation | None) -> None:
        if parent is not None:  # extend mode: the next shot of a clip
            if self.extend_mode.parent_generation is parent:  # not left during the check
                self.extend_mode.take(batch)
            return
        added = self._do(lambda s: s.submit_many(batch), again=self.tr("press Generate again"))
        if added:
            self.banner.clear(INPUT)  # what was refused has been put right
            # Only the newest (the top row): what was selected before is no longer a target.
            self.queue.show_and_select(added[-1].id)

    def _send_for(self, made_from: Generation | None, send: Callable[[], object]) -> None:
        """`send` paid work once the folder its video goes to can take it: the folder of the
        generation it is made from (a re-run, an extension), else the output folder."""
        if self._service is None:
            return
        folder = self._folder_of(made_from.output_dir if made_from is not None else None)
        self.folder_gate.send_when_ready(folder, send,
                                         may_make_parents=self._made_by_engine(folder))

    async def output_folder_problem(self, chosen: str | None) -> str | None:
        """Why paid work saving into `chosen` (None: the output folder) can't be sent now, in
        the person's words, or None (a sequence's Run asks; Generate asks `folder_gate`)."""
        if self._service is None:
            return None
        folder = self._folder_of(chosen)
        return await self.folder_gate.problem(folder,
                                              may_make_parents=self._made_by_engine(folder))

    def _folder_of(self, chosen: str | None) -> Path:
        assert self._service is not None
        return Path(chosen) if chosen else self._service.output_folder

    def _made_by_engine(self, folder: Path) -> bool:
        """The engine makes the default folder, parents and all (a first run has none yet)."""
        from runway_desktop import paths

        return folder == paths.default_output_dir()

    def _extend(self, generation_id: int) -> None:
        if (generation := self.queue.model.generation(generation_id)) is not None:
            self.extend_mode.start(generation)

    def _extended(self, generation: Generation) -> None:
        self.banner.clear(EXTEND_FAILED)  # an earlier extension's failure is over
        self.queue.show_and_select(generation.id)

    def _reuse(self, generation_id: int) -> None:
        generation = self.queue.model.generation(generation_id)
        if generation:
            self.extend_mode.cancel()  # else Generate would extend, these settings unseen
            self.compose.apply_settings(generation.settings, made_by=f"#{generation.id}")

    def _select_in_sight(self, generation_ids: list[int]) -> None:
        """Select these in the list the person sees (the queue or the gallery)."""
        view = self.gallery if self.studio.gallery_shown() else self.queue
        view.select_generations(generation_ids)

    def _video_of(self, generation_id: int) -> str | None:
        generation = self.queue.model.generation(generation_id)
        return generation.video_path if generation and generation.stage == Stage.DONE else None

    def _queue_pick_changed(self, generation: Generation | None) -> None:
        # Only the visible list's pick is previewed: the hidden queue's moving on (its row
        # finished and left the Active filter) emptied the preview of the gallery's pick.
        if not self.studio.gallery_shown():
            self._show_in_preview(generation)

    def _list_shown(self, _index: int) -> None:
        # The pick of the list coming into sight is previewed as it is now: back in the queue,
        # one that finished while the gallery showed kept its poster from before (no video);
        # back in the gallery, the result picked on an earlier visit, still selected there,
        # was not shown when the queue had nothing selected.
        shown_list = self.gallery if self.studio.gallery_shown() else self.queue
        current = shown_list.current_generation()
        if current is not None and self._video_of(current.id) != self.preview.video_path():
            self._show_in_preview(current)

    def _show_in_preview(self, generation: Generation | None) -> None:
        self.clip_actions.show_generation(generation)
        if generation is None:
            self.preview.clear()
            return
        video = generation.video_path if generation.stage == Stage.DONE else None
        self.preview.show_item(video, generation.thumbnail_path, generation.settings.prompt)

    def _play(self, generation_id: int) -> None:
        generation = self.queue.model.generation(generation_id)
        if generation and generation.stage == Stage.DONE:
            self._show_in_preview(generation)
            self.preview.play()

    def _open_path(self, path: str | None, what: str) -> None:
        """With the desktop's app for it; where nothing can open it, say so, offer Copy path."""
        from runway_desktop.ui import links

        if path:
            links.open_path_or_offer_copy(path, self, what=what)

    def _open_video(self, generation_id: int) -> None:
        """Open File: with the desktop's player. A video gone from the disk is said so (the
        desktop's launcher, handed a missing file, showed nothing at all)."""
        video = self._video_of(generation_id)
        if video and not Path(video).exists():
            self.statusBar().showMessage(self.tr(
                "Its video isn't on disk any more (moved or deleted?): right-click it, Download "
                "Again, then open it."), 15_000)
            return
        self._open_path(video, self.tr("the video"))

    def _reveal(self, generation_id: int) -> None:
        video = self._video_of(generation_id)
        if video:
            self._open_path(str(Path(video).parent), self.tr("the folder"))

    def _open_output_folder(self) -> None:
        if self._service:
            from runway_desktop import paths
            from runway_desktop.ui.folder_checks import output_folder_problem
            from runway_desktop.ui.output_folder_gate import OUTPUT_FOLDER

            folder = self._service.output_folder
            try:
                # Parents only for the default folder (a first run has none yet): a chosen
                # one on a drive not plugged in would be made on the wrong disk.
                folder.mkdir(parents=folder == paths.default_output_dir(), exist_ok=True)
            except OSError as error:
                problem = output_folder_problem(folder) or self.tr(
                    "Can't open the output folder {0} ({1}). Choose another folder."
                ).format(folder, error.strerror or error)
                self.banner.show_offer(problem, self.tr("Choose folder…"),
                                       self.settings_requested.emit, key=OUTPUT_FOLDER)
                return
            self.banner.clear(OUTPUT_FOLDER)  # there again (the drive plugged back in)
            self._open_path(str(folder), self.tr("the output folder"))

    def _on_generation_removed(self, generation_id: int) -> None:
        self.removals.forget(generation_id)
        self.queue.model.remove(generation_id)

    def _request_remove(self, ids: list[int], trash_videos: bool) -> None:
        rows = [g for i in ids if (g := self.queue.model.generation(i)) is not None]
        waiting = [g.id for g in rows if allows(g, Command.CANCEL)]
        followed = [g.id for g in rows if allows(g, Command.STOP_FOLLOWING)]

        def remove() -> None:
            # Running work stops first (Undo brings it back cancelled or not followed, and
            # Retry carries on from there): a hidden row that kept moving would come back.
            if waiting:
                self._do(lambda s: s.cancel(waiting))
            for generation_id in followed:
                self._stop_following(generation_id)
            self.removals.remove(ids, trash_videos=trash_videos)

        if followed:
            count = len(followed)
            # The question names every row it removes (it named only the followed ones, beside
            # a button removing them all).
            if count == len(ids) == 1:
                title = self.tr("Remove a generation apiframe may still be making?")
            elif count == len(ids):
                title = self.tr("Remove {0} generations apiframe may still be making?").format(
                    count)
            else:
                title = self.tr("Remove {0} generations? apiframe may still be making {1} of "
                                "them.").format(len(ids), count)
            trashed = trash_videos and any(g.video_path for g in rows)
            self._confirm(
                title,
                (self.tr("Their videos move to the Trash. ") if trashed else "")
                + self.tr("apiframe has no way to cancel a job: it may still finish and charge "
                          "the credits. You can import it later from File ▸ Import jobs, or "
                          "undo this for a few seconds."),
                self.tr("Remove {0}").format(len(ids)), remove)
            return
        if len(ids) <= 1:
            remove()  # one row: the notice's Undo is enough
            return
        if trash_videos:
            title = self.tr("Remove {0} generations and move their videos to the Trash?")
            text = self.tr("You can undo this for a few seconds.")
        else:
            title = self.tr("Remove {0} generations from the history?")
            text = self.tr("Their videos stay in the folder. You can undo this for a few seconds.")
        self._confirm(title.format(len(ids)), text,
                      self.tr("Remove {0}").format(len(ids)), remove)

    def _request_clear_finished(self) -> None:
        every = self.removals.clearable_ids()
        # What the question names, and all it clears: the rows the list shows (under Active or
        # Favourites it cleared only rows out of sight).
        ids = self.queue.shown_ids(every)
        count = len(ids)
        if not count and every:
            self._none_shown(self.tr("Nothing finished is shown"))
            return
        if count <= 1:
            self.removals.clear_finished(ids)
            return
        self._confirm(
            self.tr("Clear {0} finished generations from the list?").format(count),
            self.tr("Finished, failed and cancelled generations leave the list (favourites "
                    "stay); their videos stay in the folder. You can undo this for a few "
                    "seconds.") + self._hidden_stay(len(every) - count),
            self.tr("Clear {0}").format(count),
            lambda: self.removals.clear_finished(ids),
        )

    def _hidden_stay(self, hidden: int) -> str:
        return " " + self.tr("The {0} hidden by the filter or the search stay.").format(
            hidden) if hidden else ""

    def _none_shown(self, what: str) -> None:
        self.statusBar().showMessage(self.tr("{0}: the filter or the search hides the rest. "
                                             "All shows every generation.").format(what), 8000)

    def _request_cancel(self, ids: list[int]) -> None:
        def cancel() -> None:
            self._do(lambda s: s.cancel(ids))

        if len(ids) <= 1:
            cancel()
            return
        self._confirm(
            self.tr("Cancel {0} generations?").format(len(ids)),
            self.tr("None of them has reached apiframe yet, so nothing is charged."),
            self.tr("Cancel {0}").format(len(ids)),
            cancel,
            keep=self.tr("Keep them"),
        )

    def _request_cancel_pending(self) -> None:
        waiting = [g.id for g in self.queue.model.generations() if g.stage is Stage.PENDING]
        ids = self.queue.shown_ids(waiting)  # as Clear finished: only what the list shows
        count, hidden = len(ids), len(waiting) - len(ids)

        def cancel() -> None:
            self._do(lambda s: s.cancel(ids) if hidden else s.cancel_pending())

        if not count and hidden:
            self._none_shown(self.tr("Nothing waiting is shown"))
            return
        if count <= 1:
            cancel()
            return
        self._confirm(
            self.tr("Cancel {0} waiting generations?").format(count),
            self.tr("None of them has reached apiframe yet, so nothing is charged.")
            + self._hidden_stay(hidden),
            self.tr("Cancel {0}").format(count),
            cancel,
            keep=self.tr("Keep them"),
        )

    def _confirm(
        self, title: str, text: str, act: str, then: Callable[[], object], keep: str = ""
    ) -> None:
        """Ask without blocking the event loop (open(), never exec()); `then` on yes."""
        box = QMessageBox(QMessageBox.Icon.Question, title, title, parent=self)
        box.setObjectName("confirm_box")
        box.setInformativeText(text)
        no = box.addButton(keep or self.tr("Cancel"), QMessageBox.ButtonRole.RejectRole)
        yes = box.addButton(act, QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: box.clickedButton() is yes and then())
        box.open()

    def _stop_following(self, generation_id: int) -> None:
        self._do(lambda s: s.stop_following(generation_id))

    def _confirm_stop_following(self, generation_id: int) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Stop following this job?"),
            self.tr(
                "apiframe has no way to cancel a job. If you stop following "
                "it, the server may still finish it and charge the credits; "
                "you can import it later from File ▸ Import jobs."
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        stop = box.addButton(self.tr("Stop following"), QMessageBox.ButtonRole.DestructiveRole)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def finished(_result: int) -> None:
            if box.clickedButton() is stop:
                self._stop_following(generation_id)

        box.finished.connect(finished)
        box.open()

    # -- window life ----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.dragMoveEvent(event)  # QDragEnterEvent is a QDragMoveEvent

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if video_files(event.mimeData()) or carries_pictures(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if videos := video_files(event.mimeData()):
            event.acceptProposedAction()
            self.video_drop.take(videos)
        elif carries_pictures(event.mimeData()):
            # A picture let go anywhere (the empty preview says "Drop a start image") is the
            # start image: it was refused everywhere but the drop zone itself.
            self.compose.drop_zone.dropEvent(event)
        else:
            event.ignore()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.WindowActivate:
            self._on_activated()
        elif event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)
        return handled

    def closeEvent(self, event: QCloseEvent) -> None:
        exports = self.clip_actions.exports_running() + self.sequence_command.exports_running()
        if (self._running or exports) and not self._quit_confirmed:
            event.ignore()
            box = QMessageBox(
                QMessageBox.Icon.Question,
                self.tr("Quit Runway Desktop?"),
                quit_question(self._running, exports),
                QMessageBox.StandardButton.Cancel,
                self,
            )
            quit_button = box.addButton(self.tr("Quit"), QMessageBox.ButtonRole.AcceptRole)
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # not kept once answered

            def quit_if_chosen(_result: int) -> None:
                if box.clickedButton() is quit_button:
                    self._quit_now()

            box.finished.connect(quit_if_chosen)
            box.open()
            return
        self.clip_actions.stop_exports()  # quitting: they stop and leave nothing behind
        self.sequence_command.stop_exports()
        self.save_state()
        self.pasted_sweeper.stop()
        self.preview.clear()
        self.tray.hide()
        event.accept()

    def _quit_now(self) -> None:
        self._quit_confirmed = True
        QTimer.singleShot(0, self.close)

    def quit_without_asking(self) -> None:
        """Close as Quit does, without the question (a stop signal: Ctrl+C in the terminal,
        a logout's SIGTERM): running work carries on at the next start."""
        self._quit_now()

    def state_values(self) -> dict[str, Any]:
        """What the window keeps in QSettings between runs, by key."""
        return {
            "window/geometry": self.saveGeometry(),
            "window/splitter": self.splitter.saveState(),
            "window/stage_splitter": self.right_splitter.saveState(),
            SIDE_LIST_KEY: "gallery" if self.studio.gallery_shown() else "queue",
            "compose/state": self.extend_mode.composition_state(),
        }

    def save_state(self) -> None:
        from runway_desktop.ui.state_keeper import write_settings

        write_settings(self.state_values())

    def restore_state(self) -> None:
        store = QSettings()
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/splitter", self.splitter.restoreState),
            ("window/stage_splitter", self.right_splitter.restoreState),
        ):
            value = store.value(key)
            if isinstance(value, QByteArray):
                restore(value)
        # A person who works in the gallery finds it again (its filters are not kept: a
        # reopened app showing only favourites would look like lost videos).
        self.studio.show_gallery(store.value(SIDE_LIST_KEY) == "gallery")
        compose_state = store.value("compose/state")
        if isinstance(compose_state, dict):
            self.compose.restore_state(compose_state)
