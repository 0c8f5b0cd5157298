"""Server state behind one lock: accounts and balances, jobs, uploads, idempotency keys.

A job's life is a schedule fixed when it is accepted (when it starts processing, when it ends and
how), and its status is read off the clock. Refunds of failed jobs are booked lazily ("settled")
the first time anyone looks at the state after the failure instant.
"""

from __future__ import annotations

import copy
import math
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from runway_desktop.simulator.clip_maker import ClipMaker, ClipOrder
from runway_desktop.simulator.clock import Clock
from runway_desktop.simulator.config import (
    DEFAULT_ASPECT_RATIO,
    OUTPUT_SIZES,
    Account,
    SimulatorConfig,
)
from runway_desktop.simulator.errors import ApiError, ValidationFailed
from runway_desktop.simulator.faults import FaultDecider
from runway_desktop.simulator.media import Sniffed, sniff
from runway_desktop.simulator.progress import progress_at
from runway_desktop.simulator.schema import (
    GenerateRequest,
    ListQuery,
    encode_cursor,
    fingerprint,
    is_uuid,
)

TEXT_ONLY_MESSAGE = "Provider returned an error: gen4_turbo requires an input image (promptImage)"
FETCH_FAILED_MESSAGE = "Provider returned an error: failed to fetch promptImage (HTTP 404)"
BAD_IMAGE_MESSAGE = "Provider returned an error: promptImage has an unsupported format ({})"
RUNWAY_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")  # no GIF upstream (§5, §10)


@dataclass
class Job:
    id: str
    owner: str  # api key
    request: GenerateRequest
    price: int
    created: float  # clock instants
    ready: float  # earliest start: created + queued time
    start: float  # PROCESSING from here (== end when it fails straight from QUEUED)
    end: float  # terminal instant
    processing_seconds: float  # full processing length, for progress
    outcome: str  # COMPLETED | FAILED
    error: str | None
    created_iso: str
    settled: bool = False

    @property
    def aspect_ratio(self) -> str:
        return self.request.aspect_ratio or DEFAULT_ASPECT_RATIO

    def status_at(self, t: float) -> str:
        if t >= self.end:
            return self.outcome
        if t >= self.start:
            return "PROCESSING"
        return "QUEUED"

    def occupies_slot(self) -> bool:
        return self.end > self.start


@dataclass
class Upload:
    id: str
    owner: str
    data: bytes
    sniffed: Sniffed
    expires: float


@dataclass
class _IdempotencyEntry:
    job_id: str
    fingerprint: str
    created: float


@dataclass(frozen=True)
class Submitted:
    job_id: str
    status: str
    replayed: bool


