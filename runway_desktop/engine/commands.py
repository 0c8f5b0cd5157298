"""The one set of typed commands the window and the CLI call, and the events they listen to.

Front ends never read the journal and never call the engine by a method's name: they ask this
service (what exists, what a person may do with it) and tell it what the person chose. Whether a
command may act on a generation is the lifecycle table's answer (`allowed`); a command that does
not apply changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from runway_desktop import paths
from runway_desktop.engine.events import EngineEvent, GenerationRemoved, GenerationUpdated
from runway_desktop.engine.lifecycle_table import Command, allowed_commands
from runway_desktop.engine.records import Action, Generation, GenerationSettings, Stage

if TYPE_CHECKING:
    from runway_desktop import api
    from runway_desktop.api.catalog import ModelCatalog
    from runway_desktop.engine.events import Problem
    from runway_desktop.engine.scheduler import Engine, Listener


class GenerationService:
    """Typed commands over one engine (one queue)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        return self._engine.journal.unfinished()

    def without_thumbnail(self) -> list[Generation]:
        """Finished videos that have no thumbnail yet (made where there is no Qt: the CLI)."""
        return self._engine.journal.done_without_thumbnail()

    def note(self, generation_id: int) -> str | None:
        return self._engine.note(generation_id)

    @property
    def problem(self) -> Problem | None:
        return self._engine.problem

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

    def cancel(self, generation_ids: Iterable[int]) -> int:
        """Cancel work that has not reached the server (nothing charged); how many were."""
        return sum(self._engine.cancel(generation_id) for generation_id in generation_ids)

    def cancel_pending(self) -> int:
        return self._engine.cancel_pending()

    def stop_following(self, generation_id: int) -> None:
        """Stop following a generation the server may still finish and charge."""
        self._engine.stop_following(generation_id)

    def retry(self, generation_id: int) -> Generation:
        """Carry on where it stopped; only a refunded failure is sent anew (a new generation)."""
        return self._engine.retry(generation_id)

    def retry_waiting(self, *, skip: Callable[[int], bool] = lambda _id: False) -> int:
        """The banner's Retry: lift the pause (key, credits), and carry on with every generation
        whose fix is Retry (except those `skip` names, e.g. rows hidden by an undoable removal).
        """
        self._engine.resume()
        retried = 0
        for generation in self._engine.journal.with_stages([Stage.ATTENTION]):
            if (generation.action == Action.RETRY and not skip(generation.id)
                    and Command.RETRY in allowed_commands(generation)):
                self._engine.retry(generation.id)
                retried += 1
        return retried

    def unblock(self) -> None:
        """The person fixed what paused submission (key, credits): send the waiting work."""
        self._engine.resume()

    def rerun_with_new_seed(self, generation_id: int) -> Generation:
        """A new generation with the same settings and a new seed (paid anew)."""
        return self._engine.rerun_with_new_seed(generation_id)

    def redownload(self, generation_id: int) -> Generation:
        """Fetch again a finished video whose file is gone (never a new job)."""
        return self._engine.redownload(generation_id)

    def remove(self, generation_id: int, *, delete_file: bool = False) -> None:
        """Out of the history (running work is cancelled or no longer followed first)."""
        self._engine.remove(generation_id, delete_file=delete_file)

    def clear_finished(self) -> int:
        return self._engine.clear_finished()

    def reorder(self, generation_id: int, before_id: int | None) -> None:
        """Run a waiting generation before another (None: last)."""
        self._engine.move_before(generation_id, before_id)

    def set_favourite(self, generation_id: int, favourite: bool) -> None:
        self._engine.set_favourite(generation_id, favourite)

    def set_output_folder(self, generation_id: int, folder: Path) -> Generation:
        """Save a not-yet-saved video in another folder."""
        return self._engine.set_output_dir(generation_id, folder)

    def attach_thumbnail(self, generation_id: int, thumbnail_path: str) -> None:
        self._engine.attach_thumbnail(generation_id, thumbnail_path)

    async def import_jobs(self) -> int:
        """Bring in jobs made elsewhere with this key; how many were new."""
        return await self._engine.import_remote_jobs()

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
