"""Poll timing by the job's progress (engine/poll_timing.py), driven by made-up instants: a job
is a start, a length and the simulator's progress shape; no clock is read and nothing sleeps."""

from __future__ import annotations

import random
import statistics
import uuid
from dataclasses import dataclass, replace

import pytest

from runway_desktop.engine.poll_timing import (
    DEFAULT_USUAL_SECONDS,
    JobPace,
    UsualDurations,
    next_delay,
)
from runway_desktop.engine.retry import PollSchedule
from runway_desktop.simulator.progress import ProgressShape, progress_at

STEADY = ProgressShape()
SCHEDULE = PollSchedule()  # the contract's pace: 2 s first, ×1.5, capped at 8 s
BACKOFF = replace(SCHEDULE, follow_progress=False)


@dataclass(frozen=True)
class FakeJob:
    """A job as the simulator runs it: QUEUED for the first fifth, then PROCESSING."""

    seconds: float
    shape: ProgressShape = STEADY
    job_id: str = "6f1c3a52-0d5e-4a43-9a55-0d2e8f3f7b11"

    @property
    def start(self) -> float:
        return self.seconds * 0.2

    def answer(self, t: float) -> tuple[bool, int] | None:
        """(processing, progress) at `t`, or None once COMPLETED."""
        if t >= self.seconds:
            return None
        if t < self.start:
            return False, 0
        return True, progress_at(self.shape, self.job_id, self.start, self.seconds - self.start, t)


@dataclass(frozen=True)
class Followed:
    polls: int
    latency: float  # the poll that saw COMPLETED, after the job's end
    delays: tuple[float, ...]


def follow(job: FakeJob, schedule: PollSchedule = SCHEDULE, pace: JobPace | None = None,
           seed: int = 1) -> Followed:
    """Poll `job` as lifecycle._follow does: the backoff polls right after the job was
    accepted; by progress, the POST's answer (QUEUED at 0 s) is the first look."""
    rng = random.Random(seed)
    pace = pace or JobPace(sent_at=0.0)
    t, polls, delays = 0.0, 0, []
    if schedule.follow_progress:
        pace.observe(0.0, processing=False, progress=0)
        t = next_delay(schedule, pace, 0.0, 0, rng)
        delays.append(t)
        polls = 1
    while (answer := job.answer(t)) is not None:
        processing, progress = answer
        pace.observe(t, processing=processing, progress=progress)
        delay = next_delay(schedule, pace, t, polls, rng)
        delays.append(delay)
        polls += 1
        t += delay
    return Followed(polls + 1 - schedule.follow_progress, t - job.seconds, tuple(delays))


def jobs(count: int, shape: ProgressShape = STEADY, seed: int = 7) -> list[FakeJob]:
    rng = random.Random(seed)
    return [FakeJob(rng.uniform(5, 60), shape, str(uuid.UUID(int=rng.getrandbits(128))))
            for _ in range(count)]


def test_the_backoff_policy_is_the_contract_schedule_unchanged() -> None:
    pace = JobPace(sent_at=0.0)
    pace.observe(10.0, processing=True, progress=50)
    pace.observe(12.0, processing=True, progress=60)
    for polls in range(8):
        expected = BACKOFF.interval(polls, random.Random(polls))
        assert next_delay(BACKOFF, pace, 12.0, polls, random.Random(polls)) == expected


@pytest.mark.parametrize(("shape", "within"), [
    (ProgressShape(), 0.5),  # steady: seen just after the end
    (ProgressShape(wobble=0.2), 1.2),  # the pace varies by ±20 % within the job
    (ProgressShape(refresh_seconds=1, wobble=0.2), 1.2),  # … and moves in 1 s steps
])
def test_a_finished_video_is_seen_sooner_with_no_more_polls(shape: ProgressShape,
                                                            within: float) -> None:
    sample = jobs(150, shape)
    old = [follow(job, BACKOFF) for job in sample]
    new = [follow(job) for job in sample]
    old_latency = statistics.median(f.latency for f in old)
    new_latency = statistics.median(f.latency for f in new)
    assert old_latency > 3.0  # the fixed backoff sees a finished job ~4 s late
    assert new_latency < within
    assert statistics.fmean(f.polls for f in new) <= statistics.fmean(f.polls for f in old)


def test_a_steady_job_is_seen_within_half_a_second_of_its_end() -> None:
    # A 40 s job, PROCESSING from 8 s, its progress following the clock.
    followed = follow(FakeJob(40.0))
    assert 0 <= followed.latency <= 0.5 + 1e-9
    assert followed.polls <= follow(FakeJob(40.0), BACKOFF).polls


def test_progress_in_steps_is_still_seen_sooner_than_with_the_backoff() -> None:
    sample = jobs(150, ProgressShape(refresh_seconds=5))
    old = statistics.median(follow(job, BACKOFF).latency for job in sample)
    new = statistics.median(follow(job).latency for job in sample)
    assert new < old / 2


