"""Drive one generation from the journal to a file on disk, one stage at a time.

Each stage is written to the journal *before* the work it names, so a crash at any point resumes at
the right step: a row in SUBMITTING is re-sent with its idempotency key (the server answers with the
original job), a row on the server is polled, a row DOWNLOADING resumes its `.part` file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx

from runway_desktop import api, paths
from runway_desktop.api.catalog import BUILT_IN_CATALOG, ModelCatalog
from runway_desktop.api.url_policy import host_for_people
from runway_desktop.engine import downloads, images, importer, poll_timing, work_files
from runway_desktop.engine.events import Problem, ProblemKind
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.leases import LeaseTiming, ensure_held
from runway_desktop.engine.lifecycle_table import Effect, Event, first_effect, next_stage
from runway_desktop.engine.part_origin import discard_origin, part_path
from runway_desktop.engine.problems import Verdict, judge, waiting_for_video_server
from runway_desktop.engine.records import (
    Action,
    Generation,
    GenerationSettings,
    Stage,
    StopCause,
)
from runway_desktop.engine.retry import (
    MAX_RETRY_AFTER,
    Backoff,
    GateKind,
    PollSchedule,
    RateGate,
    capped_wait,
)
from runway_desktop.engine.video import metadata

log = logging.getLogger(__name__)
# An upload is not sent once it is this close to apiframe's `expiresAt` (or a quarter of its
# lifetime, if shorter): the POST and apiframe's fetch of the image take time.
UPLOAD_EXPIRY_MARGIN = 5 * 60.0
T = TypeVar("T")

Thumbnailer = Callable[[Path, Path], Awaitable[Path]]
Noter = Callable[[int, str | None], None]

# CDN answers that mean "not with this link": a signed URL expired or was revoked.
REFUSED_LINK_STATUSES = frozenset({401, 403, 404, 410})
NO_LINK_YET = (
    "apiframe says this video is finished but hasn't sent its download link yet. It is paid "
    "for and kept: press Retry to check again (you won't be charged again)."
)
# What rows written before 2026-11-29 say when a finished job came without a link: they were
# marked FAILED although the job was paid for; they are followed again, never re-submitted.
LEGACY_NO_LINK = "apiframe finished the job but sent no video link."
RATE_LIMITED_TOO_LONG = (
    "apiframe kept asking us to slow down (rate limit), so this one is paused. Nothing was "
    "lost: press Retry in a few minutes."
)


@dataclass(frozen=True)
class EngineConfig:
    data_dir: Path
    output_dir: Path
    base_url: str = api.DEFAULT_BASE_URL
    poll: PollSchedule = field(default_factory=PollSchedule)
    backoff: Backoff = field(default_factory=Backoff)
    # Polling a job already paid for is worth more patience than a first submission.
    poll_failure_budget: int = 40
    upload_ttl_seconds: float = 45 * 60  # apiframe reaps uploads after ~1 h: re-upload past this
    default_max_concurrent: int = 4
    request_timeout: float = 60.0  # per network step (connect, one read)
    request_deadline: float = 60.0  # a whole API call, however slowly the server trickles
    upload_deadline: float = 30 * 60.0
    max_retry_after: float = MAX_RETRY_AFTER  # the longest a 429 holds anything back
    missing_link_polls: int = 12  # polls of a COMPLETED job that has no link yet (~1 min)
    # apiframe answers a POST re-sent with the same idempotency key with the first job for
    # 24 h only: one first sent longer ago than this looks for that job before it goes again.
    resend_within: float = 23 * 3600.0
    link_refreshes: int = 3  # fresh links asked for when the CDN refuses one
    create_output_parents: bool = True  # False for a folder the person chose: don't invent paths
    keep_image_metadata: bool = False  # the setting: upload fitting images with their EXIF
    settings_sidecar: bool = True  # the setting: a `<video>.json` beside each saved video
    proxy: str | None = None  # a proxy URL for the API and the CDN; None: the system's
    leases: LeaseTiming = field(default_factory=LeaseTiming)  # many processes, one queue
    download_stall: downloads.Stall = field(default_factory=downloads.Stall)  # a trickle's bound


def timing_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pacing overrides for scripts and tests against the simulator, where a job takes 0.3 s.

    `RUNWAY_DESKTOP_POLL_SECONDS` sets the first poll interval (the cap is 4× it);
    `RUNWAY_DESKTOP_POLL_POLICY=backoff` polls on the fixed backoff alone (the policy before
    2026-11-29, for comparisons); otherwise by each job's progress (`engine.poll_timing`);
    `RUNWAY_DESKTOP_RETRY_SECONDS` sets the retry backoff base (the cap is 20× it);
    `RUNWAY_DESKTOP_LEASE_SECONDS` how long a generation's lease outlives its last heartbeat.
    """
    overrides: dict[str, Any] = {}
    if poll := environ.get("RUNWAY_DESKTOP_POLL_SECONDS"):
        overrides["poll"] = PollSchedule(first=float(poll), cap=4 * float(poll))
    if environ.get("RUNWAY_DESKTOP_POLL_POLICY") == "backoff":  # for comparisons
        overrides["poll"] = replace(overrides.get("poll", PollSchedule()), follow_progress=False)
    if retry := environ.get("RUNWAY_DESKTOP_RETRY_SECONDS"):
        overrides["backoff"] = Backoff(base=float(retry), cap=20 * float(retry))
    if lease := environ.get("RUNWAY_DESKTOP_LEASE_SECONDS"):  # renewed 4 times per lease
        overrides["leases"] = LeaseTiming(seconds=float(lease), renew_every=float(lease) / 4)
    return overrides


