"""The real window driven through random sequences of a person's actions (hypothesis stateful).

Each example builds the app (controller, window, engine) on a fresh data folder against its own
simulator, then takes a random walk: open and close Settings, write a prompt, drop an image and
Generate (Ctrl+Enter or the button), select one or several rows, trigger whatever the context menu
offers for them (the real QActions), extend a finished clip (or cancel), remove and Undo, Clear
finished and Undo, filter and search, cancel what waits, press a problem row's fix or the banner's
button, visit the gallery (select there, favourite, remove, compare, export), top up in the browser
and come back, import from apiframe, frame a picture (drop one of some shape, pick a ratio or not,
pan and zoom by pointer and keys), restart the app on the same data (what was being composed comes
back as it was). The simulator misbehaves now and then: a job that fails, a network blip, apiframe
unreachable for a while, credits spent elsewhere. After every step it checks what a person would
notice:

- no "Something unexpected went wrong" (the controller's `report_unexpected` is never called);
- a destructive action touched only what was chosen: the other rows are still listed and their
  videos still on disk;
- the journal and the disk agree: each finished row's video exists, unless the person sent it
  to the trash (and did not undo); no video was deleted that was not chosen;
- the list shows the engine's generations minus the removals still undoable, in the same stage;
- after Generate exactly one row is selected: the newest;
- the gallery shows the listed finished videos that match the search; no comparison, and no
  Export dialog that isn't writing, shows a result that left the list.

The walk's choices depend only on hypothesis' draws, never on this machine's speed: apiframe's
time stands still except in `time_passes` (the simulator's clock is the walk's), every step ends
with the app at rest (no row between two stages here, each row on apiframe as far along as
apiframe says), the Undo notice waits for a step to make it go, and the trouble a step makes
(dropped connections, a failed job) meets the sending of work and ends with the step. So the
same steps show the same window: a failure replays, and shrinks (`RUNWAY_PERSON_SHRINK=1`).

Bounded for CI (`RUNWAY_PERSON_EXAMPLES`, `RUNWAY_PERSON_STEPS` raise it locally); derandomized,
so CI runs the same walks every time (`RUNWAY_PERSON_RANDOM=1` for new ones); no shrinking
unless `RUNWAY_PERSON_SHRINK=1`. A failure prints the steps that led to it, also when hypothesis'
own replay of them went otherwise (`Flaky`: the failure is reported, with a file of its steps);
`RUNWAY_PERSON_TRACE=1` prints each step as it runs, and the rows' stages after it.
`RUNWAY_PERSON_REPLAY=steps.py` runs the steps a failure printed (`state = Person()`, `state.…`,
as they are; each step checks what the walk checks) instead of new walks: a random walk's
failure comes back in seconds, to debug or to check a fix.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from PySide6.QtCore import QCoreApplication, QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QDesktopServices,
    QKeySequence,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from runway_desktop.engine.events import ProblemKind
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.simulator import Simulator, SimulatorConfig
from runway_desktop.simulator.config import Account, default_accounts
from tests.ui.conftest import stop_app
from tests.ui.dnd import drop_files

pytestmark = [
    pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the freedesktop trash"),
    # Failures the walk causes on purpose (a job the simulator fails) are logged as warnings.
    pytest.mark.expect_log_warnings(r"Generation \d+ \(job [^)]*\) failed",
                                    r"Generation \d+ needs attention \(retry\): Can't reach",
                                    r"Generation \d+ needs attention \(buy_credits\)"),
    # A person clicking through rows faster than a video loads: FFmpeg logs the load it was
    # told to drop. What the person sees is checked instead (`preview_shows_the_selection`).
    pytest.mark.qt_log_ignore(r"Could not open media\. FFmpeg error description: "
                              r"Immediate exit requested"),
]

EXAMPLES = int(os.environ.get("RUNWAY_PERSON_EXAMPLES", "20"))
STEPS = int(os.environ.get("RUNWAY_PERSON_STEPS", "30"))
SHRINK = os.environ.get("RUNWAY_PERSON_SHRINK") == "1"
RANDOM = os.environ.get("RUNWAY_PERSON_RANDOM") == "1"  # new walks each run (hunting locally)
REPLAY = os.environ.get("RUNWAY_PERSON_REPLAY", "")  # a file of the steps a failure printed
# The suite's 120 s bounds CI's walks; more walks (hunting) get as long for each 20, and a shrink
# (hundreds of walks) none. Out of time a UI test ends the process with every thread's stack
# (tests/ui/conftest.py): a hunt of 400 walks would end at the 120 s.
TIMEOUT = 0 if SHRINK else 120 * max(1, EXAMPLES * STEPS // (20 * 30))
MENU_ACTIONS = ("play", "open", "reveal", "copy_url", "copy_prompt", "copy_seed", "favourite",
                "reuse", "rerun", "retry", "redownload", "stop_following", "run_next", "cancel",
                "remove", "remove_with_file")
WAIT_MS = 15_000
# A row command's keys in the list (queue_view.ACTIONS), as a person presses them.
ROW_KEYS = {"run_next": "Ctrl+Shift+N", "copy_prompt": "Ctrl+C", "copy_seed": "Alt+Shift+C",
            "retry": "Ctrl+Shift+T", "cancel": "Ctrl+Backspace", "favourite": "F",
            "rerun": "Ctrl+Shift+E", "redownload": "Ctrl+Shift+D", "remove": "Delete",
            "remove_with_file": "Shift+Delete", "play": "Return"}


class UrlCatcher(QObject):
    """Stands in for the desktop's launcher (xdg-open): records what the app asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


def build_controller(qapp: Any, qtbot: QtBot, data_dir: Path) -> Any:
    from runway_desktop.ui.controller import AppController

    controller = AppController(qapp, data_dir)
    calls: list[str] = []
    original = controller.report_unexpected

    def report(exc_type: Any, exc: BaseException, tb: Any) -> None:
        calls.append(f"{exc_type.__name__}: {exc}")
        original(exc_type, exc, tb)

    controller.report_unexpected = report  # type: ignore[method-assign]
    controller.unexpected = calls  # type: ignore[attr-defined]
    controller.show()
    controller.start()
    qtbot.waitUntil(lambda: controller.engine is not None, timeout=WAIT_MS)
    return controller


def close_controller(qtbot: QtBot, controller: Any) -> None:
    stop_app(qtbot, controller)
    QApplication.processEvents()


def preview_settled(qtbot: QtBot, window: Any) -> None:
    """Let the preview finish loading (a load cut short logs an FFmpeg warning)."""
    player = window.preview._player
    if player is not None:
        qtbot.waitUntil(lambda: player.mediaStatus() != player.MediaStatus.LoadingMedia,
                        timeout=WAIT_MS)


PICK = st.integers(0, 999)  # which row, modulo the rows there are
# Seconds passing on apiframe while a question waits (or the gallery shows): mostly none.
MEANWHILE = st.sampled_from([0.0, 0.0, 0.0, 0.3, 1.0])
# Stages a row leaves by itself, with nothing to wait for on apiframe's side.
MOVING = frozenset({Stage.PREPARING, Stage.UPLOADING, Stage.SUBMITTING, Stage.DOWNLOADING})
ON_SERVER = frozenset({Stage.QUEUED, Stage.PROCESSING})