@pytest.mark.parametrize("shape", [ProgressShape(), ProgressShape(refresh_seconds=5, wobble=0.5),
                                   ProgressShape(refresh_seconds=0.7, wobble=1.0)])
def test_no_poll_sooner_than_the_floor_nor_later_than_the_cap(shape: ProgressShape) -> None:
    for job in jobs(60, shape, seed=3):
        for delay in follow(job).delays:
            assert SCHEDULE.first <= delay <= SCHEDULE.cap


def test_the_bounds_follow_the_schedule() -> None:
    fast = PollSchedule(first=0.05, cap=0.2)
    for job in jobs(20):
        scaled = FakeJob(job.seconds / 100, job.shape, job.job_id)
        for delay in follow(scaled, fast).delays:
            assert fast.first <= delay <= fast.cap


def test_a_job_past_its_expected_finish_backs_off_again_from_the_floor() -> None:
    pace = JobPace(sent_at=0.0)
    pace.observe(10.0, processing=True, progress=50)
    pace.observe(15.0, processing=True, progress=75)
    finish = pace.expected_finish()
    assert finish is not None
    assert 19 < finish < 21
    # The job stalls at 90 %: past the expected finish each poll waits longer, up to the cap.
    t, delays = 17.0, []
    for polls in range(2, 12):
        pace.observe(t, processing=True, progress=90)
        delays.append(next_delay(SCHEDULE, pace, t, polls))
        t += delays[-1]
    assert min(delays) == SCHEDULE.first
    late = delays[delays.index(SCHEDULE.first):]
    assert late == sorted(late)
    assert late[1] == pytest.approx(SCHEDULE.first * SCHEDULE.factor)
    assert late[-1] == pytest.approx(SCHEDULE.cap)


def test_a_queued_job_is_polled_on_the_backoff_or_sooner_when_it_usually_ends_sooner() -> None:
    rng = random.Random(5)
    pace = JobPace(sent_at=0.0)  # usually two minutes
    pace.observe(30.0, processing=False, progress=0)
    assert next_delay(SCHEDULE, pace, 30.0, 6, random.Random(5)) == SCHEDULE.interval(6, rng)
    quick = JobPace(sent_at=0.0, usual_seconds=33.0)  # usually done 3 s from now
    quick.observe(30.0, processing=False, progress=0)
    assert next_delay(SCHEDULE, quick, 30.0, 6) == pytest.approx(3.0 + 0.25 * SCHEDULE.first)
    overdue = JobPace(sent_at=0.0, usual_seconds=10.0)
    overdue.observe(30.0, processing=False, progress=0)
    assert next_delay(SCHEDULE, overdue, 30.0, 6) == SCHEDULE.first  # never under the floor


def test_a_job_taking_unusually_long_is_polled_at_the_slow_interval() -> None:
    pace = JobPace(sent_at=0.0)
    pace.observe(10.0, processing=True, progress=50)
    pace.observe(12.0, processing=True, progress=52)
    delay = next_delay(SCHEDULE, pace, 12.0, 5, random.Random(1), slow=True)
    assert delay == SCHEDULE.interval(5, random.Random(1), slow=True)
    assert delay > SCHEDULE.cap


def test_progress_going_back_starts_the_estimate_again() -> None:
    pace = JobPace(sent_at=0.0)
    for t, progress in ((10.0, 40), (12.0, 50), (14.0, 60)):
        pace.observe(t, processing=True, progress=progress)
    pace.observe(16.0, processing=True, progress=5)  # the render started over
    assert pace.expected_finish() is None
    pace.observe(18.0, processing=True, progress=10)
    finish = pace.expected_finish()
    assert finish is not None
    assert finish > 50


def test_the_usual_duration_is_learnt_per_model_and_length() -> None:
    usual = UsualDurations()
    assert usual.pace_for("runway-gen4.5", 5, 0.0).usual_seconds == DEFAULT_USUAL_SECONDS
    for sent in (0.0, 100.0, 200.0):
        pace = usual.pace_for("runway-gen4.5", 5, sent)
        pace.observe(sent + 10, processing=True, progress=20)
        pace.observe(sent + 20, processing=True, progress=45)
        usual.record("runway-gen4.5", 5, pace, sent + 42)
    learnt = usual.pace_for("runway-gen4.5", 5, 300.0)
    assert learnt.usual_seconds == pytest.approx(42)
    assert learnt.usual_processing == pytest.approx(40, abs=2)
    assert usual.pace_for("runway-gen4.5", 10, 0.0).usual_seconds == DEFAULT_USUAL_SECONDS
    assert usual.pace_for("runway-gen4-turbo", 5, 0.0).usual_processing is None
    # With one progress value seen, the usual processing time gives a tentative finish.
    learnt.observe(310.0, processing=True, progress=50)
    assert learnt.tentative_finish() == pytest.approx(310 + 49.5 * 0.4, abs=1)
