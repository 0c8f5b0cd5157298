"""Wires the window to an engine, and swaps the engine when the mode or the settings change.

Owns what lives across engines: the settings file, the demo simulator, the window. Everything slow
(the engine, httpx, QtMultimedia, the simulator) is imported here, after the first paint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import traceback
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from runway_desktop import APP_NAME, paths, settings
from runway_desktop.engine.records import Action
from runway_desktop.ui import gc_guard
from runway_desktop.ui.main_window import HISTORY, NO_KEY, MainWindow

if TYPE_CHECKING:
    # Imported where they are used, after the first paint (startup benchmark: the engine,
    # httpx, keyring and QtMultimedia cost more than the whole window).
    from runway_desktop.engine.commands import GenerationService
    from runway_desktop.engine.journal import Journal, JournalUnusable
    from runway_desktop.engine.scheduler import Engine
    from runway_desktop.simulator import Simulator
    from runway_desktop.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)
DEMO_KEY = "afk_demo"
DEMO_PORTS = "demo-simulator.json"  # the demo simulator's last video port (in data/demo)
# What the controller's banner messages are about (ui/banner.py's keys; the window has its own):
# each goes when its condition is over, without taking the others with it.
START = "start"  # the history or the engine couldn't be opened or built
DEMO_FOR_NO_KEY = "demo"  # demo mode stands in for a missing key
IMPORT = "import"  # File ▸ Import jobs failed
UNSAVED_SETTINGS = "settings"  # the settings file couldn't be written
UNEXPECTED = "unexpected"
# Notices (the window's notice banner):
LEFT_RUNNING = "left running"  # work a process that ended left: carried on
LIVE_WORK_IN_DEMO = "live work in demo"  # live work not followed while demo mode is on

LICENCES = """<p><b>{name}</b> {version}</p>
<p>Makes short videos with Runway Gen-4 Turbo through the apiframe v2 API.</p>
<p>Built with Qt 6 and PySide6 (LGPL v3: you may replace the Qt libraries shipped with this app;
their source is at qt.io and download.qt.io), qasync (BSD), httpx (BSD), keyring (MIT),
platformdirs (MIT), Pillow (MIT-CMU), pi-heif (BSD; libheif and libde265 LGPL v3),
truststore (MIT), certifi (MPL 2.0), send2trash (BSD); icons from Lucide (ISC).
QtMultimedia's FFmpeg backend is LGPL v2.1+. The full texts ship with the app in
THIRD_PARTY_NOTICES.txt and the LICENSES folder.</p>"""


class AppController(QObject):
    def __init__(
        self,
        app: QApplication,
        data_dir: Path,
        *,
        demo: bool = False,
        demo_if_no_key: bool = False,
        demo_seconds_per_job: float = 10.0,
    ) -> None:
        super().__init__()
        self.app = app
        self.data_dir = data_dir
        loaded = settings.load_checked(data_dir)  # an unusable file: kept aside, and a notice
        self.settings = loaded.settings
        self._force_demo = demo
        self._demo_if_no_key = demo_if_no_key
        self._demo_seconds = demo_seconds_per_job
        self.engine: Engine | None = None
        self.journal: Journal | None = None
        self.simulator: Simulator | None = None
        self._closed: asyncio.Future[None] | None = None
        self._quit_requested = False
        self._tasks: set[asyncio.Task[object]] = set()
        self._building = asyncio.Lock()  # one engine build at a time (see _build_engine)
        self._dialog: SettingsDialog | None = None
        self._demo_notice = ""  # what the notice says about live work left for demo mode
        self.start_finished = False  # the first start is over (with an engine or a message)
        self.window = MainWindow(
            paths.work_dir(data_dir) / "pasted", demo=self.demo, icon=app.windowIcon()
        )
        self.window.set_notify(self.settings.notify_when_done)
        if loaded.notice:
            self.window.show_notice(loaded.notice)
        self.window.settings_requested.connect(lambda: self.open_settings(first_run=False))
        self.window.import_requested.connect(lambda: self._spawn(self._import_jobs()))
        self.window.history_retry_requested.connect(self._retry_history)
        self.window.about_requested.connect(self._about)
        app.setQuitOnLastWindowClosed(False)
        app.lastWindowClosed.connect(self.quit)

    @property
    def demo(self) -> bool:
        return self._force_demo or self.settings.demo_mode

    # -- life -----------------------------------------------------------------------------------

    def show(self) -> None:
        self.window.restore_state()
        from runway_desktop.ui.state_keeper import StateKeeper

        # Kept as the person works: a kill or a power cut keeps the prompt, image and frame,
        # and the window's size and panes.
        window = self.window
        StateKeeper(window.compose, window, window.state_values,
                    [window.splitter.splitterMoved, window.right_splitter.splitterMoved,
                     window.studio.side_tabs.currentChanged])
        self.window.show()
        self.window.compose.prompt_edit.setFocus()  # type first: the prompt is what people edit

    def start(self) -> None:
        self._spawn(self._start())

    async def _start(self) -> None:
        try:
            await self._first_start()
        finally:
            self.start_finished = True

    async def _first_start(self) -> None:
        api_key = await self._load_key()
        no_key_demo = not api_key and not self.demo and self._demo_if_no_key
        if no_key_demo:
            self._force_demo = True
        elif not api_key and not self.demo:
            # What the keyring just said, not asked again: a locked one prompts at each read.
            self.open_settings(first_run=True, stored=(None, self.window.key_problem))
        await self._build_engine(known_key=(api_key,))
        if no_key_demo:
            self.window.banner.show_message(
                self.window.tr("Demo mode: no API key is stored, so videos come from the "
                               "built-in simulator. Add your apiframe key to make real ones."),
                Action.OPEN_SETTINGS, key=DEMO_FOR_NO_KEY,
            )

    def quit(self) -> None:
        self._quit_requested = True
        if self._closed and not self._closed.done():
            self._closed.set_result(None)

    async def run_until_closed(self) -> None:
        self._closed = asyncio.get_running_loop().create_future()
        if self._quit_requested:  # asked before the loop got here (e.g. --quit-after-paint)
            return
        await self._closed

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stop_engine()
        if self.simulator:
            self.simulator.stop()
            self.simulator = None
        self.window.queue.shutdown()

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()):
            self.report_unexpected(type(error), error, error.__traceback__)

    # -- engine ---------------------------------------------------------------------------------

    async def _load_key(self) -> str | None:
        """The key, read off the GUI thread: a locked keyring waits for its unlock prompt (the
        window froze for as long as the person took to answer it)."""
        from runway_desktop import secrets

        try:
            key = await asyncio.to_thread(secrets.load_api_key)
        except secrets.KeyStoreError as error:
            self.window.key_unreadable(error.message)
            return None
        self.window.key_unreadable(None)
        return key

    async def _stop_engine(self) -> None:
        gc_guard.thaw()  # this engine's history may become garbage now
        self.window.removals.commit()  # an undo window still open ends with this engine
        await self.window.sequence_command.detach()  # runs stay journaled; resumed next start
        if self.engine:
            await self.engine.stop()
            self.engine = None
        if self.journal:
            self.journal.close()
            self.journal = None

    async def _build_engine(self, known_key: tuple[str | None] | None = None) -> None:
        """One build at a time: a live build waiting on the keyring's unlock prompt and a
        demo one asked meanwhile ran interleaved, and the first replaced the second's engine
        with a live one without a key. `known_key`: the key the start has just read (a
        locked keyring prompts at each read)."""
        async with self._building:
            await self._build_engine_now(known_key)

    async def _build_engine_now(self, known_key: tuple[str | None] | None) -> None:
        from runway_desktop import api
        from runway_desktop.api.network import normalize_proxy_url
        from runway_desktop.engine.commands import GenerationService
        from runway_desktop.engine.journal import Journal, JournalError, JournalUnusable
        from runway_desktop.engine.lifecycle import EngineConfig, timing_from_env
        from runway_desktop.engine.scheduler import Engine
        from runway_desktop.engine.sequences import SequenceService
        from runway_desktop.engine.thumbnails import extract_thumbnail
        from runway_desktop.ui.engine_bridge import EngineBridge

        demo = self.demo
        # Live work already sent is not followed while demo mode is on: counted to say so.
        left_live = self._live_work_sent() if demo else 0
        await self._stop_engine()
        api_key: str | None
        if demo:
            base_url, api_key, history = self._start_simulator(), DEMO_KEY, self.data_dir / "demo"
        else:
            if self.simulator:
                self.simulator.stop()
                self.simulator = None
            base_url = self.settings.effective_base_url()
            api_key = known_key[0] if known_key is not None else await self._load_key()
            history = self.data_dir
        try:
            proxy = normalize_proxy_url(self.settings.proxy)
        except api.InvalidRequestError as error:  # a settings file edited by hand
            self.window.banner.show_message(
                self.window.tr("{0} Correct it in Settings ▸ Proxy.").format(error.message),
                Action.OPEN_SETTINGS, key=START,
            )
            return
        try:
            self.journal = Journal(paths.journal_path(history))
        except JournalUnusable as error:
            self._offer_fresh_history(error)
            return
        except JournalError as error:  # can't be opened now (locked, a drive full or read-only)
            self.window.banner.show_offer(
                self.window.try_again_words(error.message), self.window.tr("Try again"),
                lambda: self._spawn(self._build_engine()), key=START,
            )
            return
        config = EngineConfig(
            data_dir=history,
            output_dir=self.settings.output_path,
            base_url=base_url,
            create_output_parents=not self.settings.output_dir,
            keep_image_metadata=self.settings.keep_image_metadata,
            settings_sidecar=self.settings.settings_sidecar,
            proxy=proxy,
            **timing_from_env(os.environ),
        )
        try:
            engine = Engine(self.journal, config, api_key, thumbnailer=extract_thumbnail)
        except api.InvalidRequestError as error:  # e.g. a plain-http base URL in the settings
            self.journal.close()
            self.journal = None
            self._refused_address(error)
            return
        self.engine = engine
        self.window.banner.clear(START)  # opened and built: what stopped a start is over
        self.window.set_demo(demo)
        service = GenerationService(engine)  # what the window calls and listens to
        bridge = EngineBridge(service, self.window)
        self.window.attach(service, bridge)
        self.window.removals.finish_interrupted(service)  # a removal a crash cut short
        gc_guard.freeze_long_lived()  # the history just listed: out of later collections
        self.window.sequence_command.attach(SequenceService(engine))
        # The CLI (or another window) may run generations on this queue at the same time: the
        # engine drives only what it leases and shows the others' generations live.
        if demo:
            await self._adopt_demo_jobs(engine)
        from runway_desktop.engine.leases import left_running

        left = left_running(engine.journal)  # before this engine takes them over
        await engine.start()
        if left:
            self.window.show_notice(self.window.tr(
                "{0} generations were running when Runway Desktop last ended without closing "
                "(a crash, the app killed, or the computer turned off). They carry on where "
                "they stopped: none is sent or paid twice.").format(left) if left > 1
                else self.window.tr(
                "A generation was running when Runway Desktop last ended without closing "
                "(a crash, the app killed, or the computer turned off). It carries on where "
                "it stopped: it is not sent or paid twice."), key=LEFT_RUNNING)
        self.window.sequence_command.resume()  # sequences a crash or quit left running
        if self.journal and self.journal.notice:  # e.g. an empty file became a new history
            self.window.show_notice(self.journal.notice)
            self.journal.notice = None
        self._spawn(self._backfill_thumbnails(service))
        self._spawn(self._sweep_partials(service))
        notice = self.window.notice_banner
        if not demo:
            notice.clear(LIVE_WORK_IN_DEMO)  # live again: the work it spoke of carries on
        if left_live:
            self._demo_notice = self.window.tr(
                "Demo mode is on: {0} live generations already sent to apiframe are not "
                "followed meanwhile. apiframe keeps their videos only for a limited time (about "
                "a day), so turn demo mode off soon: they carry on where they stopped."
            ).format(left_live) if left_live > 1 else self.window.tr(
                "Demo mode is on: 1 live generation already sent to apiframe is not followed "
                "meanwhile. apiframe keeps its video only for a limited time (about a day), so "
                "turn demo mode off soon: it carries on where it stopped.")
            self.window.show_notice(self._demo_notice, key=LIVE_WORK_IN_DEMO)

    def _live_work_sent(self) -> int:
        """Generations of the live history (the engine running now, if it is the live one)
        that apiframe has, or may have, and that are not finished yet."""
        if self.engine is None or self.engine.config.data_dir != self.data_dir:
            return 0
        from runway_desktop.engine.lifecycle_table import SENT_RUNNING_STAGES

        # In SQL: not every row read.
        return len(self.engine.journal.with_stages(SENT_RUNNING_STAGES))

    def _refused_address(self, error: Exception) -> None:
        """The API address can't be used: say where it comes from and where to fix it."""
        message = getattr(error, "message", str(error))
        if os.environ.get(settings.BASE_URL_ENV):
            self.window.banner.show_message(
                self.window.tr(
                    "{0} It comes from the {1} environment variable: correct or unset it, "
                    "then start Runway Desktop again."
                ).format(message, settings.BASE_URL_ENV),
                None, key=START,
            )
            return
        self.window.banner.show_message(
            self.window.tr("{0} Correct it in Settings ▸ API address.").format(message),
            Action.OPEN_SETTINGS, key=START,
        )

    def _offer_fresh_history(self, error: JournalUnusable) -> None:
        """A damaged or newer-version history: say so, and offer to start afresh (no engine)."""
        assert error.path is not None
        path = error.path
        self.window.banner.show_offer(
            self.window.tr(
                "{0} Starting a fresh history keeps that file, renamed beside it, so nothing is "
                "deleted."
            ).format(error.message),
            self.window.tr("Start a fresh history"),
            lambda: self._spawn(self._start_fresh_history(path)), key=START,
        )

    async def _start_fresh_history(self, path: Path) -> None:
        from runway_desktop.engine.journal import move_aside

        if self.engine is not None:  # a history is open after all (another start won)
            return
        try:
            aside = move_aside(path)
        except OSError as error:
            self.window.banner.show_offer(
                self.window.tr(
                    "Couldn't move the history file {0} aside ({1}). Move or rename it "
                    "yourself, then try again."
                ).format(path, error.strerror or error),
                self.window.tr("Try again"),
                lambda: self._spawn(self._build_engine()), key=START,
            )
            return
        log.warning("History %s moved aside to %s; starting a fresh one", path, aside)
        self.window.banner.clear(START)
        await self._build_engine()
        self.window.show_notice(
            self.window.tr(
                "Started a fresh history. The old one is kept as {0}. To go back to it, quit "
                "Runway Desktop and rename it (and a “-wal” file beside it, if any) back to "
                "{1}, replacing the new one."
            ).format(aside, path.name)
        )

    def _start_simulator(self) -> str:
        if self.simulator is None:
            from runway_desktop.simulator import Simulator, SimulatorConfig

            # Demo clips are made from the person's own start image (stock ones for text only).
            config = SimulatorConfig(seconds_per_job=self._demo_seconds, image_clips=True)
            self.simulator = Simulator(config)
            # Its videos' links name its port: the last run's, where free, so a download a
            # quit or a kill cut short carries on from its link (see _adopt_demo_jobs).
            ports = self.data_dir / "demo" / DEMO_PORTS
            try:
                self.simulator.start(cdn_port=int(json.loads(ports.read_text())["cdn"]))
            except (OSError, ValueError, KeyError, TypeError):
                self.simulator.start()
            with contextlib.suppress(OSError):
                ports.parent.mkdir(parents=True, exist_ok=True)
                ports.write_text(json.dumps({"cdn": self.simulator.cdn_port}))
        return self.simulator.base_url

    async def _adopt_demo_jobs(self, engine: Engine) -> None:
        """Demo generations the last run sent to its simulator (gone with it: the app quit or
        was killed) carry on, as the quit question promises: this run's simulator knows their
        jobs again (free, as all demo work), instead of 'apiframe has no such job'."""
        from runway_desktop.engine.lifecycle import request_for
        from runway_desktop.engine.lifecycle_table import SENT_RUNNING_STAGES
        from runway_desktop.engine.records import Stage

        simulator = self.simulator
        if simulator is None:
            return
        for generation in engine.journal.with_stages(SENT_RUNNING_STAGES):
            if not generation.job_id:
                continue  # not sent yet as far as the history knows: it is sent again
            image = generation.settings.image_path
            picture = await asyncio.to_thread(_read_or_none, image) if image else None
            try:
                body = request_for(generation, engine.catalog).to_json()
                simulator.adopt_job(generation.job_id, DEMO_KEY, body, picture,
                                    completed=generation.stage is Stage.DOWNLOADING)
            except Exception:  # a row this simulator can't read: it says so when polled
                log.info("Demo job %s not carried on", generation.job_id, exc_info=True)

    async def _backfill_thumbnails(self, service: GenerationService) -> None:
        """Videos finished by the CLI (no Qt there) get their thumbnails when the window opens."""
        from runway_desktop.engine.thumbnails import extract_thumbnail

        for generation_id, video, target in missing_thumbnails(service):
            with contextlib.suppress(Exception):
                await extract_thumbnail(video, target)
                service.attach_thumbnail(generation_id, str(target))

    async def _sweep_partials(self, service: GenerationService) -> None:
        """An export cut short by a kill, a crash or a power cut left its hidden partial file
        beside the video (`.<name>.<random>.partial`, never shown as the export): gone once it
        is an hour old, from the output folder and the folders the videos are in."""
        from runway_desktop.engine.video.partial_files import sweep_partials

        folders = {service.output_folder} | {
            Path(g.video_path).parent for g in self.window.queue.model.generations()
            if g.video_path}
        if removed := await asyncio.to_thread(sweep_partials, folders):
            log.info("Removed %d partial file(s) an interrupted export left", removed)

    async def _import_jobs(self) -> None:
        from runway_desktop import api
        from runway_desktop.engine.commands import GenerationService

        if not self.engine:
            return
        from runway_desktop.engine.importer import ASK_ABOVE_VIDEOS

        service = GenerationService(self.engine)
        try:
            plan = await service.plan_import()
        except api.ApiError as error:
            # Which work failed (not the queue's), and a button that does the import again:
            # the engine's Retry sent the generations again instead and imported nothing.
            text = self.window.tr("Couldn't import jobs from apiframe: {0}").format(error.message)
            if isinstance(error, (api.AuthenticationError, api.PermissionDeniedError)):
                self.window.banner.show_message(text, Action.OPEN_SETTINGS, key=IMPORT)
            else:
                self.window.banner.show_offer(text, self.window.tr("Try again"),
                                              self._import_again, key=IMPORT)
            return
        self.window.banner.clear(IMPORT)  # apiframe answered: an earlier failure is over
        folder = service.output_folder

        def bring_in() -> None:
            result = service.import_planned(plan, output_dir=folder)
            self.window.statusBar().showMessage(
                self.window.tr("Imported {0} job(s) from apiframe; {1} removed earlier skipped.")
                .format(result.added, result.skipped_removed), 8000
            )

        if plan.videos <= ASK_ABOVE_VIDEOS:
            bring_in()
            return
        # A whole account: say what it downloads, and where, before doing it (non-modal).
        self.window._confirm(
            self.window.tr("Download {0} videos from apiframe?").format(plan.videos),
            self.window.tr("Importing brings in {0} job(s) made elsewhere and downloads {1} "
                           "video(s) into {2}.").format(plan.jobs, plan.videos, folder),
            self.window.tr("Download {0}").format(plan.videos), bring_in,
            keep=self.window.tr("Not now"))

    def _retry_history(self) -> None:
        """The person says the history can be written again: if its folder takes a write now,
        open it again and carry on; if not, the banner stays and says so."""
        if self.journal is None:  # none open (a start that failed): open one
            self._spawn(self._build_engine())
            return
        if self.journal.locked_elsewhere():
            # Another process's write still holds it: a new engine would find its rows leased
            # by this one and sit idle, the banner gone. This one carries on once it is free
            # (halted by the lock, it resumes by itself).
            self.window.statusBar().showMessage(self.window.tr(
                "The history is still locked by another process: the queue carries on by "
                "itself once that process goes on (the banner says which)."), 8000)
            return
        self._spawn(self._reopen_history(self.journal.path.parent))

    async def _reopen_history(self, folder: Path) -> None:
        from runway_desktop.ui.folder_checks import write_problem  # tempfile: not at start

        if (reason := await asyncio.to_thread(write_problem, folder, 64 * 1024)) is not None:
            self.window.banner.show_offer(
                self.window.tr(
                    "Still can't write in {0} ({1}), so the queue stays stopped. Free some "
                    "space on that drive or make the folder writable, then try again."
                ).format(folder, reason),
                self.window.tr("Try again"), self._retry_history, key=HISTORY)
            return
        self.window.banner.clear(HISTORY)
        await self._build_engine()

    def _import_again(self) -> None:
        self.window.banner.clear(IMPORT)
        self._spawn(self._import_jobs())

    # -- dialogs --------------------------------------------------------------------------------

    def open_settings(self, *, first_run: bool,
                      stored: tuple[str | None, str] | None = None) -> None:
        from runway_desktop.ui.settings_dialog import SettingsDialog

        if self._dialog is not None:  # already open: bring it forward, never a second one
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        dialog = SettingsDialog(
            self.settings, self.window, first_run=first_run, demo_active=self.demo,
            stored=stored,
        )
        dialog.saved.connect(
            lambda new, key_changed: self._on_settings_saved(
                new, key_changed, leave_demo=dialog.demo_turned_off()
            )
        )
        dialog.key_removed.connect(lambda: self._on_settings_saved(self.settings, True))
        dialog.finished.connect(lambda _result: self._on_dialog_finished(dialog))
        self._dialog = dialog
        dialog.open()

    def _on_dialog_finished(self, dialog: SettingsDialog) -> None:
        # Forget it before Qt deletes it: the next open makes a new one (a kept reference to
        # a deleted dialog raised "Internal C++ object already deleted").
        if self._dialog is dialog:
            self._dialog = None
        dialog.deleteLater()

    def _on_settings_saved(
        self, new: settings.Settings, key_changed: bool, *, leave_demo: bool = False
    ) -> None:
        old, self.settings = self.settings, new
        unsaved = self._write_settings()  # first: a quit right after Save keeps them
        self.window.set_notify(new.notify_when_done)
        from runway_desktop import secrets

        if key_changed and secrets.api_key_from_env():  # it wins over the keyring's
            self.window.statusBar().showMessage(self.window.tr(
                "The key in the {0} environment variable stays in use until it is unset and "
                "Runway Desktop is started again.").format(secrets.API_KEY_ENV),
                15_000)
        self._spawn(self._apply_settings(old, new, key_changed, leave_demo=leave_demo,
                                         unsaved=unsaved))

    def _write_settings(self) -> str | None:
        """The settings in force to their file; None, or why they couldn't be written."""
        try:
            settings.save(self.data_dir, self.settings)
        except OSError as error:
            log.warning("Couldn't save the settings: %s", error)
            return error.strerror or str(error)
        self.window.banner.clear(UNSAVED_SETTINGS)  # saved now: "couldn't save" is over
        return None

    def _say_settings_unsaved(self, reason: str) -> None:
        """They apply until the app quits; where they couldn't go, why, and a Try again."""
        self.window.banner.show_offer(self.window.tr(
            "Couldn't save the settings in {0} ({1}). They apply until Runway Desktop quits: "
            "free some space on that drive or make the folder writable, then try again."
        ).format(paths.settings_path(self.data_dir), reason), self.window.tr("Try again"),
            self._save_settings_again, key=UNSAVED_SETTINGS)

    def _save_settings_again(self) -> None:
        if (reason := self._write_settings()) is not None:
            self._say_settings_unsaved(reason)
            return
        self.window.statusBar().showMessage(self.window.tr("Settings saved."), 5000)

    async def _apply_settings(self, old: settings.Settings, new: settings.Settings,
                              key_changed: bool, *, leave_demo: bool,
                              unsaved: str | None = None) -> None:
        """What saved settings change: the engine rebuilt, demo left, or the new key used;
        then, if their file couldn't be written, the banner says so (after what may hide it)."""
        try:
            await self._apply_settings_now(old, new, key_changed, leave_demo=leave_demo)
        finally:
            if unsaved is not None:
                self._say_settings_unsaved(unsaved)

    async def _apply_settings_now(self, old: settings.Settings, new: settings.Settings,
                                  key_changed: bool, *, leave_demo: bool) -> None:
        leaving_demo = (key_changed and self._demo_if_no_key and self._force_demo
                        and not new.demo_mode and bool(await self._load_key()))
        if leaving_demo or (leave_demo and self._force_demo):
            # Demo stood in for the missing key (a real key ends it), or the person unticked
            # the Demo box while the app was in demo mode.
            self._force_demo = False
            self.window.banner.clear(DEMO_FOR_NO_KEY)
            await self._build_engine()
        elif (old.demo_mode, old.base_url, old.output_path, old.keep_image_metadata,
              old.settings_sidecar, old.proxy) != (
                  new.demo_mode, new.base_url, new.output_path, new.keep_image_metadata,
                  new.settings_sidecar, new.proxy):
            await self._build_engine()
            if self.engine and (old.proxy, old.base_url) != (new.proxy, new.base_url):
                # Another way to apiframe: what waited for a Retry (e.g. stopped on the old
                # proxy) goes again: a POST with its same key, never a second job.
                self.window._do(lambda service: service.retry_waiting(
                    skip=self.window.removals.is_hidden))
        elif self.engine and not self.demo and (key_changed or not self.engine.api_key):
            # Also without a key so far: the keyring, locked at the start, may answer now.
            key = await self._load_key()
            if key or key_changed:
                if self.engine:  # not stopped meanwhile
                    self.engine.set_api_key(key)
                self.window.banner.clear(NO_KEY)
                if not key:  # removed: the team and balance shown are no longer this window's
                    self.window.show_no_api_key()
        if self.engine:
            # Videos that stopped on a folder they couldn't write ("choose another output
            # folder in Settings", the row's Choose folder led here) go on into the one set now.
            self.window._do(lambda service: service.carry_on_in_output_folder())

    def _about(self) -> None:
        box = QMessageBox(self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # not kept hidden once closed
        box.setWindowTitle(self.window.tr("About {0}").format(APP_NAME))
        from runway_desktop import __version__

        box.setText(LICENCES.format(name=APP_NAME, version=__version__))
        box.setIconPixmap(self.window.windowIcon().pixmap(64, 64))
        box.open()

    def report_unexpected(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """Log the traceback; show the person a sentence; keep running."""
        log.error("Unexpected error", exc_info=(exc_type, exc, tb))
        release_locals(tb)
        self.window.banner.show_message(
            self.window.tr(
                "Something unexpected went wrong ({0}). It was logged, and your queue is safe."
            ).format(exc_type.__name__),
            None, key=UNEXPECTED,
        )



def release_locals(tb: TracebackType | None) -> None:
    """Let go of what the failed code's frames held: the traceback lives on (Python keeps it in
    sys.last_traceback, a log handler may keep its record), and with it a failed paintEvent's
    QPainter, still painting on the window: the next paint, or the window's deletion, crashed
    the app."""
    traceback.clear_frames(tb)


def _read_or_none(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def missing_thumbnails(service: GenerationService) -> list[tuple[int, Path, Path]]:
    """(id, video, thumbnail to make) for finished videos that have no thumbnail yet."""
    folder = service.thumbnails_folder
    found = []
    # In SQL, not over every finished row: with 100,000 items that loop held the window ~1 s.
    for generation in service.without_thumbnail():
        video = generation.video_path
        if video and Path(video).exists():
            found.append((generation.id, Path(video), folder / f"{generation.id}.jpg"))
    if found:
        folder.mkdir(parents=True, exist_ok=True)
    return found
