"""The engine: a persistent queue of generations, run with bounded concurrency.

Slots: a generation holds one from PREPARING until the server finishes it, so no more than the
team's `maxConcurrentJobs` are on the server at once; the rest wait locally, in `position` order.
An auth or credits problem pauses submission (never polling or downloads) until it is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from runway_desktop import __version__, api
from runway_desktop.api.catalog import BUILT_IN_CATALOG, ModelCatalog, ModelSpec
from runway_desktop.api.network import tls_context
from runway_desktop.api.url_policy import UrlPolicy
from runway_desktop.api.urls import normalize_base_url
from runway_desktop.engine import importer, team_limit, work_files
from runway_desktop.engine.balance import AccountWatcher
from runway_desktop.engine.catalog_store import CatalogStore
from runway_desktop.engine.cdn_watch import CdnWatcher
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.events import (
    AccountUnavailable,
    AccountUpdated,
    CatalogChanged,
    EngineEvent,
    GenerationRemoved,
    GenerationUpdated,
    Problem,
    ProblemChanged,
    ProblemKind,
)
from runway_desktop.engine.journal import Journal, JournalError, LeaseLost, RowMovedOn
from runway_desktop.engine.journal_watch import JournalChanges
from runway_desktop.engine.leases import held_context
from runway_desktop.engine.lifecycle import LEGACY_NO_LINK, EngineConfig, Lifecycle, Thumbnailer
from runway_desktop.engine.lifecycle_table import (
    AWAITING_CREDITS_STAGES,
    CARRY_ON,
    LOCAL_SLOT_STAGES,
    RESTART_STAGES,
    RESUMABLE_STAGES,
    SLOT_STAGES,
    WAITING_STAGES,
    Command,
    Event,
    step,
)
from runway_desktop.engine.problems import Verdict
from runway_desktop.engine.records import (
    Action,
    Generation,
    GenerationSettings,
    Stage,
    StopCause,
)
from runway_desktop.engine.retry import RateGate
from runway_desktop.engine.sharing import QueueSharing
from runway_desktop.engine.thumbnail_backfill import ThumbnailBackfill

log = logging.getLogger(__name__)

WAIT_FOR_PERSON_ACTIONS = (Action.OPEN_SETTINGS, Action.BUY_CREDITS)
# How often one generation carries on by itself after apiframe or the video server was
# unreachable (per run): a route that stays broken while others answer must not make it go
# round for ever.
BACK_ONLINE_CARRY_ONS = 3
# A queue stopped by another process's write lock checks this often whether the lock went
# (first, then doubling up to the last): one write attempt that never waits, no busy loop.
LOCK_CHECK_EVERY = (0.25, 4.0)
RESUMES_BY_ITSELF = "the queue carries on by itself as soon as it can write again"
CDN_CHECK_TIMEOUT = 15.0  # the longest one check of a video server that didn't answer may take

Listener = Callable[[EngineEvent], object]  # what a listener returns is ignored


def random_seed(model: ModelSpec | None = None) -> int:
    low, high = (model or BUILT_IN_CATALOG.default).seed_range
    return random.SystemRandom().randint(low, high)


class Engine:
    def __init__(
        self,
        journal: Journal,
        config: EngineConfig,
        api_key: str | None,
        *,
        thumbnailer: Thumbnailer | None = None,
    ) -> None:
        try:  # a refused API address is a clear error now, before anything is locked
            normalize_base_url(config.base_url)
        except ValueError as exc:
            raise api.InvalidRequestError(str(exc), field="base_url") from None
        self.journal = journal
        self.config = config
        self._api_key = api_key
        self._thumbnailer = thumbnailer
        self._listeners: list[Listener] = []
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._gate = RateGate(cap=config.max_retry_after)
        self._notes: dict[int, str] = {}  # generation id → remark ("taking unusually long")
        self._halted: JournalError | None = None
        self._lock_wait: asyncio.Task[None] | None = None  # a halt by a lock: waits for it to go
        self._problem: Problem | None = None
        # Rows stopped only because apiframe (StopCause.API_UNREACHABLE) or the video server
        # (CDN_UNREACHABLE) couldn't be reached carry on once it answers again, a few times.
        self._carried_on: dict[int, int] = {}  # generation id → carry-ons after an outage
        self._cdn_watch = CdnWatcher(
            self._require_cdn, UrlPolicy.for_base_url(config.base_url),
            replace(config.backoff, cap=max(config.backoff.cap, 60.0)),
            waiting=self._waiting_for_cdn, on_back=self._carry_on_after_cdn_outage,
            timeout=min(config.request_timeout, CDN_CHECK_TIMEOUT))
        self._accounts = AccountWatcher(
            self._require_client, self._gate, on_account=self._on_account,
            on_checked=self._on_account_checked, on_refused=self._on_key_refused,
            offline=self._offline, backoff=config.backoff,
            on_failed=lambda error: self._emit(AccountUnavailable(error.message)))
        self._checked_credits: int | None = None  # the balance the last check found
        self._running = False
        self._client: api.ApiClient | None = None
        # Clients of keys replaced while requests may still be under way on them: closed at stop.
        self._retired_clients: list[api.ApiClient] = []
        self._cdn: httpx.AsyncClient | None = None
        self._lifecycle: Lifecycle | None = None
        # Models and prices: built in, then the disk cache; apiframe's answer after start.
        self._catalogs = CatalogStore(config.data_dir)
        self._catalog_task: asyncio.Task[ModelCatalog] | None = None
        # Many processes, one queue: this engine drives only the generations it leases.
        self._sharing = QueueSharing(
            journal, config.leases, on_changes=self._on_journal_changes,
            on_lost=self._on_leases_lost, on_heartbeat=self._on_heartbeat, on_error=self._halt)
        self._leases = self._sharing.leases
        self._own: set[int] = set()  # submitted here: claimed first when a slot frees
        # Rows of other processes whose charge (a job taken) or refund (a failure) the balance
        # shown has been checked for: (generation id, failed).
        self._credits_seen: set[tuple[int, bool]] = set()
        self._done_elsewhere: set[int] = set()  # finished by another process, as last seen
        self._team_limit = team_limit.load(config.data_dir)  # as another process last read it
        # Videos other processes finish come without a thumbnail (a command has no Qt).
        self._thumbnails = ThumbnailBackfill(thumbnailer, config.data_dir,
                                             attach=self.attach_thumbnail)

    # -- start and stop -------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the HTTP clients inside the running loop, recover unfinished work, begin."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        work_files.sweep(self.config.data_dir)  # what processes that ended left mid-upload
        try:
            # The CDN client never carries the API key: a separate client with no auth at all.
            self._cdn = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.request_timeout, connect=15.0),
                follow_redirects=True,
                headers={"User-Agent": f"runway-desktop/{__version__}"},
                proxy=self.config.proxy,  # None: the system's (trust_env)
                verify=tls_context(),  # the OS certificate store, like the API client's
            )
            self._client, self._lifecycle = None, None  # this start's, over this start's CDN
            self._make_client()
            self._leases.look_for_dead()
            self._recover()
            self._sharing.start()
        except BaseException:
            # Whatever stopped the start (a refused address, an unwritable journal) must not
            # leave work leased for the next process.
            await self._sharing.stop()
            await self._close_clients()
            raise
        self._running = True
        self._cdn_watch.watch()  # finished videos an earlier run left waiting for the CDN
        self._catalog_task = asyncio.ensure_future(self._refresh_catalog())
        if self._api_key:
            self.refresh_account_soon()
        self._schedule()

    async def stop(self) -> None:
        """Stop following everything; the journal keeps it all for the next start."""
        self._running = False
        tasks: list[asyncio.Future[Any]] = [*self._tasks.values()]
        for watcher in (self._accounts.task, self._cdn_watch.task, self._lock_wait):
            if watcher:
                tasks.append(watcher)
        if self._catalog_task:
            tasks.append(self._catalog_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        await self._sharing.stop()  # hands its leases back: another process carries on
        await self._thumbnails.stop()
        await self._close_clients()

    async def _close_clients(self) -> None:
        for retired in self._retired_clients:
            await retired.aclose()
        self._retired_clients.clear()
        if self._client:
            await self._client.aclose()
        if self._cdn:
            await self._cdn.aclose()

    def _make_client(self) -> None:
        old = self._client
        self._client = api.ApiClient(
            self._api_key or "", self.config.base_url, timeout=self.config.request_timeout,
            deadline=self.config.request_deadline, upload_deadline=self.config.upload_deadline,
            proxy=self.config.proxy,
        )
        if self._lifecycle is not None:
            # A new key: the generations under way make their next request with it. Closing
            # the old client under them stopped each one "unexpectedly" (RuntimeError), and a
            # request it is still sending finishes first.
            self._lifecycle.client = self._client
        else:
            self._lifecycle = Lifecycle(
                self.journal, self.config, self._client, self._require_cdn(), self._gate,
                update=self._update, on_problem=self._on_problem, on_success=self._on_success,
                thumbnailer=self._thumbnailer, on_note=self._note, catalog=lambda: self.catalog,
                carries_on=self._may_carry_on,
            )
        if old is not None:
            self._retired_clients.append(old)

    def _require_cdn(self) -> httpx.AsyncClient:
        assert self._cdn is not None, "Engine.start() first"
        return self._cdn

    def _recover(self) -> None:
        """After a crash: work that never reached the server is prepared again from scratch."""
        self._restart_abandoned()
        # Rows an older version marked FAILED when a finished job came without its link: the
        # job was paid for, so follow it again (never submit it anew).
        for generation in self.journal.with_stages([Stage.FAILED]):
            if generation.error == LEGACY_NO_LINK and step(generation, Event.RESTARTED):
                self.feed(generation, Event.RESTARTED, **CARRY_ON)

    def _restart_abandoned(self) -> None:
        """Local work no live process holds (its process ended mid-way) starts over."""
        for generation_id in self._leases.claim(RESTART_STAGES):
            generation = self.journal.get(generation_id)
            if generation is not None and step(generation, Event.RESTARTED) is not None:
                self.feed(generation, Event.RESTARTED, progress=0)
            else:
                self._leases.release(generation_id)

    # -- other processes on the same queue (engine/sharing.py) ---------------------------------

    def _on_journal_changes(self, changes: JournalChanges) -> None:
        """Another process changed the journal: say what it changed, then use freed slots."""
        credits_moved = False
        for generation in changes.updated:
            if generation.id in self._tasks and self._leases.holds(generation.id):
                continue  # ours to drive: our own events say where it is
            # A remark ("taking unusually long") was on our own following of it: moved on
            # elsewhere (stopped following there, or taken over while we were stopped), it is
            # no longer ours to make.
            self._notes.pop(generation.id, None)
            self._emit(self._updated(generation))
            self._thumbnails.offer(generation)
            credits_moved = self._credits_moved_elsewhere(generation) or credits_moved
            if generation.stage is Stage.DONE:
                self._done_elsewhere.add(generation.id)
            else:
                self._done_elsewhere.discard(generation.id)
            if generation.stop_cause is StopCause.CDN_UNREACHABLE and self._running:
                self._cdn_watch.watch()  # another process's download waits for the CDN
        for generation_id in changes.removed:
            self._notes.pop(generation_id, None)
            self._emit(GenerationRemoved(generation_id))
        if credits_moved and self._api_key and self._running:
            self.refresh_account_soon()  # the balance shown, and Generate's price check
        self._schedule()

    def _credits_moved_elsewhere(self, generation: Generation) -> bool:
        """Whether another process's row moved the team's credits since we last looked:
        apiframe took its job (charged) or it failed (refunded)."""
        if not generation.job_id:
            return False
        mark = (generation.id, generation.stage is Stage.FAILED)
        if mark in self._credits_seen:
            return False
        self._credits_seen.add(mark)
        return True

    def _on_leases_lost(self, generation_ids: set[int]) -> None:
        for generation_id in generation_ids:
            self.stop_task(generation_id)

    def _on_heartbeat(self) -> None:
        if self._running:
            self._restart_abandoned()
            self._schedule()

    # -- events ---------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: EngineEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken front end must not break the queue
                log.exception("Engine listener failed on %s", type(event).__name__)

    def _update(self, generation_id: int, **fields: object) -> Generation:
        """A write of the work in progress: only while this engine holds the row's lease
        (LeaseLost otherwise: the task stops, whoever holds it now carries on)."""
        held_by = self._leases.owner if self._leases.holds(generation_id) else None
        return self._write(generation_id, fields, held_by=held_by)

    def _write(self, generation_id: int, fields: dict[str, object], *,
               held_by: str | None = None, free_lease: bool = False,
               if_stage: Stage | None = None) -> Generation:
        try:
            generation = self.journal.update(generation_id, held_by=held_by,
                                             free_lease=free_lease, if_stage=if_stage, **fields)
        except JournalError as error:
            self._halt(error)
            raise
        if "stage" in fields and not generation.stage.is_on_server:
            self._notes.pop(generation_id, None)
        if generation.stop_cause is StopCause.CDN_UNREACHABLE and self._running:
            self._cdn_watch.watch()
        self._emit(self._updated(generation))
        if fields.get("job_id") and self._api_key:
            # apiframe took the job and its credits: the balance shown (and Generate's price
            # check) follows now, not minutes later when the video is done.
            self.refresh_account_soon()
        if "stage" in fields:
            self._schedule()
        return generation

    def _updated(self, generation: Generation) -> GenerationUpdated:
        return GenerationUpdated(generation, self._notes.get(generation.id))

    def _note(self, generation_id: int, note: str | None) -> None:
        """Remark on a generation without changing it (shown next to its stage)."""
        if self._notes.get(generation_id) == note:
            return
        if note is None:
            self._notes.pop(generation_id, None)
        else:
            self._notes[generation_id] = note
        generation = self.journal.get(generation_id)
        if generation is not None:
            self._emit(self._updated(generation))

    def note(self, generation_id: int) -> str | None:
        """The current remark on a generation, e.g. that it is taking unusually long."""
        return self._notes.get(generation_id)

    # -- state the front ends read --------------------------------------------------------------

    @property
    def api_key(self) -> str | None:
        return self._api_key

    @property
    def account(self) -> api.Account | None:
        return self._accounts.account

    @property
    def problem(self) -> Problem | None:
        return self._problem

    @property
    def catalog(self) -> ModelCatalog:
        """The models on offer and their prices, as known now (CatalogChanged when it moves)."""
        return self._catalogs.catalog

    async def wait_catalog(self) -> ModelCatalog:
        """The catalog once the refresh begun at start has ended (or what is known, if none)."""
        if self._catalog_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._catalog_task)
        return self.catalog

    def generations(self) -> list[Generation]:
        return self.journal.all()

    def get(self, generation_id: int) -> Generation | None:
        return self.journal.get(generation_id)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    @property
    def halted(self) -> JournalError | None:
        """Why the engine stopped by itself (its history can't be written), or None."""
        return self._halted

    # -- what people ask for --------------------------------------------------------------------

    def submit(self, settings: GenerationSettings, *, output_dir: Path | None = None,
               parent_id: int | None = None) -> Generation:
        """Validate, journal and queue one generation; bad settings raise before it is kept.
        `parent_id`: the generation whose last frame it starts from (Extend)."""
        validate(settings, self.catalog)
        generation = self.journal.add(settings,
                                      output_dir=str(output_dir) if output_dir else None,
                                      parent_id=parent_id)
        return self.adopt(generation)

    def submit_copy(self, original: Generation, *,
                    output_dir: Path | None = None) -> Generation | None:
        """Send `original` (a refunded failure) anew, once: journaled together with the
        original's link to it, or None if another process sent it again first."""
        validate(original.settings, self.catalog)
        copy = self.journal.add_copy(original.id, original.settings,
                                     output_dir=str(output_dir) if output_dir else None,
                                     parent_id=original.parent_id)
        if copy is None:
            return None
        # The original's link is news too (its Retry shows the copy from now on).
        self._emit(GenerationUpdated(self.journal.require(original.id)))
        return self.adopt(copy)

    def adopt(self, generation: Generation) -> Generation:
        """Queue a generation journaled elsewhere in this process (a sequence's take, written
        with its shot in one transaction: engine/sequence_store.py)."""
        self._own.add(generation.id)
        self._emit(GenerationUpdated(generation))
        self._schedule()
        return generation

    def submit_many(self, settings: Iterable[GenerationSettings]) -> list[Generation]:
        """Validate all, then journal the batch in one transaction (one fsync, not one each)."""
        batch = list(settings)
        for item in batch:
            validate(item, self.catalog)
        added = self.journal.add_many(batch)
        self._own.update(g.id for g in added)
        for generation in added:
            self._emit(GenerationUpdated(generation))
        self._schedule()
        return added

    # -- a person's commands: engine/commands.py ----------------------------------------------
    # Kept here as one-line calls for existing callers; front ends use GenerationService.

    @property
    def commands(self) -> GenerationService:
        """The typed commands over this engine (what the window and the CLI call)."""
        return GenerationService(self)

    def cancel_pending(self) -> int:
        return self.commands.cancel_pending()

    def stop_following(self, generation_id: int) -> None:
        self.commands.stop_following(generation_id)

    def retry(self, generation_id: int) -> Generation:
        return self.commands.retry(generation_id)

    def redownload(self, generation_id: int) -> Generation:
        return self.commands.redownload(generation_id)

    def rerun_with_new_seed(self, generation_id: int) -> Generation:
        return self.commands.rerun_with_new_seed(generation_id)

    def remove(self, generation_id: int, *, delete_file: bool = False) -> None:
        self.commands.remove(generation_id, delete_file=delete_file)

    def clear_finished(self) -> int:
        return self.commands.clear_finished()

    def set_favourite(self, generation_id: int, favourite: bool) -> None:
        self.commands.set_favourite(generation_id, favourite)

    def set_output_dir(self, generation_id: int, folder: Path) -> Generation:
        return self.commands.set_output_folder(generation_id, folder)

    def attach_thumbnail(self, generation_id: int, thumbnail_path: str) -> None:
        self.commands.attach_thumbnail(generation_id, thumbnail_path)

    def move_before(self, generation_id: int, before_id: int | None) -> None:
        self.commands.reorder(generation_id, before_id)

    def set_api_key(self, api_key: str | None) -> None:
        """A new key (or none): new client, and paused work may go again."""
        self._api_key = api_key
        if self._running:
            self._make_client()
            self.resume()

    def resume(self) -> None:
        """The person fixed what paused submission (key, credits): send the waiting work."""
        self._set_problem(None)
        for generation in self.journal.with_stages([Stage.ATTENTION]):
            if generation.action in WAIT_FOR_PERSON_ACTIONS:
                self.feed(generation, Event.UNBLOCKED, **CARRY_ON)
        if self._api_key:
            self.refresh_account_soon()
        self._schedule()

    # -- what the command service (engine/commands.py) works with -----------------------------

    def feed(self, generation: Generation, trigger: Event | Command,
             **fields: object) -> Generation | None:
        """Move a row the way the lifecycle table says (the trigger must apply to
        `generation` as read). None, and nothing written, if the row has left that stage
        since: another process driving it moved it on (e.g. sent it), and what the table
        allowed then may not hold now — the caller reads it again."""
        transition = step(generation, trigger)
        assert transition is not None, (generation.stage, trigger)
        # A command or outcome from outside the work in progress: whoever drives the row (this
        # process or another) lets go of it, and stops at its next write.
        self._leases.forget(generation.id)
        try:
            return self._write(generation.id, {"stage": transition.target(generation), **fields},
                               free_lease=True, if_stage=generation.stage)
        except RowMovedOn:
            log.info("Generation %s moved on before %s could be applied", generation.id,
                     trigger.name)
            return None

    def stop_task(self, generation_id: int) -> None:
        """Stop the work in flight for one generation (a person's command moved it)."""
        task = self._tasks.pop(generation_id, None)
        if task:
            task.cancel()

    def done_elsewhere(self, generation_id: int) -> bool:
        """Another process sharing the queue finished this generation (it took it over, or
        started it first), as far as this engine has seen."""
        return generation_id in self._done_elsewhere

    def is_driving(self, generation_id: int) -> bool:
        """This engine has picked the generation up (its task exists, maybe not started)."""
        return generation_id in self._tasks

    def publish(self, event: EngineEvent) -> None:
        """Tell every listener (the command service's changes, like the engine's own)."""
        self._emit(event)

    # -- model catalog --------------------------------------------------------------------------

    async def _refresh_catalog(self) -> ModelCatalog:
        """Labels and prices from `GET /v2/models`, in the background: nothing waits for it."""
        assert self._client is not None
        before = self.catalog
        try:
            after = await self._catalogs.refresh(self._client)
        except Exception:  # a catalog is a nicety: it never stops the queue
            log.exception("Refreshing the model catalog failed")
            return before
        if after != before:
            self._emit(CatalogChanged(after))
        return after

    def _refresh_catalog_if_stale(self) -> None:
        """apiframe answers: a model list it never gave this run (an offline start), gave
        long ago or with prices it no longer charges is asked for again, in the background."""
        task = self._catalog_task
        if self._running and self._catalogs.stale and (task is None or task.done()):
            self._catalog_task = asyncio.ensure_future(self._refresh_catalog())

    def _check_price(self, generation: Generation) -> None:
        """A generation charged another price than the catalog's: prices changed since it was
        read (the balance check this ends with reads it again)."""
        listed = generation.settings.price_in(self.catalog)
        if generation.credit_cost and listed is not None and generation.credit_cost != listed:
            log.info("Generation %s cost %s credits, the catalog said %s: reading it again",
                     generation.id, generation.credit_cost, listed)
            self._catalogs.mark_stale()

    # -- account (engine/balance.py) -----------------------------------------------------------

    def refresh_account_soon(self) -> None:
        """Fetch the balance in the background (after each generation, at start, on demand)."""
        if self._running:
            self._accounts.refresh_soon()

    async def refresh_account(self) -> api.Account:
        return await self._accounts.refresh()

    @property
    def refreshing_account(self) -> bool:
        """A background balance check is under way."""
        task = self._accounts.task
        return task is not None and not task.done()

    def _require_client(self) -> api.ApiClient:
        assert self._client is not None, "Engine.start() first"
        return self._client

    def _on_account(self, account: api.Account) -> None:
        limit = account.max_concurrent_jobs
        if limit and limit != self._team_limit:  # for the processes that start next
            self._team_limit = limit
            team_limit.save(self.config.data_dir, limit)
        self._emit(AccountUpdated(account))
        self._refresh_catalog_if_stale()

    def _on_key_refused(self, error: api.ApiError) -> None:
        self._set_problem(Problem(ProblemKind.AUTH, error.message, Action.OPEN_SETTINGS))

    def _on_account_checked(self, account: api.Account) -> None:
        """A background check answered: apiframe is reachable (an offline banner goes, the
        work its outage stopped carries on), and a key that works, or a balance that grew to
        cover the cheapest waiting generation, lifts the pause it caused."""
        known, self._checked_credits = self._checked_credits, account.credits
        self._on_success()
        # apiframe answers: rows it stopped by not answering carry on, those of an earlier
        # run too (the banner of their outage went with that run).
        self._carry_on_after_outage()
        problem = self._problem
        if problem and problem.kind == ProblemKind.AUTH:
            self.resume()  # the key works now
        elif problem and problem.kind == ProblemKind.CREDITS:
            waiting = self.journal.with_stages(AWAITING_CREDITS_STAGES)
            # Only known prices: an unknown one is apiframe's to judge at the next try.
            prices = [p for g in waiting if (p := g.settings.price_in(self.catalog)) is not None]
            # Only a balance that grew (a top-up) sends the work again: the balance that just
            # met a 402 would only meet another (apiframe's price may be above the one known).
            # The first balance of the run is no top-up: a 402 that came before the check
            # answered was sent the work again at once, paid for if the server took it.
            topped_up = known is not None and (account.credits or 0) > known
            if (topped_up and prices and account.credits is not None
                    and account.credits >= min(prices)):
                self.resume()
        self._schedule()

    def _offline(self) -> bool:
        return self._problem is not None and self._problem.kind is ProblemKind.OFFLINE

    # -- import (engine/importer.py) ------------------------------------------------------------

    async def import_remote_jobs(self, *, output_dir: Path | None = None) -> int:
        """Bring in jobs made elsewhere with this key (`GET /v2/jobs`); download finished ones
        (into `output_dir`, else the output folder). How many rows are new."""
        return self.apply_import(await self.plan_import(), output_dir=output_dir).added

    async def plan_import(self) -> importer.ImportPlan:
        """What importing would do (how many jobs, how many videos); nothing changes yet."""
        return await importer.plan_import(self._require_client(), self.journal)

    def apply_import(self, plan: importer.ImportPlan, *,
                     output_dir: Path | None = None) -> importer.ImportResult:
        result = importer.apply_import(
            plan, self.journal, feed=self.feed, added=lambda g: self._emit(GenerationUpdated(g)),
            output_dir=output_dir or self.config.output_dir, stop=self.stop_task)
        self._schedule()
        return result

    # -- scheduling -----------------------------------------------------------------------------

    def _schedule(self) -> None:
        # Runs on every stage change: ids only (reading whole rows here cost ~6 ms per call
        # with 200 jobs in flight — the responsiveness benchmark's biggest stall).
        if not self._running:
            return
        try:
            self._schedule_now()
        except JournalError as error:
            self._halt(error)

    def _schedule_now(self) -> None:
        """Lease and start what no live process drives: work already under way (a process
        ended, or let go), then waiting work while fewer than the team's limit run — counted
        over every process sharing the journal (engine/leases.py)."""
        launched = 0
        for generation_id in self._leases.claim(RESUMABLE_STAGES):
            if generation_id not in self._tasks:
                self._launch(generation_id, _stagger(launched))
                launched += 1
        if not self._api_key or (self._problem and self._problem.pauses_submission):
            return
        claimed = self._leases.claim_waiting(
            limit=self._max_concurrent(), waiting=WAITING_STAGES, holding=SLOT_STAGES,
            local=LOCAL_SLOT_STAGES, prefer=self._own)
        for generation_id in claimed:
            if generation_id not in self._tasks:
                self._launch(generation_id, _stagger(launched))
                launched += 1

    def _max_concurrent(self) -> int:
        return self._accounts.max_concurrent(self._team_limit
                                             or self.config.default_max_concurrent)

    def _launch(self, generation_id: int, delay: float = 0.0) -> None:
        assert self._lifecycle is not None
        # Its files are touched only while its lease surely runs (leases.ensure_held).
        held = held_context(functools.partial(self._leases.still_held, generation_id),
                            generation_id)
        task = asyncio.get_running_loop().create_task(
            self._lifecycle.drive(generation_id, delay), context=held)
        self._tasks[generation_id] = task
        task.add_done_callback(functools.partial(self._finished, generation_id))

    def _finished(self, generation_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(generation_id) is task:
            del self._tasks[generation_id]
        if generation_id not in self._tasks and self._running:  # (stop() releases them all)
            try:  # settled, stopped or lost: the row is free for whoever comes next
                self._leases.release(generation_id)
            except JournalError as journal_error:
                self._halt(journal_error)
                return
        if task.cancelled():
            return
        error = task.exception()  # read even when halted: else logged as "never retrieved"
        if self._halted is not None:
            return
        if isinstance(error, JournalError):
            self._halt(error)
            return
        if isinstance(error, LeaseLost):  # a command elsewhere, or a takeover after an expiry
            log.info("Generation %s is no longer driven here: %s", generation_id, error)
            self._schedule()
            return
        if error is not None:
            log.error("Generation %s stopped unexpectedly", generation_id, exc_info=error)
            with contextlib.suppress(Exception):
                stopped = self.journal.get(generation_id)
                if stopped is not None and step(stopped, Event.NEEDS_PERSON) is not None:
                    self.feed(
                        stopped, Event.NEEDS_PERSON, action=Action.RETRY,
                        error=f"Something unexpected went wrong ({type(error).__name__}). "
                        "The generation is kept; press Retry. Details are in the log.",
                    )
        try:
            generation = self.journal.get(generation_id)
        except JournalError as journal_error:
            self._halt(journal_error)
            return
        if generation and generation.stage.is_terminal:
            self._check_price(generation)
            self.refresh_account_soon()
        self._schedule()

    def _halt(self, error: JournalError) -> None:
        """The history can't be written: stop everything, once, and say so with what to do.

        Carrying on would repeat requests whose outcome can't be kept (and loop on them);
        everything already journaled resumes at the next start.
        """
        if self._halted is not None:
            return
        self._halted = error
        log.error("Stopping the queue: %s", error.message, exc_info=error)
        self._running = False
        for task in [*self._tasks.values(), self._accounts.task, self._cdn_watch.task]:
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self._sharing.halt()  # its leases expire: another process may carry on
        message = error.message
        if error.locked:  # nothing is wrong with the file: only another process's write is
            message = message.replace("then start Runway Desktop again", RESUMES_BY_ITSELF)
            self._lock_wait = asyncio.ensure_future(self._resume_when_unlocked())
        self._set_problem(Problem(ProblemKind.JOURNAL, message, None))

    def refused_by_lock(self, error: JournalError) -> None:
        """A person's command found the history locked by another process: stop as the queue's
        own write would have, so it carries on, and its problem clears, once the lock goes —
        an idle queue would never notice it go (and the window's word of the refusal stayed)."""
        if error.locked:
            self._halt(error)

    async def _resume_when_unlocked(self) -> None:
        """Halted by another process's write lock (one stopped mid-write, or a long write): once
        a write can start, carry on as a start would — the same leases and idempotency keys, so
        nothing is lost or paid twice — and the banner goes (a person's Try again not needed)."""
        delay, longest = LOCK_CHECK_EVERY
        while self.journal.locked_elsewhere():
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)
        log.info("The history can be written again: the queue carries on")
        self._lock_wait = None
        self._halted = None
        self._running = True
        try:
            self._sharing.resume()
            self._restart_abandoned()
        except JournalError as error:  # locked again already: wait again
            self._halt(error)
            return
        self._cdn_watch.watch()
        self._set_problem(None)
        if self._api_key:
            self.refresh_account_soon()
        self._schedule()

    # -- problems -------------------------------------------------------------------------------

    def _on_problem(self, verdict: Verdict) -> None:
        if verdict.problem:
            self._set_problem(verdict.problem)

    def _on_success(self) -> None:
        """A request went through: transient banners (offline, rate limited) can go — but not a
        wait still counting down (a poll going through says nothing about the submit gate)."""
        problem = self._problem
        if problem and not problem.pauses_submission:
            if problem.until is not None and problem.until > time.time():
                return
            self._set_problem(None)
            if problem.kind is ProblemKind.OFFLINE:  # it answers again (not a person's Retry)
                self._carry_on_after_outage()

    def _set_problem(self, problem: Problem | None) -> None:
        if problem != self._problem:
            self._problem = problem
            self._emit(ProblemChanged(problem))
            if problem is not None and problem.kind in (ProblemKind.CREDITS, ProblemKind.OFFLINE):
                # The balance that refused the work is shown, not the one from before; while
                # apiframe can't be reached, the same check watches for it to come back.
                self.refresh_account_soon()

    def _carry_on_after_outage(self) -> None:
        """apiframe answers again: what stopped only because it couldn't be reached carries on
        (the same idempotency key for a POST that may have left: never a second job)."""
        if not self._running:
            return
        try:
            self._carry_on(g for g in self.journal.with_stages([Stage.ATTENTION])
                           if g.stop_cause is StopCause.API_UNREACHABLE)
        except JournalError as error:
            self._halt(error)

    def _waiting_for_cdn(self) -> list[Generation]:
        """Finished videos whose download stopped only because the video server didn't
        answer, and that may still carry on by themselves this run."""
        if not self._running:
            return []
        try:
            return [g for g in self.journal.with_stages([Stage.ATTENTION])
                    if g.stop_cause is StopCause.CDN_UNREACHABLE and self._may_carry_on(g.id)]
        except JournalError as error:
            self._halt(error)
            return []

    def _carry_on_after_cdn_outage(self, generations: list[Generation]) -> None:
        """The video server answers again: their downloads carry on (a link that expired
        meanwhile is asked of apiframe again by the download; the job is never sent again)."""
        if not self._running:
            return
        try:  # as they are now: a person may have moved one meanwhile
            fresh = [g for g in map(self.journal.get, (g.id for g in generations))
                     if g is not None and g.stage is Stage.ATTENTION
                     and g.stop_cause is StopCause.CDN_UNREACHABLE]
            self._carry_on(fresh)
        except JournalError as error:
            self._halt(error)

    def _carry_on(self, stopped: Iterable[Generation]) -> None:
        for generation in stopped:
            if (generation.action is Action.RETRY and self._may_carry_on(generation.id)
                    and step(generation, Command.RETRY) is not None):
                self._carried_on[generation.id] = self._carried_on.get(generation.id, 0) + 1
                log.info("%s answers again: generation %s carries on",
                         _SERVER_OF[generation.stop_cause], generation.id)
                self.commands.retry(generation.id)

    def _may_carry_on(self, generation_id: int) -> bool:
        """Whether a generation may still carry on by itself after an outage this run."""
        return self._carried_on.get(generation_id, 0) < BACK_ONLINE_CARRY_ONS

    async def wait_settled(self, generation_ids: Iterable[int]) -> list[Generation]:
        """Until each generation is finished or needs the person (the CLI's `generate`)."""
        ids = list(generation_ids)
        wanted = set(ids)
        waiting: set[int] = set()
        settled = asyncio.Event()

        def is_settled(generation: Generation) -> bool:
            return generation.stage.is_settled

        def check(event: EngineEvent | None = None) -> None:
            # Each event carries the row as just written: no journal reads per event (a
            # `resume` of 500 generations sees thousands of events).
            if self._halted is not None:
                settled.set()  # nothing moves any more: the caller gets the reason
            elif isinstance(event, GenerationUpdated) and event.generation.id in wanted:
                if is_settled(event.generation):
                    waiting.discard(event.generation.id)
                else:
                    waiting.add(event.generation.id)
            elif isinstance(event, GenerationRemoved):
                waiting.discard(event.generation_id)
            if not waiting:
                settled.set()

        unsubscribe = self.subscribe(check)
        try:
            while True:
                if self._halted is not None:
                    raise self._halted
                rows = [g for i in ids if (g := self.journal.get(i))]
                waiting.clear()
                waiting.update(g.id for g in rows if not is_settled(g))
                if not waiting:
                    return rows
                # Settled may not stay settled (a top-up resumes a 402): what is returned is
                # read after the wake-up, and waited for again if it moved on meanwhile.
                settled.clear()
                check()
                await settled.wait()
        finally:
            unsubscribe()


_SERVER_OF: dict[StopCause | None, str] = {
    StopCause.API_UNREACHABLE: "apiframe", StopCause.CDN_UNREACHABLE: "The video server",
    None: "The server"}

STAGGER_AFTER = 8  # generations started at once without waiting
STAGGER_SECONDS = 0.005  # then one more every 5 ms


def _stagger(launched: int) -> float:
    """How long the n-th generation started in one go waits before its first step.

    A batch (200 images dropped at once, or a restart with 500 unfinished) would otherwise run
    every first step — a journal commit, a UI update, an HTTP request — in one event-loop turn:
    ~0.8 s with the window frozen. 5 ms apart, the window keeps drawing in between.
    """
    return max(0, launched - STAGGER_AFTER) * STAGGER_SECONDS


def validate(settings: GenerationSettings, catalog: ModelCatalog = BUILT_IN_CATALOG) -> None:
    """Every rule the API checks, before anything is journaled (raises api.InvalidRequestError)."""
    api.GenerateVideoRequest(  # validates on construction
        prompt=settings.prompt,
        image=settings.image_url,
        duration=settings.duration,
        aspect_ratio=settings.aspect_ratio,
        seed=settings.seed,
        model=model_for(settings, catalog),
    )
    if settings.image_path and settings.image_url:
        raise api.InvalidRequestError("Give either an image file or an image URL, not both.")


def model_for(settings: GenerationSettings, catalog: ModelCatalog) -> ModelSpec:
    """The catalog entry of a generation's model, or an error a person can act on."""
    spec = catalog.get(settings.model)
    if spec is None:
        known = ", ".join(m.label for m in catalog.models)
        raise api.InvalidRequestError(
            f"This app can't make videos with the model {settings.model!r}; choose one of "
            f"{known}.", field="model")
    return spec