class WalkClock:
    """apiframe's time, moved only by the walk (`time_passes`): a job is as far along on every
    run of the same steps, so what the window shows at each step, and what the walk's draws
    pick from it, doesn't depend on how fast this machine is (a failure replays and shrinks)."""

    def __init__(self, simulator: Simulator) -> None:
        self.now = simulator.clock.now()
        simulator.clock.now = lambda: self.now  # type: ignore[method-assign]

    def advance(self, seconds: float) -> None:
        self.now += seconds


def step(**arguments: Any) -> Callable[[Callable[..., None]], Any]:
    """A rule of the walk: recorded as it is called (`state.name(…)`, the lines a replay
    runs), then the app is left to come to rest and everything a person would notice is
    checked — in the step, so a replayed list of steps checks it too."""
    return lambda function: rule(**arguments)(_as_a_step(function))


def first_step(**arguments: Any) -> Callable[[Callable[..., None]], Any]:
    return lambda function: initialize(**arguments)(_as_a_step(function))


def _as_a_step(function: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(function)
    def run(machine: Any, *args: Any, **arguments: Any) -> None:
        if machine.in_step:  # a step using another (a row's fix shows all rows first)
            function(machine, *args, **arguments)
            return
        shown = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
        machine.steps.append(f"state.{function.__name__}({shown})")
        machine.in_step = True
        try:
            function(machine, **arguments)
            machine.come_to_rest()
            machine.check_what_a_person_notices()
        except BaseException:
            machine.failed(traceback.format_exc())
            raise
        finally:
            machine.in_step = False
    return run


def choose(ids: list[int], pick: int) -> int | None:
    return ids[pick % len(ids)] if ids else None


def settled(generation: Generation) -> bool:
    """Nothing moves by itself: finished, or waiting for the person."""
    return generation.stage.is_terminal or generation.stage is Stage.ATTENTION


def visible_menus() -> list[QMenu]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMenu) and w.objectName() == "queueContextMenu" and w.isVisible()]


def visible_box(window: Any) -> QMessageBox | None:
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[-1] if boxes else None


