"""The simulator's clock: monotonic for state changes, mapped to wall time for timestamps.

Job states are computed from this clock on every read, so no per-job threads or timers exist.
Tests may move it forward (`advance`) to expire uploads and results without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self._mono0 = time.monotonic()
        self._wall0 = time.time()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    def wall(self, t: float) -> float:
        """Unix time of monotonic instant `t`."""
        return self._wall0 + (t - self._mono0)

    def iso(self, t: float) -> str:
        """ISO 8601 UTC with milliseconds and a Z, like 2026-03-15T10:00:00.000Z."""
        return iso_utc(self.wall(t))


def iso_utc(unix: float) -> str:
    stamp = datetime.fromtimestamp(unix, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
