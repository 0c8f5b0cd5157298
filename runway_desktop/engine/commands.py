"""The one set of typed commands the window and the CLI call, and the events they listen to.

Front ends never read the journal and never call the engine by a method's name: they ask this
service (what exists, what a person may do with it) and tell it what the person chose. Whether a
command may act on a generation is the lifecycle table's answer (`allowed`); a command that does
not apply changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from runway_desktop import paths
from runway_desktop.engine import extension
from runway_desktop.engine.events import EngineEvent, GenerationRemoved, GenerationUpdated
from runway_desktop.engine.journal import JournalError
from runway_desktop.engine.lifecycle_table import (
    CARRY_ON,
    TERMINAL_STAGES,
    WAITING_STAGES,
    Command,
    Effect,
    allowed_commands,
    clearable,
    step,
)
from runway_desktop.engine.part_origin import discard_part
from runway_desktop.engine.records import (
    Action,
    Generation,
    GenerationSettings,
    Stage,
    StopCause,
)
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.settings_changes import SettingsChanges, continued
from runway_desktop.engine.video.metadata import sidecar_of

if TYPE_CHECKING:
    from runway_desktop import api
    from runway_desktop.api.catalog import ModelCatalog
    from runway_desktop.engine.events import Problem
    from runway_desktop.engine.importer import ImportPlan, ImportResult
    from runway_desktop.engine.scheduler import Engine, Listener

# How often a command decides again when another process moved the row on as it was decided.
MOVED_ON_TRIES = 3


class GenerationService:
    """Typed commands over one engine (one queue)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._journal = engine.journal

    # -- what front ends read -------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Every change (GenerationUpdated, GenerationRemoved, AccountUpdated, ProblemChanged);
        returns the unsubscribe function."""
        return self._engine.subscribe(listener)

    def generations(self) -> list[Generation]:
        return self._engine.generations()

    def get(self, generation_id: int) -> Generation | None:
        return self._engine.get(generation_id)

    @staticmethod
    def allowed(generation: Generation) -> frozenset[Command]:
        """What a person may do with this generation now (the lifecycle table's answer)."""
        return allowed_commands(generation)

    def unfinished(self) -> list[Generation]:
        return self._journal.unfinished()

    def without_thumbnail(self) -> list[Generation]:
        """Finished videos that have no thumbnail yet (made where there is no Qt: the CLI)."""
        return self._journal.done_without_thumbnail()

    def note(self, generation_id: int) -> str | None:
        return self._engine.note(generation_id)

    @property
    def problem(self) -> Problem | None:
        return self._engine.problem

    def refused(self, error: JournalError) -> None:
        """A command raised `error`: if another process's lock was in the way, the queue stops
        too and carries on once it goes (its problem clearing says when to ask again)."""
        self._engine.refused_by_lock(error)

    @property
    def account(self) -> api.Account | None:
        return self._engine.account

    @property
    def has_api_key(self) -> bool:
        return bool(self._engine.api_key)

    @property
    def output_folder(self) -> Path:
        return self._engine.config.output_dir

    @property
    def thumbnails_folder(self) -> Path:
        """Where first-frame thumbnails are kept (`<id>.jpg`)."""
        return paths.thumbnails_dir(self._engine.config.data_dir)

    @property
    def catalog(self) -> ModelCatalog:
        """The models on offer and their prices, as known now (CatalogChanged when it moves)."""
        return self._engine.catalog

    def check_balance(self) -> None:
        """Read the balance again in the background (AccountUpdated when it answers)."""
        if self._engine.api_key:
            self._engine.refresh_account_soon()

    # -- what people ask for --------------------------------------------------------------------

    def submit(self, settings: GenerationSettings, *,
               output_dir: Path | None = None) -> Generation:
        """Validate, journal and queue one generation (bad settings raise before it is kept)."""
        return self._engine.submit(settings, output_dir=output_dir)

    def submit_many(self, batch: Iterable[GenerationSettings]) -> list[Generation]:
        return self._engine.submit_many(batch)

    # Every command asks the lifecycle table whether it may act, and where it leads.

    def cancel(self, generation_ids: Iterable[int]) -> int:
        """Cancel work that has not reached the server (nothing charged); how many were."""
        return sum(self._cancel(generation_id) for generation_id in generation_ids)

    def _cancel(self, generation_id: int) -> bool:
        generation = self._journal.get(generation_id)
        if generation is None or step(generation, Command.CANCEL) is None:
            return False  # too late: it reached the server (stop following it instead)
        # Written only if still where it was read: another process sending it meanwhile
        # wins (its job is paid; a 'cancelled' over it would lose the job id).
        if self._engine.feed(generation, Command.CANCEL, finished_at=time.time()) is None:
            return False
        self._engine.stop_task(generation_id)
        return True

    def cancel_pending(self) -> int:
        """Cancel everything still waiting its turn (not yet picked up to run)."""
        waiting = [g.id for g in self._journal.with_stages(WAITING_STAGES)
                   if not self._engine.is_driving(g.id)]
        return self.cancel(waiting)

    def stop_following(self, generation_id: int) -> None:
        """There is no cancel endpoint: the server may still finish the job and charge it.
        Work that never reached the server is cancelled instead (nothing charged)."""
        for _ in range(MOVED_ON_TRIES):  # another process may move it on as it is decided
            generation = self._journal.require(generation_id)
            if step(generation, Command.CANCEL) is not None:
                if self._cancel(generation_id):
                    return
                continue
            if step(generation, Command.STOP_FOLLOWING) is None:
                return  # settled already: nothing is being followed
            stopped = self._engine.feed(
                generation,
                Command.STOP_FOLLOWING,
                finished_at=time.time(),
                error="No longer followed. apiframe has no cancel, so the job may still finish "
                "and be charged; import it later from your apiframe history.",
                action=None,
            )
            if stopped is not None:
                self._engine.stop_task(generation_id)
                return

    def retry(self, generation_id: int) -> Generation:
        """Carry on where it stopped. Only a job apiframe failed and refunded is sent anew (a
        new generation, same settings), once: a failure sent anew already sends nothing and
        gives the generation it made (for the front end to show). One apiframe did not refund
        is followed again, never paid twice."""
        generation = self._journal.require(generation_id)
        transition = step(generation, Command.RETRY)
        if transition is None:
            return self.sent_again(generation_id) or generation
        if Effect.SUBMIT_COPY in transition.effects:
            # From the same start (an extension's parent's last frame): the same clip again.
            # The failed row says so in the same write, and its Retry shows the copy from then
            # on (the table): a second Retry, the person unsure the first worked — or another
            # process's Retry at the same moment — paid a second time.
            copy = self._engine.submit_copy(generation, output_dir=_folder(generation))
            if copy is None:
                return self.sent_again(generation_id) or self._journal.require(generation_id)
            # A sequence's failed take: the copy is that shot's take now (else the shot asked
            # to pay for a new take while its copy was being made).
            SequenceStore(self._journal).adopt_copy(generation_id, copy.id)
            return copy
        self._engine.feed(generation, Command.RETRY, **CARRY_ON)
        return self._journal.require(generation_id)

    def retry_waiting(self, *, skip: Callable[[int], bool] = lambda _id: False) -> int:
        """The banner's Retry: lift the pause (key, credits), and carry on with every generation
        whose fix is Retry (except those `skip` names, e.g. rows hidden by an undoable removal).
        """
        self._engine.resume()
        retried = 0
        for generation in self._journal.with_stages([Stage.ATTENTION]):
            if (generation.action == Action.RETRY and not skip(generation.id)
                    and Command.RETRY in allowed_commands(generation)):
                self.retry(generation.id)
                retried += 1
        return retried

    def unblock(self) -> None:
        """The person fixed what paused submission (key, credits): send the waiting work."""
        self._engine.resume()

    def rerun_with_new_seed(self, generation_id: int) -> Generation:
        """A new generation with the same settings and a new seed (paid anew)."""
        from runway_desktop.engine.scheduler import random_seed

        generation = self._journal.require(generation_id)
        model = self.catalog.get(generation.settings.model)
        return self.submit(generation.settings.with_seed(random_seed(model)),
                           output_dir=_folder(generation))

    async def extend(self, generation_id: int, prompt: str, *,
                     changes: SettingsChanges | None = None, output_dir: Path | None = None,
                     wait_s: float = extension.DEFAULT_WAIT_S,
                     take_frame: extension.LastFrameTaker | None = None) -> Generation:
        """A new generation that starts from this clip's exact last frame (paid anew): the
        same model, ratio, duration, seed and settings unless `changes` says otherwise, the
        new `prompt`; it records its parent (`parent_id`) and saves where the parent did
        (or in `output_dir`).

        A clip still running or downloading is waited for (up to `wait_s` seconds). Raises
        ExtendError (engine/extension.py: what happened, what to do) when the clip can't be
        extended, and api.InvalidRequestError for settings the model refuses; nothing is
        journaled then. `take_frame` replaces the QtMultimedia decoder (which needs a Qt
        application and a qasync loop)."""
        parent = await extension.finished_parent(self, generation_id, wait_s)
        start = await extension.last_frame_png(parent, self._engine.config.data_dir, take_frame)
        settings = continued(parent.settings, prompt.strip(), start, changes)
        return self._engine.submit(settings, output_dir=output_dir or _folder(parent),
                                   parent_id=parent.id)

    def redownload(self, generation_id: int) -> Generation:
        """Fetch again a finished video whose file is gone (never a new job)."""
        generation = self._journal.require(generation_id)
        if step(generation, Command.REDOWNLOAD) is None:
            return generation
        again = self._engine.feed(generation, Command.REDOWNLOAD, video_path=None, progress=0,
                                  thumbnail_path=None, **CARRY_ON)
        return again or self._journal.require(generation_id)

    def remove(self, generation_id: int, *, delete_file: bool = False) -> None:
        """Out of the history (the person's explicit choice); running work is cancelled, or
        no longer followed, first."""
        generation = self._journal.get(generation_id)
        if generation is None:
            return
        self.stop_following(generation_id)  # cancels what never reached the server
        if delete_file:
            sidecar = sidecar_of(Path(generation.video_path)) if generation.video_path else None
            for path in (generation.video_path, generation.thumbnail_path, sidecar):
                if path:
                    with contextlib.suppress(FileNotFoundError):
                        Path(path).unlink()
        self._journal.remove(generation_id)
        self._engine.publish(GenerationRemoved(generation_id))
        self._forget_unused_last_frames()
        self._forget_links_to_removed()

    def sequence_takes(self) -> set[int]:
        """The generations that are takes of a sequence's shots (Clear finished keeps them)."""
        from runway_desktop.engine.sequence_store import SequenceStore

        return SequenceStore(self._journal).take_ids()

    def clear_finished(self) -> int:
        """Remove finished items from the history (favourites and sequences' takes stay; files
        stay on disk)."""
        takes = self.sequence_takes()
        finished = [g for g in self._journal.with_stages(TERMINAL_STAGES)
                    if clearable(g) and g.id not in takes]
        for generation in finished:
            self._journal.remove(generation.id)
            self._engine.publish(GenerationRemoved(generation.id))
        if finished:
            self._forget_unused_last_frames()
            self._forget_links_to_removed()
        return len(finished)

    def sent_again(self, generation_id: int) -> Generation | None:
        """The generation Retry made of this refunded failure (None: it made none, or it left
        the history)."""
        generation = self._journal.get(generation_id)
        if generation is None or step(generation, Command.SHOW_SENT_AGAIN) is None:
            return None
        return self._journal.get(generation.sent_again_as or 0)

    def _forget_links_to_removed(self) -> None:
        """A failure 'sent again as' a generation the person removed may be retried anew."""
        with contextlib.suppress(JournalError):
            for generation in self._journal.forget_links_to_removed():
                self._engine.publish(GenerationUpdated(generation))

    def _forget_unused_last_frames(self) -> None:
        """Extend's start images (in the data folder) that no generation names any more."""
        with contextlib.suppress(OSError, JournalError):
            extension.forget_unused_last_frames(self._journal, self._engine.config.data_dir)

    def reorder(self, generation_id: int, before_id: int | None) -> None:
        """Run a waiting generation before another (None: last)."""
        if step(self._journal.require(generation_id), Command.REORDER) is None:
            return
        self._engine.publish(GenerationUpdated(self._journal.move_before(generation_id,
                                                                         before_id)))

    def set_favourite(self, generation_id: int, favourite: bool) -> None:
        self._journal.update(generation_id, favourite=favourite)
        self._engine.publish(GenerationUpdated(self._journal.require(generation_id)))

    def set_output_folder(self, generation_id: int, folder: Path) -> Generation:
        """Save a not-yet-saved video in another folder (the old one is full or gone)."""
        generation = self._journal.require(generation_id)
        if step(generation, Command.SET_OUTPUT_FOLDER) is None:
            return generation
        if generation.video_path:
            discard_part(Path(generation.video_path))
        # Whoever downloads it now (here or in another process) stops at its next write; the
        # next holder starts the file in the new folder.
        updated = self._journal.update(generation_id, output_dir=str(folder), video_path=None,
                                       free_lease=True)
        self._engine.publish(GenerationUpdated(updated))
        return updated

    def carry_on_in_output_folder(self) -> int:
        """Settings were saved: the videos that stopped because their folder couldn't be written
        or had no room ("… or choose another output folder in Settings") go on into the output
        folder as set now (into the same one, a full disk's part resumes: space may be free).
        Their own folder may be the one that failed, so each follows the setting from here on;
        a partial download elsewhere is dropped (it resumes only in the same folder). How many
        went on."""
        folder = self._engine.config.output_dir
        carried = 0
        for generation in self._journal.with_stages([Stage.ATTENTION]):
            stopped_on_it = (generation.action is Action.CHOOSE_FOLDER
                             or generation.stop_cause is StopCause.OUTPUT_FULL)
            if not stopped_on_it or Command.RETRY not in allowed_commands(generation):
                continue
            video = Path(generation.video_path) if generation.video_path else None
            if video is not None and video.parent != folder:
                discard_part(video)
                video = None
            self._journal.update(generation.id, output_dir=None,
                                 video_path=str(video) if video else None, free_lease=True)
            self.retry(generation.id)
            carried += 1
        return carried

    def attach_thumbnail(self, generation_id: int, thumbnail_path: str) -> None:
        self._engine.publish(GenerationUpdated(
            self._journal.update(generation_id, thumbnail_path=thumbnail_path)))

    async def plan_import(self) -> ImportPlan:
        """What importing would do — how many jobs, how many videos to download, how many the
        person removed (skipped) — so a front end can ask first; nothing changes yet."""
        return await self._engine.plan_import()

    def import_planned(self, plan: ImportPlan, *, output_dir: Path | None = None) -> ImportResult:
        """Do what `plan` says; what it brings saves into `output_dir` (else the output
        folder). Rows whose POST answer was lost, or that were no longer followed, get their
        job back (their own seed, settings and folder); removed jobs are skipped."""
        return self._engine.apply_import(plan, output_dir=output_dir)

    async def import_jobs(self, *, output_dir: Path | None = None) -> ImportResult:
        """`plan_import`, then `import_planned`, without asking."""
        return self.import_planned(await self.plan_import(), output_dir=output_dir)

    # -- waiting --------------------------------------------------------------------------------

    async def wait_settled(self, generation_ids: Iterable[int]) -> list[Generation]:
        """Until each is finished or needs the person (raises JournalError if the engine
        stopped because its history can't be written)."""
        return await self._engine.wait_settled(generation_ids)

    async def wait_accepted(self, generation_id: int) -> Generation | None:
        """Until the server has the job (or it settled without one: it needs the person)."""
        done = asyncio.Event()

        def check(event: EngineEvent | None = None) -> None:
            if isinstance(event, GenerationRemoved) and event.generation_id == generation_id:
                done.set()
                return
            if isinstance(event, GenerationUpdated) and event.generation.id != generation_id:
                return
            g = event.generation if isinstance(event, GenerationUpdated) else self.get(
                generation_id)
            if g is None or g.job_id or g.stage.is_settled:
                done.set()

        unsubscribe = self.subscribe(check)
        try:
            check()
            await done.wait()
        finally:
            unsubscribe()
        return self.get(generation_id)


def _folder(generation: Generation) -> Path | None:
    """The folder chosen for this generation (a new one made from it saves there too)."""
    return Path(generation.output_dir) if generation.output_dir else None
