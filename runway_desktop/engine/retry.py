"""How long to wait before trying again: exponential backoff with full jitter, plus gates that hold
API calls back while apiframe has asked us (429 `Retry-After`) to slow down."""

from __future__ import annotations

import asyncio
import enum
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

# However long apiframe asks us to wait, we try again after at most this long: a `Retry-After`
# of a day (or a date in 2100) must not freeze the queue with nobody told why.
MAX_RETRY_AFTER = 10 * 60.0


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
    """Polling pace for a video job: start near 2 s, grow ×1.5 towards the cap (contract §4.5).

    A job still QUEUED or PROCESSING `slow_after` seconds after it was sent is taking unusually
    long: it is polled every `slow_interval` seconds from then on, and handed to the person
    after `give_up_after` seconds (it stays paid for and kept; Retry follows it again).

    `follow_progress`: plan each poll by the job's progress (expected finish, bounded by `first`
    and `cap`: `engine.poll_timing`); False keeps this fixed backoff alone.
    """

    first: float = 2.0
    factor: float = 1.5
    cap: float = 8.0
    jitter: float = 0.1  # ± fraction, so many jobs don't poll in lockstep
    slow_after: float = 15 * 60.0  # videos take 1-5 min (contract §4.5)
    slow_interval: float = 60.0
    give_up_after: float = 6 * 3600.0
    follow_progress: bool = True

    def interval(self, poll_count: int, rng: random.Random | None = None,
                 *, slow: bool = False) -> float:
        base = self.slow_interval if slow else min(self.cap, self.first * (self.factor**poll_count))
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))


def capped_wait(retry_after: float | None, fallback: float,
                cap: float = MAX_RETRY_AFTER) -> float:
    """Seconds to wait after a 429: the server's `Retry-After` up to `cap`; `fallback` (our own
    backoff) when it sent none or nonsense."""
    if retry_after is None or not math.isfinite(retry_after) or retry_after < 0:
        return min(max(0.0, fallback), cap)
    return min(retry_after, cap)


class GateKind(enum.StrEnum):
    SUBMIT = "submit"  # uploads and POST /v2/videos/generate: new spending
    FOLLOW = "follow"  # polls, the balance, the job list: following what is already paid for


class RateGate:
    """Holds API calls back after a 429, per kind of call.

    A 429 on a submission closes only the submit gate: polling and downloading jobs already
    paid for go on. A 429 on a poll closes both (the server is limiting everything).
    """

    def __init__(self, cap: float = MAX_RETRY_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._cap = cap
        self._clock = clock
        self._open_at = dict.fromkeys(GateKind, 0.0)

    def close_for(self, seconds: float, kind: GateKind = GateKind.FOLLOW) -> float:
        """Close the gate for `seconds` (at most the cap); returns the wait actually applied."""
        wait = capped_wait(seconds, 0.0, self._cap)
        opens = self._clock() + wait
        kinds = (GateKind.SUBMIT,) if kind is GateKind.SUBMIT else tuple(GateKind)
        for each in kinds:
            self._open_at[each] = max(self._open_at[each], opens)
        return wait

    def remaining(self, kind: GateKind = GateKind.FOLLOW) -> float:
        return max(0.0, self._open_at[kind] - self._clock())

    async def wait(self, kind: GateKind = GateKind.FOLLOW) -> None:
        # A loop, not one sleep: another 429 may push the opening further while we wait.
        while (remaining := self.remaining(kind)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(remaining)
