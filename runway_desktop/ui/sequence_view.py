"""The sequence view: a sequence's shots in order with their takes, and what a person does with
them — reorder shots (drag, or Ctrl+Up / Ctrl+Down), swap a shot's take, extend from the end,
plan N shots ahead, run it (the cost and the balance after shown first; Stop makes no further
shot) and export the film. Above them the picker, Rename and Delete (ui/sequence_bar.py).

A window of its own over the engine's typed `SequenceService` (engine/sequences.py): it reads
sequences and listens to their events (SequenceChanged) and to the takes' own progress (the
generations' events); it never reads the journal. Every command that waits (a run, extending,
the film) runs on the app's loop; the window stays responsive and says in words what failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from runway_desktop.engine.events import (
    AccountUpdated,
    EngineEvent,
    GenerationRemoved,
    GenerationUpdated,
)
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.sequence_records import CostPreview, RunState, Sequence, Shot
from runway_desktop.engine.spoken_for import SpokenFor
from runway_desktop.ui.film_export import FilmExportBar
from runway_desktop.ui.queue_text import stage_text
from runway_desktop.ui.screen_room import resize_to_fit
from runway_desktop.ui.sequence_bar import SequenceBar
from runway_desktop.ui.sequence_keys import SHOT_DOWN, SHOT_UP
from runway_desktop.ui.shot_list import ID_ROLE, THUMB, ShotList, thumb_icon

if TYPE_CHECKING:
    from runway_desktop.engine.sequences import SequenceEvent, SequenceService
    from runway_desktop.engine.settings_changes import SettingsChanges

log = logging.getLogger(__name__)

# Why paid work saving into a folder (None: the output folder) can't be sent now, or None.
FolderProblem = Callable[[str | None], Awaitable[str | None]]
class SequenceView(QWidget):
    """One window for the sequences of a queue."""

    play_requested = Signal(int)  # a shot's chosen take, to watch in the main preview

    def __init__(self, sequences: SequenceService, first_shot: Callable[[], SettingsChanges],
                 parent: QWidget | None = None) -> None:
        """`first_shot()`: the settings a new sequence's first shot is made with (the compose
        panel's model, ratio, duration and start image)."""
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("sequence_view")
        self.setWindowTitle(self.tr("Sequences"))
        self.setAccessibleName(self.tr("Sequences"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.sequences = sequences
        self._first_shot = first_shot
        # Asked before a run or an extension sends paid work (the window's folder check).
        self.folder_problem: FolderProblem | None = None
        self.sequence: Sequence | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._run_task: asyncio.Task[Any] | None = None
        self._icons: dict[tuple[str, float], QIcon] = {}  # (thumbnail, the screen's ratio)
        self._was_running = False  # the status line said "Running": say how it ended
        self._outdated: dict[int, int] = {}  # shot index → the shot whose take changed
        # Generations waiting here, not charged yet: "… left" counts them, as Generate's does.
        self._spoken = SpokenFor()
        self._spoken.reset(sequences.generations.generations())
        self._unsubscribe = [sequences.subscribe(self._on_sequence_event),
                             sequences.generations.subscribe(self._on_engine_event)]
        self._build()
        self._fill_sequence_box()
        resize_to_fit(self, QSize(980, 640))

    # -- construction ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.sequence_box = QComboBox(self)
        self.sequence_box.setAccessibleName(self.tr("Sequence"))
        self.sequence_box.currentIndexChanged.connect(self._on_sequence_picked)
        self.bar = SequenceBar(self.sequence_box, self.sequences, lambda: self.sequence,
                               self._say, self.show_sequence, self)
        self.shot_list = ShotList(self)
        self.shot_list.moved.connect(self.move_shot)
        self.shot_list.currentRowChanged.connect(lambda _row: self._on_shot_picked())
        self.shot_list.itemActivated.connect(lambda _item: self.play_current_shot())
        self.shot_list.setToolTip(self.tr("Double-click or Enter: watch the shot in the "
                                          "preview; drag or Ctrl+Up/Down: reorder"))
        for key, delta in ((SHOT_UP, -1), (SHOT_DOWN, 1)):
            shortcut = QShortcut(QKeySequence(key.key), self.shot_list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.setWhatsThis(self.tr(key.text))  # as Help ▸ Keyboard Shortcuts lists it
            shortcut.activated.connect(lambda d=delta: self.move_current_shot(d))
        self.take_list = QListWidget(self)
        self.take_list.setObjectName("take_list")
        self.take_list.setAccessibleName(self.tr("Takes of the shot"))
        self.take_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.take_list.setIconSize(THUMB)
        self.take_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.take_list.setMovement(QListWidget.Movement.Static)
        self.take_list.setWordWrap(True)
        self.take_list.itemActivated.connect(lambda _item: self.choose_selected_take())
        self.choose_button = QPushButton(self.tr("&Use This Take"), self)
        self.choose_button.setToolTip(self.tr("Make the selected take this shot's (Enter)"))
        self.choose_button.clicked.connect(self.choose_selected_take)
        self.take_button = QPushButton(self.tr("New &Take"), self)
        self.take_button.setToolTip(self.tr("Make the selected shot again with a new seed "
                                            "(paid); it becomes the shot's take"))
        self.take_button.clicked.connect(self.new_take)

        self.next_prompt = QLineEdit(self)
        self.next_prompt.setPlaceholderText(self.tr("What happens next?"))
        self.next_prompt.setAccessibleName(self.tr("Prompt of the next shot"))
        self.next_prompt.returnPressed.connect(self.extend_from_end)
        self.extend_button = QPushButton(self.tr("&Extend from End"), self)
        self.extend_button.setToolTip(self.tr("Make a new last shot now, from the last shot's "
                                              "last frame (paid)"))
        self.extend_button.clicked.connect(self.extend_from_end)
        self.plan_edit = QPlainTextEdit(self)
        self.plan_edit.setPlaceholderText(self.tr("Plan shots ahead: one prompt per line"))
        self.plan_edit.setAccessibleName(self.tr("Prompts of planned shots"))
        self.plan_edit.setMaximumHeight(90)
        self.plan_button = QPushButton(self.tr("&Plan Shots"), self)
        self.plan_button.setToolTip(self.tr("Add these shots at the end; Run makes them"))
        self.plan_button.clicked.connect(self.plan_from_text)
        self.new_button = QPushButton(self.tr("&New Sequence"), self)
        self.new_button.setToolTip(self.tr(
            "A new sequence of these shots; the first is made with the compose panel's start "
            "image and settings, each next one from the last frame of the one before"))
        self.new_button.clicked.connect(self.new_from_text)

        # Shots made from an older take of the shot before (a new take there): said, and
        # offered to redo (paid, its price beside it), never redone by itself.
        self.redo_label = QLabel(self)
        self.redo_label.setObjectName("redo_label")
        self.redo_label.setWordWrap(True)
        self.redo_label.setTextFormat(Qt.TextFormat.PlainText)
        self.redo_label.setAccessibleDescription(self.tr("Shots made from an older take"))
        self.redo_button = QPushButton(self.tr("Redo &Later Shots"), self)
        self.redo_button.setToolTip(self.tr("Make these shots again from the chosen take "
                                            "before each (paid), one after another"))
        self.redo_button.clicked.connect(self.redo_outdated)
        self.cost_label = QLabel(self)
        self.cost_label.setAccessibleDescription(self.tr("Cost of the run"))  # read: its words
        self.cost_label.setWordWrap(True)
        self.run_button = QPushButton(self.tr("&Run"), self)
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton(self.tr("&Stop"), self)
        self.stop_button.setToolTip(self.tr("Make no further shot; a shot under way finishes"))
        self.stop_button.clicked.connect(self.stop)
        self.run_progress = QProgressBar(self)
        self.run_progress.setAccessibleName(self.tr("Shots finished"))
        self.run_progress.setFormat(self.tr("%v of %m shots"))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setAccessibleDescription(self.tr("Sequence status"))
        self.film = FilmExportBar(self.film_clips, self.why_no_film, self._suggested_film, self,
                                  sidecar=lambda: self.sequences.writes_sidecars)

        takes = QWidget(self)
        takes_layout = QVBoxLayout(takes)
        takes_layout.setContentsMargins(0, 0, 0, 0)
        takes_layout.addWidget(QLabel(self.tr("Takes of the selected shot"), takes))
        takes_layout.addWidget(self.take_list, 1)
        take_buttons = QHBoxLayout()
        take_buttons.addStretch(1)
        take_buttons.addWidget(self.take_button)
        take_buttons.addWidget(self.choose_button)
        takes_layout.addLayout(take_buttons)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.shot_list)
        split.addWidget(takes)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        extend_row = QHBoxLayout()
        extend_row.addWidget(self.next_prompt, 1)
        extend_row.addWidget(self.extend_button)
        plan_row = QHBoxLayout()
        plan_row.addWidget(self.plan_edit, 1)
        plan_buttons = QVBoxLayout()
        plan_buttons.addWidget(self.plan_button)
        plan_buttons.addWidget(self.new_button)
        plan_buttons.addStretch(1)
        plan_row.addLayout(plan_buttons)
        redo_row = QHBoxLayout()
        redo_row.addWidget(self.redo_label, 1)
        redo_row.addWidget(self.redo_button)
        run_row = QHBoxLayout()
        run_row.addWidget(self.cost_label, 1)
        run_row.addWidget(self.run_progress)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(split, 1)
        layout.addLayout(extend_row)
        layout.addLayout(plan_row)
        layout.addLayout(redo_row)
        layout.addLayout(run_row)
        layout.addWidget(self.status)
        layout.addWidget(self.film)

    # -- public API -----------------------------------------------------------------------------

    def show_sequence(self, sequence_id: int) -> None:
        index = self.sequence_box.findData(sequence_id)
        if index < 0:
            self._fill_sequence_box()
            index = self.sequence_box.findData(sequence_id)
        self.sequence_box.setCurrentIndex(index)
        self._load(sequence_id)

    def busy(self) -> bool:
        return bool(self._tasks)

    def running(self) -> bool:
        return self._run_task is not None and not self._run_task.done()

    def move_shot(self, shot_id: int, before_shot_id: int | None) -> None:
        """Put a shot just before another (None: last); it stays the selected one."""
        self._call(lambda s: s.move_shot(shot_id, before_shot_id))
        if shot_id in (ids := self.shot_list.shot_ids()):
            self.shot_list.setCurrentRow(ids.index(shot_id))

    def move_current_shot(self, delta: int) -> None:
        ids = self.shot_list.shot_ids()
        row = self.shot_list.currentRow()
        target = row + delta
        if row < 0 or not 0 <= target < len(ids):
            return
        shot_id = ids[row]
        # Down by one: before the shot two below (or last); up: before the one above.
        before = ids[target] if delta < 0 else (ids[target + 1] if target + 1 < len(ids)
                                                else None)
        self.move_shot(shot_id, before)

    def play_current_shot(self) -> None:
        """Watch the selected shot's chosen take in the main window's preview."""
        shot = self.current_shot()
        take = self.sequences.chosen(shot) if shot is not None else None
        if take is not None and take.stage is Stage.DONE:
            self.play_requested.emit(take.id)

    def choose_selected_take(self) -> None:
        shot = self.current_shot()
        item = self.take_list.currentItem()
        if shot is None or item is None:
            return
        generation_id = int(item.data(ID_ROLE))
        self._call(lambda s: s.choose_take(shot.id, generation_id))

    def new_take(self) -> None:
        """Another take of the selected shot (a new seed, paid); it becomes the chosen one."""
        shot = self.current_shot()
        if shot is None:
            return
        self._say(self.tr("Making a new take of shot {0}…").format(self.shot_list.currentRow()
                                                                  + 1))
        self._spawn(self._await_paid(shot.sequence_id, lambda: self.sequences.add_take(shot.id),
                                     self.tr("The new take is on its way.")))

    def current_shot(self) -> Shot | None:
        row = self.shot_list.currentRow()
        if self.sequence is None or not 0 <= row < len(self.sequence.shots):
            return None
        return self.sequence.shots[row]

    def planned_prompts(self) -> list[str]:
        return [line.strip() for line in self.plan_edit.toPlainText().splitlines()
                if line.strip()]

    def new_from_text(self) -> None:
        """A new sequence with a shot per line of the plan box (none made yet: Run makes
        them); the first shot takes the compose panel's start image and settings."""
        from runway_desktop.engine.sequence_plan import Plan, PlannedShot
        from runway_desktop.engine.settings_changes import SettingsChanges

        prompts = self.planned_prompts()
        if not prompts:
            self._say(self.tr("Write one prompt per line for the shots of the new sequence."))
            return
        words = prompts[0].split()
        name = " ".join(words[:6]) + ("…" if len(words) > 6 else "")
        first = self._first_shot()
        shots = tuple(PlannedShot(prompt, first if index == 0 else SettingsChanges())
                      for index, prompt in enumerate(prompts))
        created = self._call(lambda s: s.create_from_plan(Plan(name, shots)))
        if created is not None:
            self.plan_edit.clear()
            self.show_sequence(created.id)
            self._say(self.tr("A new sequence of {0} shot(s). Check the cost, then Run.")
                      .format(len(prompts)))

    def plan_from_text(self) -> None:
        """Each non-empty line of the plan box becomes a shot at the end (not made yet)."""
        prompts = self.planned_prompts()
        if self.sequence is None or not prompts:
            self._say(self.tr("Write one prompt per line for the shots to plan."))
            return
        sequence_id = self.sequence.id
        if self._call(lambda s: s.plan_shots(sequence_id, prompts)) is not None:
            self.plan_edit.clear()
            self._say(self.tr("Planned {0} shot(s). Check the cost, then Run.").format(
                len(prompts)))

    def extend_from_end(self) -> None:
        prompt = self.next_prompt.text().strip()
        if self.sequence is None or not prompt:
            self._say(self.tr("Write what happens next first."))
            return
        sequence_id = self.sequence.id
        self.next_prompt.clear()
        self._say(self.tr("Taking the last frame of the last shot…"))
        self._spawn(self._extend(sequence_id, prompt))

    async def _extend(self, sequence_id: int, prompt: str) -> None:
        if (problem := await self._folder_problem_of(sequence_id)) is not None:
            if not self.next_prompt.text().strip():  # refused: the prompt isn't lost
                self.next_prompt.setText(prompt)
            self._say(problem)
            return
        try:
            await self.sequences.extend_from_end(sequence_id, prompt)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not self.next_prompt.text().strip():  # refused: the prompt isn't lost
                self.next_prompt.setText(prompt)
            self._say(_words(error))
            return
        self._say(self.tr("The new shot is on its way."))

    def run(self) -> None:
        """Make every shot that has no take yet, one after another."""
        if self.sequence is None or self.running():
            return
        sequence_id = self.sequence.id
        self._say(self.tr("Running…"))
        self._run_task = self._spawn(self._await_run(sequence_id))
        self._refresh_controls()

    def redo_outdated(self) -> None:
        """Make the shots made from an older take again (the person asked: the price is shown
        beside the button), one after another from the chosen take before each."""
        if self.sequence is None or not self._outdated:
            return
        sequence_id = self.sequence.id
        if self._run_task is not None and not self._run_task.done():
            return
        self._say(self.tr("Redoing {0}…").format(self._shot_numbers(self._outdated)))
        self._run_task = self._spawn(self._await_run(sequence_id, redo_outdated=True))
        self._refresh_controls()

    def stop(self) -> None:
        """Stop the run this window started (or resumed): no further shot is made."""
        if self.sequence is None or not self.sequences.is_running_here(self.sequence.id):
            return
        self._spawn(self._stop(self.sequence.id))

    # -- film -----------------------------------------------------------------------------------

    def film_clips(self) -> list[Path]:
        if self.why_no_film():
            return []
        assert self.sequence is not None
        takes = [self.sequences.chosen(shot) for shot in self.sequence.shots]
        return [Path(t.video_path) for t in takes if t is not None and t.video_path]

    def why_no_film(self) -> str:
        """Why the film can't be exported now ("" when it can)."""
        if self.sequence is None:
            return self.tr("There is no sequence yet.")
        if not self.sequence.shots:
            return self.tr("The sequence has no shots yet.")
        for number, shot in enumerate(self.sequence.shots, 1):
            take = self.sequences.chosen(shot)
            if take is None or take.stage is not Stage.DONE or not take.video_path:
                return self.tr("Shot {0} isn't finished yet: run the sequence first.").format(
                    number)
            if not Path(take.video_path).is_file():
                return self.tr("The video of shot {0} (#{1}) isn't on disk any more (moved or "
                               "deleted?). Right-click #{1} in the history: Download Again, "
                               "then export the film.").format(number, take.id)
        return ""

    def _suggested_film(self) -> Path:
        clips = self.film_clips()
        folder = clips[0].parent if clips else Path.home()
        from runway_desktop.engine.downloads import safe_stem  # httpx: not before it is used

        # The app ships on Windows too: a name it can't hold (“Dawn: take 2?”) isn't offered.
        return folder / f"{safe_stem(self.sequence.name if self.sequence else '', 'film')}.mp4"

    # -- reading the service --------------------------------------------------------------------

    def _fill_sequence_box(self) -> None:
        current = self.sequence_box.currentData()
        self.sequence_box.blockSignals(True)
        try:
            self.sequence_box.clear()
            for sequence in self._read(self.sequences.sequences, []):
                self.sequence_box.addItem(self._picker_text(sequence), sequence.id)
            index = self.sequence_box.findData(current)
            self.sequence_box.setCurrentIndex(index if index >= 0 else
                                              self.sequence_box.count() - 1)
        finally:
            self.sequence_box.blockSignals(False)
        if self.sequence_box.currentData() is not None:
            self._load(int(self.sequence_box.currentData()))
        else:
            self._show(None)

    def _picker_text(self, sequence: Sequence) -> str:
        """"Harbour (3 shots)": the name and how many shots, as the picker lists it."""
        if len(sequence.shots) == 1:
            return self.tr("{0} (1 shot)").format(sequence.name)
        return self.tr("{0} ({1} shots)").format(sequence.name, len(sequence.shots))

    def _on_sequence_picked(self, _index: int) -> None:
        data = self.sequence_box.currentData()
        if data is not None:
            self._load(int(data))

    def _load(self, sequence_id: int) -> None:
        sequence = self._read(lambda: self.sequences.get(sequence_id), None)
        if sequence is None and self.sequence_box.findData(sequence_id) >= 0:
            self._fill_sequence_box()  # deleted by another process since the box was filled
            return
        self._show(sequence)

    def _show(self, sequence: Sequence | None) -> None:
        if sequence is None or self.sequence is None or sequence.id != self.sequence.id:
            self.bar.cancel_rename()
        self.sequence = sequence
        self._outdated = (self._read(lambda: self.sequences.outdated_shots(sequence), {})
                          if sequence is not None else {})
        self.setWindowTitle(self.tr("{0} — Sequences").format(sequence.name) if sequence
                            else self.tr("Sequences"))
        self.bar.rename_button.setEnabled(sequence is not None)
        self.bar.delete_button.setEnabled(sequence is not None)
        if sequence is None:
            self._say(self.no_sequence_text())
        elif self.status.text() == self.no_sequence_text():
            self._say("")
        row = self.shot_list.currentRow()
        self.shot_list.blockSignals(True)
        try:
            self.shot_list.clear()
            for number, shot in enumerate(sequence.shots if sequence else (), 1):
                item = QListWidgetItem(self._shot_text(number, shot), self.shot_list)
                item.setData(ID_ROLE, shot.id)
                item.setIcon(self._icon(self.sequences.chosen(shot)))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsDragEnabled)
            if self.shot_list.count():
                self.shot_list.setCurrentRow(min(max(row, 0), self.shot_list.count() - 1))
        finally:
            self.shot_list.blockSignals(False)
        self._show_takes()
        self._refresh_controls()

    def no_sequence_text(self) -> str:
        return self.tr("No sequence yet: plan one with New Sequence (a prompt per line in the "
                       "box beside it), or start one from a finished clip: right-click it in "
                       "the main window, New Sequence from Clip.")

    def _shot_text(self, number: int, shot: Shot) -> str:
        take = self.sequences.chosen(shot)
        if take is None:
            state = self.tr("not made yet")
        elif take.stage.is_running:
            state = stage_text(take)
        else:
            state = self.tr("#{0} · {1}").format(take.id, stage_text(take))
        takes = len(shot.takes)
        count = self.tr(" · {0} takes").format(takes) if takes > 1 else ""
        text = self.tr("{0}. {1}\n{2}{3}").format(number, shot.prompt, state, count)
        if (changed := self._outdated.get(number - 1)) is not None:
            text += "\n" + self.tr("⚠ made after an older take of shot {0}").format(changed + 1)
        return text

    def _shot_numbers(self, indexes: Iterable[int]) -> str:
        """"shot 3", "shots 3 and 4", "shots 3, 4 and 6"."""
        numbers = [str(i + 1) for i in sorted(indexes)]
        if len(numbers) == 1:
            return self.tr("shot {0}").format(numbers[0])
        return self.tr("shots {0} and {1}").format(", ".join(numbers[:-1]), numbers[-1])

    def _show_takes(self) -> None:
        shot = self.current_shot()
        self.take_list.clear()
        if shot is None:
            return
        for take in self.sequences.takes(shot):
            mark = "✓ " if take.id == shot.chosen_id else ""
            item = QListWidgetItem(self._icon(take), self.tr("{0}#{1} · seed {2}\n{3}").format(
                mark, take.id, take.settings.seed, stage_text(take)), self.take_list)
            item.setData(ID_ROLE, take.id)
            item.setToolTip(take.settings.prompt)
            if take.id == shot.chosen_id:
                self.take_list.setCurrentItem(item)

    def _refresh_controls(self) -> None:
        sequence = self.sequence
        has = sequence is not None
        running = self.running() or (sequence is not None
                                     and sequence.run_state is RunState.RUNNING)
        shots = sequence.shots if sequence else ()
        done = sum(1 for shot in shots if (t := self.sequences.chosen(shot)) is not None
                   and t.stage is Stage.DONE)
        self.run_progress.setRange(0, max(1, len(shots)))
        self.run_progress.setValue(done)
        # The plan box and New Sequence stay: with no sequence they are how to make one.
        for widget in (self.plan_button, self.next_prompt):
            widget.setEnabled(has)
        self.run_progress.setVisible(has)  # no "0 of 1 shots" of no sequence
        self.choose_button.setEnabled(has and not self.running())
        self._refresh_take_button()
        preview = self._cost_preview()
        self.cost_label.setText(self._cost_text(preview))
        affordable = preview is None or preview.affordable is not False
        self.run_button.setEnabled(has and not running and done < len(shots) and affordable)
        self._refresh_redo()
        self.stop_button.setEnabled(sequence is not None
                                    and self.sequences.is_running_here(sequence.id))
        self._say_run_state(done, len(shots))
        self.film.refresh()

    def _on_shot_picked(self) -> None:
        self._show_takes()
        self._refresh_take_button()

    def _refresh_take_button(self) -> None:
        """New Take and Extend from End say their price before they are pressed, as Generate
        does ("New Take · 25 credits · 975 left"), and wait when the balance doesn't cover
        it."""
        shot = self.current_shot()
        short = self._priced(
            self.take_button, self._take_preview(shot), self.tr("New &Take"),
            self.tr("Make the selected shot again with a new seed (paid); it becomes the "
                    "shot's take"), self.tr("a new take"))
        self.take_button.setEnabled(shot is not None and not self.running() and not short)
        last = self.sequence.shots[-1] if self.sequence and self.sequence.shots else None
        # Priced once the last shot has its take (until then Extend says what to do).
        short = self._priced(
            self.extend_button,
            self._take_preview(last) if last is not None and last.chosen_id else None,
            self.tr("&Extend from End"),
            self.tr("Make a new last shot now, from the last shot's last frame (paid)"),
            self.tr("a new shot"))
        self.extend_button.setEnabled(self.sequence is not None and not short)

    def _take_preview(self, shot: Shot | None) -> CostPreview | None:
        if shot is None:
            return None
        try:
            return self._counted(self.sequences.take_preview(shot.id))
        except Exception:  # removed meanwhile: the next change shows it
            log.debug("No price for a new take of shot %s", shot.id, exc_info=True)
            return None

    def _priced(self, button: QPushButton, preview: CostPreview | None, label: str,
                tip: str, what: str) -> bool:
        """`label · 25 credits · 975 left` on a button that pays; True when short."""
        text = label
        short = preview is not None and preview.affordable is False
        if preview is not None:
            number = self.locale().toString
            if preview.unpriced:
                text += " · " + self.tr("price unknown")
                tip += " " + self.tr("(apiframe charges its current price)")
            else:
                text += " · " + self.tr("{0} credits").format(number(preview.credits))
            after = preview.balance_after
            if short and preview.balance is not None and after is not None:
                text += " · " + self.tr("{0} short").format(number(-after))  # why it waits
                tip = (self.tr("Not enough credits: {0} costs {1}, and {2}.").format(
                    what, number(preview.credits), self._waiting_need(preview))
                    if preview.spoken_for else
                    self.tr("Not enough credits: {0} costs {1}, you have {2}.").format(
                    what, number(preview.credits), number(preview.balance)))
            elif after is not None and not preview.unpriced:
                text += " · " + self.tr("{0} left").format(number(after))
                if preview.spoken_for:  # why fewer are left than the balance says
                    tip += " " + self._waiting_need(preview) + "."
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleDescription(
            text.replace("&", "") + ". " + tip)  # a screen reader hears the price too
        return short

    def _refresh_redo(self) -> None:
        """Which shots were made from an older take, and what redoing them does and costs."""
        outdated = self._outdated
        self.redo_label.setVisible(bool(outdated))
        self.redo_button.setVisible(bool(outdated))
        if not outdated or self.sequence is None:
            self.redo_label.clear()
            return
        sequence = self.sequence
        roots = self._shot_numbers(set(outdated.values()))
        made, reused = self._read(lambda: self.sequences.redo_plan(sequence), ([], []))
        shots = self._shot_numbers(outdated).capitalize()
        parts = [self.tr("{0} was made after an older take of {1}: it doesn't follow on from "
                         "what plays before it now.").format(shots, roots)
                 if len(outdated) == 1 else
                 self.tr("{0} were made after an older take of {1}: they don't follow on from "
                         "what plays before them now.").format(shots, roots)]
        if reused:
            parts.append(self.tr("{0} has a take made from the take chosen before it: Redo "
                                 "Later Shots chooses it again, free.").format(
                self._shot_numbers(reused).capitalize()) if len(reused) == 1 else
                self.tr("{0} have takes made from the takes chosen before them: Redo Later "
                        "Shots chooses them again, free.").format(
                self._shot_numbers(reused).capitalize()))
        preview: CostPreview | None = self._read(
            lambda: self._counted(self.sequences.cost_preview(sequence.id, redo_outdated=True)),
            None)
        if made:
            parts.append(self.tr("Redo Later Shots makes {0} again from the take chosen before "
                                 "(paid).").format(self._shot_numbers(made)))
        # The run that redoes them makes the shots without a take too: said, and priced.
        unmade = preview.shots_to_make - len(made) if preview is not None else 0
        if unmade > 0:
            parts.append(self.tr("It also makes the {0} shot(s) not made yet (paid).")
                         .format(unmade))
        if preview is not None and preview.shots_to_make:
            parts.append(self._cost_text(preview))
        parts.append(self.tr("Or keep them as they are.") if len(outdated) > 1
                     else self.tr("Or keep it as it is."))
        self.redo_label.setText(" ".join(parts))
        affordable = preview is None or preview.affordable is not False
        redoing = self._run_task is not None and not self._run_task.done()
        self.redo_button.setEnabled(affordable and not redoing)

    def _say_run_state(self, done: int, total: int) -> None:
        """A run's state in the status line: how far it is, why it stopped, that it ended
        (also for a run this view didn't start: resumed at start, or from the CLI)."""
        sequence = self.sequence
        state = sequence.run_state if sequence is not None else None
        if state is RunState.RUNNING:
            self._was_running = True
            self._say(self.tr("Running: {0} of {1} shots finished…").format(done, total))
        elif state is RunState.STOPPED and sequence is not None and sequence.error:
            self._was_running = False
            self._say(sequence.error)
        elif state is RunState.DONE and self._was_running:
            self._was_running = False
            self._say(self.tr("Every shot is made. Export the film when you are ready."))

    def _cost_preview(self) -> CostPreview | None:
        if self.sequence is None:
            return None
        sequence_id = self.sequence.id
        preview: CostPreview | None = self._read(
            lambda: self._counted(self.sequences.cost_preview(sequence_id)), None)
        return preview

    def _counted(self, preview: CostPreview) -> CostPreview:
        """The preview with what generations not sent yet will take left out of the balance."""
        return self._spoken.counted_in(preview, self.sequences.generations.catalog)

    def _waiting_need(self, preview: CostPreview) -> str:
        """"1 generation not sent yet needs 31 of your 69 credits" (as Generate says it)."""
        number = self.locale().toString
        text = (self.tr("1 generation not sent yet needs {spoken} of your {have} credits")
                if preview.waiting == 1 else
                self.tr("{count} generations not sent yet need {spoken} of your {have} credits"))
        return text.format(count=number(preview.waiting), spoken=number(preview.spoken_for),
                           have=number(preview.balance or 0))

    def _cost_text(self, preview: CostPreview | None) -> str:
        """"2 shot(s) to make · 50 credits · balance after: 9,950 credits"."""
        if preview is None:
            return ""
        if not preview.shots_to_make:
            return self.tr("Every shot has a take: nothing to pay.")
        number = self.locale().toString
        parts = [self.tr("{0} shot(s) to make").format(preview.shots_to_make),
                 self.tr("{0} credits").format(number(preview.credits))]
        if preview.unpriced:
            parts.append(self.tr("{0} at apiframe's current price").format(preview.unpriced))
        if preview.spoken_for:
            parts.append(self._waiting_need(preview))
        after = preview.balance_after
        if after is None:
            parts.append(self.tr("balance unknown"))
        elif after < 0:
            parts.append(self.tr("not enough credits: {0} short").format(number(-after)))
        else:
            parts.append(self.tr("balance after: {0} credits").format(number(after)))
        return " · ".join(parts)

    def _icon(self, generation: Generation | None) -> QIcon:
        path = generation.thumbnail_path if generation else None
        if not path:
            return QIcon()
        key = (path, self.devicePixelRatioF())
        icon = self._icons.get(key)
        if icon is None:
            icon = self._icons[key] = thumb_icon(*key)
        return icon

    # -- events ---------------------------------------------------------------------------------

    def _on_sequence_event(self, event: SequenceEvent) -> None:
        from runway_desktop.engine.sequences import SequenceChanged

        if isinstance(event, SequenceChanged):
            changed = event.sequence
            index = self.sequence_box.findData(changed.id)
            if index < 0:
                self._fill_sequence_box()
                return
            # Its name and shots in the picker, shown or not (renamed by a command, say).
            self.sequence_box.setItemText(index, self._picker_text(changed))
            if self.sequence is not None and changed.id == self.sequence.id:
                self._show(changed)
            return
        shown = self.sequence
        self._fill_sequence_box()
        if (shown is not None and shown.id == event.sequence_id
                and self.bar.just_deleted != shown.id):
            self._say(self.tr("“{0}” was deleted elsewhere (another Runway Desktop process). "
                              "Its videos stay in your history.").format(shown.name))

    def _on_engine_event(self, event: EngineEvent) -> None:
        if isinstance(event, AccountUpdated):
            self._spoken.balance_read()
            self._refresh_controls()
        elif isinstance(event, GenerationRemoved):
            if self._spoken.remove(event.generation_id):
                self._refresh_controls()
        elif isinstance(event, GenerationUpdated):
            spoken = self._spoken.update(event.generation)
            ids = ({i for shot in self.sequence.shots for i in shot.takes}
                   if self.sequence is not None else set())
            if self.sequence is not None and event.generation.id in ids:
                self._show(self.sequence)
            elif spoken:
                self._refresh_controls()

    # -- running commands -----------------------------------------------------------------------

    def _call(self, command: Callable[[SequenceService], Any]) -> Any:
        """A quick command; a refusal shows in the status line."""
        try:
            return command(self.sequences)
        except Exception as error:
            self._say(_words(error))
            return None

    def _read(self, read: Callable[[], Any], default: Any) -> Any:
        try:
            return read()
        except Exception as error:
            self._say(_words(error))
            return default

    async def _await(self, work: Coroutine[Any, Any, Any], done: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._say(_words(error))
            return
        self._say(done)

    async def _await_paid(self, sequence_id: int, work: Callable[[], Coroutine[Any, Any, Any]],
                          done: str) -> None:
        """`work` sends paid work: only once the folder its video goes to can take it."""
        if (problem := await self._folder_problem_of(sequence_id)) is not None:
            self._say(problem)
            return
        await self._await(work(), done)

    async def _stop(self, sequence_id: int) -> None:
        try:
            await self.sequences.stop_run(sequence_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._say(_words(error))
            return
        if self._run_task is not None:  # its wait ends now: Run is offered again
            await asyncio.gather(self._run_task, return_exceptions=True)
            self._run_task = None
        self._load(sequence_id)

    async def _await_run(self, sequence_id: int, *, redo_outdated: bool = False) -> None:
        if (problem := await self._folder_problem_of(sequence_id)) is not None:
            self._run_task = None
            self._refresh_controls()
            self._say(problem)
            return
        try:
            ended = await self.sequences.run(sequence_id, redo_outdated=redo_outdated)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._run_task = None
            self._refresh_controls()
            self._say(_words(error))
            return
        self._run_task = None
        self._was_running = True  # the status line says how it ended
        self._load(ended.id)

    async def _folder_problem_of(self, sequence_id: int) -> str | None:
        """Why the folder the sequence's takes save into can't take them now, or None."""
        sequence = self.sequences.get(sequence_id)
        if self.folder_problem is None or sequence is None:
            return None
        return await self.folder_problem(sequence.output_dir)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the view stops waiting here; a run goes on in the engine (and resumes at the
        next start if the app quits), a film export stops and leaves nothing behind."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for task in list(self._tasks):
            task.cancel()
        self.film.shutdown()
        super().closeEvent(event)


def _words(error: BaseException) -> str:
    """An error's message for people (the engine's errors carry one)."""
    message = getattr(error, "message", None)
    if isinstance(message, str) and message:
        return message
    if isinstance(error, KeyError):
        return "That shot or sequence is gone (removed elsewhere). Pick another."
    log.error("A sequence command failed", exc_info=error)
    return f"Something went wrong ({type(error).__name__}); the log has the details."
