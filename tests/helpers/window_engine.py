"""The window's engine in a test that also runs real `runway-desktop` commands on the same data
folder: the engine as the window runs it, with fast pacing, and a bounded wait on the loop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.leases import LeaseTiming
from runway_desktop.engine.lifecycle import EngineConfig
from runway_desktop.engine.retry import Backoff, PollSchedule
from runway_desktop.engine.scheduler import Engine
from runway_desktop.simulator import Simulator


def window_engine(data: Path, out: Path, sim: Simulator, key: str, *,
                  slow_after: float = PollSchedule.slow_after,
                  max_concurrent: int | None = None) -> Engine:
    """Not started. `slow_after`: when a job counts as taking unusually long;
    `max_concurrent`: the team's limit before apiframe has said it."""
    config = EngineConfig(
        data_dir=data, output_dir=out, base_url=sim.base_url,
        poll=PollSchedule(first=0.05, factor=1.5, cap=0.2, slow_after=slow_after,
                          slow_interval=0.2),
        backoff=Backoff(base=0.02, cap=0.2, attempts=8),
        leases=LeaseTiming(seconds=3.0, renew_every=0.3, watch_every=0.1))
    if max_concurrent is not None:
        config = dataclasses.replace(config, default_max_concurrent=max_concurrent)
    return Engine(Journal(data / "journal.sqlite3"), config, key)


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Until `condition()` holds, looking every 20 ms; TimeoutError after `timeout` s."""
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout)
