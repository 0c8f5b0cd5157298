"""Polling by the job's progress against the simulator: the same jobs, followed with today's
fixed backoff and with the progress policy, end on disk sooner with no more polls.

The pace is scaled down (a 5 s job; polls 0.5 s → 2 s instead of 2 s → 8 s), the shape kept:
QUEUED for a fifth of the time, then PROCESSING with a pace that varies by ±20 %. The two
policies follow their jobs at the same time (one loop; each its own simulator, journal and
folder), so a busy machine weighs on both alike."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.records import Generation, GenerationSettings, Stage
from runway_desktop.engine.retry import PollSchedule
from runway_desktop.simulator import Simulator
from runway_desktop.simulator.progress import ProgressShape
from tests.conftest import run
from tests.engine.conftest import EngineFactory, _engine_factory
from tests.engine.test_engine import settle

SCALED = PollSchedule(first=0.5, factor=1.5, cap=2.0)
JOBS = 4


async def follow_jobs(make_engine: EngineFactory, sim: Simulator, *, by_progress: bool,
                      tag: str) -> list[Generation]:
    schedule = PollSchedule(first=SCALED.first, factor=SCALED.factor, cap=SCALED.cap,
                            follow_progress=by_progress)
    engine = make_engine(sim=sim, poll=schedule)
    await engine.start()
    ids = [engine.submit(GenerationSettings(f"{tag} {i} a kite", seed=i)).id
           for i in range(JOBS)]
    rows = await settle(engine, ids, timeout=40)
    await engine.stop()
    return rows


def latency(sim: Simulator, row: Generation) -> float:
    """Server COMPLETED → the MP4 saved, in seconds."""
    assert row.job_id
    assert row.finished_at
    completed = datetime.fromisoformat(sim.job(row.job_id)["completedAt"].replace("Z", "+00:00"))
    return row.finished_at - completed.timestamp()


def polls(sim: Simulator, row: Generation) -> int:
    return sum(1 for r in sim.requests if r.path == f"/v2/jobs/{row.job_id}")


def test_polling_by_progress_saves_the_video_sooner_with_no_more_polls(
    make_simulator: Callable[..., Simulator], make_engine: EngineFactory, tmp_path: Path
) -> None:
    shape = ProgressShape(wobble=0.2)
    old_sim = make_simulator(seconds_per_job=5.0, seed=1, progress=shape)
    new_sim = make_simulator(seconds_per_job=5.0, seed=1, progress=shape)
    journals: list[Journal] = []
    other_engine = _engine_factory(tmp_path / "new-data", tmp_path / "new-videos",
                                   new_sim.base_url, journals)
    for folder in (tmp_path / "new-data", tmp_path / "new-videos"):
        folder.mkdir()

    async def both() -> tuple[list[Generation], list[Generation]]:
        return await asyncio.gather(
            follow_jobs(make_engine, old_sim, by_progress=False, tag="old"),
            follow_jobs(other_engine, new_sim, by_progress=True, tag="new"))

    try:
        old, new = run(both())
    finally:
        for journal in journals:
            journal.close()
    assert [r.stage for r in old + new] == [Stage.DONE] * (2 * JOBS)

    old_latency = statistics.median(latency(old_sim, r) for r in old)
    new_latency = statistics.median(latency(new_sim, r) for r in new)
    old_polls = sum(polls(old_sim, r) for r in old)
    new_polls = sum(polls(new_sim, r) for r in new)
    # The backoff's polls fall at 0, 0.5, 1.25, 2.4, 4.1 and 6.1 s: ~1 s after the 5 s end.
    assert old_latency > 0.7, (old_latency, new_latency)
    assert new_latency < old_latency - 0.4, (old_latency, new_latency)
    assert new_polls <= old_polls, (old_polls, new_polls)
