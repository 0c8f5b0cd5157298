"""Fault injection: the live plan tests mutate, and the seeded decisions taken from it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

API_ROUTES = frozenset({"generate", "job", "list", "upload", "me", "models", "other"})
CDN_ROUTE = "cdn"
DEFAULT_FAIL_MESSAGE = "Provider returned an error: content policy violation"


@dataclass
class FaultPlan:
    """Mutable switches, all off by default. Tests flip them while the simulator runs.

    "*_next" counters are consumed one per matching request (or job); "*_rate" fields are
    probabilities drawn from the simulator's seeded RNG.
    """

    # 429 {"error": "Rate limit exceeded"} with Retry-After for the next N requests.
    rate_limit_next: int = 0
    retry_after_seconds: int = 1
    retry_after_format: Literal["seconds", "http-date"] = "seconds"
    # 5xx answers; the upload route may also answer 502 "Upload to CDN failed".
    error_rate: float = 0.0
    error_next: int = 0
    error_statuses: tuple[int, ...] = (503, 500)
    # Connection closed with no response, before the request is processed.
    drop_rate: float = 0.0
    drop_next: int = 0
    # Request processed (job created, credits debited), then the connection closes unanswered.
    lose_response_rate: float = 0.0
    lose_response_next: int = 0
    # Route names the faults above apply to: generate, job, list, upload, me, models, other, cdn.
    # None means every API route (not the CDN).
    routes: set[str] | frozenset[str] | None = None
    slow_seconds: float = 0.0  # delay before answering each matching request
    # CDN: full Content-Length, then the connection closes after about half the body.
    truncate_downloads_next: int = 0
    cdn_drop_rate: float = 0.0
    cdn_slow_bytes_per_second: float | None = None
    # Jobs that end FAILED with a provider message (refunded, progress 0, creditCost 0).
    fail_jobs_next: int = 0
    fail_jobs_rate: float = 0.0
    fail_from_queued: bool = False  # fail straight from QUEUED instead of midway through PROCESSING
    fail_message: str = DEFAULT_FAIL_MESSAGE
    # A hostile server: finished jobs point here instead of at the simulator's CDN (the
    # client must refuse e.g. http://169.254.169.254/… without connecting).
    video_url_override: str | None = None

    def applies_to(self, route: str) -> bool:
        if self.routes is None:
            return route in API_ROUTES
        return route in self.routes


@dataclass(frozen=True)
class RequestFaults:
    """What to do to one request, decided once when it arrives."""

    delay: float = 0.0
    drop: bool = False
    rate_limited: bool = False
    error_status: int | None = None
    lose_response: bool = False


@dataclass(frozen=True)
class JobFault:
    from_queued: bool
    at_fraction: float  # how far through PROCESSING the failure lands (ignored when from_queued)
    message: str


class FaultDecider:
    """Takes every fault decision with one seeded RNG under one lock (reproducible tests)."""

    def __init__(self, plan: FaultPlan, seed: int | None) -> None:
        self.plan = plan
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _chance(self, rate: float) -> bool:
        # Draw only when the knob is on, so turning one knob does not shift the others' sequence.
        return rate > 0 and self._rng.random() < rate

    def for_request(self, route: str) -> RequestFaults:
        with self._lock:
            plan = self.plan
            if not plan.applies_to(route):
                return RequestFaults()
            delay = max(0.0, plan.slow_seconds)
            if plan.drop_next > 0:
                plan.drop_next -= 1
                return RequestFaults(delay=delay, drop=True)
            if self._chance(plan.drop_rate):
                return RequestFaults(delay=delay, drop=True)
            if plan.rate_limit_next > 0:
                plan.rate_limit_next -= 1
                return RequestFaults(delay=delay, rate_limited=True)
            error = False
            if plan.error_next > 0:
                plan.error_next -= 1
                error = True
            elif self._chance(plan.error_rate):
                error = True
            if error:
                statuses = tuple(plan.error_statuses) or (503,)
                if route == "upload":
                    statuses = (*statuses, 502)
                return RequestFaults(delay=delay, error_status=self._rng.choice(statuses))
            lose = False
            if plan.lose_response_next > 0:
                plan.lose_response_next -= 1
                lose = True
            elif self._chance(plan.lose_response_rate):
                lose = True
            return RequestFaults(delay=delay, lose_response=lose)

    def cdn_drop(self) -> bool:
        with self._lock:
            return self._chance(self.plan.cdn_drop_rate)

    def take_truncation(self) -> bool:
        with self._lock:
            if self.plan.truncate_downloads_next > 0:
                self.plan.truncate_downloads_next -= 1
                return True
            return False

    def cdn_rate(self) -> float | None:
        rate = self.plan.cdn_slow_bytes_per_second
        return rate if rate and rate > 0 else None

    def for_new_job(self) -> JobFault | None:
        with self._lock:
            plan = self.plan
            fails = False
            if plan.fail_jobs_next > 0:
                plan.fail_jobs_next -= 1
                fails = True
            elif self._chance(plan.fail_jobs_rate):
                fails = True
            if not fails:
                return None
            return JobFault(
                from_queued=plan.fail_from_queued,
                at_fraction=self._rng.uniform(0.2, 0.8),
                message=plan.fail_message,
            )