class StopDriving(Exception):
    """The generation left the automatic path (attention, failure, cancel); its row says why."""


class Lifecycle:
    """The steps of a generation. Shared by every generation of one engine."""

    def __init__(
        self,
        journal: Journal,
        config: EngineConfig,
        client: api.ApiClient,
        cdn: httpx.AsyncClient,
        gate: RateGate,
        update: Callable[..., Generation],
        on_problem: Callable[[Verdict], None],
        on_success: Callable[[], None],
        thumbnailer: Thumbnailer | None = None,
        on_note: Noter | None = None,
        catalog: Callable[[], ModelCatalog] = lambda: BUILT_IN_CATALOG,
        carries_on: Callable[[int], bool] = lambda _generation_id: False,
    ) -> None:
        self.journal = journal
        self.config = config
        self.client = client
        self.cdn = cdn
        self.gate = gate
        self._update = update
        self._on_problem = on_problem
        self._on_success = on_success
        self.thumbnailer = thumbnailer
        self._on_note = on_note or (lambda _gid, _note: None)
        self._catalog = catalog  # the models and prices known now (refreshed by the engine)
        # Whether the engine will carry a generation on by itself once the video server
        # answers again (it does so only a few times a run): its row says which.
        self._carries_on = carries_on
        self._rng = random.Random()
        self._usual = poll_timing.UsualDurations()  # how long jobs took lately, for polling
        # Generation id → when its POST was answered, and whether it said PROCESSING: that
        # answer is the job's first status, so polling by progress needn't ask again at once.
        self._accepted: dict[int, tuple[float, bool]] = {}

    async def drive(self, generation_id: int, delay: float = 0.0) -> None:
        """Run every remaining stage of one generation, until it is done or needs someone.

        `delay`: wait this long first (the scheduler spreads a burst of starts).
        """
        if delay > 0:
            await asyncio.sleep(delay)
        # The table says which step a row in each stage needs; each step ends by feeding its
        # outcome to the table (`_advance`), which moves the row on to the next stage.
        steps: dict[Effect, Callable[[Generation], Awaitable[None]]] = {
            Effect.PREPARE: self._prepare_and_upload,
            Effect.SUBMIT: self._submit,
            Effect.POLL: self._follow,
            Effect.DOWNLOAD: self._download,
        }
        try:
            while (generation := self.journal.get(generation_id)) and (
                effect := first_effect(generation.stage)
            ) is not None:
                await steps[effect](generation)
        except StopDriving:
            return

    def _advance(self, generation: Generation, event: Event, **fields: object) -> Generation:
        """Feed an outcome to the lifecycle table and journal the stage it leads to."""
        return self._update(generation.id, stage=next_stage(generation, event), **fields)

    # -- stages ---------------------------------------------------------------------------------

    async def _prepare_and_upload(self, generation: Generation) -> None:
        settings = generation.settings
        if settings.image_path and not self._upload_is_fresh(generation):
            generation = self._advance(generation, Event.PREPARE, progress=0)
            generation = await self._upload_image(generation, staged=True)
            event = Event.UPLOADED
        else:
            event = Event.SEND  # an image URL, or an upload still fresh: nothing to upload
        # Journal SUBMITTING before the POST leaves: from here on a restart re-sends the same key.
        # `submitted_at` marks that a POST may have left: a later retry must re-send, not re-upload.
        self._advance(generation, event, error=None, action=None, submitted_at=time.time())

    async def _upload_image(self, generation: Generation, *, staged: bool) -> Generation:
        """Prepare the generation's image, upload it and journal its link.

        `staged`: move the row on to UPLOADING once prepared (a first upload); a re-upload
        before a POST is sent again keeps the row SUBMITTING.
        """
        settings = generation.settings
        prepared = await self._prepare(generation)
        if _frame_on_another_picture(settings, prepared):
            work_files.discard(prepared)
            self._give_up(generation, Verdict(_another_picture(settings, first_upload=staged),
                                              Action.EDIT_INPUT, False))
        try:
            if staged:
                generation = self._advance(generation, Event.PREPARED)
            digest = await asyncio.to_thread(_sha256, prepared.path)  # of the bytes sent
            upload = await self._call(
                generation, lambda: self.client.upload_file(prepared.path),
                kind=GateKind.SUBMIT,
            )
        finally:
            # A converted copy is only for this upload: a retry or a restart prepares anew.
            # What a killed process left is cleared too (its run folder is unlocked).
            work_files.discard(prepared)
            work_files.sweep(self.config.data_dir)
        hashed = replace(settings, image_sha256=digest, image_source_sha256=prepared.source_sha256)
        return self._update(
            generation.id, uploaded_url=upload.url, uploaded_at=self._upload_counts_from(upload),
            settings_json=json.dumps(hashed.to_json(), ensure_ascii=False),
        )

    def _upload_counts_from(self, upload: api.Upload) -> float:
        """The `uploaded_at` to journal: now, or earlier when apiframe says the upload expires
        before our own `upload_ttl_seconds` would (its `expiresAt`, less a margin for a slow
        POST), so that `_upload_is_fresh` lets it go in time."""
        now = time.time()
        if upload.expires_at is None:
            return now
        expires = upload.expires_at.timestamp()
        usable_until = expires - min(UPLOAD_EXPIRY_MARGIN, max(0.0, expires - now) / 4)
        return min(now, usable_until - self.config.upload_ttl_seconds)

    async def _prepare(self, generation: Generation) -> images.PreparedImage:
        """The file to upload: what the command line prepared when it checked the image, or
        prepared now, into this process's own work folder."""
        settings = generation.settings
        source = Path(settings.image_path or "")
        keep = self.config.keep_image_metadata
        handed = (work_files.take(source, keep_metadata=keep, frame=settings.frame)
                  if settings.image_path else None)
        if handed is not None:
            return handed
        try:
            return await images.prepare_image_async(
                source, work_files.own_dir(self.config.data_dir), keep_metadata=keep,
                frame=settings.frame,
            )
        except images.ImageRejected as exc:
            self._give_up(generation, judge(exc))
        except OSError as exc:  # writing the converted copy: the data folder's drive
            log.info("Generation %s: the work folder can't take its picture: %s",
                     generation.id, exc)
            self._give_up(generation, Verdict(
                work_files.write_trouble(self.config.data_dir, exc), Action.RETRY, False))

    def _upload_is_fresh(self, generation: Generation) -> bool:
        return bool(
            generation.uploaded_url
            and generation.uploaded_at
            and time.time() - generation.uploaded_at < self.config.upload_ttl_seconds
        )

    def _key_may_be_forgotten(self, generation: Generation) -> bool:
        """A POST of this generation may have left so long ago that apiframe no longer knows
        its idempotency key."""
        sent = generation.submitted_at
        return sent is not None and time.time() - sent > self.config.resend_within

    def _upload_lapsed(self, generation: Generation) -> bool:
        """The image this generation uploaded has expired (or soon will) and can be sent again."""
        path = generation.settings.image_path
        return bool(generation.uploaded_url and path and not self._upload_is_fresh(generation)
                    and Path(path).is_file())

    async def _submit(self, generation: Generation) -> None:
        catalog = self._catalog()
        key = generation.idempotency_key
        if self._key_may_be_forgotten(generation):
            # Sent long ago, the answer never came back (the computer slept mid-send, a crash,
            # a Retry days later): apiframe may no longer know the key, and a POST with it would
            # make and charge a second job. Its history says whether the first got through.
            log.info("Generation %s was first sent %s ago: looking for its job first",
                     generation.id, _minutes(time.time() - (generation.submitted_at or 0)))
            first = await self._call(
                generation, lambda: importer.find_lost_answer(self.client, self.journal,
                                                              generation),
                budget=self.config.poll_failure_budget)
            if first is not None:
                self._advance(generation, Event.ACCEPTED, job_id=first.id,
                              credit_cost=generation.settings.price_in(catalog), attempts=0)
                return
        earlier: api.GenerateVideoRequest | None = None
        if self._upload_lapsed(generation):
            # A POST sent again long after the upload (a Retry hours later): apiframe has
            # reaped the image, so upload it again first. If the earlier POST did reach
            # apiframe, its job is ours: a 409 for the new body says so, and the earlier body
            # with the same key gets that job back (never a second one).
            log.info("The upload of generation %s has expired; uploading its image again",
                     generation.id)
            earlier = request_for(generation, catalog)
            generation = await self._upload_image(generation, staged=False)
        request = request_for(generation, catalog)
        # The row with this idempotency key must survive a power cut before the job can exist.
        await self.journal.flush()

        async def send() -> api.JobAccepted:
            try:
                return await self.client.generate_video(request, idempotency_key=key)
            except api.ConflictError:
                if earlier is not None:
                    try:
                        return await self.client.generate_video(earlier, idempotency_key=key)
                    except api.ConflictError:
                        pass
                # apiframe has a job under this key, made from a body sent before that one
                # (each send after an expired upload has a new image link, and an answer lost
                # on the way hides which got there first): ours, and paid. Its history names
                # it; asking the person to send it again as a new generation would pay twice.
                made = await importer.find_lost_answer(self.client, self.journal, generation)
                if made is None:
                    raise
                log.info("Generation %s: apiframe already had its job %s", generation.id,
                         made.id)
                return api.JobAccepted(job_id=made.id, status=made.status)

        accepted = await self._call(generation, send, kind=GateKind.SUBMIT)
        event = (Event.JOB_PROCESSING if accepted.status == api.JobStatus.PROCESSING
                 else Event.ACCEPTED)
        self._accepted[generation.id] = (time.time(), event is Event.JOB_PROCESSING)
        self._advance(
            generation,
            event,
            job_id=accepted.job_id,
            credit_cost=generation.settings.price_in(catalog),  # None: apiframe's job says
            attempts=0,
        )
        self._on_success()

    async def _follow(self, generation: Generation) -> None:
        assert generation.job_id
        polls = 0
        missing_link = 0
        job_id = generation.job_id
        schedule = self.config.poll
        sent_at = generation.submitted_at or generation.created_at
        # Ask the person after `give_up_after`; after a Retry, keep checking a while longer.
        ask_at = max(sent_at + schedule.give_up_after, time.time() + schedule.slow_after)
        slow = False
        settings = generation.settings
        pace = self._usual.pace_for(settings.model, settings.duration, sent_at)
        accepted = self._accepted.pop(generation.id, None)
        if accepted is not None and schedule.follow_progress:
            # Just accepted: the POST's answer was the first look (the backoff polls at once).
            at, processing = accepted
            pace.observe(at, processing=processing, progress=0)
            await asyncio.sleep(poll_timing.next_delay(schedule, pace, time.time(), polls,
                                                       self._rng))
            polls += 1
        while True:
            job = await self._call(
                generation,
                lambda: self.client.get_job(job_id),
                budget=self.config.poll_failure_budget,
            )
            if job.status == api.JobStatus.COMPLETED:
                if job.video_url:
                    self._usual.record(settings.model, settings.duration, pace, time.time())
                    self._on_note(generation.id, None)
                    self._advance(
                        generation,
                        Event.JOB_COMPLETED,
                        progress=0,
                        video_url=job.video_url,
                        credit_cost=job.credit_cost if job.credit_cost is not None
                        else generation.credit_cost,
                    )
                    self._on_success()
                    return
                # Finished and paid for, but no link (yet): never FAILED, never paid again.
                missing_link += 1
                if missing_link > self.config.missing_link_polls:
                    self._give_up(generation, Verdict(NO_LINK_YET, Action.RETRY, False))
                log.info("Job %s is COMPLETED without a video link; asking again", job_id)
                if generation.stage != Stage.PROCESSING or generation.progress != 100:
                    generation = self._advance(generation, Event.JOB_PROCESSING, progress=100)
                await asyncio.sleep(self.config.backoff.delay(missing_link, self._rng))
                continue
            if job.status in (api.JobStatus.FAILED, api.JobStatus.CANCELLED):
                reason = job.error or "The job was cancelled on the server."
                self._fail(generation, f"{reason} Your credits were refunded.", cost=0)
            event = (Event.JOB_PROCESSING if job.status == api.JobStatus.PROCESSING
                     else Event.JOB_QUEUED)
            stage = next_stage(generation, event)
            progress = job.progress or 0
            if stage != generation.stage or progress != generation.progress:
                generation = self._advance(generation, event, progress=progress)
            now = time.time()
            pace.observe(now, processing=job.status == api.JobStatus.PROCESSING,
                         progress=job.progress)
            if now >= ask_at:
                self._on_note(generation.id, None)
                self._give_up(generation, Verdict(_still_waiting(stage, now - sent_at),
                                                  Action.RETRY, False))
            if not slow and now - sent_at >= schedule.slow_after:
                slow = True  # poll far less often from now on
                log.info("Job %s is taking unusually long (%s)", job_id, stage)
                self._on_note(generation.id, _taking_long(now - sent_at, schedule.slow_interval))
            await asyncio.sleep(poll_timing.next_delay(schedule, pace, now, polls, self._rng,
                                                       slow=slow))
            polls += 1

    async def _download(self, generation: Generation) -> None:
        assert generation.job_id
        if self._saved_whole(generation):
            # Its process stopped (or ended) after saving the video, before the row said so:
            # only the settings and thumbnail are left, never the whole download again.
            log.info("Generation %s: its video was saved whole before; finishing it",
                     generation.id)
            destination = Path(generation.video_path or "")
            discard_origin(part_path(destination))  # if it stopped before clearing it up
        else:
            fetched = await self._fetch_video(generation)
            if fetched is None:
                return
            generation, destination = fetched
        await self._save_settings(generation, destination)
        thumbnail = await self._thumbnail(generation.id, destination)
        self._advance(
            generation,
            Event.DOWNLOADED,
            progress=100,
            # An imported job keeps the time the server finished it (retries clear it).
            finished_at=generation.finished_at or time.time(),
            thumbnail_path=str(thumbnail) if thumbnail else None,
            error=None,
            action=None,
        )

    @staticmethod
    def _saved_whole(generation: Generation) -> bool:
        """The video is at the row's path with no part beside it: a download renames only a
        part proven whole to that name (job ids keep it ours)."""
        saved = Path(generation.video_path) if generation.video_path else None
        return (saved is not None and saved.is_file()
                and not part_path(saved).exists())

    async def _fetch_video(self, generation: Generation) -> tuple[Generation, Path] | None:
        """Download the video to its path (resuming a part); the row and the path after.
        None: the job has no link now, so it is followed again (its row says PROCESSING)."""
        if not generation.video_url:
            fresh = await self._fresh_link(generation)
            if fresh is None:
                return None
            generation = fresh
        destination = self._destination(generation)
        generation = self._update(generation.id, video_path=str(destination))
        last_percent = -5

        def report(done: int, total: int | None) -> None:
            nonlocal last_percent
            percent = int(done * 100 / total) if total else 0
            if percent - last_percent >= 5:
                last_percent = percent
                self._update(generation.id, progress=percent)

        attempt = 0
        refreshed = 0
        while True:
            try:
                await downloads.download_video(
                    self.cdn, generation.video_url or "", destination, progress=report,
                    policy=downloads.UrlPolicy.for_base_url(self.config.base_url),
                    stall=self.config.download_stall,
                )
                break
            except downloads.DownloadError as exc:
                refused = isinstance(exc, downloads.DownloadFailed) and (
                    exc.status in REFUSED_LINK_STATUSES)
                if refused or isinstance(exc, downloads.DownloadNotVideo):
                    # A signed link expired (or was revoked), or leads to a page or an empty
                    # file instead of the video: ask apiframe for a fresh one.
                    refreshed += 1
                    if refreshed > self.config.link_refreshes:
                        self._give_up(generation, Verdict(
                            _link_refused(exc.status) if isinstance(
                                exc, downloads.DownloadFailed) else _not_the_video(exc),
                            Action.RETRY, False))
                    log.info("The CDN refused the link of generation %s (%s); asking apiframe "
                             "for a fresh one", generation.id, exc.message)
                    await asyncio.sleep(self.config.backoff.delay(refreshed - 1, self._rng))
                    fresh = await self._fresh_link(generation)
                    if fresh is None:
                        return None
                    generation = fresh
                    continue
                verdict = judge(exc)
                attempt += 1
                if not verdict.retry_by_itself or attempt >= self.config.backoff.attempts:
                    if verdict.cause is StopCause.CDN_UNREACHABLE:  # say what it waits for
                        verdict = replace(verdict, message=waiting_for_video_server(
                            exc, _host_of(generation.video_url),
                            by_itself=self._carries_on(generation.id)))
                    self._give_up(generation, verdict)
                log.info("Download of generation %s interrupted (%s); resuming", generation.id, exc)
                await asyncio.sleep(self.config.backoff.delay(attempt, self._rng))
        return generation, destination

    async def _fresh_link(self, generation: Generation) -> Generation | None:
        """Re-read the job for its current video link. None: the job has no link now, so the
        generation goes back to following it (its row says PROCESSING)."""
        job_id = generation.job_id or ""
        job = await self._call(generation, lambda: self.client.get_job(job_id),
                               budget=self.config.poll_failure_budget)
        if job.expired:
            self._give_up(generation, Verdict(
                "apiframe has already deleted this video from its servers (finished videos "
                "are kept only for a limited time), so it can't be downloaded any more.",
                Action.RETRY, False))
        if not job.video_url:
            self._advance(generation, Event.LINK_GONE, progress=100, video_url=None)
            return None
        return self._update(generation.id, video_url=job.video_url)

    def _destination(self, generation: Generation) -> Path:
        """Keep the path chosen before a crash, so its `.part` file resumes — unless its folder
        has gone since (deleted, a drive unplugged): then the path is chosen again."""
        if generation.video_path and Path(generation.video_path).parent.is_dir():
            return Path(generation.video_path)
        chosen = generation.output_dir
        folder = Path(chosen) if chosen else self.config.output_dir
        try:
            # Never invent a path someone chose (an unplugged drive): only the default is created.
            folder.mkdir(parents=not chosen and self.config.create_output_parents, exist_ok=True)
        except OSError as exc:
            log.info("Output folder %s unusable: %s", folder, exc)
            self._give_up(generation, judge(downloads.OutputFolderError(folder)))
        created = datetime.fromtimestamp(generation.created_at, UTC).astimezone()
        name = downloads.video_filename(
            generation.settings.prompt, generation.job_id or "", created
        )
        try:
            return downloads.unique_path(folder, name)
        except OSError as exc:  # its entries can't be looked up (read-only without 'x')
            log.info("Output folder %s unusable: %s", folder, exc)
            self._give_up(generation, judge(downloads.OutputFolderError(folder)))

    async def _save_settings(self, generation: Generation, video: Path) -> None:
        """The generation's settings into the whole MP4 (and its sidecar), before it is DONE;
        a video that can't take them is kept all the same."""
        parent_id = generation.parent_id
        parent = self.journal.get(parent_id) if parent_id is not None else None
        ensure_held()  # the file is still ours to rewrite
        saved = await asyncio.to_thread(
            metadata.save_video_settings, video, metadata.for_generation(generation, parent),
            sidecar=self.config.settings_sidecar,
        )
        for problem in saved.problems:
            log.info("Generation %s: %s", generation.id, problem)

    async def _thumbnail(self, generation_id: int, video: Path) -> Path | None:
        if self.thumbnailer is None:
            return None
        target = paths.thumbnails_dir(self.config.data_dir) / f"{generation_id}.jpg"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            return await self.thumbnailer(video, target)
        except Exception as exc:  # a missing thumbnail never costs the person their video
            log.warning("No thumbnail for generation %s: %s", generation_id, exc)
            return None

    # -- retries and outcomes -------------------------------------------------------------------

    async def _call(self, generation: Generation, request: Callable[[], Awaitable[T]],
                    budget: int | None = None, kind: GateKind = GateKind.FOLLOW) -> T:
        """One API request, retried on transient errors (same idempotency key, same body).

        `kind`: a submission waits only for the submit gate, so a 429 on new work never holds
        back following (polling, links for downloads) the jobs already paid for.
        """
        budget = budget or self.config.backoff.attempts
        attempt = 0
        while True:
            await self.gate.wait(kind)
            asked_with = self.client
            try:
                result = await request()
            except api.ApiError as exc:
                if self.client is not asked_with and isinstance(
                        exc, (api.AuthenticationError, api.PermissionDeniedError)):
                    continue  # the key it carried was replaced meanwhile: ask with the new one
                verdict = judge(exc)
                if isinstance(exc, api.RateLimitedError):  # not the server's "retry in 27 h"
                    verdict = Verdict(RATE_LIMITED_TOO_LONG, Action.RETRY, True, verdict.problem)
                attempt += 1
                if not verdict.retry_by_itself or attempt >= budget:
                    self._give_up(generation, verdict)
                delay = self.config.backoff.delay(attempt, self._rng)
                if isinstance(exc, api.RateLimitedError):
                    # The gate holds every call of this kind (ours too) until the wait is over.
                    wait = self.gate.close_for(
                        capped_wait(exc.retry_after, delay, self.config.max_retry_after), kind
                    )
                    verdict = _rate_limited(verdict, wait, kind)
                    delay = 0.0
                if verdict.problem:
                    self._on_problem(verdict)
                log.info("Generation %s: %s; retry %d in %.1f s", generation.id,
                         type(exc).__name__, attempt, max(delay, self.gate.remaining(kind)))
                self._update(generation.id, attempts=generation.attempts + attempt)
                await asyncio.sleep(delay)
            else:
                if attempt:
                    self._on_success()
                return result

    def _give_up(self, generation: Generation, verdict: Verdict) -> NoReturn:
        """Hand the generation to the person: the row keeps everything needed to carry on."""
        log.warning("Generation %s needs attention (%s): %s", generation.id, verdict.action,
                    verdict.message)
        self._advance(generation, Event.NEEDS_PERSON, error=verdict.message,
                      action=verdict.action, stop_cause=verdict.cause)
        if verdict.problem:
            self._on_problem(verdict)
        raise StopDriving

    def _fail(self, generation: Generation, message: str, cost: int | None = None) -> NoReturn:
        log.warning("Generation %s (job %s) failed: %s", generation.id, generation.job_id, message)
        self._advance(generation, Event.JOB_FAILED, error=message, action=None,
                      finished_at=time.time(), credit_cost=cost)
        self._on_success()
        raise StopDriving


