"""How long to wait before trying again: exponential backoff with full jitter, plus a shared gate
that holds every API call back while apiframe has asked us (429 `Retry-After`) to slow down."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Full-jitter exponential backoff (the SDK's policy, with our own bounds)."""

    base: float = 0.5
    cap: float = 8.0
    attempts: int = 8  # tries (about 20-30 s in all) before a generation goes to the person

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * (2**attempt))
        return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class PollSchedule:
    """Polling pace for a video job: start near 2 s, grow ×1.5 towards the cap (contract §4.5)."""

    first: float = 2.0
    factor: float = 1.5
    cap: float = 8.0
    jitter: float = 0.1  # ± fraction, so many jobs don't poll in lockstep

    def interval(self, poll_count: int, rng: random.Random | None = None) -> float:
        base = min(self.cap, self.first * (self.factor**poll_count))
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))


class RateGate:
    """One gate for the whole API client: after a 429, nobody calls until `Retry-After` passes."""

    def __init__(self) -> None:
        self._open_at = 0.0

    def close_for(self, seconds: float) -> None:
        self._open_at = max(self._open_at, time.monotonic() + max(0.0, seconds))

    async def wait(self) -> None:
        # A loop, not one sleep: another 429 may push the opening further while we wait.
        while (remaining := self._open_at - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(remaining)