class State:
    def __init__(
        self,
        config: SimulatorConfig,
        clock: Clock,
        faults: FaultDecider,
        clip_maker: ClipMaker | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.faults = faults
        self.clip_maker = clip_maker
        self.cdn_base_url = ""  # set once the CDN port is bound
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.balances: dict[str, int] = {}
        self.debited: dict[str, int] = {}
        self.refunded: dict[str, int] = {}
        self.jobs: dict[str, Job] = {}
        self.uploads: dict[str, Upload] = {}
        self._unsettled: list[Job] = []
        self._idempotency: dict[tuple[str, str], _IdempotencyEntry] = {}
        for account in config.resolved_accounts():
            self.add_account(account)

    # ---- accounts ---------------------------------------------------------------------------

    def add_account(self, account: Account) -> None:
        with self.lock:
            self.accounts[account.api_key] = account
            self.balances[account.api_key] = account.credits
            self.debited.setdefault(account.api_key, 0)
            self.refunded.setdefault(account.api_key, 0)

    def update_account(self, api_key: str, **changes: Any) -> None:
        with self.lock:
            self.accounts[api_key] = replace(self.accounts[api_key], **changes)

    def authenticate(self, api_key: str | None) -> Account:
        if api_key is None or api_key == "":
            raise ApiError(401, "API key is required")
        with self.lock:
            account = self.accounts.get(api_key)
        if account is None:
            raise ApiError(401, "Invalid API key")
        if not account.active:
            raise ApiError(403, "API key is inactive")
        return account

    def balance(self, api_key: str) -> int:
        with self.lock:
            self.settle()
            return self.balances[api_key]

    # ---- jobs -------------------------------------------------------------------------------

    def settle(self) -> None:
        """Book refunds for jobs that have failed by now (caller holds the lock)."""
        now = self.clock.now()
        remaining = []
        for job in self._unsettled:
            if job.end <= now:
                job.settled = True
                if job.outcome == "FAILED":
                    self.balances[job.owner] += job.price
                    self.refunded[job.owner] += job.price
            else:
                remaining.append(job)
        self._unsettled = remaining

    def submit(self, account: Account, req: GenerateRequest, idem_key: str | None) -> Submitted:
        key = account.api_key
        with self.lock:
            self.settle()
            now = self.clock.now()
            print_ = fingerprint(req.raw)
            if idem_key is not None:
                entry = self._idempotency.get((key, idem_key))
                if entry and now - entry.created < self.config.idempotency_window_seconds:
                    mismatch = entry.fingerprint != print_
                    if mismatch and self.config.idempotency_mismatch == "conflict":
                        raise ApiError(
                            409, "Idempotency-Key was already used with a different request body"
                        )
                    job = self.jobs[entry.job_id]
                    return Submitted(job.id, job.status_at(now), replayed=True)
            mine = [j for j in self.jobs.values() if j.owner == key]
            if self.config.over_concurrency == "reject":
                active = [j for j in mine if j.end > now]
                if len(active) >= account.max_concurrent_jobs:
                    wait = max(1, math.ceil(min(j.end for j in active) - now))
                    raise ApiError(
                        429,
                        "Too many concurrent jobs",
                        headers={"Retry-After": str(wait)},
                    )
            price = self.price_of(req)
            if self.balances[key] < price:
                raise ApiError(
                    402,
                    "Insufficient credits",
                    extra={"creditsRequired": price, "creditsAvailable": self.balances[key]},
                )
            job = self._new_job(key, req, now, mine, account.max_concurrent_jobs)
            self.jobs[job.id] = job
            self._unsettled.append(job)
            self.balances[key] -= price
            self.debited[key] += price
            self._order_clip(job, now)
            if idem_key is not None:
                self._idempotency[(key, idem_key)] = _IdempotencyEntry(job.id, print_, now)
            return Submitted(job.id, "QUEUED", replayed=False)

    def adopt(self, job_id: str, owner: str, req: GenerateRequest, image: bytes | None, *,
              completed: bool) -> bool:
        """A job an earlier run of this simulator made (the demo's, before the app quit or was
        killed), known again under its id: made anew from now (`completed`: finished already,
        its clip being made), neither charged nor refunded again. False if it is known."""
        job_id = job_id.lower()
        with self.lock:
            if job_id in self.jobs:
                return False
            now = self.clock.now()
            cfg = self.config
            start = now if completed else now + cfg.queued_seconds
            self.jobs[job_id] = job = Job(
                id=job_id, owner=owner, request=req, price=self.price_of(req), created=now,
                ready=start, start=start,
                end=start if completed else start + cfg.processing_seconds,
                processing_seconds=cfg.processing_seconds, outcome="COMPLETED", error=None,
                created_iso=self.clock.iso(now), settled=True)
            if image and self.clip_maker is not None and cfg.image_clips:
                seed = req.seed if req.seed is not None else uuid.UUID(job_id).int
                self.clip_maker.order(job_id, ClipOrder(
                    image=image, size=OUTPUT_SIZES[job.aspect_ratio], seconds=req.duration,
                    fps=cfg.image_clip_fps, seed=seed))
            return True

    def price_of(self, req: GenerateRequest) -> int:
        """This run's price for the request (SimulatorConfig.prices, else the defaults)."""
        by_duration = self.config.prices.get(req.model) or {}
        return by_duration.get(req.duration, req.price)

    def _new_job(
        self, owner: str, req: GenerateRequest, now: float, mine: list[Job], slots: int
    ) -> Job:
        cfg = self.config
        ready = now + cfg.queued_seconds
        processing = cfg.processing_seconds
        outcome, error, length = "COMPLETED", None, processing
        early_failure = self._input_failure(req, now)
        fault = self.faults.for_new_job()
        if early_failure is not None:
            outcome, error, length = "FAILED", early_failure, 0.0
        elif fault is not None:
            outcome, error = "FAILED", fault.message
            length = 0.0 if fault.from_queued else processing * fault.at_fraction
        start = ready
        if cfg.over_concurrency == "queue" and length > 0:
            start = _earliest_start(ready, length, [j for j in mine if j.occupies_slot()], slots)
        return Job(
            id=str(uuid.uuid4()),
            owner=owner,
            request=req,
            price=self.price_of(req),
            created=now,
            ready=ready,
            start=start,
            end=start + length,
            processing_seconds=processing,
            outcome=outcome,
            error=error,
            created_iso=self.clock.iso(now),
        )

    def _input_failure(self, req: GenerateRequest, now: float) -> str | None:
        """Provider-side rejections of the input: they surface as FAILED jobs, not HTTP errors."""
        if req.image is None:
            return TEXT_ONLY_MESSAGE if self.config.text_only == "fail" else None
        if not self.cdn_base_url or not req.image.startswith(self._uploads_prefix):
            return None  # someone else's URL: the simulator does not fetch it
        upload = self._start_image(req, now)
        if upload is None:
            return FETCH_FAILED_MESSAGE
        if upload.sniffed.content_type not in RUNWAY_IMAGE_TYPES:
            return BAD_IMAGE_MESSAGE.format(upload.sniffed.content_type)
        return None

    def _order_clip(self, job: Job, now: float) -> None:
        """In demo-clip mode, start making the clip of a job that may complete from its image."""
        if self.clip_maker is None or not self.config.image_clips or job.error is not None:
            return
        image = self._start_image(job.request, now)
        if image is None:
            return
        seed = job.request.seed if job.request.seed is not None else uuid.UUID(job.id).int
        order = ClipOrder(
            image=image.data,
            size=OUTPUT_SIZES[job.aspect_ratio],
            seconds=job.request.duration,
            fps=self.config.image_clip_fps,
            seed=seed,
        )
        self.clip_maker.order(job.id, order)

    def _start_image(self, req: GenerateRequest, now: float) -> Upload | None:
        """The upload a request's image URL names, if it is one of ours and still there."""
        prefix = self._uploads_prefix
        if req.image is None or not self.cdn_base_url or not req.image.startswith(prefix):
            return None
        return self._live_upload(req.image[len(prefix) :], now)

    @property
    def _uploads_prefix(self) -> str:
        return f"{self.cdn_base_url}/uploads/"

    def set_outcome(self, job_id: str, status: str, error: str | None, immediately: bool) -> None:
        if status not in ("COMPLETED", "FAILED"):
            raise ValueError("status must be COMPLETED or FAILED")
        with self.lock:
            self.settle()
            now = self.clock.now()
            job = self.jobs[job_id]
            if job.end <= now:
                raise ValueError(f"job {job_id} is already {job.outcome}")
            job.outcome = status
            job.error = (error or self.faults.plan.fail_message) if status == "FAILED" else None
            if immediately:
                job.start = min(job.start, now)
                job.end = now
            elif status == "COMPLETED":
                job.end = job.start + job.processing_seconds
            self._reschedule(job.owner, now)

    def _reschedule(self, owner: str, now: float) -> None:
        """Let jobs waiting for a slot start as soon as the changed schedule frees one."""
        if self.config.over_concurrency != "queue":
            return
        mine = sorted((j for j in self.jobs.values() if j.owner == owner), key=lambda j: j.created)
        fixed = [j for j in mine if j.start <= now and j.occupies_slot()]
        slots = self.accounts[owner].max_concurrent_jobs
        for job in mine:
            if job.start <= now or not job.occupies_slot():
                continue
            length = job.end - job.start
            job.start = _earliest_start(max(job.ready, now), length, fixed, slots)
            job.end = job.start + length
            fixed.append(job)

    def job_view(self, job: Job, now: float) -> dict[str, Any]:
        status = job.status_at(now)
        terminal = status in ("COMPLETED", "FAILED")
        if status == "PROCESSING":
            progress = progress_at(self.config.progress, job.id, job.start,
                                   job.processing_seconds, now)
        else:
            progress = 100 if status == "COMPLETED" else 0
        result: Any = None
        if status == "COMPLETED":
            override = self.faults.plan.video_url_override
            url = override or f"{self.cdn_base_url}/videos/{job.id}.mp4"
            result = {"videoUrl": url} if self.config.result_shape == "object" else url
        ttl = self.config.result_ttl_seconds
        return {
            "id": job.id,
            "status": status,
            "model": job.request.model,
            "progress": progress,
            "result": result,
            "error": job.error if status == "FAILED" else None,
            "creditCost": 0 if status == "FAILED" else job.price,
            "webhookStatus": None,
            "createdAt": job.created_iso,
            "completedAt": self.clock.iso(job.end) if terminal else None,
            "input": copy.deepcopy(job.request.raw),  # callers may mutate what they get
            "expired": status == "COMPLETED" and ttl is not None and now >= job.end + ttl,
        }

    def get_job(self, api_key: str, job_id: str) -> dict[str, Any]:
        if not is_uuid(job_id):
            raise ValidationFailed({"id": ["Invalid uuid"]})
        with self.lock:
            self.settle()
            job = self.jobs.get(job_id.lower())
            if job is None or job.owner != api_key:
                raise ApiError(404, "Job not found")
            return self.job_view(job, self.clock.now())

    def any_job(self, job_id: str) -> dict[str, Any]:
        with self.lock:
            self.settle()
            return self.job_view(self.jobs[job_id], self.clock.now())

    def list_jobs(self, account: Account, query: ListQuery) -> dict[str, Any]:
        if query.scope == "team" and account.role not in ("ADMIN", "OWNER"):
            raise ApiError(403, "Only team admins may list jobs with scope=team")
        with self.lock:
            self.settle()
            now = self.clock.now()
            # Every key is a team of one, so the user and team scopes hold the same jobs.
            scope = [j for j in self.jobs.values() if j.owner == account.api_key]
            chosen = [
                j
                for j in scope
                if (query.status is None or j.status_at(now) == query.status)
                and (query.model is None or j.request.model == query.model)
                and (query.search is None or j.id == query.search)
                and (query.cursor is None or (j.created_iso, j.id) < query.cursor)
            ]
            chosen.sort(key=lambda j: (j.created_iso, j.id), reverse=True)
            page = chosen[: query.limit]
            has_more = len(chosen) > query.limit
            cursor = encode_cursor(page[-1].created_iso, page[-1].id) if has_more else None
            out: dict[str, Any] = {
                "jobs": [self.job_view(j, now) for j in page],
                "nextCursor": cursor,
                "hasMore": has_more,
            }
            if query.include_models:
                out["models"] = sorted({j.request.model for j in scope})
            return out

    def completed_video(self, job_id: str) -> str | None:
        """The aspect ratio of a COMPLETED, unexpired job's video; None when the CDN should 404."""
        with self.lock:
            job = self.jobs.get(job_id.lower())
            if job is None:
                return None
            view = self.job_view(job, self.clock.now())
            if view["status"] != "COMPLETED" or view["expired"]:
                return None
            return job.aspect_ratio

    def jobs_created(self, api_key: str | None) -> int:
        with self.lock:
            return sum(1 for j in self.jobs.values() if api_key is None or j.owner == api_key)

    # ---- uploads ----------------------------------------------------------------------------

    def add_upload(self, account: Account, data: bytes) -> dict[str, Any]:
        sniffed = sniff(data)
        if sniffed is None:
            raise ValidationFailed(
                {
                    "file": [
                        "Unsupported file type (PNG, JPEG, WebP, GIF, MP4, WebM, MOV, MP3, "
                        "WAV, OGG or M4A expected)"
                    ]
                }
            )
        cap = {
            "image": self.config.max_image_bytes,
            "audio": self.config.max_audio_bytes,
            "video": self.config.max_video_bytes,
        }[sniffed.kind]
        if len(data) > cap:
            raise ValidationFailed(
                {"file": [f"File too large: {sniffed.kind} uploads are limited to {cap} bytes"]}
            )
        with self.lock:
            now = self.clock.now()
            self._purge_uploads(now)
            upload = Upload(
                id=str(uuid.uuid4()),
                owner=account.api_key,
                data=data,
                sniffed=sniffed,
                expires=now + self.config.upload_ttl_seconds,
            )
            self.uploads[upload.id] = upload
            return {
                "id": upload.id,
                "url": f"{self.cdn_base_url}/uploads/{upload.id}.{sniffed.ext}",
                "kind": sniffed.kind,
                "contentType": sniffed.content_type,
                "byteSize": len(data),
                "expiresAt": self.clock.iso(upload.expires),
            }

    def _purge_uploads(self, now: float) -> None:
        for upload_id in [u.id for u in self.uploads.values() if u.expires <= now]:
            del self.uploads[upload_id]

    def _live_upload(self, filename: str, now: float) -> Upload | None:
        upload_id, _, ext = filename.partition(".")
        upload = self.uploads.get(upload_id)
        if upload is None or upload.expires <= now or ext != upload.sniffed.ext:
            return None
        return upload

    def upload_file(self, filename: str) -> Upload | None:
        """The upload a CDN path names (`<id>.<ext>`), None once expired or unknown."""
        with self.lock:
            return self._live_upload(filename, self.clock.now())


def _earliest_start(ready: float, length: float, others: Iterable[Job], slots: int) -> float:
    """First instant >= ready at which a job of `length` seconds fits under the slot limit."""
    spans = [(j.start, j.end) for j in others if j.end > ready]

    def busy(t: float) -> int:
        return sum(1 for s, e in spans if s <= t < e)

    def fits(t: float) -> bool:
        points = [t] + [s for s, _ in spans if t < s < t + length]
        return all(busy(p) < slots for p in points)

    for t in sorted({ready, *(e for _, e in spans)}):
        if t >= ready and fits(t):
            return t
    return max([ready, *(e for _, e in spans)])