@pytest.mark.timeout(TIMEOUT)
def test_a_person_uses_the_window(
    qtbot: QtBot, qasync_loop: Any, qapp: Any, tmp_path: Path, trash_dir: Path,
    keyring_backend: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PIL import Image

    from runway_desktop import settings as app_settings

    QCoreApplication.setOrganizationName("Runway Desktop Tests")
    monkeypatch.setenv("APIFRAME_API_KEY", "afk_test")
    monkeypatch.setenv("RUNWAY_DESKTOP_POLL_SECONDS", "0.05")
    monkeypatch.setenv("RUNWAY_DESKTOP_RETRY_SECONDS", "0.02")
    from runway_desktop.ui import main_window

    monkeypatch.setattr(main_window, "REFRESH_ON_ACTIVATE_SECONDS", 0.0)  # every come-back asks
    picture = tmp_path / "kite.png"
    Image.new("RGB", (320, 180), (30, 120, 200)).save(picture)
    # Pictures of each shape for framing, and the ratio each one suggests.
    shapes = {"portrait": ((360, 640), "9:16"), "landscape": ((640, 360), "16:9"),
              "square": ((400, 400), "1:1")}
    framed = {}
    for shape, ((width, height), _ratio) in shapes.items():
        framed[shape] = tmp_path / f"{shape}.png"
        Image.new("RGB", (width, height), (200, 90, 40)).save(framed[shape])
    catcher = UrlCatcher()
    # Top up credits opens the billing page (https); Open File a file:// URL.
    QDesktopServices.setUrlHandler("file", catcher, "open")  # type: ignore[arg-type]  # the stub says bytes; only str works
    QDesktopServices.setUrlHandler("https", catcher, "open")  # type: ignore[arg-type]  # the stub says bytes; only str works
    runs = iter(range(10_000))
    first_failure: list[str] = []  # the traceback, then the steps
    # The Undo notice stays until a step makes it go (`notice_goes`, or the next removal):
    # on a timer, whether Undo was still there would depend on how fast the steps ran.
    from runway_desktop.ui.undo_notice import UndoNotice

    monkeypatch.setattr(UndoNotice.show_undoable, "__defaults__", (24 * 3600,))
    monkeypatch.setattr(UndoNotice.show_info, "__defaults__", (24 * 3600,))
    trace = os.environ.get("RUNWAY_PERSON_TRACE")

    class Person(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(runs)
            accounts = [a for a in default_accounts() if a.api_key != "afk_test"]
            # Two at a time: later ones wait locally (cancel, reorder and Cancel pending apply).
            accounts.append(Account("afk_test", credits=100_000, max_concurrent_jobs=2))
            # The same seed every walk: a replay of a walk meets the same simulator.
            self.simulator = Simulator(SimulatorConfig(
                seconds_per_job=0.8, seed=0, accounts=accounts)).start()
            self.clock = WalkClock(self.simulator)
            # Trouble the walk makes (dropped connections) meets the sending of work, not
            # whichever poll comes first: a poll's timing is the machine's, not the walk's.
            self.simulator.faults.routes = frozenset({"generate", "upload"})
            self.steps: list[str] = [f"state = {type(self).__name__}()"]
            # The pictures and prompt the compose panel had before Extend (Cancel's).
            self.before_extending: tuple[list[str], str] = ([], "")
            self.in_step = False
            monkeypatch.setenv("APIFRAME_BASE_URL", self.simulator.base_url)
            self.data_dir = tmp_path / f"walk-{n}" / "data"
            self.output_dir = tmp_path / f"walk-{n}" / "videos"
            self.data_dir.mkdir(parents=True)
            self.output_dir.mkdir()
            app_settings.save(self.data_dir, app_settings.Settings(output_dir=str(self.output_dir)))
            self.controller = build_controller(qapp, qtbot, self.data_dir)
            self.unexpected: list[str] = []
            # Videos the person sent to the trash and did not get back (row id → path), those
            # whose removal can still be undone, and every video seen on disk for a finished row.
            self.trashed: dict[int, str] = {}
            self.undoable_trash: dict[int, str] = {}
            self.videos: set[str] = set()

        # -- helpers ------------------------------------------------------------------------

        @property
        def window(self) -> Any:
            return self.controller.window

        @property
        def engine(self) -> Any:
            return self.controller.engine

        def failed(self, trace: str) -> None:
            """The first failure of the test, with the steps that led to it: reported even if
            hypothesis' own replay of it goes differently (`Flaky`)."""
            if not first_failure:
                first_failure.extend([trace, "\n".join([*self.steps, "state.teardown()"])])

        def at_rest(self) -> bool:
            return not self.moving()

        def moving(self) -> str:
            """What moves that the walk doesn't move ("" if nothing): a row between two
            stages on this computer, a row on apiframe not yet as far along as apiframe says
            (its time stands still until `time_passes`), a balance check, an outage banner
            about to go, a Generate waiting for its folder check."""
            engine = self.engine
            if engine is None:
                return "no engine"
            if engine.refreshing_account:
                return "a balance check"
            if self.sending():
                return "a Generate"
            if engine.problem is not None and engine.problem.kind is ProblemKind.OFFLINE:
                return "an outage banner"  # the check it started brings the work back
            for generation in engine.generations():
                shown = f"row {generation.id} ({generation.stage}, {generation.progress})"
                if generation.stage in MOVING:
                    return shown
                if generation.stage in ON_SERVER:
                    job = self.simulator.job(generation.job_id)
                    if (job["status"] != generation.stage.name
                            or (job["progress"] or 0) != generation.progress):
                        return f"{shown}: apiframe says {job['status']}, {job['progress']}"
                elif generation.stage is Stage.PENDING and engine.is_driving(generation.id):
                    return shown
            return ""

        def sending(self) -> bool:
            """Generate (or Re-run, or an extension) waits for the check of the folder its
            video goes to, in the background: the row comes after."""
            return self.window.folder_gate.checking

        def sent(self) -> None:
            qtbot.waitUntil(lambda: not self.sending(), timeout=WAIT_MS)
            self.settle()

        def come_to_rest(self) -> None:
            try:
                qtbot.waitUntil(self.at_rest, timeout=WAIT_MS)
            except qtbot.TimeoutError:
                raise AssertionError(f"never at rest: {self.moving()}") from None
            faults = self.simulator.faults  # a step's trouble ends with it
            faults.drop_next = faults.fail_jobs_next = 0
            self.settle()
            if trace:  # two runs of the same steps print the same
                self._log("  at rest: " + " ".join(
                    f"{g.id}:{g.stage}:{g.progress}" for g in self.engine.generations()))

        def check_what_a_person_notices(self) -> None:
            self.nothing_unexpected()
            self.list_follows_the_engine()
            self.preview_shows_the_selection()
            self.no_window_shows_what_left_the_list()
            self.journal_and_disk_agree()
            self.no_row_is_a_dead_end()
            self.no_half_written_video()

        def _log(self, text: str) -> None:
            if trace:
                print(f"  step: {text}", file=sys.stderr)

        def focus(self, widget: Any) -> None:
            """Keys go to the active window (a closed dialog may leave none active)."""
            self.window.activateWindow()
            qtbot.waitUntil(self.window.isActiveWindow, timeout=WAIT_MS)
            widget.setFocus()

        def settle(self) -> None:
            QApplication.processEvents()
            preview_settled(qtbot, self.window)

        def visible_rows(self) -> list[Generation]:
            proxy = self.window.queue.proxy
            from runway_desktop.ui.queue_model import Roles

            return [proxy.index(r, 0).data(Roles.GenerationRole) for r in range(proxy.rowCount())]

        def snapshot(self) -> dict[int, Generation]:
            return {g.id: g for g in self.window.queue.model.generations()}

        def click_row(self, generation_id: int, modifier: Qt.KeyboardModifier) -> None:
            queue = self.window.queue
            index = queue.proxy.mapFromSource(queue.model.index_of(generation_id))
            assert index.isValid()
            queue.list_view.scrollTo(index)
            point = queue.list_view.visualRect(index).center()
            qtbot.mouseClick(queue.list_view.viewport(), Qt.MouseButton.LeftButton, modifier,
                             point)
            self.settle()

        def answer_box(self, yes: bool, meanwhile: float = 0.0) -> str | None:
            """Answer the confirmation the window opened (if any), maybe after time passed on
            apiframe (`meanwhile`: rows moved on while the person read it); its question."""
            box = visible_box(self.window)
            if box is None:
                return None
            if meanwhile:
                self.clock.advance(meanwhile)
                self.come_to_rest()
            question = box.text()
            buttons = box.buttons()
            roles = {b: box.buttonRole(b) for b in buttons}
            wanted = [b for b in buttons if (roles[b] in (QMessageBox.ButtonRole.DestructiveRole,
                                                          QMessageBox.ButtonRole.AcceptRole))
                      == yes]
            qtbot.mouseClick(wanted[0], Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not shiboken6.isValid(box) or not box.isVisible(),
                            timeout=WAIT_MS)
            self.settle()
            return question

        def check_untouched(self, before: dict[int, Generation], chosen: set[int]) -> None:
            """Rows not chosen are still listed, and their videos still on disk."""
            model = self.window.queue.model
            for generation_id, generation in before.items():
                if generation_id in chosen:
                    continue
                assert model.generation(generation_id) is not None, (
                    f"row {generation_id} was not chosen but left the list")
                if generation.video_path and generation.stage is Stage.DONE:
                    assert Path(generation.video_path).exists(), (
                        f"video of row {generation_id} was not chosen but is gone")

        def check_others_kept(self, before: dict[int, Generation], targets: set[int]) -> None:
            """Rows not acted on kept their favourite mark and were not cancelled or dropped."""
            after = self.snapshot()
            for generation_id, old in before.items():
                new = after.get(generation_id)
                if generation_id in targets or new is None:
                    continue
                assert new.favourite == old.favourite, f"row {generation_id}'s favourite changed"
                if new.stage in (Stage.CANCELLED, Stage.ABANDONED):
                    assert old.stage is new.stage, (
                        f"row {generation_id} was not chosen but is now {new.stage}")

        def removal_done(self, before_batch: object) -> None:
            """A new removal makes the one before it final: its videos stay in the trash."""
            if self.window.removals._batch is not before_batch:
                self.undoable_trash.clear()

        def note_trash(self, before: dict[int, Generation], chosen: set[int]) -> None:
            for generation_id in chosen:
                generation = before.get(generation_id)
                if (generation and generation.video_path and generation.stage is Stage.DONE
                        and not Path(generation.video_path).exists()):
                    self.undoable_trash[generation_id] = generation.video_path
                    self.trashed[generation_id] = generation.video_path

        # -- rules: compose and generate ------------------------------------------------------

        @first_step(count=st.integers(1, 5), failing=st.integers(0, 1))
        def some_history(self, count: int, failing: int) -> None:
            """What a person has made before: finished videos, maybe one the server failed
            (the first: sent alone, so that it is the one on every run)."""
            self._log(f"some_history(count={count}, failing={failing})")
            self.simulator.faults.fail_jobs_next = failing
            compose = self.window.compose
            compose.prompt_edit.setPlainText("a lighthouse at dusk")
            for n in range(count):
                compose.generate()
                if n == 0:
                    self.come_to_rest()
            self.until_nothing_runs()

        @step(prompt=st.sampled_from(["a paper boat on a pond", "a kite over the dunes",
                                      "snow falling on a red tram"]),
              image=st.booleans(), keyboard=st.booleans(),
              trouble=st.sampled_from(["", "", "", "job fails", "network blip", "offline",
                                       "no credits"]))
        def generate(self, prompt: str, image: bool, keyboard: bool, trouble: str) -> None:
            self._log(f"generate(prompt={prompt!r}, image={image!r}, keyboard={keyboard!r}, "
                      f"trouble={trouble!r})")
            # Not the person: apiframe fails the next job (and refunds it), or the next few
            # connections drop (the engine retries; "Can't reach apiframe" comes and goes).
            if trouble == "job fails":
                self.simulator.faults.fail_jobs_next += 1
            elif trouble == "network blip":
                self.simulator.faults.drop_next += 2
            elif trouble == "offline":  # long enough for the engine to give up and ask
                self.simulator.faults.drop_next += 12
            elif trouble == "no credits":  # spent elsewhere; the window still shows the old
                self.simulator.set_credits("afk_test", 0)
            compose = self.window.compose
            if self.window.extend_mode.active:  # the strip is open: Generate extends
                compose.prompt_edit.setPlainText(prompt)
                if not compose.generate_block_reason():
                    self.finish_extending(keyboard)
                return
            if image and not compose.drop_zone.images():
                assert drop_files(compose.drop_zone, [picture])
                qtbot.waitUntil(compose.drop_zone.preview_ready, timeout=WAIT_MS)
            elif not image and compose.drop_zone.images():
                compose.drop_zone.clear()
            compose.prompt_edit.setPlainText(prompt)
            before = set(self.snapshot())
            if compose.generate_block_reason():
                return  # e.g. not enough credits shown: Generate is disabled, nothing to do
            if keyboard:
                self.focus(compose.prompt_edit)
                qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return,
                               Qt.KeyboardModifier.ControlModifier)
            else:
                qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
            self.sent()
            added = set(self.snapshot()) - before
            if not added and compose.generate_block_reason():
                return  # the balance came in meanwhile: Generate says why it can't go
            assert added, (f"Generate added nothing: block={compose.generate_block_reason()!r} "
                           f"banner={self.window.banner.message.text()!r} "
                           f"focus={QApplication.focusWidget()!r} "
                           f"active={QApplication.activeWindow()!r}")
            selected = [g.id for g in self.window.queue.selected_generations()]
            newest = max(added)
            # Even under a filter or a search it doesn't match: what was selected before is no
            # longer a target, and the new row is in sight.
            assert selected == [newest], f"after Generate: selected {selected}, newest {newest}"
            assert newest in {g.id for g in self.visible_rows()}

        @step(seconds=st.sampled_from([0.0, 0.3, 1.0]))
        def time_passes(self, seconds: float) -> None:
            """A moment passes on apiframe's side (its jobs move on; the window follows), or
            (0) as long as it takes for nothing to move any more."""
            self._log(f"time_passes(seconds={seconds!r})")
            if seconds:
                self.clock.advance(seconds)
            else:
                self.until_nothing_runs()

        def until_nothing_runs(self) -> None:
            def still(generation: Generation) -> bool:
                # Waiting rows stay waiting while submission is paused (no credits): the banner
                # asks the person to top up.
                engine = self.engine
                paused = engine.problem is not None and engine.problem.pauses_submission
                return settled(generation) or (paused and generation.stage is Stage.PENDING)

            for _ in range(100):  # each pass finishes the jobs on apiframe (2 at a time)
                self.come_to_rest()
                if all(still(g) for g in self.engine.generations()):
                    return
                self.clock.advance(1.0)
            raise AssertionError(f"still moving: {self.engine.generations()}")

        # -- rules: Settings --------------------------------------------------------------------

        @step(save=st.booleans())
        def open_and_close_settings(self, save: bool) -> None:
            self._log(f"open_and_close_settings(save={save!r})")
            action = self.window.findChild(QAction, "settings_action")
            action.trigger()
            qtbot.waitUntil(lambda: self.controller._dialog is not None
                            and self.controller._dialog.isVisible(), timeout=WAIT_MS)
            dialog = self.controller._dialog
            which = (QDialogButtonBox.StandardButton.Save if save
                     else QDialogButtonBox.StandardButton.Cancel)
            qtbot.mouseClick(dialog.buttons.button(which), Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: self.controller._dialog is None, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: self.engine is not None, timeout=WAIT_MS)
            self.settle()

        # -- rules: selection -------------------------------------------------------------------

        @step(pick=PICK)
        def select_one(self, pick: int) -> None:
            row = choose([g.id for g in self.visible_rows()], pick)
            self._log(f"select_one(row={row})")
            if row is None:
                return
            self.click_row(row, Qt.KeyboardModifier.NoModifier)
            assert [g.id for g in self.window.queue.selected_generations()] == [row]

        @step(picks=st.lists(PICK, min_size=2, max_size=4))
        def select_several(self, picks: list[int]) -> None:
            rows = [g.id for g in self.visible_rows()]
            chosen = list(dict.fromkeys(r for p in picks if (r := choose(rows, p)) is not None))
            self._log(f"select_several(rows={chosen})")
            if len(chosen) < 2:
                return
            self.click_row(chosen[0], Qt.KeyboardModifier.NoModifier)
            for row in chosen[1:]:
                self.click_row(row, Qt.KeyboardModifier.ControlModifier)
            selected = {g.id for g in self.window.queue.selected_generations()}
            assert selected == set(chosen)

        @step(keyboard=st.booleans())
        def select_all(self, keyboard: bool) -> None:
            self._log(f"select_all(keyboard={keyboard!r})")
            if not self.window.queue.proxy.rowCount():
                return
            view = self.window.queue.list_view
            if keyboard:
                self.focus(view)
                qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            else:  # click the first row, Shift+click the last
                rows = self.visible_rows()
                self.click_row(rows[0].id, Qt.KeyboardModifier.NoModifier)
                self.click_row(rows[-1].id, Qt.KeyboardModifier.ShiftModifier)
            self.settle()
            assert len(self.window.queue.selected_generations()) == view.model().rowCount()

        # -- rules: the context menu ----------------------------------------------------------

        @step(pick=PICK, name=st.sampled_from(MENU_ACTIONS), yes=st.booleans(),
              meanwhile=MEANWHILE, hesitate=MEANWHILE)
        def act_on_a_row(self, pick: int, name: str, yes: bool, meanwhile: float,
                         hesitate: float) -> None:
            """Right-click any row (selected or not) and pick a menu entry (maybe after time
            passed with the menu open: `hesitate`)."""
            row_id = choose([g.id for g in self.visible_rows()], pick)
            self._log(f"act_on_a_row(row={row_id}, name={name!r}, yes={yes!r})")
            if row_id is not None:
                self.context_menu(row_id, name, yes, meanwhile, hesitate)

        @step(pick=PICK, name=st.sampled_from(MENU_ACTIONS), yes=st.booleans(),
              meanwhile=MEANWHILE, hesitate=MEANWHILE)
        def act_on_the_selection(self, pick: int, name: str, yes: bool,
                                 meanwhile: float, hesitate: float) -> None:
            """Right-click one of the selected rows and pick a menu entry."""
            row_id = choose([g.id for g in self.window.queue.selected_generations()], pick)
            self._log(f"act_on_the_selection(row={row_id}, name={name!r}, yes={yes!r})")
            if row_id is not None:
                self.context_menu(row_id, name, yes, meanwhile, hesitate)

        def context_menu(self, row_id: int, name: str, yes: bool,
                         meanwhile: float = 0.0, hesitate: float = 0.0) -> None:
            queue = self.window.queue
            row = queue.model.generation(row_id)
            index = queue.proxy.mapFromSource(queue.model.index_of(row.id))
            queue.list_view.scrollTo(index)
            point = queue.list_view.visualRect(index).center()
            viewport = queue.list_view.viewport()
            # A right-click on an unselected row selects it; on a selected one keeps the rest.
            qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=point)
            self.settle()
            selected = {g.id for g in queue.selected_generations()}
            QApplication.sendEvent(viewport, QContextMenuEvent(
                QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)))
            menus = visible_menus()
            assert len(menus) == 1
            menu = menus[0]
            action = next(a for a in menu.actions() if a.objectName() == name)
            if not action.isEnabled():
                menu.close()
                self.settle()
                return
            if hesitate:  # the rows move on while the menu is open
                self.clock.advance(hesitate)
                self.come_to_rest()
                row = queue.model.generation(row_id) or row
            targets = {row.id} | (selected if row.id in selected else set())

            def trigger() -> None:
                action.trigger()
                menu.close()

            self.command_and_check(name, row, targets, trigger, yes, meanwhile)

        def command_and_check(self, name: str, primary: Generation, targets: set[int],
                              trigger: Callable[[], None], yes: bool,
                              meanwhile: float = 0.0) -> None:
            """Run a row's command (its menu entry or its keys) on `primary` (and the rest of
            `targets`), answer any question, and check what it did and what it left alone."""
            queue = self.window.queue
            before = self.snapshot()
            before_batch = self.window.removals._batch
            clipboard = QApplication.clipboard()
            clipboard.clear()
            trigger()
            self.sent()
            question = self.answer_box(yes, meanwhile)
            self.removal_done(before_batch)
            self.check_others_kept(before, targets)
            if name in ("remove", "remove_with_file"):
                removed = set(before) - set(self.snapshot())
                assert removed <= targets, f"{name} on {targets} removed {removed}"
                if question is None or yes:
                    assert removed, f"{name} removed nothing"
                else:
                    assert not removed
                self.check_untouched(before, removed)
                if name == "remove_with_file":
                    self.note_trash(before, removed)
            else:
                self.check_untouched(before, set())
            copied = {"copy_prompt": primary.settings.prompt, "copy_seed": str(
                primary.settings.seed), "copy_url": primary.video_url}
            if name in copied:
                assert clipboard.text() == copied[name], f"{name} copied {clipboard.text()!r}"
            if name == "rerun":
                added = set(self.snapshot()) - set(before)
                assert len(added) == 1, "Re-run makes one new row"
                assert {g.id for g in queue.selected_generations()} == added, (
                    "the new row is selected")
            if name == "retry" and (copy := primary.sent_again_as) is not None \
                    and queue.model.generation(copy) is not None:
                # 'Show #N, Sent Again' in Retry's place: the copy, selected and in sight.
                assert [g.id for g in queue.selected_generations()] == [copy], name
                assert copy in {g.id for g in self.visible_rows()}, name
            if name == "run_next":  # the chosen rows still waiting run before the others
                waiting = [g for g in self.snapshot().values() if g.stage is Stage.PENDING]
                chosen = [g.position for g in waiting if g.id in targets]
                others = [g.position for g in waiting if g.id not in targets]
                assert not chosen or not others or max(chosen) < min(others), name
            self.settle()

        @step(key=st.sampled_from(sorted(ROW_KEYS)), yes=st.booleans(), meanwhile=MEANWHILE)
        def press_keys_on_the_selection(self, key: str, yes: bool, meanwhile: float) -> None:
            """A command's keys in the list (Ctrl+Shift+N: Run Next, Ctrl+C: Copy Prompt…):
            what its menu entry does, to the selection; nothing to rows not selected."""
            queue = self.window.queue
            primary = queue.current_generation()
            self._log(f"press_keys_on_the_selection(key={key!r}, row="
                      f"{primary.id if primary else None})")
            if primary is None:
                return
            action = queue.shortcut_actions[key]
            if not action.isEnabled():
                return  # (the status bar says why: test_shortcuts)
            targets = {g.id for g in queue.selected_generations()} | {primary.id}

            def trigger() -> None:
                self.focus(queue.list_view)
                qtbot.keySequence(queue.list_view, QKeySequence(ROW_KEYS[key]))

            self.command_and_check(key, primary, targets, trigger, yes, meanwhile)

        @step(pick=PICK, then=st.sampled_from(["generate", "cancel", "leave it open"]),
              keyboard=st.booleans())
        def extend_a_clip(self, pick: int, then: str, keyboard: bool) -> None:
            """Extend a finished clip from its menu: Generate makes one new row, selected, that
            names the clip as its parent; Cancel (or Esc) puts the compose panel back; or the
            strip stays while the person does other things (Generate there extends)."""
            from runway_desktop.engine.lifecycle_table import Command, allows

            clips = [g.id for g in self.visible_rows() if allows(g, Command.EXTEND)]
            row_id = choose(clips, pick)
            self._log(f"extend_a_clip(row={row_id}, then={then!r}, keyboard={keyboard!r})")
            if row_id is None:
                return
            compose, extend = self.window.compose, self.window.extend_mode
            if not extend.active:  # what Cancel brings back (from the first Extend)
                self.before_extending = (compose.drop_zone.images(),
                                         compose.prompt_edit.toPlainText())
            self.context_menu(row_id, "extend", True)
            assert extend.active
            assert extend.parent_generation.id == row_id
            compose.prompt_edit.setPlainText("and then the tide comes in")
            if then == "generate" and not compose.generate_block_reason():
                self.finish_extending(keyboard)
            elif then != "leave it open":
                self.stop_extending(keyboard)

        def stop_extending(self, keyboard: bool) -> None:
            compose, extend = self.window.compose, self.window.extend_mode
            if keyboard:
                self.focus(compose.prompt_edit)
                qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Escape)
            else:
                qtbot.mouseClick(extend.strip.cancel_button, Qt.MouseButton.LeftButton)
            assert not extend.active
            images, prompt = self.before_extending
            assert compose.drop_zone.images() == images
            assert compose.prompt_edit.toPlainText() == prompt

        def finish_extending(self, keyboard: bool) -> None:
            """Generate while extending: one new row naming the clip, selected."""
            compose, extend = self.window.compose, self.window.extend_mode
            clip = extend.parent_generation.id
            before = self.snapshot()
            if keyboard:
                self.focus(compose.prompt_edit)
                qtbot.keyClick(compose.prompt_edit, Qt.Key.Key_Return,
                               Qt.KeyboardModifier.ControlModifier)
            else:
                qtbot.mouseClick(compose.generate_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: not extend.active or self.window.banner.isVisible(),
                            timeout=WAIT_MS)
            self.settle()
            added = [g for i, g in self.snapshot().items() if i not in before]
            if extend.active:  # refused in words (the banner): nothing was made
                assert not added
                extend.cancel()
                return
            assert [g.parent_id for g in added] == [clip], added
            assert [g.id for g in self.window.queue.selected_generations()] == [added[0].id]
            assert compose.drop_zone.images() == self.before_extending[0]

        @step(shape=st.sampled_from(sorted(shapes)),
              ratio=st.sampled_from(["", "", "1:1", "9:16", "16:9", "4:3"]),
              gestures=st.lists(st.sampled_from(["wheel in", "wheel out", "drag", "+", "-",
                                                 "left", "up", "0", "double-click"]),
                                max_size=4))
        def frame_a_picture(self, shape: str, ratio: str, gestures: list[str]) -> None:
            """Drop a picture of some shape, maybe pick a ratio, pan and zoom the frame with the
            pointer and the keys: the ratio follows the picture until one is picked, and the
            frame keeps the ratio's shape inside the picture."""
            from runway_desktop.engine.framing import ratio_value

            self._log(f"frame_a_picture(shape={shape!r}, ratio={ratio!r}, "
                      f"gestures={gestures!r})")
            compose = self.window.compose
            if self.window.extend_mode.active:
                return  # the drop zone is hidden behind the extend strip
            zone, (size, suggested) = compose.drop_zone, shapes[shape]
            picked_before = bool(compose.state()["ratio_picked"])
            assert drop_files(zone, [framed[shape]])
            qtbot.waitUntil(zone.preview_ready, timeout=WAIT_MS)
            if not picked_before:
                assert compose.aspect_picker.value() == suggested
            if ratio:
                qtbot.mouseClick(compose.aspect_picker.button(ratio), Qt.MouseButton.LeftButton)
            canvas = zone.canvas
            keys = {"+": Qt.Key.Key_Plus, "-": Qt.Key.Key_Minus, "left": Qt.Key.Key_Left,
                    "up": Qt.Key.Key_Up, "0": Qt.Key.Key_0}
            for gesture in gestures:
                centre = canvas.crop_rect().center()
                if gesture in keys:
                    self.focus(zone)
                    qtbot.keyClick(zone, keys[gesture])
                elif gesture.startswith("wheel"):
                    QApplication.sendEvent(canvas, QWheelEvent(
                        centre, canvas.mapToGlobal(centre), QPoint(),
                        QPoint(0, 120 if gesture == "wheel in" else -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False))
                elif gesture == "drag":
                    start = centre.toPoint()
                    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
                    qtbot.mouseMove(canvas, start + QPoint(25, 12))
                    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton,
                                       pos=start + QPoint(25, 12))
                else:
                    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=centre.toPoint())
            assert zone.images() == [str(framed[shape])]  # a drag or a click chose nothing else
            frame = zone.frame()
            assert frame is not None
            shown = (frame.width * size[0]) / (frame.height * size[1])
            assert abs(shown / ratio_value(compose.aspect_picker.value()) - 1) < 0.01
            assert -1e-6 <= frame.left <= 1 - frame.width + 1e-6
            assert -1e-6 <= frame.top <= 1 - frame.height + 1e-6

        def composition(self) -> dict[str, Any]:
            """What the person was composing (the seed aside: an unlocked one is drawn anew)."""
            state = self.window.extend_mode.composition_state()
            return {key: state[key] for key in ("prompt", "images", "aspect_ratio", "frame",
                                                "ratio_picked", "model", "duration")}

        # -- rules: keyboard removal, undo, clear -------------------------------------------

        @step(with_file=st.booleans(), yes=st.booleans(), meanwhile=MEANWHILE)
        def delete_key(self, with_file: bool, yes: bool, meanwhile: float) -> None:
            self._log(f"delete_key(with_file={with_file!r}, yes={yes!r})")
            if not self.window.queue.selected_generations():
                return
            queue = self.window.queue
            chosen = {g.id for g in queue.selected_generations()}
            before = self.snapshot()
            before_batch = self.window.removals._batch
            self.focus(queue.list_view)
            modifier = (Qt.KeyboardModifier.ShiftModifier if with_file
                        else Qt.KeyboardModifier.NoModifier)
            qtbot.keyClick(queue.list_view, Qt.Key.Key_Delete, modifier)
            self.settle()
            self.answer_box(yes, meanwhile)
            self.removal_done(before_batch)
            self.check_others_kept(before, chosen)
            removed = set(before) - set(self.snapshot())
            assert removed <= chosen, f"Delete on {chosen} removed {removed}"
            self.check_untouched(before, removed)
            if with_file:
                self.note_trash(before, removed)

        @step(button=st.booleans())
        def undo(self, button: bool) -> None:
            self._log(f"undo(button={button!r})")
            if not self.window.undo_action.isEnabled():
                return
            hidden = self.window.removals._batch
            ids = set(hidden.rows) if hidden else set()
            if button:
                qtbot.mouseClick(self.window.notice.undo_button, Qt.MouseButton.LeftButton)
            else:
                self.window.undo_action.trigger()
            self.settle()
            shown = set(self.snapshot())
            assert ids <= shown, f"Undo did not bring back {ids - shown}"
            for generation_id, path in self.undoable_trash.items():
                assert Path(path).exists(), f"Undo did not bring back {path}"
                del self.trashed[generation_id]
            self.undoable_trash.clear()

        @step(close_button=st.booleans())
        def notice_goes(self, close_button: bool) -> None:
            """The notice times out (or is closed with ×): the removal is final."""
            self._log(f"notice_goes(close_button={close_button!r})")
            notice = self.window.notice
            if not notice.isVisible():
                return
            if close_button:
                close = next(b for b in notice.findChildren(QToolButton) if b.text() == "×")
                qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
            else:
                notice.dismiss()
            assert not notice.isVisible()
            self.undoable_trash.clear()
            self.settle()

        @step(pick=PICK)
        def press_a_rows_fix(self, pick: int) -> None:
            """The button drawn on a row that needs the person (Retry, Top up, Run again…)."""
            rows = [g.id for g in self.window.queue.model.generations()
                    if g.action is not None and g.stage is Stage.ATTENTION]
            row_id = choose(rows, pick)
            self._log(f"press_a_rows_fix(row={row_id})")
            if row_id is None:
                return
            if row_id not in {g.id for g in self.visible_rows()}:  # in sight first
                self.filter("All")
                self.search("")
            generation = self.window.queue.model.generation(row_id)
            before = self.snapshot()
            self.window.queue.action_requested.emit(row_id, generation.action)
            self.settle()
            self.close_what_opened()
            self.check_others_kept(before, {row_id})
            self.check_untouched(before, set())

        @step(come_back=st.booleans())
        def top_up_in_the_browser(self, come_back: bool) -> None:
            """Credits bought on apiframe's site; then back to the window (or not yet)."""
            self._log(f"top_up_in_the_browser(come_back={come_back!r})")
            self.simulator.set_credits("afk_test", 100_000)
            if come_back:
                other = QWidget()
                other.show()
                other.activateWindow()
                qtbot.waitUntil(other.isActiveWindow, timeout=WAIT_MS)
                other.close()
                other.deleteLater()
                self.window.activateWindow()
                qtbot.waitUntil(self.window.isActiveWindow, timeout=WAIT_MS)
            self.settle()

        @step()
        def press_the_banners_button(self) -> None:
            banner = self.window.banner
            self._log("press_the_banners_button")
            if not (banner.isVisible() and banner.button.isVisible()):
                return
            before = self.snapshot()
            qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
            self.settle()
            self.close_what_opened()
            self.check_untouched(before, set())

        def close_what_opened(self) -> None:
            """Settings or a message the fix opened: closed again, as a person would."""
            if self.controller._dialog is not None:
                self.controller._dialog.reject()
                qtbot.waitUntil(lambda: self.controller._dialog is None, timeout=WAIT_MS)
            box = visible_box(self.window)
            if box is not None:
                box.reject()
            self.settle()

        @step(yes=st.booleans(), meanwhile=MEANWHILE)
        def clear_finished(self, yes: bool, meanwhile: float) -> None:
            self._log(f"clear_finished(yes={yes!r})")
            if not self.window.queue.clear_finished_button.isEnabled():
                return
            from runway_desktop.ui.removals import clearable

            before = self.snapshot()
            clearable_ids = {i for i, g in before.items() if clearable(g)}
            shown = {g.id for g in self.visible_rows()}
            before_batch = self.window.removals._batch
            qtbot.mouseClick(self.window.queue.clear_finished_button, Qt.MouseButton.LeftButton)
            self.settle()
            self.answer_box(yes, meanwhile)
            self.removal_done(before_batch)
            removed = set(before) - set(self.snapshot())
            assert removed <= clearable_ids, f"Clear finished removed {removed - clearable_ids}"
            assert removed <= shown, f"Clear finished removed hidden rows {removed - shown}"
            self.check_untouched(before, removed)

        @step(yes=st.booleans(), meanwhile=MEANWHILE)
        def cancel_pending(self, yes: bool, meanwhile: float) -> None:
            self._log(f"cancel_pending(yes={yes!r})")
            if not self.window.queue.cancel_pending_button.isEnabled():
                return
            before = self.snapshot()
            waiting = {i for i, g in before.items() if g.stage is Stage.PENDING}
            shown = {g.id for g in self.visible_rows()}
            qtbot.mouseClick(self.window.queue.cancel_pending_button, Qt.MouseButton.LeftButton)
            self.settle()
            self.answer_box(yes, meanwhile)
            after = self.snapshot()
            for generation_id, generation in after.items():
                if generation.stage is Stage.CANCELLED and generation_id in before:
                    assert generation_id in waiting & shown or before[generation_id].stage is (
                        Stage.CANCELLED), f"Cancel pending cancelled row {generation_id}"
            self.check_untouched(before, set())

        # -- rules: the gallery ---------------------------------------------------------------

        @step(picks=st.lists(PICK, min_size=1, max_size=2),
              key=st.sampled_from(["favourite", "remove", "remove_with_file", "compare",
                                   "export"]),
              yes=st.booleans(), meanwhile=MEANWHILE)
        def visit_the_gallery(self, picks: list[int], key: str, yes: bool,
                              meanwhile: float) -> None:
            """Ctrl+2, click a result (Ctrl+click a second), maybe watch a while (rows in the
            hidden queue move on: the pick stays, and stays in the preview), press a key there:
            F, Del, Shift+Del (answering a question if one comes), C (the comparison is left
            open or closed with Esc) or Ctrl+Shift+S (the Export dialog likewise); then
            Ctrl+1."""
            from runway_desktop.ui.queue_filter import matches_search

            window = self.window
            gallery = window.gallery
            grid = gallery.list_view
            self.focus(window.queue.list_view)
            qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
            qtbot.waitUntil(grid.isVisible, timeout=WAIT_MS)
            self.settle()
            needle = window.queue.search_edit.text().strip().casefold()

            def grid_follows_the_list() -> None:
                """The grid: the listed finished videos that match the search (the queue's
                too)."""
                expected = {g.id for g in window.queue.model.generations() if g.stage is
                            Stage.DONE and g.video_path and matches_search(g, needle)}
                qtbot.waitUntil(lambda: set(gallery.model.result_ids()) == expected,
                                timeout=WAIT_MS)

            grid_follows_the_list()
            ids = gallery.model.result_ids()
            chosen = list(dict.fromkeys(r for p in picks if (r := choose(ids, p)) is not None))
            self._log(f"visit_the_gallery(results={chosen}, key={key!r}, yes={yes!r})")
            for n, generation_id in enumerate(chosen):
                row = gallery.model.row_of(generation_id)
                assert row is not None
                index = gallery.model.index(row)
                grid.scrollTo(index)
                qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                                 Qt.KeyboardModifier.ControlModifier if n
                                 else Qt.KeyboardModifier.NoModifier,
                                 grid.visualRect(index).center())
                self.settle()
            selected = {g.id for g in gallery.selected_generations()}
            assert selected == set(chosen)
            if meanwhile:
                self.clock.advance(meanwhile)
                self.come_to_rest()
                grid_follows_the_list()
                assert {g.id for g in gallery.selected_generations()} == selected, (
                    "the gallery's pick changed while rows moved on in the queue")
                current = gallery.current_generation()
                if current is not None and current.video_path:
                    assert window.preview.video_path() == current.video_path, (
                        "the preview left the gallery's pick")
            if chosen:
                self.act_in_the_gallery(key, selected, yes)
            self.focus(grid)
            qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
            assert window.queue.list_view.isVisible()
            self.settle()

        def act_in_the_gallery(self, key: str, selected: set[int], yes: bool) -> None:
            window = self.window
            grid = window.gallery.list_view
            before = self.snapshot()
            before_batch = window.removals._batch
            self.focus(grid)
            if key == "favourite":
                qtbot.keyClick(grid, Qt.Key.Key_F)
                self.settle()
                after = self.snapshot()
                assert len({after[i].favourite for i in selected if i in after}) <= 1
                self.check_others_kept(before, selected)
            elif key in ("remove", "remove_with_file"):
                with_file = key == "remove_with_file"
                qtbot.keyClick(grid, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier
                               if with_file else Qt.KeyboardModifier.NoModifier)
                self.settle()
                self.answer_box(yes)
                self.removal_done(before_batch)
                removed = set(before) - set(self.snapshot())
                assert removed <= selected, f"Delete in the gallery on {selected} removed {removed}"
                self.check_untouched(before, removed)
                if with_file:
                    self.note_trash(before, removed)
            elif key == "compare":
                window.statusBar().clearMessage()
                qtbot.keyClick(grid, Qt.Key.Key_C)
                opened = window.compare.last_opened
                if len(selected) == 2:
                    assert opened is not None
                    assert {p.generation.id for p in opened.panes} == selected
                    # Esc is the comparison window's key: pressed once it is the active one.
                    qtbot.waitUntil(opened.isActiveWindow, timeout=WAIT_MS)
                    if yes:
                        qtbot.keyClick(opened, Qt.Key.Key_Escape)
                        qtbot.waitUntil(lambda: window.compare.last_opened is None,
                                        timeout=WAIT_MS)
                else:
                    assert "press C" in window.statusBar().currentMessage()
            else:
                qtbot.keyClick(grid, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier
                               | Qt.KeyboardModifier.ShiftModifier)
                dialog = window.clip_actions.last_export
                assert dialog is not None
                assert dialog.isVisible()
                if yes:
                    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
                    qtbot.waitUntil(lambda: window.clip_actions.last_export is None,
                                    timeout=WAIT_MS)
            self.settle()

        # -- rules: filter, search ------------------------------------------------------------

        @step(which=st.sampled_from(["All", "Active", "Done", "Failed", "Favourites"]))
        def filter(self, which: str) -> None:
            self._log(f"filter(which={which!r})")
            from runway_desktop.ui.queue_filter import StatusFilter

            status = {"All": StatusFilter.ALL, "Active": StatusFilter.ACTIVE,
                      "Done": StatusFilter.DONE, "Failed": StatusFilter.FAILED,
                      "Favourites": StatusFilter.FAVOURITES}[which]
            qtbot.mouseClick(self.window.queue.filter_buttons[status], Qt.MouseButton.LeftButton)
            self.settle()

        @step(text=st.sampled_from(["", "kite", "boat", "nothing like this", "tram"]))
        def search(self, text: str) -> None:
            self._log(f"search(text={text!r})")
            edit = self.window.queue.search_edit
            edit.clear()
            if text:
                qtbot.keyClicks(edit, text)
            self.settle()

        # -- rules: import, restart -----------------------------------------------------------

        @step(twice=st.booleans())
        def import_jobs(self, twice: bool) -> None:
            """File ▸ Import jobs from apiframe (twice: nothing new the second time)."""
            self._log(f"import_jobs(twice={twice!r})")
            for _ in range(2 if twice else 1):
                self.import_once()

        def import_once(self) -> None:
            status = self.window.statusBar()
            status.clearMessage()
            action = next(a for a in self.window.findChildren(QAction)
                          if a.text() == "&Import jobs from apiframe")
            action.trigger()
            qtbot.waitUntil(lambda: "Imported" in status.currentMessage()
                            or self.window.banner.isVisible(), timeout=WAIT_MS)
            self.settle()

        @step(notice_first=st.booleans(), mid_download=st.booleans())
        def restart(self, notice_first: bool, mid_download: bool) -> None:
            """Quit and start again on the same data (an undo still offered ends with it);
            maybe while finished videos come down (slowly): after the start they come down,
            each to one file, none left half-written."""
            self._log(f"restart(notice_first={notice_first!r}, mid_download={mid_download!r})")
            if notice_first:
                self.window.notice.dismiss()
            downloading: set[int] = set()
            engine = self.engine
            if mid_download and any(g.stage in ON_SERVER for g in engine.generations()):
                self.simulator.faults.cdn_slow_bytes_per_second = 20_000
                on_server = {g.id for g in engine.generations() if g.stage in ON_SERVER}
                self.clock.advance(10.0)  # every job on apiframe is finished

                def coming_down() -> bool:
                    # Those jobs only: a row waiting here takes a freed place on apiframe and
                    # stays queued there (its time stands still), the wait never over.
                    stages = {g.id: g.stage for g in engine.generations()}
                    return Stage.DOWNLOADING in stages.values() or not any(
                        stages.get(i) in ON_SERVER for i in on_server)

                qtbot.waitUntil(coming_down, timeout=WAIT_MS)
                downloading = {g.id for g in engine.generations()
                               if g.stage is Stage.DOWNLOADING}
            self.undoable_trash.clear()
            shown = {g.id for g in self.engine.generations()
                     if not self.window.removals.is_hidden(g.id)}
            self.unexpected += self.controller.unexpected
            composing = self.composition()
            close_controller(qtbot, self.controller)
            self.simulator.faults.cdn_slow_bytes_per_second = None
            if downloading:
                self._log(f"  closed while {sorted(downloading)} came down: "
                          f"{sorted(p.name for p in self.output_dir.glob('*.part'))}")
            self.controller = build_controller(qapp, qtbot, self.data_dir)
            self.settle()
            after = {g.id for g in self.engine.generations()}
            assert shown == after, f"after a restart: {shown ^ after} differ"
            assert self.composition() == composing  # prompt, picture, frame, ratio: as left
            if downloading:
                self.come_to_rest()
                stages = {i: self.engine.get(i).stage for i in downloading}
                assert set(stages.values()) == {Stage.DONE}, f"after a restart: {stages}"
                videos = [Path(self.engine.get(i).video_path).name for i in downloading]
                assert not any(" (1)" in name for name in videos), videos  # no second copy

        # -- invariants -----------------------------------------------------------------------

        def nothing_unexpected(self) -> None:
            calls = self.unexpected + self.controller.unexpected
            assert not calls, calls
            banner = self.window.banner
            assert not (banner.isVisible() and "unexpected" in banner.message.text()), (
                banner.message.text())

        def list_follows_the_engine(self) -> None:
            engine = self.engine
            if engine is None:
                return
            removals = self.window.removals
            expected = {g.id: g.stage for g in engine.generations()
                        if not removals.is_hidden(g.id)}
            shown = {g.id: g.stage for g in self.window.queue.model.generations()}
            assert shown == expected

        def preview_shows_the_selection(self) -> None:
            """The preview holds the selected row's video, with no error for one that plays."""
            current = self.window.queue.current_generation()
            preview = self.window.preview
            if current is None:
                return
            video = current.video_path if current.stage is Stage.DONE else None
            if video and Path(video).is_file():
                assert preview.video_path() == video
                assert preview.error_text() == "", preview.error_text()

        def no_window_shows_what_left_the_list(self) -> None:
            """A comparison, an Export dialog not writing, or the extend strip shows only
            listed results."""
            model = self.window.queue.model
            clip = self.window.extend_mode.parent_generation
            assert clip is None or model.generation(clip.id) is not None, (
                f"extending #{clip.id}, which left the list")
            for view in self.window.compare.open_views():
                for pane in view.panes:
                    assert model.generation(pane.generation.id) is not None, (
                        f"a comparison still shows row {pane.generation.id}")
            listed = {g.video_path for g in model.generations()}
            dialog = self.window.clip_actions.last_export
            if dialog is not None and shiboken6.isValid(dialog) and not dialog.busy():
                assert str(dialog.video) in listed, f"an Export dialog still shows {dialog.video}"

        def no_row_is_a_dead_end(self) -> None:
            """Every listed row can be removed, cancelled or stopped; a failed one or one that
            needs the person says what happened, and the latter offers its fix."""
            from runway_desktop.engine.lifecycle_table import Command, allowed_commands

            ways_out = {Command.REMOVE, Command.CANCEL, Command.STOP_FOLLOWING}
            for generation in self.window.queue.model.generations():
                shown = f"row {generation.id} ({generation.stage})"
                assert allowed_commands(generation) & ways_out, f"{shown}: no way out"
                if generation.stage in (Stage.FAILED, Stage.ATTENTION):
                    assert generation.error, f"{shown} says nothing"
                if generation.stage is Stage.ATTENTION:
                    assert generation.action is not None, f"{shown} offers no fix"

        def no_half_written_video(self) -> None:
            """At rest nothing is coming down: no `.part` file is left in the videos folder."""
            parts = sorted(p.name for p in self.output_dir.glob("*.part"))
            assert not parts, f"half-written videos left: {parts}"

        def journal_and_disk_agree(self) -> None:
            engine = self.engine
            if engine is None:
                return
            for generation in engine.generations():
                if generation.stage is Stage.DONE and generation.video_path:
                    path = generation.video_path
                    if generation.id in self.trashed:
                        # In the journal only while its removal can be undone, and not listed.
                        assert self.window.removals.is_hidden(generation.id), (
                            f"row {generation.id} is listed but its video is in the trash")
                        continue
                    assert Path(path).exists(), f"row {generation.id}: {path} is missing"
                    self.videos.add(path)
            for path in self.videos - set(self.trashed.values()):
                assert Path(path).exists(), f"{path} was deleted but never chosen"

        def teardown(self) -> None:
            try:
                for menu in visible_menus():
                    menu.close()
                box = visible_box(self.window)
                if box is not None:
                    box.reject()
                if self.controller._dialog is not None:
                    self.controller._dialog.reject()
                self.settle()
                close_controller(qtbot, self.controller)
            finally:
                self.simulator.stop()

    Person.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        print_blob=False,
        verbosity=Verbosity.verbose if os.environ.get("RUNWAY_PERSON_VERBOSE")
        else Verbosity.normal,
        phases=tuple(Phase) if SHRINK else (Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    try:
        if REPLAY:
            exec(Path(REPLAY).read_text(), {"Person": Person})  # the printed steps, as they are
        else:
            run_state_machine_as_test(Person, settings=Person.TestCase.settings)
    except Flaky as flaky:
        # Hypothesis ran the failing steps again and they went differently: say what failed
        # the first time, and how to run those steps again.
        if not first_failure:
            raise
        trace, steps = first_failure
        replay = tmp_path / "failed-walk.py"
        replay.write_text(steps + "\n")
        raise AssertionError(f"The walk failed (its replay by hypothesis went otherwise):\n"
                             f"{trace}\nThe steps (RUNWAY_PERSON_REPLAY={replay}):\n"
                             f"{steps}") from flaky
    finally:
        QDesktopServices.unsetUrlHandler("file")
        QDesktopServices.unsetUrlHandler("https")