def request_for(generation: Generation,
                catalog: ModelCatalog = BUILT_IN_CATALOG) -> api.GenerateVideoRequest:
    """The exact body to send; always the same for one idempotency key (prices may change in
    the catalog, a model's parameters never do)."""
    settings = generation.settings
    spec = catalog.get(settings.model)
    if spec is None:
        raise api.InvalidRequestError(
            f"This app can't make videos with the model {settings.model!r}.", field="model")
    return api.GenerateVideoRequest(
        prompt=settings.prompt,
        image=generation.uploaded_url or settings.image_url,
        duration=settings.duration,
        aspect_ratio=settings.aspect_ratio,
        seed=settings.seed,
        model=spec,
    )


def _frame_on_another_picture(settings: GenerationSettings,
                              prepared: images.PreparedImage) -> bool:
    """Whether `settings.frame` was chosen on another picture than the one now at its path
    (the file replaced since, e.g. before a Run again with a new seed or a Retry)."""
    recorded, now = settings.image_source_sha256, prepared.source_sha256
    return settings.frame is not None and None not in (recorded, now) and recorded != now


def _another_picture(settings: GenerationSettings, *, first_upload: bool) -> str:
    nothing_sent = " Nothing was uploaded or paid." if first_upload else ""
    return (f"The start image at {settings.image_path} is no longer the picture its frame was "
            f"chosen on: the file has been replaced since.{nothing_sent} Edit and retry to "
            "frame the picture it holds now.")


