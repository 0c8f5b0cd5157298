"""Sequences: shots that extend each other, run one after another, crash-safe.

`SequenceService` is the typed service the window's sequence view and the CLI call, beside
`GenerationService` (which it uses for every generation). A sequence is an ordered list of
shots; each shot is one generation chosen among its takes. Running it makes each shot that has
no chosen take yet from the previous shot's exact last frame (engine/extension.py), one after
another, and waits for each to finish before the next.

Money and crashes: a shot's generation is journaled together with its link to the shot, in one
transaction, before any request leaves (engine/sequence_store.py, `add_take`); the run state
(`RunState.RUNNING`) is journaled too. After a crash or a restart, `resume_running` carries on
each running sequence exactly where it was: a shot with a take is followed (the engine's
journal-before-POST and idempotency key keep its job from being paid twice), a shot without one
is made once. Two processes running the same sequence make each shot once.

Renaming and removing: `rename` cleans the name for one line and refuses an empty one;
`remove` takes the plan away (its takes stay generations in the history, their videos on disk)
but never while the sequence runs, here or in another process (Stop first: a removal must not
stop paid work unseen); `restore` undoes it (the window's Undo).

Events: `subscribe` gets `SequenceChanged` (the sequence as now: shots, takes, chosen take, run
state) and `SequenceRemoved`; a take's own progress comes from `GenerationService.subscribe`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from runway_desktop import api
from runway_desktop.engine import extension
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.extension import ExtendError, LastFrameTaker
from runway_desktop.engine.lifecycle_table import Command, Effect, refunded, step
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage
from runway_desktop.engine.sequence_plan import Plan
from runway_desktop.engine.sequence_records import (
    CostPreview,
    KeptTakes,
    RunState,
    Sequence,
    SequenceRefused,
    SequenceRunning,
    Shot,
    sequence_name,
)
from runway_desktop.engine.sequence_store import RemovedSequence, SequenceStore
from runway_desktop.engine.sequence_watch import SequenceWatch
from runway_desktop.engine.settings_changes import SettingsChanges, applied, continued

if TYPE_CHECKING:
    from runway_desktop.engine.scheduler import Engine

__all__ = ["CostPreview", "KeptTakes", "RemovedSequence", "RunState", "Sequence",
           "SequenceChanged", "SequenceEvent", "SequenceRefused", "SequenceRemoved",
           "SequenceRunning", "SequenceService", "Shot"]

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0  # how often a subscribed service looks for other processes' changes

# Where a not-yet-made shot's start image will be (for previews: only its price matters).
_NOT_YET = Path("last-frame-of-the-shot-before.png")


@dataclass(frozen=True)
class SequenceChanged:
    sequence: Sequence


@dataclass(frozen=True)
class SequenceRemoved:
    sequence_id: int


SequenceEvent = SequenceChanged | SequenceRemoved
SequenceListener = Callable[[SequenceEvent], None]


class SequenceService:
    """Typed commands over the sequences of one engine (one queue); `generations` is the
    `GenerationService` over the same engine (for the takes themselves).

    `take_frame` replaces the QtMultimedia last-frame decoder (tests, or a front end without
    Qt); `wait_s` bounds each wait for a shot to finish (a clear error, never a hang).
    """

    def __init__(self, engine: Engine, *, take_frame: LastFrameTaker | None = None,
                 wait_s: float = extension.DEFAULT_WAIT_S) -> None:
        self.generations = self._generations = GenerationService(engine)
        self._engine = engine
        self._store = SequenceStore(self._engine.journal)
        self._take_frame = take_frame
        self._wait_s = wait_s
        self._listeners: list[SequenceListener] = []
        self._runs: dict[int, asyncio.Task[Sequence]] = {}
        self._watch: SequenceWatch | None = None
        self._watching: asyncio.Task[None] | None = None

    # -- what front ends read -------------------------------------------------------------------

    def subscribe(self, listener: SequenceListener) -> Callable[[], None]:
        """SequenceChanged / SequenceRemoved; returns the unsubscribe function. Subscribed
        inside a running loop, changes other processes make (a CLI's `sequence run`) are
        announced too, within WATCH_SECONDS."""
        self._listeners.append(listener)
        self._watch_others()

        def unsubscribe() -> None:
            self._listeners.remove(listener)
            if not self._listeners:
                self._stop_watching()

        return unsubscribe

    def sequences(self) -> list[Sequence]:
        """Every sequence, oldest first."""
        return self._store.all()

    def get(self, sequence_id: int) -> Sequence | None:
        return self._store.get(sequence_id)

    def sequence_of_take(self, generation_id: int) -> Sequence | None:
        """The sequence that has this generation as a take (a take belongs to one only)."""
        owners = self._store.sequences_of(generation_id)
        return self._store.get(owners[0]) if owners else None

    def takes(self, shot: Shot) -> list[Generation]:
        """The shot's takes as generations, oldest first (removed ones left out)."""
        found = (self._generations.get(i) for i in shot.takes)
        return [g for g in found if g is not None]

    def chosen(self, shot: Shot) -> Generation | None:
        return self._generations.get(shot.chosen_id) if shot.chosen_id is not None else None

    @property
    def writes_sidecars(self) -> bool:
        """The `settings_sidecar` setting: a `<video>.json` beside each saved video (a film
        too)."""
        return self._engine.config.settings_sidecar

    def is_running_here(self, sequence_id: int) -> bool:
        """This process is running the sequence now (`run` has not returned)."""
        task = self._runs.get(sequence_id)
        return task is not None and not task.done()

    def running_here(self) -> list[int]:
        """The sequences this process is running now."""
        return [i for i, task in self._runs.items() if not task.done()]

    def planned_settings(self, sequence_id: int) -> list[GenerationSettings]:
        """For each shot, the settings it has (its chosen take's) or will be made with (the
        shot before's, with the shot's prompt and changes; the start image is a placeholder
        until the shot before has finished)."""
        sequence = self._store.require(sequence_id)
        return _chain([(shot.prompt, shot.changes,
                        take.settings if (take := self.chosen(shot)) else None)
                       for shot in sequence.shots])

    def cost_preview(self, sequence_id: int, *, retake_failed: bool = False,
                     redo_outdated: bool = False) -> CostPreview:
        """What running the sequence would cost: the shots without a chosen take (and, with
        `retake_failed`, those whose chosen take failed and was refunded, or was cancelled;
        with `redo_outdated`, the `outdated_shots`), priced by the catalog, and the balance
        before and after."""
        sequence = self._store.require(sequence_id)
        planned = self.planned_settings(sequence_id)
        outdated = set(self.redo_plan(sequence)[0]) if redo_outdated else set()
        to_make = [s for index, (shot, s) in enumerate(zip(sequence.shots, planned, strict=True))
                   if (take := self.chosen(shot)) is None or index in outdated
                   or (retake_failed and _refunded_failure(take)
                       and self._sent_again(take) is None)]  # a copy is adopted, not paid
        return self._preview(to_make)

    def take_preview(self, shot_id: int) -> CostPreview:
        """What a new take of the shot would cost (one shot at its settings: its chosen take's,
        or those it will be made with), and the balance before and after: shown before the
        person pays for it."""
        sequence = self._store.require(self._sequence_of_shot(shot_id))
        return self._preview([self.planned_settings(sequence.id)[sequence.index_of(shot_id)]])

    def outdated_shots(self, sequence: Sequence) -> dict[int, int]:
        """The shots whose chosen take was made from a take of the shot before that is no
        longer its chosen one (a new take of an earlier shot, or another take chosen there),
        and those made from such a shot: {shot index: index of the shot whose take changed}.
        Their start frame isn't the end of what plays before them now. `run` with
        `redo_outdated` makes each again (paid) from the chosen take before it; nothing
        redoes them by itself. A take made from a shot that isn't the one before it now
        (the shots reordered) is not counted: reordering keeps the takes made."""
        return outdated_shots(sequence, self._generations.get)

    def redo_plan(self, sequence: Sequence) -> tuple[list[int], list[int]]:
        """What redoing the `outdated_shots` does, in order: (the shots made anew, paid; the
        shots that have a finished take made from the take chosen before them already, which
        is chosen again, free: the person chose back an older take of an earlier shot)."""
        shots = sequence.shots
        chosen: list[int | None] = [shot.chosen_id for shot in shots]
        made: list[int] = []
        reused: list[int] = []
        for index in range(1, len(shots)):
            take = self.chosen(shots[index])
            before = shots[index - 1]
            if take is None or take.parent_id is None or take.parent_id not in before.takes:
                continue
            start = None if index - 1 in made else chosen[index - 1]  # a new take: unknown
            if take.parent_id == start:
                continue
            match = self._made_from(shots[index], start) if start is not None else None
            if match is not None:
                chosen[index] = match.id
                reused.append(index)
            else:
                made.append(index)
        return made, reused

    def _made_from(self, shot: Shot, parent_id: int) -> Generation | None:
        """The shot's newest finished take made from `parent_id`, if any."""
        found = [take for take in self.takes(shot)
                 if take.parent_id == parent_id and take.stage is Stage.DONE]
        return found[-1] if found else None

    def preview_plan(self, plan: Plan) -> CostPreview:
        """What running a plan as a new sequence would cost (nothing is journaled)."""
        return self._preview(_planned(plan))

    def _preview(self, to_make: list[GenerationSettings]) -> CostPreview:
        catalog = self._generations.catalog
        prices = [s.price_in(catalog) for s in to_make]
        account = self._generations.account
        return CostPreview(shots_to_make=len(to_make),
                           credits=sum(p for p in prices if p is not None),
                           unpriced=sum(1 for p in prices if p is None),
                           balance=account.credits if account else None)

    # -- making and arranging sequences ---------------------------------------------------------

    def create_from_clip(self, generation_id: int, name: str | None = None) -> Sequence:
        """A sequence whose first shot is this generation (its chosen take); extend it with
        `extend_from_end` or `plan_shots`. SequenceRefused when the generation is a take of
        another sequence already (`sequence_of_take`)."""
        generation = self._generations.get(generation_id)
        if generation is None:
            raise KeyError(generation_id)
        sequence = self._store.create(
            name or _name_from(generation.settings.prompt),
            [(generation.settings.prompt, SettingsChanges())],
            output_dir=generation.output_dir, first_take=generation_id)
        return self._changed(sequence.id)

    def create_from_plan(self, plan: Plan, *, output_dir: Path | None = None) -> Sequence:
        """A sequence with the plan's shots, none made yet (`run` makes them); settings the
        model refuses raise api.InvalidRequestError first (nothing is kept)."""
        self.check_plan(plan)
        sequence = self._store.create(
            plan.name, [(shot.prompt, shot.changes) for shot in plan.shots],
            output_dir=str(output_dir) if output_dir else None, source=plan.source)
        return self._changed(sequence.id)

    def check_plan(self, plan: Plan) -> None:
        """Raise api.InvalidRequestError (saying which shot and why) if the model would refuse
        any shot's settings (duration, ratio, seed, prompt); nothing is journaled."""
        for index, settings in enumerate(_planned(plan)):
            try:
                _check(settings, self)
            except api.InvalidRequestError as error:
                raise api.InvalidRequestError(f"Shot {index + 1}: {error.message}") from None

    def preview_settings_of(self, plan: Plan, index: int) -> GenerationSettings:
        """The settings shot `index` of a plan would be made with (image: a placeholder)."""
        return _planned(plan)[index]

    def unfinished_from(self, plan: Plan) -> Sequence | None:
        """The sequence an earlier run of this very plan file left unfinished, if any."""
        return self._store.unfinished_from(plan.source) if plan.source else None

    def plan_shots(self, sequence_id: int, prompts: Seq[str],
                   changes: Seq[SettingsChanges | None] | None = None) -> Sequence:
        """Add N shots at the end, not made yet (their prompts, optional changes each)."""
        for index, prompt in enumerate(prompts):
            change = changes[index] if changes and index < len(changes) else None
            self._store.add_shot(sequence_id, _prompt(prompt), _later(change))
        self._not_done_any_more(sequence_id)
        return self._changed(sequence_id)

    def add_shot(self, sequence_id: int, prompt: str, changes: SettingsChanges | None = None,
                 *, before_shot_id: int | None = None) -> Sequence:
        self._store.add_shot(sequence_id, _prompt(prompt), _later(changes),
                             before_shot_id=before_shot_id)
        self._not_done_any_more(sequence_id)
        return self._changed(sequence_id)

    def move_shot(self, shot_id: int, before_shot_id: int | None) -> Sequence:
        """Reorder: the shot goes just before another (None: last). Takes already made keep
        the start frame they were made from."""
        self._store.move_shot(shot_id, before_shot_id)
        return self._changed(self._sequence_of_shot(shot_id))

    def edit_shot(self, shot_id: int, *, prompt: str | None = None,
                  changes: SettingsChanges | None = None) -> Sequence:
        """The prompt or changes the shot's next take is made with."""
        self._store.edit_shot(shot_id, prompt=_prompt(prompt) if prompt is not None else None,
                              changes=changes)
        return self._changed(self._sequence_of_shot(shot_id))

    def remove_shot(self, shot_id: int) -> Sequence:
        """The shot leaves the sequence; its takes stay in the history."""
        sequence_id = self._sequence_of_shot(shot_id)
        self._store.remove_shot(shot_id)
        return self._changed(sequence_id)

    def choose_take(self, shot_id: int, generation_id: int) -> Sequence:
        """Swap the shot's chosen take for another of its takes."""
        self._store.choose(shot_id, generation_id)
        return self._changed(self._sequence_of_shot(shot_id))

    def rename(self, sequence_id: int, name: str) -> Sequence:
        """A new name, cleaned for one line (`sequence_name`): SequenceRefused for an empty
        or too long one, KeyError when the sequence is gone."""
        self._store.rename(sequence_id, sequence_name(name))
        return self._changed(sequence_id)

    def remove(self, sequence_id: int) -> RemovedSequence:
        """The sequence (the plan) goes; its generations stay in the history and their videos
        on disk. Refused with SequenceRunning while it runs, here or in another process (a
        removal never stops work that may be paid for: Stop first). `restore` undoes it."""
        if self.is_running_here(sequence_id):  # its run may not have journaled RUNNING yet
            raise SequenceRunning(self._store.require(sequence_id))
        removed = self._store.remove(sequence_id)
        self._runs.pop(sequence_id, None)  # a run that ended
        self._emit(SequenceRemoved(sequence_id))
        if self._watch is not None:
            self._watch.forgot(sequence_id)
        return removed

    def restore(self, removed: RemovedSequence) -> Sequence:
        """Undo `remove`: the sequence is back as it was, under its own id."""
        self._store.restore(removed)
        return self._changed(removed.sequence.id)

    def kept_takes(self, sequence: Sequence) -> KeptTakes:
        """What removing the sequence leaves: its takes in the history, their videos."""
        return KeptTakes.of(self._generations.get(i) for shot in sequence.shots
                            for i in shot.takes)

    # -- making takes ---------------------------------------------------------------------------

    async def add_take(self, shot_id: int, *, prompt: str | None = None,
                       changes: SettingsChanges | None = None) -> Generation:
        """Re-run a shot: a new take (a new, paid generation) with a new seed unless `changes`
        names one, the shot's prompt unless another is given; it becomes the chosen take. A
        later shot starts from the chosen take of the shot before (waited for if running)."""
        sequence = self._store.require(self._sequence_of_shot(shot_id))
        index = sequence.index_of(shot_id)
        shot = sequence.shots[index]
        over = (changes or SettingsChanges()).over(shot.changes)
        current = self.chosen(shot)
        if index == 0 and current is not None:
            settings = applied(current.settings, changes, prompt=_prompt(prompt or shot.prompt))
            parent_id = current.parent_id
        else:
            settings, parent_id = await self._settings_for(sequence, index,
                                                           prompt or shot.prompt, over)
        if changes is None or changes.seed is None:
            settings = settings.with_seed(self._new_seed(settings))
        generation, _new = self._add_take(sequence, shot_id, settings, parent_id,
                                          only_if_unchosen=False)
        self._follow_if_done(sequence)
        return generation

    async def cancel_take(self, generation_id: int, before: Sequence) -> bool:
        """The person stopped a new take (Ctrl+C on `sequence take`): if nothing of it reached
        apiframe it is cancelled (nothing charged) and the sequence is put back as it was in
        `before`: the take chosen then is chosen again (the film doesn't keep a cancelled
        take), and the run that only followed the new take ends in `before`'s state. False,
        and nothing changed, once apiframe has it: it is paid and stays the shot's."""
        if not self._generations.cancel([generation_id]):
            return False
        task = self._runs.pop(before.id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        now = self._store.get(before.id)
        if now is None:  # removed meanwhile
            return True
        was = {shot.id: shot.chosen_id for shot in before.shots}
        for shot in now.shots:
            old = was.get(shot.id)
            if shot.chosen_id == generation_id and old is not None and old in shot.takes:
                self._store.choose(shot.id, old)
        if now.run_state is RunState.RUNNING and before.run_state is not RunState.RUNNING:
            self._store.set_run_state(before.id, before.run_state, before.error)
        self._changed(before.id)
        return True

    def takes_under_way(self, sequence_id: int) -> list[tuple[int, Generation]]:
        """(shot index, chosen take) of each shot whose take is still being made."""
        sequence = self._store.get(sequence_id)
        return [(index, take) for index, shot in enumerate(sequence.shots if sequence else ())
                if (take := self.chosen(shot)) is not None and not take.stage.is_settled]

    async def extend_from_end(self, sequence_id: int, prompt: str,
                              changes: SettingsChanges | None = None) -> Generation:
        """A new last shot, made at once from the current last shot's last frame (waited for
        if it is still running). ExtendError, and no new shot, when the last shot has no take
        yet (run the sequence first)."""
        before = self._store.require(sequence_id)
        shots = before.shots
        if shots and shots[-1].chosen_id is None:
            if before.run_state is RunState.RUNNING:
                raise ExtendError(f"Shot {len(shots)} is still being made: extend from the end "
                                  "once it has its take.")
            raise ExtendError(f"Shot {len(shots)} has no take yet: run the sequence to make it, "
                              "then extend from the end.")
        was = self._store.require(sequence_id)
        shot = self._store.add_shot(sequence_id, _prompt(prompt), _later(changes))
        if was.run_state is RunState.DONE:
            # Running from now on (journaled: a restart while the last frame is taken makes
            # the shot the person asked for), not DONE with a shot that isn't made.
            self._store.set_run_state(sequence_id, RunState.RUNNING)
        current = self._changed(sequence_id)
        try:
            made = await self._make_shot(current, current.index_of(shot.id))
        except Exception:
            if was.run_state is RunState.DONE:  # the new shot is there, not made: Run makes it
                self._store.set_run_state(sequence_id, RunState.IDLE)
                self._changed(sequence_id)
            raise
        self._follow_if_done(was)
        return made

    # -- running --------------------------------------------------------------------------------

    async def run(self, sequence_id: int, *, retake_failed: bool = False,
                  redo_outdated: bool = False) -> Sequence:
        """Make every shot that has no chosen take, one after another (each from the shot
        before's last frame), and wait for all to finish; the sequence as it ended (DONE, or
        STOPPED with `error` saying which shot needs the person and what to do).

        Journaled as RUNNING first: if the process dies, `resume_running` (the next `resume`,
        or the window's start) carries on exactly here. Cancelling the task leaves it RUNNING.
        Running a sequence this process is running already waits for that run.

        `retake_failed` (the person runs a stopped sequence again): a shot whose chosen take
        failed on the server and was refunded (or was cancelled) gets one new take with the
        same settings — a new, paid job, like Retry of that take; without it such a shot
        stops the run.

        `redo_outdated` (the person asked to redo the shots made from an older take): each of
        the `outdated_shots`, in order, gets its take made from the chosen take before it: one
        it has already (chosen again, free), else a new one made as Run makes a shot (once the
        take before has finished). `redo_plan` says which beforehand. A resumed run (after a
        restart) doesn't carry this on: what is left stays outdated, to ask again."""
        task = self._runs.get(sequence_id)
        if redo_outdated and task is not None and not task.done():
            # A run already going (one following a new take) wouldn't redo: this one takes
            # over. Cancelling it only stops its waiting; a take under way goes on.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            task = None
        if task is None or task.done():
            task = asyncio.ensure_future(self._run(sequence_id, retake_failed, redo_outdated))
            self._runs[sequence_id] = task
        return await asyncio.shield(task)

    async def stop_run(self, sequence_id: int, *, cancel_unsent: bool = False) -> Sequence:
        """The person stops this process's run: no further shot is made. A take already under
        way goes on (it may be paid for) and stays the shot's; with `cancel_unsent` (the
        command line stopped: nothing here sends it any more) one that never reached apiframe
        is cancelled instead, nothing charged. STOPPED, saying Run carries on; nothing resumes
        it by itself."""
        task = self._runs.pop(sequence_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if cancel_unsent:
            self._generations.cancel([take.id for _index, take
                                      in self.takes_under_way(sequence_id)])
        sequence = self._store.require(sequence_id)
        if sequence.run_state is RunState.DONE:
            return sequence
        made = sum(1 for shot in sequence.shots if (take := self.chosen(shot)) is not None
                   and take.stage is not Stage.CANCELLED)
        under_way = " (a shot under way finishes)" if self.takes_under_way(sequence_id) else ""
        if made == len(sequence.shots) and self.outdated_shots(sequence):
            # A redo of outdated shots stopped: nothing is left for Run to make.
            message = (f"Stopped: nothing further is made{under_way}. The shots still made "
                       "after an older take can be redone later.")
        else:
            message = (f"Stopped with {made} of {len(sequence.shots)} shots made{under_way}. "
                       "Run carries on from there.")
        self._store.set_run_state(sequence_id, RunState.STOPPED, message)
        return self._changed(sequence_id)

    async def stop_runs(self, *, cancel_unsent: bool = False) -> list[Sequence]:
        """The person stops every run of this process (Ctrl+C): each as `stop_run` leaves it,
        STOPPED, so no later start carries it on (and pays for its shots) by itself."""
        return [await self.stop_run(sequence_id, cancel_unsent=cancel_unsent)
                for sequence_id in list(self._runs)]

    async def run_plan(self, plan: Plan, *, output_dir: Path | None = None) -> Sequence:
        """Run a plan: the sequence an earlier run of the same plan file left unfinished
        carries on (never made twice); otherwise a new sequence is made from it and run."""
        sequence = self.unfinished_from(plan) or self.create_from_plan(plan,
                                                                       output_dir=output_dir)
        return await self.run(sequence.id)

    async def resume_running(self) -> list[Sequence]:
        """Carry on every sequence journaled as RUNNING (after a crash, a kill, a restart);
        each as it ended."""
        ids = self._store.ids_in_state(RunState.RUNNING)
        return list(await asyncio.gather(*(self.run(i) for i in ids)))

    async def stop(self) -> None:
        """Stop this process's runs (before the engine stops); they stay RUNNING in the
        journal, so the next start (`resume_running`) carries them on."""
        tasks = list(self._runs.values())
        self._runs.clear()
        for task in tasks:
            task.cancel()
        self._stop_watching()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _follow_if_done(self, before: Sequence) -> None:
        """A new take on a sequence that was DONE (every other shot made and finished): the
        sequence runs again, journaled, until that take has finished (DONE again, or STOPPED
        saying what to do). Only a sequence whose every shot has a take: a run here never
        makes (pays for) a shot the person didn't ask for."""
        if before.run_state is not RunState.DONE:
            return
        now = self._store.get(before.id)
        if now is None or any(shot.chosen_id is None for shot in now.shots):
            self._not_done_any_more(before.id)
            return
        task = self._runs.get(before.id)
        if task is None or task.done():
            self._store.set_run_state(before.id, RunState.RUNNING)  # at once, not next tick
            self._changed(before.id)
            task = asyncio.ensure_future(self._run(before.id))
            task.add_done_callback(_log_failure)
            self._runs[before.id] = task

    def _not_done_any_more(self, sequence_id: int) -> None:
        """A DONE sequence got a shot that isn't made: it is IDLE (Run makes it)."""
        current = self._store.get(sequence_id)
        if current is not None and current.run_state is RunState.DONE:
            self._store.set_run_state(sequence_id, RunState.IDLE)
            self._changed(sequence_id)

    async def _run(self, sequence_id: int, retake_failed: bool = False,
                   redo_outdated: bool = False) -> Sequence:
        self._store.set_run_state(sequence_id, RunState.RUNNING)
        self._changed(sequence_id)
        retried: set[int] = set()
        # Failed takes this run may replace (those failed before it started), each once.
        replaceable = ({take.id for shot in self._store.require(sequence_id).shots
                        if (take := self.chosen(shot)) is not None and _refunded_failure(take)}
                       if retake_failed else set())
        try:
            while True:
                sequence = self._store.require(sequence_id)
                todo = await self._next_step(sequence, retried, replaceable, redo_outdated)
                if todo is None:
                    self._store.set_run_state(sequence_id, RunState.DONE)
                    return self._changed(sequence_id)
        except (ExtendError, api.InvalidRequestError) as error:
            message = getattr(error, "message", str(error))
            self._store.set_run_state(sequence_id, RunState.STOPPED, message)
            return self._changed(sequence_id)
        except KeyError:  # the sequence was removed while running
            return Sequence(sequence_id, "", RunState.IDLE, (), 0.0, 0.0)

    async def _next_step(self, sequence: Sequence, retried: set[int],
                         replaceable: set[int], redo_outdated: bool = False) -> bool | None:
        """Move the first unfinished shot one step on (make it, wait for it, retry it, and
        with `redo_outdated` make an outdated one again); None when every shot has a
        finished chosen take (and none to redo)."""
        outdated = self.outdated_shots(sequence) if redo_outdated else {}
        for index, shot in enumerate(sequence.shots):
            take = self.chosen(shot)
            if take is None:
                await self._make_shot(sequence, index)
                return True
            if index in outdated and take.stage.is_settled:
                before = sequence.shots[index - 1].chosen_id
                match = self._made_from(shot, before) if before is not None else None
                if match is not None:  # made from that take already: chosen again, free
                    self._store.choose(shot.id, match.id)
                    self._changed(sequence.id)
                else:
                    await self._redo_shot(sequence, index)
                return True
            if take.stage == Stage.DONE:
                continue
            if not take.stage.is_settled:
                await self._wait(take.id, index)
                return True
            if take.id not in retried and _carries_on(take):
                retried.add(take.id)  # once per run: a problem that stays needs the person
                self._generations.retry(take.id)
                return True
            if self._adopt_sent_again(sequence, take):
                return True
            if take.id in replaceable and _refunded_failure(take):
                replaceable.discard(take.id)
                self._add_take(sequence, shot.id, take.settings, take.parent_id,
                               only_if_unchosen=False, replacing=take.id)
                return True
            reason = f": {take.error}" if take.error else ""
            todo = ("Make a new take of it" if _refunded_failure(take)
                    else "Fix it (its Retry, or a new take)")
            raise ExtendError(f"Shot {index + 1} (#{take.id}) stopped ({take.stage.value}"
                              f"{reason}). {todo}, then run the sequence again.")
        return None

    def _adopt_sent_again(self, sequence: Sequence, take: Generation) -> bool:
        """A failed take Retry sent anew before its copy was made the shot's take (by an
        older version, or a process stopped in between): the copy is adopted now, never a
        new take paid for beside it."""
        if self._sent_again(take) is None:
            return False
        assert take.sent_again_as is not None
        if self._store.adopt_copy(take.id, take.sent_again_as) is None:
            return False
        self._changed(sequence.id)
        return True

    def _sent_again(self, take: Generation) -> Generation | None:
        """The copy Retry made of this refunded failure, if it is in the history."""
        if take.sent_again_as is None or not _refunded_failure(take):
            return None
        return self._generations.get(take.sent_again_as)

    async def _make_shot(self, sequence: Sequence, index: int) -> Generation:
        """The shot's first take (only if it still has none: never made twice)."""
        shot = sequence.shots[index]
        settings, parent_id = await self._settings_for(sequence, index, shot.prompt,
                                                       shot.changes)
        if index == 0 and shot.changes.seed is None:
            settings = settings.with_seed(self._new_seed(settings))
        generation, _new = self._add_take(sequence, shot.id, settings, parent_id,
                                          only_if_unchosen=True)
        return generation

    async def _redo_shot(self, sequence: Sequence, index: int) -> Generation:
        """A new take of an outdated shot, from the chosen take of the shot before."""
        shot = sequence.shots[index]
        settings, parent_id = await self._settings_for(sequence, index, shot.prompt,
                                                       shot.changes)
        generation, _new = self._add_take(sequence, shot.id, settings, parent_id,
                                          only_if_unchosen=False)
        return generation

    async def _settings_for(self, sequence: Sequence, index: int, prompt: str,
                            changes: SettingsChanges) -> tuple[GenerationSettings, int | None]:
        """The settings of a new take of shot `index` and its parent: the first shot's own,
        a later one's from the shot before's finished take and its exact last frame."""
        if index == 0:
            return applied(GenerationSettings(prompt), changes, prompt=_prompt(prompt)), None
        before = sequence.shots[index - 1]
        if before.chosen_id is None:
            raise ExtendError(f"Shot {index} has no take yet; run the sequence to make it "
                              f"before shot {index + 1}.")
        parent = await extension.finished_parent(self._generations, before.chosen_id,
                                                 self._wait_s)
        start = await extension.last_frame_png(parent, self._engine.config.data_dir,
                                               self._take_frame)
        return continued(parent.settings, _prompt(prompt), start, _later(changes)), parent.id

    def _add_take(self, sequence: Sequence, shot_id: int, settings: GenerationSettings,
                  parent_id: int | None, *, only_if_unchosen: bool,
                  replacing: int | None = None) -> tuple[Generation, bool]:
        _check(settings, self)
        generation, new = self._store.add_take(
            shot_id, settings, only_if_unchosen=only_if_unchosen, replacing=replacing,
            parent_id=parent_id, output_dir=sequence.output_dir)
        if new:
            self._engine.adopt(generation)
        self._changed(sequence.id)
        return generation, new

    async def _wait(self, generation_id: int, index: int) -> None:
        try:
            async with asyncio.timeout(self._wait_s):
                await self._generations.wait_settled([generation_id])
        except TimeoutError:
            raise ExtendError(
                f"Shot {index + 1} (#{generation_id}) didn't finish within "
                f"{self._wait_s / 60:g} min. Run the sequence again to keep waiting.") from None

    def _new_seed(self, settings: GenerationSettings) -> int:
        from runway_desktop.engine.scheduler import random_seed

        return random_seed(self._generations.catalog.get(settings.model))

    # -- events ---------------------------------------------------------------------------------

    def _changed(self, sequence_id: int) -> Sequence:
        sequence = self._store.require(sequence_id)
        self._emit(SequenceChanged(sequence))
        if self._watch is not None:
            self._watch.saw(sequence)
        return sequence

    def _watch_others(self) -> None:
        if self._watching is not None and not self._watching.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a script reading sequences): only this process's changes
        self._watch = SequenceWatch(self._store)
        self._watching = loop.create_task(self._poll_others())

    def _stop_watching(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
        self._watching = None
        self._watch = None

    async def _poll_others(self) -> None:
        while self._watch is not None:
            await asyncio.sleep(WATCH_SECONDS)
            watch = self._watch
            if watch is None:
                return
            try:
                changed, removed = watch.poll()
                found = [(i, self._store.get(i)) for i in changed]
            except Exception:  # the journal closed or failed: the engine reports that
                log.debug("Watching other processes' sequences stopped", exc_info=True)
                return
            for sequence_id, sequence in found:
                self._emit(SequenceChanged(sequence) if sequence is not None
                           else SequenceRemoved(sequence_id))
            for sequence_id in removed:
                self._emit(SequenceRemoved(sequence_id))

    def _emit(self, event: SequenceEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a front end's bug must not stop a run
                log.exception("A sequence listener failed")

    def _sequence_of_shot(self, shot_id: int) -> int:
        for sequence in self._store.all():
            if any(shot.id == shot_id for shot in sequence.shots):
                return sequence.id
        raise KeyError(shot_id)


def outdated_shots(sequence: Sequence,
                   get: Callable[[int], Generation | None]) -> dict[int, int]:
    """SequenceService.outdated_shots, from the journal alone (`get`: a generation by id), for
    a reader with no engine (`sequence show`)."""
    outdated: dict[int, int] = {}
    shots = sequence.shots
    for index in range(1, len(shots)):
        chosen_id = shots[index].chosen_id
        take = get(chosen_id) if chosen_id is not None else None
        before = shots[index - 1]
        if take is None or take.parent_id is None or take.parent_id not in before.takes:
            continue
        if take.parent_id != before.chosen_id:
            outdated[index] = index - 1
        elif index - 1 in outdated:
            outdated[index] = outdated[index - 1]
    return outdated


def _log_failure(task: asyncio.Task[Sequence]) -> None:
    """A run nobody awaits: a failure the run itself doesn't turn into STOPPED is logged."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("A sequence run failed", exc_info=error)


def _chain(shots: Seq[tuple[str, SettingsChanges, GenerationSettings | None]]
           ) -> list[GenerationSettings]:
    """Each shot's settings from (prompt, changes, the settings it was made with if made):
    the first from its own changes, each later one from the one before (its start image a
    placeholder until that one has finished)."""
    planned: list[GenerationSettings] = []
    for index, (prompt, changes, made) in enumerate(shots):
        if made is not None:
            planned.append(made)
        elif index == 0:
            planned.append(applied(GenerationSettings(prompt), changes, prompt=prompt))
        else:
            planned.append(continued(planned[-1], prompt, _NOT_YET, changes))
    return planned


def _planned(plan: Plan) -> list[GenerationSettings]:
    return _chain([(shot.prompt, shot.changes, None) for shot in plan.shots])


def _refunded_failure(take: Generation) -> bool:
    """Nothing of the take is paid and nothing more will come of it: the server failed it and
    refunded it (Retry would make a new job), or it was cancelled before it reached the server.
    A new take is its only way on."""
    if take.stage == Stage.CANCELLED:
        return True
    # Not "Retry would send a copy": one Retry sent anew already is refunded all the same
    # (its copy becomes the shot's take: SequenceStore.adopt_copy).
    return take.stage == Stage.FAILED and refunded(take)


def _carries_on(take: Generation) -> bool:
    """A stopped take that Retry carries on without paying again (network, disk, key …)."""
    transition = step(take, Command.RETRY)
    return (transition is not None and Effect.SUBMIT_COPY not in transition.effects
            and take.action != Action.EDIT_INPUT)


def _check(settings: GenerationSettings, service: SequenceService) -> None:
    from runway_desktop.engine.scheduler import validate

    validate(settings, service._generations.catalog)


def _prompt(prompt: str) -> str:
    return prompt.strip()


def _later(changes: SettingsChanges | None) -> SettingsChanges:
    """Changes of a shot after the first: its start image is always the last frame."""
    if changes is None:
        return SettingsChanges()
    return replace(changes, image_path=None, image_url=None)


def _name_from(prompt: str) -> str:
    words = prompt.split()
    return " ".join(words[:6]) + ("…" if len(words) > 6 else "") or "Sequence"

