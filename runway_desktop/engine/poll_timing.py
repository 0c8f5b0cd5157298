"""When to poll a job next: by what the job says (its progress → an expected finish), bounded.

Pure and clock-free: every function takes the time it should reason about, so tests drive it
with made-up instants.

- A job that shows progress gets an expected finish from the progress values seen (a line fitted
  through the instants each value first appeared); polls go at the cap's pace while it is far,
  one look comes about one floor interval before it, and the next just after it.
- Before that (QUEUED, or a first PROCESSING answer) the model's usual duration gives a
  tentative finish, which may only bring a poll *earlier* than the contract's backoff
  (2 s, ×1.5, capped at 8 s: `PollSchedule`).
- Bounds, both ways: never sooner than `PollSchedule.first` after the previous poll (the
  contract's fastest pace, the SDK's first wait), never later than `PollSchedule.cap` (today's
  maximum), and a job past its expected finish backs off again from the floor.
- What this module doesn't decide: a `Retry-After` still holds every poll back (the rate gate
  in `lifecycle._call`), and a job far past the usual time is polled at
  `PollSchedule.slow_interval` ("taking unusually long").

`PollSchedule.follow_progress = False` keeps the fixed backoff alone (the policy before
2026-11-29; the benchmark measures both in one run).
"""

from __future__ import annotations

import random
import statistics
from collections import deque
from dataclasses import dataclass, field

from runway_desktop.engine.retry import PollSchedule

# A video job's usual length from submission to COMPLETED when nothing was learnt yet
# (contract §4.5: "video 1-5 min depending on duration").
DEFAULT_USUAL_SECONDS = 120.0
# How many distinct progress values the line is fitted through (the most recent ones: a job's
# pace may drift).
FIT_POINTS = 6
# Plan the poll this far after the expected finish, as a share of the floor interval (0.5 s at
# the contract's 2 s): late enough that the estimate's error rarely means one poll too early.
AFTER_FINISH_SHARE = 0.25
# One poll is planned this many floor intervals before the expected finish (when that is at
# least a floor interval away): the job's pace at its very end then sets the aim, which matters
# when its pace varies or its progress moves in steps.
CHECK_BEFORE = 1.0


@dataclass(frozen=True)
class Sighting:
    """One progress value as the polls saw it: first seen at `first`, the poll before showed
    less (at `before`, None if there was none), last seen at `last`."""

    progress: int
    first: float
    before: float | None
    last: float


