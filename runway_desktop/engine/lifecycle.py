"""Drive one generation from the journal to a file on disk, one stage at a time.

Each stage is written to the journal *before* the work it names, so a crash at any point resumes at
the right step: a row in SUBMITTING is re-sent with its idempotency key (the server answers with the
original job), a row on the server is polled, a row DOWNLOADING resumes its `.part` file.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from runway_desktop import api, paths
from runway_desktop.engine import downloads, images
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.problems import Verdict, judge
from runway_desktop.engine.records import Generation, Stage
from runway_desktop.engine.retry import Backoff, PollSchedule, RateGate

log = logging.getLogger(__name__)
T = TypeVar("T")

Thumbnailer = Callable[[Path, Path], Awaitable[Path]]


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
    request_timeout: float = 60.0
    create_output_parents: bool = True  # False for a folder the person chose: don't invent paths
    keep_image_metadata: bool = False  # the setting: upload fitting images with their EXIF


def timing_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pacing overrides for scripts and tests against the simulator, where a job takes 0.3 s.

    `RUNWAY_DESKTOP_POLL_SECONDS` sets the first poll interval (the cap is 4× it);
    `RUNWAY_DESKTOP_RETRY_SECONDS` sets the retry backoff base (the cap is 20× it).
    """
    overrides: dict[str, Any] = {}
    if poll := environ.get("RUNWAY_DESKTOP_POLL_SECONDS"):
        overrides["poll"] = PollSchedule(first=float(poll), cap=4 * float(poll))
    if retry := environ.get("RUNWAY_DESKTOP_RETRY_SECONDS"):
        overrides["backoff"] = Backoff(base=float(retry), cap=20 * float(retry))
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
        self._rng = random.Random()

    async def drive(self, generation_id: int, delay: float = 0.0) -> None:
        """Run every remaining stage of one generation, until it is done or needs someone.

        `delay`: wait this long first (the scheduler spreads a burst of starts).
        """
        if delay > 0:
            await asyncio.sleep(delay)
        steps: dict[Stage, Callable[[Generation], Awaitable[None]]] = {
            Stage.PENDING: self._prepare_and_upload,
            Stage.PREPARING: self._prepare_and_upload,
            Stage.UPLOADING: self._prepare_and_upload,
            Stage.SUBMITTING: self._submit,
            Stage.QUEUED: self._follow,
            Stage.PROCESSING: self._follow,
            Stage.DOWNLOADING: self._download,
        }
        try:
            while (generation := self.journal.get(generation_id)) and generation.stage in steps:
                await steps[generation.stage](generation)
        except StopDriving:
            return

    # -- stages ---------------------------------------------------------------------------------

    async def _prepare_and_upload(self, generation: Generation) -> None:
        settings = generation.settings
        if settings.image_path and not self._upload_is_fresh(generation):
            generation = self._update(generation.id, stage=Stage.PREPARING, progress=0)
            try:
                prepared = await images.prepare_image_async(
                    Path(settings.image_path), paths.work_dir(self.config.data_dir),
                    keep_metadata=self.config.keep_image_metadata,
                )
            except images.ImageRejected as exc:
                self._give_up(generation, judge(exc))
            generation = self._update(generation.id, stage=Stage.UPLOADING)
            try:
                upload = await self._call(
                    generation, lambda: self.client.upload_file(prepared.path)
                )
            finally:
                # A converted copy is only for this upload: a retry or a restart prepares anew.
                if prepared.converted:
                    prepared.path.unlink(missing_ok=True)
            generation = self._update(
                generation.id, uploaded_url=upload.url, uploaded_at=time.time()
            )
        # Journal SUBMITTING before the POST leaves: from here on a restart re-sends the same key.
        # `submitted_at` marks that a POST may have left: a later retry must re-send, not re-upload.
        self._update(generation.id, stage=Stage.SUBMITTING, error=None, action=None,
                     submitted_at=time.time())

    def _upload_is_fresh(self, generation: Generation) -> bool:
        return bool(
            generation.uploaded_url
            and generation.uploaded_at
            and time.time() - generation.uploaded_at < self.config.upload_ttl_seconds
        )

    async def _submit(self, generation: Generation) -> None:
        request = request_for(generation)
        # The row with this idempotency key must survive a power cut before the job can exist.
        await self.journal.flush()
        accepted = await self._call(
            generation,
            lambda: self.client.generate_video(
                request, idempotency_key=generation.idempotency_key
            ),
        )
        stage = Stage.PROCESSING if accepted.status == api.JobStatus.PROCESSING else Stage.QUEUED
        self._update(
            generation.id,
            job_id=accepted.job_id,
            stage=stage,
            credit_cost=generation.settings.price,
            attempts=0,
        )
        self._on_success()

    async def _follow(self, generation: Generation) -> None:
        assert generation.job_id
        polls = 0
        job_id = generation.job_id
        while True:
            job = await self._call(
                generation,
                lambda: self.client.get_job(job_id),
                budget=self.config.poll_failure_budget,
            )
            if job.status == api.JobStatus.COMPLETED:
                if not job.video_url:
                    self._fail(generation, "apiframe finished the job but sent no video link.")
                self._update(
                    generation.id,
                    stage=Stage.DOWNLOADING,
                    progress=0,
                    video_url=job.video_url,
                    credit_cost=job.credit_cost if job.credit_cost is not None
                    else generation.credit_cost,
                )
                self._on_success()
                return
            if job.status in (api.JobStatus.FAILED, api.JobStatus.CANCELLED):
                reason = job.error or "The job was cancelled on the server."
                self._fail(generation, f"{reason} Your credits were refunded.", cost=0)
            stage = Stage.PROCESSING if job.status == api.JobStatus.PROCESSING else Stage.QUEUED
            progress = job.progress or 0
            if stage != generation.stage or progress != generation.progress:
                generation = self._update(generation.id, stage=stage, progress=progress)
            await asyncio.sleep(self.config.poll.interval(polls, self._rng))
            polls += 1

    async def _download(self, generation: Generation) -> None:
        assert generation.job_id
        if not generation.video_url:
            job = await self._call(generation, lambda: self.client.get_job(generation.job_id or ""))
            generation = self._update(generation.id, video_url=job.video_url)
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
        while True:
            try:
                await downloads.download_video(
                    self.cdn, generation.video_url or "", destination, progress=report
                )
                break
            except downloads.DownloadError as exc:
                verdict = judge(exc)
                attempt += 1
                if not verdict.retry_by_itself or attempt >= self.config.backoff.attempts:
                    self._give_up(generation, verdict)
                log.info("Download of generation %s interrupted (%s); resuming", generation.id, exc)
                await asyncio.sleep(self.config.backoff.delay(attempt, self._rng))
        thumbnail = await self._thumbnail(generation.id, destination)
        self._update(
            generation.id,
            stage=Stage.DONE,
            progress=100,
            finished_at=time.time(),
            thumbnail_path=str(thumbnail) if thumbnail else None,
            error=None,
            action=None,
        )

    def _destination(self, generation: Generation) -> Path:
        """Keep the path chosen before a crash, so its `.part` file resumes."""
        if generation.video_path:
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
        return downloads.unique_path(folder, name)

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
                    budget: int | None = None) -> T:
        """One API request, retried on transient errors (same idempotency key, same body)."""
        budget = budget or self.config.backoff.attempts
        attempt = 0
        while True:
            await self.gate.wait()
            try:
                result = await request()
            except api.ApiError as exc:
                verdict = judge(exc)
                attempt += 1
                if not verdict.retry_by_itself or attempt >= budget:
                    self._give_up(generation, verdict)
                if isinstance(exc, api.RateLimitedError) and exc.retry_after is not None:
                    self.gate.close_for(exc.retry_after)
                    delay = 0.0
                else:
                    delay = self.config.backoff.delay(attempt, self._rng)
                if verdict.problem:
                    self._on_problem(verdict)
                log.info("Generation %s: %s; retry %d in %.1f s", generation.id,
                         type(exc).__name__, attempt, delay)
                self._update(generation.id, attempts=generation.attempts + attempt)
                await asyncio.sleep(delay)
            else:
                if attempt:
                    self._on_success()
                return result

    def _give_up(self, generation: Generation, verdict: Verdict) -> Any:
        """Hand the generation to the person: the row keeps everything needed to carry on."""
        log.warning("Generation %s needs attention (%s): %s", generation.id, verdict.action,
                    verdict.message)
        self._update(generation.id, stage=Stage.ATTENTION, error=verdict.message,
                     action=verdict.action)
        if verdict.problem:
            self._on_problem(verdict)
        raise StopDriving

    def _fail(self, generation: Generation, message: str, cost: int | None = None) -> Any:
        log.warning("Generation %s (job %s) failed: %s", generation.id, generation.job_id, message)
        self._update(generation.id, stage=Stage.FAILED, error=message, action=None,
                     finished_at=time.time(), credit_cost=cost)
        self._on_success()
        raise StopDriving


def request_for(generation: Generation) -> api.GenerateVideoRequest:
    """The exact body to send; always the same for one idempotency key."""
    settings = generation.settings
    return api.GenerateVideoRequest(
        prompt=settings.prompt,
        image=generation.uploaded_url or settings.image_url,
        duration=settings.duration,
        aspect_ratio=settings.aspect_ratio,
        seed=settings.seed,
    )