def _sha256(path: Path) -> str | None:
    """SHA-256 (hex) of a file's bytes; None when it can't be read (the upload says why)."""
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def _host_of(url: str | None) -> str:
    """The host of a video link, as a person may read it."""
    try:
        return host_for_people(httpx.URL(url or "").host)
    except (httpx.InvalidURL, ValueError):
        return host_for_people("")


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _taking_long(waited: float, interval: float) -> str:
    return (f"Taking unusually long ({_minutes(waited)} so far); checking every "
            f"{_minutes(interval)}. You can stop following it.")


def _still_waiting(stage: Stage, waited: float) -> str:
    where = "waiting in apiframe's queue" if stage == Stage.QUEUED else "being generated"
    return (f"Still {where} after {_minutes(waited)}, far longer than usual. It is kept: press "
            "Retry to keep checking, or stop following it (apiframe may still charge it).")


def _link_refused(status: int) -> str:
    return (f"The video server keeps refusing the link to this video (HTTP {status}), even a "
            "fresh one from apiframe. It is paid for and kept: press Retry later "
            "(you won't be charged again).")


def _not_the_video(error: downloads.DownloadError) -> str:
    return (f"{error.message.removesuffix(' Try again later.')} Fresh links from apiframe got "
            "the same. The video is paid for and kept: press Retry later (you won't be charged "
            "again).")


def _rate_limited(verdict: Verdict, wait: float, kind: GateKind) -> Verdict:
    """The banner for a 429, with the wait we actually apply (capped) for a countdown."""
    if kind is GateKind.SUBMIT:
        text = (f"apiframe asked us to slow down: new generations wait {_minutes(wait)}. "
                "Videos already paid for keep going.")
    else:
        text = f"apiframe asked us to slow down: checking on your videos again in {_minutes(wait)}."
    problem = Problem(ProblemKind.RATE_LIMITED, text, None, until=time.time() + wait)
    return Verdict(verdict.message, verdict.action, verdict.retry_by_itself, problem)