@dataclass
class JobPace:
    """What the polls of one job have shown: memory only, one per followed job."""

    sent_at: float  # when the job was submitted (the journal's `submitted_at`)
    usual_seconds: float = DEFAULT_USUAL_SECONDS  # submission → COMPLETED, usually
    usual_processing: float | None = None  # PROCESSING → COMPLETED, usually (None: unknown)
    sightings: deque[Sighting] = field(default_factory=lambda: deque(maxlen=FIT_POINTS))
    last_poll: float | None = None
    processing_since: float | None = None  # first poll that answered PROCESSING
    late_polls: int = 0  # polls answered after the expected finish had passed

    def observe(self, at: float, *, processing: bool, progress: int | None) -> None:
        """A poll answered QUEUED or PROCESSING (not terminal) at `at`."""
        value = progress or 0
        if processing and self.processing_since is None:
            self.processing_since = at
        if processing and value < 100:
            latest = self.sightings[-1] if self.sightings else None
            if latest is not None and value == latest.progress:
                self.sightings[-1] = Sighting(value, latest.first, latest.before, at)
            elif latest is None or value > latest.progress:
                self.sightings.append(Sighting(value, at, self.last_poll, at))
            else:  # progress went back (a restarted render): start the line again
                self.sightings.clear()
                self.sightings.append(Sighting(value, at, self.last_poll, at))
        finish = self.expected_finish()
        if finish is not None and at > finish:
            self.late_polls += 1
        self.last_poll = at

    # -- the estimate ---------------------------------------------------------------------------

    def rate(self) -> float | None:
        """Progress points per second from the values seen, or None with fewer than two."""
        points = self._points()
        if len(points) < 2:
            return None
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread <= 0:
            return None
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
        return slope if slope > 0 else None

    def expected_finish(self) -> float | None:
        """When the job should be COMPLETED, from its progress; None when it can't tell yet."""
        points = self._points()
        rate = self.rate()
        if rate is not None:
            mean_x = statistics.fmean(x for x, _ in points)
            mean_y = statistics.fmean(y for _, y in points)
            return mean_x + (100.0 - mean_y) / rate
        return None

    def tentative_finish(self) -> float:
        """A guess from the model's usual duration, for a job whose progress says too little."""
        if self.sightings and self.usual_processing:
            x, y = self._points()[-1]
            return x + (100.0 - y) * self.usual_processing / 100.0
        return self.sent_at + self.usual_seconds

    def _points(self) -> list[tuple[float, float]]:
        """(instant, progress) per value seen: the value was reached between the poll before
        and the poll that first showed it, within one step of the server's refresh (a value
        that stayed over several polls shows how long the server's steps are)."""
        if not self.sightings:
            return []
        step = max((s.last - s.first for s in self.sightings), default=0.0)
        rate = self._coarse_rate()
        if rate:
            step = max(step, 1.0 / rate)  # one progress point's time
        points = []
        for s in self.sightings:
            earliest = max(s.first - step, self.sent_at if s.before is None else s.before)
            points.append(((earliest + s.first) / 2, s.progress + 0.5))
        return points

    def _coarse_rate(self) -> float | None:
        if len(self.sightings) < 2:
            return None
        a, b = self.sightings[0], self.sightings[-1]
        if b.first <= a.first:
            return None
        return (b.progress - a.progress) / (b.first - a.first)


def next_delay(schedule: PollSchedule, pace: JobPace, now: float, polls: int,
               rng: random.Random | None = None, *, slow: bool = False) -> float:
    """Seconds from `now` (a poll just answered, not terminal) to the next poll of the job.

    `polls`: polls made before this one answered (the backoff's step).
    """
    backoff = schedule.interval(polls, rng, slow=slow)
    if slow or not schedule.follow_progress:
        return backoff
    floor, cap = schedule.first, schedule.cap
    after = AFTER_FINISH_SHARE * floor
    finish = pace.expected_finish()
    if finish is None:
        # Nothing to go by but the usual duration: it may bring the poll earlier, never later.
        return max(floor, min(backoff, pace.tentative_finish() + after - now))
    if now > finish + after:
        # Past the expected finish: the estimate was early. Back off again from the floor.
        return min(cap, floor * schedule.factor ** max(0, pace.late_polls - 1))
    check = finish - CHECK_BEFORE * floor - now
    if check >= floor:
        # Far off: at the cap's pace, then one look about a floor interval before the
        # expected finish, so that the pace at the very end sets the aim.
        return min(cap, check)
    return min(cap, max(floor, finish + after - now))


@dataclass
class UsualDurations:
    """How long jobs of one model and video length have taken lately (memory only): the
    prior for a job whose progress says too little yet."""

    keep: int = 20
    _total: dict[tuple[str, int], deque[float]] = field(default_factory=dict)
    _processing: dict[tuple[str, int], deque[float]] = field(default_factory=dict)

    def record(self, model: str, duration: int, pace: JobPace, completed_at: float) -> None:
        """A job of this kind was seen COMPLETED at `completed_at`."""
        key = (model, duration)
        total = completed_at - pace.sent_at
        if total > 0:
            self._total.setdefault(key, deque(maxlen=self.keep)).append(total)
        rate = pace.rate()
        if rate:
            self._processing.setdefault(key, deque(maxlen=self.keep)).append(100.0 / rate)

    def pace_for(self, model: str, duration: int, sent_at: float) -> JobPace:
        key = (model, duration)
        totals = self._total.get(key)
        processing = self._processing.get(key)
        return JobPace(
            sent_at=sent_at,
            usual_seconds=statistics.median(totals) if totals else DEFAULT_USUAL_SECONDS,
            usual_processing=statistics.median(processing) if processing else None,
        )
